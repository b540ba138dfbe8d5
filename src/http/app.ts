// The Fastify application: cross-cutting plugins (guards, rate limit, access log) around
// thin routes that each read a request, call the pipeline and send one dialect's Answer.
import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { MAX_AUTODISCOVER_BODY } from '../dialects/autodiscover-pox.js';
import { proxyTrust } from './client-ip.js';
import type { AppContext } from './context.js';
import { accessLog } from './plugins/access-log.js';
import { guards } from './plugins/guards.js';
import { parseQuery } from './query-string.js';
import { autoconfigRoutes } from './routes/autoconfig.js';
import { autodiscoverJsonRoutes } from './routes/autodiscover-json.js';
import { autodiscoverPoxRoutes } from './routes/autodiscover-pox.js';
import { healthRoutes } from './routes/health.js';
import { mobileconfigRoutes } from './routes/mobileconfig.js';
import { settingsPageRoutes } from './routes/settings-page.js';
import { tlsAllowedRoutes } from './routes/tls-allowed.js';

/** Every endpoint; a new dialect's route is one more line here. */
const ROUTES = [
  autoconfigRoutes,
  autodiscoverPoxRoutes,
  autodiscoverJsonRoutes,
  healthRoutes,
  tlsAllowedRoutes,
  mobileconfigRoutes,
  settingsPageRoutes,
] as const;

export async function buildApp(ctx: AppContext, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: proxyTrust(ctx.config.trustProxy),
    bodyLimit: MAX_AUTODISCOVER_BODY,
    genReqId: () => randomUUID(),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: false, querystringParser: parseQuery },
  });
  guards(app);
  accessLog(app);
  await app.register(rateLimit, {
    global: true,
    max: ctx.config.rateLimit.max,
    timeWindow: ctx.config.rateLimit.timeWindow,
  });
  for (const routes of ROUTES) await routes(app, ctx);
  return app;
}
