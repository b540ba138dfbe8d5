// How a request reached us: plain HTTP or HTTPS. Decides Outlook's HTTP redirect method
// (MS-OXDSCLI section 3.1.5.2): autodiscover over plain HTTP gets a 302 to HTTPS.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { proxyTrust } from './client-ip.js';

/** The last value of a header a proxy may have appended to, lower-case. */
function lastEntry(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  const last = text?.split(',').pop()?.trim().toLowerCase();
  return last === '' ? undefined : last;
}

export type ArrivalRequest = Pick<FastifyRequest, 'protocol' | 'headers' | 'socket'>;

/**
 * A request "arrived over plain HTTP" when every trusted source says so: Fastify's
 * `request.protocol` (the socket, or a trusted proxy's X-Forwarded-Proto) is `http`, and a
 * trusted proxy's `Fly-Forwarded-Proto`, when present, does not say otherwise. Any doubt
 * (an https claim, an unknown value) counts as HTTPS: a wrong "plain" would send the
 * client round a redirect loop, a wrong "HTTPS" only answers directly.
 */
export function plainHttpDetector(trust: Config['trustProxy']): (request: ArrivalRequest) => boolean {
  const trusted = proxyTrust(trust);
  return (request) => {
    if (request.protocol?.toLowerCase() !== 'http') return false;
    const peer = request.socket?.remoteAddress;
    const fly = peer && trusted(peer, 0) ? lastEntry(request.headers['fly-forwarded-proto']) : undefined;
    return fly === undefined || fly === 'http';
  };
}
