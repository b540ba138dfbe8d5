// How a request reached us (plain HTTP or HTTPS) and the public URLs we send clients to.
// Decides Outlook's HTTP redirect method: autodiscover over plain HTTP gets a 302 to HTTPS.
import { BlockList, isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/** `<PUBLIC_URL><path>`: the service's own public URL for one of its paths (never the Host header). */
export function publicUrlFor(publicUrl: URL, path: string): string {
  return `${publicUrl.origin}${publicUrl.pathname.replace(/\/+$/, '')}${path}`;
}

// proxy-addr's (and so Fastify's) names for address ranges in a trust list.
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function prefixOf(mask: string): number | undefined {
  if (/^\d+$/.test(mask)) return Number(mask);
  if (isIP(mask) !== 4) return undefined;
  const bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.replace(/0+$/, '').length : undefined;
}

/**
 * Whether TRUST_PROXY trusts the peer that connected to us, as Fastify decides it for
 * X-Forwarded-Proto (see `trustProxyOption` in app.ts): `true` trusts every peer, a hop
 * count n >= 1 the nearest hop, a list the addresses, CIDRs, `IP/netmask`s and
 * `loopback`/`linklocal`/`uniquelocal` it names. An entry we cannot read trusts nothing.
 */
export function peerTrust(trust: Config['trustProxy']): (address: string | undefined) => boolean {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return () => trust >= 1;
  const list = new BlockList();
  for (const entry of trust.flatMap((e) => NAMED_RANGES[e.toLowerCase()] ?? [e])) {
    const slash = entry.lastIndexOf('/');
    const ip = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(ip);
    if (family === 0) continue;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      list.addAddress(ip, type);
      continue;
    }
    const prefix = prefixOf(entry.slice(slash + 1));
    if (prefix !== undefined && prefix <= (family === 4 ? 32 : 128)) list.addSubnet(ip, prefix, type);
  }
  return (address) => {
    const family = address ? isIP(address) : 0;
    return family !== 0 && list.check(address!, family === 4 ? 'ipv4' : 'ipv6');
  };
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
  const trusted = peerTrust(trust);
  return (request) => {
    if (request.protocol?.toLowerCase() !== 'http') return false;
    const fly = trusted(request.socket?.remoteAddress) ? lastEntry(request.headers['fly-forwarded-proto']) : undefined;
    return fly === undefined || fly === 'http';
  };
}
