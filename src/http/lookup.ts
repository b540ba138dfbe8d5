// The endpoints' shared step: run the pipeline for a request, remember what was asked
// (for the request log line) and log the outcomes an operator must act on.
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HTTPMethods, RouteOptions } from 'fastify';
import type { EmailAddress } from '../address.js';
import { resolveSettings, type Resolution } from '../resolve.js';
import type { AppContext } from './context.js';

export interface RequestTarget {
  domain: string;
  /** A short hash of the address: lets operators correlate requests without logging it. */
  addressHash?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    mailTarget: RequestTarget | null;
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

export async function lookupFor(
  ctx: AppContext,
  request: FastifyRequest,
  domain: string,
  address: EmailAddress | undefined,
): Promise<Resolution> {
  request.mailTarget = address ? { domain, addressHash: addressHash(address.address, ctx.secret) } : { domain };
  const resolution = await resolveSettings({ domain, address }, ctx.directory, ctx.profile);
  if (resolution.kind === 'data-error') {
    const { username, kind, detail } = resolution.error;
    request.log.error({ account: username, dataError: kind }, `account ${username}: ${detail}`);
  } else if (resolution.kind === 'unavailable') {
    request.log.error({ err: resolution.cause }, 'directory unavailable');
  }
  return resolution;
}

/**
 * A route answering 405 with the methods the path does answer. It replies in onRequest,
 * before any body is read, so no body or Content-Type can turn it into a 413 or 415.
 */
export function methodNotAllowedRoute(url: string, methods: HTTPMethods[], allow: string): RouteOptions {
  return {
    method: methods,
    url,
    onRequest: async (_request: FastifyRequest, reply: FastifyReply) =>
      replyText(reply.header('allow', allow), 405, 'Method not allowed'),
    handler: async () => undefined,
  };
}

/** Seconds a client should wait before retrying when the directory is down. */
export const RETRY_AFTER_SECONDS = 30;

export const TEXT = 'text/plain; charset=utf-8';

/** A short plain-text answer, for people and for clients that only read the status. */
export function replyText(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type(TEXT).send(`${message}\n`);
}

/**
 * The plain-text answer for a lookup that found no settings: 404 when nothing is published,
 * 500 for account data that gives no host (naming no internals), 503 + Retry-After when
 * the directory is down.
 */
export function replyTextFailure(
  reply: FastifyReply,
  kind: Exclude<Resolution['kind'], 'settings'>,
  notFound = 'No mail settings are published for this domain',
): FastifyReply {
  switch (kind) {
    case 'unknown-domain':
    case 'address-required':
      return replyText(reply, 404, notFound);
    case 'data-error':
      return replyText(reply, 500, 'Mail settings for this address are unavailable; please contact support');
    case 'unavailable':
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return replyText(reply, 503, 'Mail settings are temporarily unavailable; please try again shortly');
  }
}
