// TRUST_PROXY as one trust function: which peers are our own proxies, so that the client's
// address and the scheme come from their headers and nobody else's (RFC 7239 section 5.2
// on why only trusted proxies' entries count). And the one notion of "a client" that the
// rate limit and the connection cap both count by.
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import type { Config } from '../config/config.js';

/** Whether the peer at `address`, `hop` steps from us (0: the socket), is one of our proxies. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * Used both by Fastify (client IP, X-Forwarded-Proto) and for Fly-Forwarded-Proto
 * (arrival.ts): `true` trusts every peer, a list the addresses, CIDRs and
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

const loopback = proxyAddr.compile('loopback');

/** Whether a socket peer is on this machine. */
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && loopback(address, 0);
}

/**
 * The client's address as Fastify's `request.ip` gives it (the nearest hop our proxies did
 * not write), from the raw request: Fastify builds some requests (the router's bad-URL
 * answers) without its trust-proxy getters. Undefined once the client has hung up.
 */
export function clientAddress(raw: IncomingMessage, trust: ProxyTrust): string | undefined {
  if (!raw.socket?.remoteAddress) return undefined;
  const all = proxyAddr.all(raw, trust);
  return all[all.length - 1];
}

/**
 * The key a client is counted by: an IPv4 address as it is (an IPv4-mapped IPv6 address
 * as its IPv4 form), an IPv6 address by its /64, the smallest prefix an end site is
 * given (RFC 6177, RFC 4291 section 2.5.4): one customer can pick any of 2^64 addresses,
 * so counting them one by one would count nothing.
 */
export function clientKey(address: string): string {
  const bare = address.split('%')[0]!; // a zone id names our interface, not the client
  // No colon, no IPv6: the common case skips isIPv6's long regular expression.
  if (!bare.includes(':') || !isIPv6(bare)) return bare.toLowerCase();
  const groups = ipv6Groups(bare);
  // ::ffff:a.b.c.d, in either spelling, is an IPv4 client on a dual-stack socket (RFC 4291 section 2.5.5.2)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail read). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const front = part(head);
  const back = part(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * Headers every forwarding proxy adds (RFC 7239 Forwarded, RFC 9110 section 7.6.3 Via,
 * and the de-facto X-Forwarded-* and X-Real-IP): Caddy's reverse_proxy always sets
 * X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host and adds Via.
 */
const FORWARDING_HEADERS = ['forwarded', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'fly-client-ip', 'fly-forwarded-proto'];

/**
 * A request a process on this machine made for itself, not one it forwards for a client:
 * a loopback peer and none of the headers a forwarding proxy adds. A TLS terminator's own
 * `ask` is such a request (Caddy's is a plain GET with no forwarding headers); anything
 * Caddy reverse-proxies from the Internet also arrives from loopback, but with them.
 */
export function isOwnLocalRequest(request: { socket: { remoteAddress?: string | undefined }; headers: IncomingMessage['headers'] }): boolean {
  return isLoopback(request.socket.remoteAddress) && !hasForwardingHeaders(request.headers);
}

/** Whether any of the headers a forwarding proxy adds is present: the request came from further away than its peer. */
export function hasForwardingHeaders(headers: IncomingMessage['headers']): boolean {
  return FORWARDING_HEADERS.some((name) => headers[name] !== undefined);
}
