// GET /tls-allowed?domain=<name>, for an on-demand TLS terminator (Caddy's `ask`). The
// terminator's own asks are exempt from rate limiting: it asks on every new name it sees.
// Anyone else is limited like every other endpoint, by their own address (the answer says
// whether a domain is hosted here), including the clients that same terminator forwards:
// they too arrive from loopback, so the exemption is for a loopback peer that forwards for
// no one (client-ip.ts isOwnLocalRequest).
import type { FastifyInstance } from 'fastify';
import { readTlsAllowedRequest, tlsAllowedAnswer, tlsAllowedPaccAnswer } from '../../dialects/tls-allowed.js';
import { TLS_ALLOWED_PATH } from '../../links.js';
import { isOwnLocalRequest } from '../client-ip.js';
import type { AppContext } from '../context.js';
import { answerRequest } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

export async function tlsAllowedRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const config = { rateLimitExempt: isOwnLocalRequest };
  app.get<{ Querystring: { domain?: string } }>(TLS_ALLOWED_PATH, { config }, async (request, reply) => {
    const read = readTlsAllowedRequest(request.query.domain, ctx.config.serviceHosts);
    if (!read.ok) return sendAnswer(reply, read.answer);
    const answered = read.pacc
      ? await answerRequest(ctx, request, { domain: read.domain }, ['tls-allowed', 'pacc'], tlsAllowedPaccAnswer)
      : await answerRequest(ctx, request, { domain: read.domain }, ['tls-allowed'], tlsAllowedAnswer);
    return sendAnswer(reply, answered);
  });
  refuseOtherMethods(app, TLS_ALLOWED_PATH, ['GET']);
}
