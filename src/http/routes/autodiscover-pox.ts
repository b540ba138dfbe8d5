// Outlook autodiscover (POX): POST /autodiscover/autodiscover.xml (path in any case), and
// GET for Delta Chat, which fetches it without a body.
import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { MAX_AUTODISCOVER_BODY, type PoxRead } from '../../dialects/autodiscover-pox.js';
import type { Resolution } from '../../pipeline/lookup.js';
import { AUTODISCOVER_PATH, isServiceHost, publicUrlFor } from '../../links.js';
import { plainHttpDetector, requestHost } from '../arrival.js';
import type { AppContext } from '../context.js';
import { answerRequest } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

export async function autodiscoverPoxRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dialect = ctx.dialects.autodiscoverPox;
  const render = {
    post: (resolution: Resolution) => dialect.answer(resolution, 'post'),
    get: (resolution: Resolution) => dialect.answer(resolution, 'get'),
  };
  const { serviceHosts } = ctx.config;

  // Outlook's HTTP redirect method: over plain HTTP, GET and POST get a 302 to our HTTPS
  // URL (Outlook asks the user, Thunderbird POSTs again there). Not with an http://
  // PUBLIC_URL (local use): there POX is answered directly. In preParsing: after the rate
  // limit (an onRequest hook), before the body is read.
  const overPlainHttp = plainHttpDetector(ctx.config.trustProxy);
  const httpsUrl = publicUrlFor(ctx.config.publicUrl, AUTODISCOVER_PATH);
  const redirect =
    ctx.config.publicUrl.protocol === 'https:'
      ? {
          preParsing: async (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload) =>
            overPlainHttp(request) ? reply.code(302).header('location', httpsUrl).send() : payload,
        }
      : {};

  const answerRead = async (request: FastifyRequest, reply: FastifyReply, read: PoxRead, method: 'post' | 'get') => {
    if (!read.ok) {
      if (read.reason) request.log.info({ reason: read.reason }, 'invalid autodiscover request');
      return sendAnswer(reply, read.answer);
    }
    return sendAnswer(reply, await answerRequest(ctx, request, read.target, ['autodiscover-pox', method], render[method]));
  };

  await app.register(async (scope) => {
    // Outlook, Thunderbird and scanners send every Content-Type, or none: take the body as text.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_AUTODISCOVER_BODY }, (_req, body, done) =>
      done(null, body),
    );
    scope.post<{ Body: string | undefined }>(AUTODISCOVER_PATH, redirect, async (request, reply) =>
      answerRead(request, reply, dialect.readPost(typeof request.body === 'string' ? request.body : ''), 'post'),
    );
    scope.get(AUTODISCOVER_PATH, redirect, async (request, reply) => {
      const host = requestHost(request);
      return answerRead(request, reply, dialect.readGet(host, isServiceHost(serviceHosts, host)), 'get');
    });
  });
  refuseOtherMethods(app, AUTODISCOVER_PATH, ['GET', 'POST']);
}
