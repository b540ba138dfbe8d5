// TRUST_PROXY as one trust function: which peers are our own proxies, so that the client's
// address and the scheme come from their headers and nobody else's (RFC 7239 section 5.2
// on why only trusted proxies' entries count).
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
