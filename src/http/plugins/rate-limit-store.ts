// Where rate-limit counters live. Without REDIS_URL: in this process. With it: in Redis,
// through @fastify/rate-limit's own RedisStore (one Lua script per request: INCR and
// PEXPIRE atomically, so each request gets its own count, in arrival order), so limits
// hold across instances. Redis unreachable: the service keeps answering and counts per
// instance until Redis is back (fail open: a rate limit must never take the service down),
// saying so once per interval in the log, in the metrics and on /readyz.
import { createRequire } from 'node:module';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

type Incr = FastifyRateLimitStore['incr'];
type IncrCallback = Parameters<Incr>[1];

/** How many clients' counters a local store keeps; beyond that the least recently seen is forgotten. */
const MAX_CLIENTS = 10_000;

/**
 * A fixed window per client, like the plugin's LocalStore, but each call reports its own
 * count. LocalStore hands every caller the same mutable record, and the plugin reads it
 * only after an `await`: a pipelined burst parsed in one go was counted whole before any
 * request read its count, so even the first ones, within the limit, saw the burst's total
 * and were refused.
 */
export class ArrivalOrderStore implements FastifyRateLimitStore {
  private readonly windows = new Map<string, { count: number; start: number }>();

  incr(key: string, callback: IncrCallback, timeWindow: number): void {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.start + timeWindow <= now) window = { count: 0, start: now };
    window.count += 1;
    this.windows.delete(key); // re-inserted last: Map order is least recently seen first
    this.windows.set(key, window);
    if (this.windows.size > MAX_CLIENTS) this.windows.delete(this.windows.keys().next().value!);
    callback(null, { current: window.count, ttl: window.start + timeWindow - now });
  }

  child(): FastifyRateLimitStore {
    return new ArrivalOrderStore();
  }
}

// The plugin's RedisStore is CommonJS without its own types: its contract is the store's.
interface RedisStoreConstructor {
  new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key: string): FastifyRateLimitStore;
}
const require = createRequire(import.meta.url);
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as RedisStoreConstructor;

/** How often the state of the shared store may be logged. */
const LOG_EVERY_MS = 60_000;

export type StoreState = 'local' | 'shared' | 'per-instance';

/** The store the limiter uses, and what the rest of the service may know of it. */
export interface CounterStore {
  /** The class @fastify/rate-limit instantiates (it is given a class, not an instance). */
  readonly Store: new () => FastifyRateLimitStore;
  /** `local` (no Redis configured), `shared` (counting in Redis), `per-instance` (Redis configured but unreachable). */
  state(): StoreState;
  close(): Promise<void>;
}

export interface SharedStoreOptions {
  /** The key prefix in Redis: instances of one deployment share it. */
  nameSpace?: string;
  /** How long a Redis command may take before this request is counted locally. */
  commandTimeoutMs?: number;
  /** Told whenever Redis becomes reachable or unreachable. */
  onChange?: (reachable: boolean) => void;
}

export function counterStore(redisUrl: string | undefined, log: FastifyBaseLogger, options: SharedStoreOptions = {}): CounterStore {
  if (!redisUrl) return { Store: ArrivalOrderStore, state: () => 'local', close: async () => {} };

  // ioredis loads only with REDIS_URL: an instance that counts locally never holds it.
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  const redis: Redis = new RedisClient(redisUrl, {
    // Fail fast while disconnected: a request is counted locally rather than kept waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 250,
    connectTimeout: 2000,
    // Resolve names to IPv4 and IPv6 alike (Fly's Redis answers on its private IPv6 network).
    family: 0,
    // Keep trying to reconnect, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  const shared = new RedisStore(false, false, redis, options.nameSpace ?? 'mailconf-rate-limit-');
  const local = new ArrivalOrderStore();
  let reachable: boolean | undefined;
  let loggedAt = 0;
  const note = (now: boolean, err?: unknown) => {
    const changed = now !== reachable;
    const first = reachable === undefined;
    reachable = now;
    if (changed) options.onChange?.(now);
    const time = Date.now();
    if (now && changed) log.info(first ? 'rate limits: counting across instances in Redis' : 'rate limits: Redis reachable again, counting across instances');
    else if (!now && (changed || time - loggedAt > LOG_EVERY_MS)) {
      loggedAt = time;
      log.warn({ err }, 'rate limits: Redis unreachable, counting per instance until it is back');
    }
  };
  // ioredis emits 'error' on every failed connection attempt: noted, never thrown.
  redis.on('error', (err) => note(false, err));
  redis.on('ready', () => note(true));
  // A dropped connection is news at once, not at the next command's failure.
  redis.on('close', () => {
    if (reachable) note(false);
  });

  class FailOpenStore implements FastifyRateLimitStore {
    incr(key: string, callback: IncrCallback, timeWindow: number, max: number): void {
      if (redis.status !== 'ready') {
        if (reachable) note(false);
        return local.incr(key, callback, timeWindow);
      }
      shared.incr(
        key,
        (err, result) => {
          if (err || !result) {
            note(false, err);
            return local.incr(key, callback, timeWindow);
          }
          note(true);
          callback(null, result);
        },
        timeWindow,
        max,
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  }

  return {
    Store: FailOpenStore,
    state: () => (redis.status === 'ready' && reachable !== false ? 'shared' : 'per-instance'),
    close: async () => {
      redis.disconnect();
    },
  };
}
