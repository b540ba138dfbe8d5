// The Fastify application: shared request handling (query parsing, limits, logging,
// errors) around thin endpoints that each call the pipeline and one renderer.
import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { autoconfigRoutes } from './autoconfig.js';
import { autodiscoverRoutes, MAX_AUTODISCOVER_BODY } from './autodiscover.js';
import { autodiscoverJsonRoutes } from './autodiscover-json.js';
import type { AppContext } from './context.js';
import { healthRoutes } from './health.js';
import { mobileconfigRoutes } from './mobileconfig.js';
import { parseQuery } from './query.js';
import { proxyTrust } from './scheme.js';
import { replyText, TEXT } from './lookup.js';
import { settingsPageRoutes } from './settings-page.js';
import { tlsAllowedRoutes } from './tls-allowed.js';

/** Longer request targets are refused with 414 before any work is done. */
export const MAX_URL_LENGTH = 4096;

export async function buildApp(ctx: AppContext, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: proxyTrust(ctx.config.trustProxy),
    bodyLimit: MAX_AUTODISCOVER_BODY,
    genReqId: () => randomUUID(),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: false, querystringParser: parseQuery },
  });
  app.decorateRequest('mailTarget', null);

  app.addHook('onRequest', async (request, reply) => {
    // A client that hung up before we got to its request has no address left: there is no
    // one to answer and nothing to rate-limit by (the limiter would throw on it).
    if (!request.ip) return replyText(reply, 400, 'Connection closed');
    if (request.raw.url && request.raw.url.length > MAX_URL_LENGTH) {
      return replyText(reply, 414, 'Request URL too long');
    }
  });

  // One line per request: what an operator needs, never an address or a credential.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? null,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        domain: request.mailTarget?.domain,
        address: request.mailTarget?.addressHash,
      },
      'request',
    );
  });

  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'unexpected error');
    return reply
      .code(status)
      .type(TEXT)
      .send(status === 500 ? 'Internal error\n' : `${err.message}\n`);
  });
  app.setNotFoundHandler(async (_request, reply) => replyText(reply, 404, 'Not found'));

  await app.register(rateLimit, {
    global: true,
    max: ctx.config.rateLimit.max,
    timeWindow: ctx.config.rateLimit.timeWindow,
  });

  await autoconfigRoutes(app, ctx);
  await autodiscoverRoutes(app, ctx);
  await autodiscoverJsonRoutes(app, ctx);
  await healthRoutes(app, ctx);
  await tlsAllowedRoutes(app, ctx);
  await mobileconfigRoutes(app, ctx);
  await settingsPageRoutes(app, ctx);
  return app;
}
