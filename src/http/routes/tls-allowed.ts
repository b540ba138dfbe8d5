// GET /tls-allowed?domain=<name>, for an on-demand TLS terminator (Caddy's `ask`). A
// terminator on the same machine (a loopback peer) is exempt from rate limiting: it asks
// on every new name it sees; anyone else is limited like every other endpoint (the answer
// says whether a domain is hosted here).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readTlsAllowedRequest, tlsAllowedAnswer } from '../../dialects/tls-allowed.js';
import { TLS_ALLOWED_PATH } from '../../links.js';
import { isLoopback } from '../client-ip.js';
import type { AppContext } from '../context.js';
import { lookupFor } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

export async function tlsAllowedRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const rateLimit = { allowList: (request: FastifyRequest) => isLoopback(request.socket.remoteAddress) };
  app.get<{ Querystring: { domain?: string } }>(TLS_ALLOWED_PATH, { config: { rateLimit } }, async (request, reply) => {
    const read = readTlsAllowedRequest(request.query.domain, ctx.config.serviceHosts);
    if (!read.ok) return sendAnswer(reply, read.answer);
    return sendAnswer(reply, tlsAllowedAnswer(await lookupFor(ctx, request, { domain: read.domain })));
  });
  refuseOtherMethods(app, TLS_ALLOWED_PATH, ['GET']);
}
