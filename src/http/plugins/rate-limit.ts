// Rate limiting per client (client-ip.ts decides who a client is): every answer the
// service gives counts, in the order the requests arrived, whether it is a lookup, a 404,
// a 405, a 414 or a refused URL. @fastify/rate-limit's own hooks are not used: it adds
// them route by route (onRoute), so the not-found handler, the router's bad-URL answers
// and everything answered in an earlier onRequest hook escaped it. The guards call
// `countRequest` first instead, and send its 429 (plugins/guards.ts).
import rateLimit from '@fastify/rate-limit';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Answer } from '../../dialects/answer.js';
import { clientAddress, clientKey, type ProxyTrust } from '../client-ip.js';
import { refusal } from '../send.js';
import { counterStore, type StoreState } from './rate-limit-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Counts a request against its client's budget and sets the X-RateLimit-* headers;
     * gives the 429 to send instead when the budget is spent.
     */
    countRequest(request: FastifyRequest, reply: FastifyReply): Promise<Answer | undefined>;
    /** Where the counters are: `local`, `shared` (Redis) or `per-instance` (Redis unreachable). */
    rateLimitStore(): StoreState;
    /**
     * Counts a lookup that found no hosted domain against its client's lower miss budget
     * (RATE_LIMIT_MISS_MAX: what scanners produce); gives the 429 to send instead when spent.
     */
    countMiss(request: FastifyRequest): Promise<Answer | undefined>;
    /**
     * A budget of its own: `max` requests per client per window, counted under `name:`
     * keys (apart in a shared store too). The counter it gives counts a request and says
     * the seconds until the window ends once the budget is spent, else undefined.
     * RATE_LIMIT_ALLOW does not apply: whoever uses it decides.
     */
    clientBudget(name: string, max: number): (request: FastifyRequest) => Promise<number | undefined>;
  }
  interface FastifyContextConfig {
    /** A route's requests for which this says true are not counted (see routes/tls-allowed.ts). */
    rateLimitExempt?: (request: FastifyRequest) => boolean;
  }
}

/** The key a request is counted by: its client (IPv6 by /64), from the raw request. */
function requestKey(request: FastifyRequest, trust: ProxyTrust): string {
  const address = clientAddress(request.raw, trust);
  // The guards answer hung-up clients before counting; this is only a fallback key.
  return address === undefined ? 'unknown' : clientKey(address);
}

export async function rateLimiting(
  app: FastifyInstance,
  config: Config,
  trust: ProxyTrust,
  onRedisChange?: (reachable: boolean) => void,
): Promise<void> {
  const store = counterStore(config.redisUrl, app.log, { onChange: onRedisChange });
  app.decorate('rateLimitStore', store.state);
  app.addHook('onClose', async () => store.close());
  // RATE_LIMIT_ALLOW: networks never limited (the provider's office, its support desk).
  const allowed = config.rateLimitAllow.length > 0 ? proxyAddr.compile(config.rateLimitAllow) : undefined;
  await app.register(rateLimit, {
    global: false,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.timeWindow,
    store: store.Store,
    keyGenerator: (request) => requestKey(request, trust),
  });
  const limit = app.createRateLimit();
  // Its own counters (a key of its own in a shared store), on the same window.
  const clientBudget = (name: string, max: number) => {
    const counter = app.createRateLimit({ max, keyGenerator: (request) => `${name}:${requestKey(request, trust)}` });
    return async (request: FastifyRequest) => {
      const result = await counter(request);
      return !result.isAllowed && result.isExceeded ? result.ttlInSeconds : undefined;
    };
  };
  app.decorate('clientBudget', clientBudget);
  const missBudget = clientBudget('miss', config.rateLimitMissMax);
  // Without an allow-list, nothing to work out per request.
  const isAllowed = (request: FastifyRequest) => {
    if (!allowed) return false;
    const client = clientAddress(request.raw, trust);
    return client !== undefined && allowed(client, 0);
  };
  const tooMany = (ttlInSeconds: number) =>
    // RFC 6585 section 4: 429, with Retry-After (RFC 9110 section 10.2.3) saying when the window ends.
    refusal(429, `Too many requests: retry in ${ttlInSeconds} seconds`, { 'retry-after': String(ttlInSeconds) });

  app.decorate('countMiss', async (request: FastifyRequest) => {
    if (isAllowed(request)) return undefined;
    const retryIn = await missBudget(request);
    return retryIn === undefined ? undefined : tooMany(retryIn);
  });

  app.decorate('countRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.config;
    if (route?.rateLimit === false || route?.rateLimitExempt?.(request)) return undefined;
    if (isAllowed(request)) return undefined;
    const result = await limit(request);
    if (result.isAllowed) return undefined;
    reply.header('x-ratelimit-limit', result.max);
    reply.header('x-ratelimit-remaining', result.remaining);
    reply.header('x-ratelimit-reset', result.ttlInSeconds);
    return result.isExceeded ? tooMany(result.ttlInSeconds) : undefined;
  });
}
