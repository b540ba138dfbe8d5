// What every admin request passes before its route, in this order: the host (on a
// customer's name the API does not exist: the plain 404 of any unknown path), the admin
// rate limit (its own budget; refused authentications count), the transport (HTTPS, or a
// client on this machine: a token sent in clear over a network is a token given away),
// then the bearer token (RFC 6750). Refusals are problem+json (RFC 9457), and none of
// them says anything about the tokens.
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AdminApiSettings, Config } from '../../config/config.js';
import { isAdminHost } from '../../links.js';
import { plainHttpDetector, requestHost } from '../arrival.js';
import { clientAddress, isLoopback, isOwnLocalRequest, proxyTrust } from '../client-ip.js';
import { NOT_FOUND } from '../plugins/guards.js';
import { sendAnswer } from '../send.js';
import { AdminTokens, readCredentials } from './bearer.js';
import { problemAnswer } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the admin token the request bears, once the gate has let it through. */
    adminHolder: string | null;
  }
}

/** RFC 6750 section 3: the realm every challenge names. */
export const ADMIN_REALM = 'mailconf-admin';

/**
 * RFC 6750 section 3.1: no error code when the request carried no credentials, else the
 * code saying what was wrong with them.
 */
const challenge = (error?: 'invalid_token' | 'invalid_request') =>
  ({ 'www-authenticate': `Bearer realm="${ADMIN_REALM}"${error ? `, error="${error}"` : ''}` }) as const;

const NO_TOKEN = problemAnswer(401, 'This API needs a bearer token: send "Authorization: Bearer <token>"', { headers: challenge() });
const WRONG_TOKEN = problemAnswer(401, 'The bearer token is not one of this service\'s admin tokens', { headers: challenge('invalid_token') });
const MALFORMED = problemAnswer(400, 'The Authorization header is not "Bearer <token>" (RFC 6750 section 2.1)', { headers: challenge('invalid_request') });
const PLAIN_HTTP = problemAnswer(403, 'The admin API answers only over HTTPS, or to a client on this machine');

export interface AdminGate {
  /** Whether the request's host is one the API answers on (routes/rate limit: `rateLimitExempt`). */
  onAdminHost(request: FastifyRequest): boolean;
  /** The onRequest hook of every admin route. */
  hook: onRequestAsyncHookHandler;
}

export function adminGate(config: Config, admin: AdminApiSettings, countAdmin: (request: FastifyRequest) => Promise<number | undefined>): AdminGate {
  const tokens = new AdminTokens(admin.tokens);
  const trust = proxyTrust(config.trustProxy);
  const plainHttp = plainHttpDetector(config.trustProxy);
  const onAdminHost = (request: FastifyRequest) => isAdminHost(config.publicUrl, requestHost(request));
  // On this machine: the socket peer is loopback and no proxy forwarded it, or our own
  // proxies (TRUST_PROXY) say the client they forward for is loopback.
  const fromThisMachine = (request: FastifyRequest) => {
    if (isOwnLocalRequest(request)) return true;
    const peer = request.socket.remoteAddress;
    return peer !== undefined && trust(peer, 0) && isLoopback(clientAddress(request.raw, trust));
  };

  const hook = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!onAdminHost(request)) return sendAnswer(reply, NOT_FOUND);
    const retryIn = await countAdmin(request);
    if (retryIn !== undefined) {
      return sendAnswer(reply, problemAnswer(429, `Too many admin requests: retry in ${retryIn} seconds`, { headers: { 'retry-after': String(retryIn) } }));
    }
    if (plainHttp(request) && !fromThisMachine(request)) return sendAnswer(reply, PLAIN_HTTP);
    const credentials = readCredentials(request.headers.authorization);
    if (credentials.kind === 'none') return sendAnswer(reply, NO_TOKEN);
    if (credentials.kind === 'malformed') return sendAnswer(reply, MALFORMED);
    const holder = tokens.holderOf(credentials.token);
    if (holder === undefined) {
      request.log.warn('admin API: refused a request with an unknown bearer token');
      return sendAnswer(reply, WRONG_TOKEN);
    }
    request.adminHolder = holder;
  };
  return { onAdminHost, hook };
}
