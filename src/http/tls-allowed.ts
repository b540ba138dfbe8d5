// GET /tls-allowed?domain=<name>: may an on-demand TLS terminator (Caddy's `ask`) get a
// certificate for this name? Yes (200) for `autoconfig.` and `autodiscover.` of a hosted
// domain and for the service's own names; no (404) for anything else, so that a name
// pointed at us by a stranger costs no certificate. A terminator on the same machine
// (a loopback peer) is exempt from rate limiting: it asks on every new name it sees.
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeDomain } from '../address.js';
import { isServiceHost } from '../config.js';
import type { AppContext } from './context.js';
import { lookupFor, methodNotAllowedRoute, replyText, replyTextFailure } from './lookup.js';

export const TLS_ALLOWED_PATH = '/tls-allowed';
const loopback = proxyAddr.compile('loopback');
const isLoopback = (address: string | undefined) => address !== undefined && loopback(address, 0);
/** The names customers point at us, one label above their domain. */
export const CERTIFICATE_LABELS = ['autoconfig', 'autodiscover'] as const;

export async function tlsAllowedRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const no = (reply: FastifyReply) => replyText(reply, 404, 'No certificate for this name');
  const yes = (reply: FastifyReply) => replyText(reply, 200, 'Certificate allowed');

  // The terminator on the same machine asks as often as it likes; anyone else is limited
  // like every other endpoint (the answer says whether a domain is hosted here).
  const rateLimit = { allowList: (request: FastifyRequest) => isLoopback(request.socket.remoteAddress) };
  app.get(TLS_ALLOWED_PATH, { config: { rateLimit } }, async (request, reply) => {
    const raw = (request.query as Record<string, string>).domain;
    const name = raw === undefined ? undefined : normalizeDomain(raw);
    if (!name) return no(reply);
    if (isServiceHost(ctx.config, name)) return yes(reply);
    const label = CERTIFICATE_LABELS.find((l) => name.startsWith(`${l}.`));
    // normalizeDomain again: `autoconfig.example` leaves a one-label name, which is no domain.
    const domain = label ? normalizeDomain(name.slice(label.length + 1)) : undefined;
    if (!domain) return no(reply);
    const result = await lookupFor(ctx, request, domain, undefined);
    switch (result.kind) {
      case 'settings':
      // Hosted, but the account's data gives no host: the name is still ours to answer on.
      case 'data-error':
      // An account-named domain (pair.com): the provider's own, served by us.
      case 'address-required':
        return yes(reply);
      case 'unknown-domain':
        return no(reply);
      case 'unavailable':
        return replyTextFailure(reply, result.kind);
    }
  });
  app.route(methodNotAllowedRoute(TLS_ALLOWED_PATH, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD'));
}
