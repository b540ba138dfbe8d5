// One log line per request: what an operator needs, never an address or a credential.
// The address appears only as a keyed hash, so one customer's requests can be followed
// without the address being in the logs.
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MailTarget } from '../../model/address.js';
import { SegmentedLru } from '../../support/segmented-lru.js';

export interface LogTarget {
  domain: string;
  /** A short hash of the address: lets operators correlate requests without logging it. */
  addressHash?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    logTarget: LogTarget | null;
  }
}

/**
 * A short keyed hash of the address for logs: the same mailbox gives the same value, so
 * operators can follow one customer's requests, but without the secret no one can test a
 * guessed address against the logs.
 */
export function addressHash(address: string, secret: string): string {
  return createHmac('sha256', secret).update(`log\0${address.toLowerCase()}`).digest('hex').slice(0, 12);
}

/** Hashes per address, kept for the addresses asked again: an HMAC per request costs more than the rest of its log line. */
const HASHES_KEPT = 2000;

/** `addressHash` under `secret`, remembering the last addresses' hashes (bounded). */
export function addressHasher(secret: string): (address: string) => string {
  const kept = new SegmentedLru<string>(HASHES_KEPT, () => {});
  return (address) => {
    let hash = kept.get(address);
    if (hash === undefined) kept.set(address, (hash = addressHash(address, secret)));
    else kept.touch(address);
    return hash;
  };
}

/** Remembers what a request asked about, for its log line. */
export function noteLogTarget(request: FastifyRequest, target: MailTarget, hash: (address: string) => string): void {
  request.logTarget = target.address ? { domain: target.domain, addressHash: hash(target.address.address) } : { domain: target.domain };
}

/** Writes a request's log line, once its answer is sent. */
export function logRequest(request: FastifyRequest, reply: FastifyReply): void {
  request.log.info(
    {
      method: request.method,
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      domain: request.logTarget?.domain,
      address: request.logTarget?.addressHash,
      // The admin API's requests (http/admin/gate.ts): the name of the token, never the token.
      admin: request.adminHolder ?? undefined,
    },
    'request',
  );
}

export function accessLog(app: FastifyInstance): void {
  app.decorateRequest('logTarget', null);
  app.addHook('onResponse', (request, reply, done) => {
    logRequest(request, reply);
    done();
  });
}
