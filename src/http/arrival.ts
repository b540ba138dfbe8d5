// How a request reached us: plain HTTP or HTTPS, and for which host. The scheme decides
// Outlook's HTTP redirect method (MS-OXDSCLI section 3.1.5.2): autodiscover over plain
// HTTP gets a 302 to HTTPS. The host names the customer's domain for several dialects.
import { isIPv6 } from 'node:net';
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

export type HostRequest = Pick<FastifyRequest, 'raw' | 'host'>;

/** An absolute-form request target (RFC 9112 section 3.2.2): its scheme, then its authority. */
const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/;

/**
 * The host a request is for, port included: what every route reads instead of
 * `request.host`. For an absolute-form target the target's authority, whatever the Host
 * header says (RFC 9112 section 3.2.2: the server MUST ignore Host then); else a trusted
 * proxy's X-Forwarded-Host or the Host header, as Fastify's `request.host` reads them.
 * The guards have refused every request whose host this would misread (`hostProblem`).
 */
export function requestHost(request: HostRequest): string {
  const absolute = ABSOLUTE_FORM.exec(request.raw.url ?? '');
  return absolute ? absolute[2]! : request.host;
}

// RFC 3986 section 3.2.2 and 3.2.3: host = IP-literal / IPv4address / reg-name, and a port
// of digits only. IPvFuture literals are not accepted: no client sends them.
const REG_NAME = "(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*";
const HOST = new RegExp(`^(?:\\[([0-9A-Fa-f:.]+)\\]|${REG_NAME})(?::[0-9]*)?$`);

/**
 * Why the request's host cannot be read, or undefined when it can: more than one Host
 * field line, a field value that is not `host[:port]` (RFC 9112 section 3.2: the server
 * MUST answer 400 to both), or an absolute-form target that is not an http(s) URI with a
 * host and no userinfo (RFC 9110 sections 4.2.1 and 4.2.4). Also the asterisk-form
 * target outside OPTIONS (RFC 9112 section 3.2.4), which the router would read as `/`.
 */
export function hostProblem(request: HostRequest): string | undefined {
  if (request.raw.url === '*' && request.raw.method !== 'OPTIONS') return 'an asterisk-form target outside OPTIONS';
  const raw = request.raw.rawHeaders;
  let lines = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'host') lines++;
  if (lines > 1) return 'more than one Host header';
  const absolute = ABSOLUTE_FORM.exec(request.raw.url ?? '');
  if (absolute) {
    const scheme = absolute[1]!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return 'a request target of another scheme';
    if (absolute[2]!.includes('@')) return 'userinfo in the request target';
    if (absolute[2] === '' || absolute[2]!.startsWith(':')) return 'no host in the request target';
  }
  const host = HOST.exec(requestHost(request));
  if (!host || (host[1] !== undefined && !isIPv6(host[1]))) return 'an invalid host';
  return undefined;
}
