// How a request reached us (plain HTTP or HTTPS) and the public URLs we send clients to.
// Decides Outlook's HTTP redirect method: autodiscover over plain HTTP gets a 302 to HTTPS.
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/** `<PUBLIC_URL><path>`: the service's own public URL for one of its paths (never the Host header). */
export function publicUrlFor(publicUrl: URL, path: string): string {
  return `${publicUrl.origin}${publicUrl.pathname.replace(/\/+$/, '')}${path}`;
}

/** Whether the peer at `address`, `hop` steps from us (0: the socket), is one of our proxies. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY as one function, used both by Fastify (client IP, X-Forwarded-Proto) and for
 * Fly-Forwarded-Proto below: `true` trusts every peer, a list the addresses, CIDRs and
 * `loopback`/`linklocal`/`uniquelocal` it names (compiled by proxy-addr, as Fastify does),
 * and a hop count n keeps its classic meaning: the n nearest hops are our proxies (Fastify
 * now reads a bare number as "trust nothing"). That is safe where clients can reach the
 * service only through those proxies, as on Fly.io.
 */
export function proxyTrust(trust: Config['trustProxy']): ProxyTrust {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyAddr.compile(trust);
}

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
