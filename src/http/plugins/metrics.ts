// Prometheus metrics (prom-client, text exposition format): what an operator watches.
// Requests by dialect and outcome, answers by era, request and directory-lookup latency,
// the directory's health, the cache's counters when the directory has a cache, the build.
// Recorded in one onResponse hook and in the one pipeline call (http/lookup.ts); exposed on
// /metrics to loopback and METRICS_ALLOW peers only (judged by the socket peer, never by a
// forwarded header, and never when a proxy forwarded the request), everyone else gets the
// plain 404 any unknown path gets.
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { packageVersion } from '../../config/version.js';
import { textAnswer } from '../../dialects/answer.js';
import { dialectOfRoute, METRICS_PATH } from '../../links.js';
import type { Resolution } from '../../pipeline/lookup.js';
import { hasForwardingHeaders } from '../client-ip.js';
import type { AppContext } from '../context.js';
import { sendAnswer } from '../send.js';

/** What a request came to, for the outcome label: a lookup's Resolution kind, or its status class. */
export type Outcome = 'settings' | 'unknown-domain' | 'client-error' | 'data-error' | 'unavailable' | 'rate-limited' | 'error' | 'other';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the pipeline call (http/lookup.ts); requests without a lookup are judged by their status. */
    lookupOutcome: { outcome: Outcome; era?: string } | null;
  }
}

/** A directory that keeps counters (a cache) offers them here. */
export interface DirectoryStats {
  stats(): Readonly<Record<string, number>>;
}

export interface Metrics {
  readonly registry: Registry;
  /** Notes a lookup's outcome on its request and times it. */
  observeLookup(request: FastifyRequest, resolution: Resolution, seconds: number): void;
  /** Counts an answer, once it is sent. */
  observeAnswer(request: FastifyRequest, reply: FastifyReply): void;
  /** The directory answered (a lookup or a readiness probe did) or did not. */
  directoryUp(up: boolean): void;
  /** The shared rate-limit store (Redis) is reachable, or not. */
  redisUp(up: boolean): void;
  /** A change the admin API wrote (not a dry run). */
  adminChange(operation: AdminOperation): void;
}

/** What the admin API can change. */
export type AdminOperation = 'put-account' | 'delete-account' | 'delete-domain' | 'import';

/** What an admin request came to, by its status: the refusals an operator tells apart. */
function adminOutcome(status: number): string {
  if (status < 400) return 'ok';
  const named: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found', 422: 'invalid', 429: 'rate-limited' };
  return named[status] ?? (status >= 500 ? 'error' : 'client-error');
}

const OUTCOME_OF: Record<Resolution['kind'], Outcome> = {
  settings: 'settings',
  'unknown-domain': 'unknown-domain',
  // An account-named domain asked without an address: the client asked the wrong question.
  'address-required': 'client-error',
  'data-error': 'data-error',
  unavailable: 'unavailable',
};

function outcomeOf(request: FastifyRequest, reply: FastifyReply): Outcome {
  if (reply.statusCode === 429) return 'rate-limited';
  if (request.lookupOutcome) return request.lookupOutcome.outcome;
  if (reply.statusCode >= 500) return 'error';
  if (reply.statusCode >= 400) return 'client-error';
  return 'other';
}

export function createMetrics(directory: Partial<DirectoryStats> = {}, answers?: DirectoryStats): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mailconf_' });
  const requests = new Counter({
    name: 'mailconf_requests_total',
    help: 'Requests answered, by dialect and outcome',
    labelNames: ['dialect', 'outcome'] as const,
    registers: [registry],
  });
  const eras = new Counter({ name: 'mailconf_answers_by_era_total', help: 'Settings answered, by account era', labelNames: ['era'] as const, registers: [registry] });
  const latency = new Histogram({
    name: 'mailconf_request_duration_seconds',
    help: 'Time from request to answer, by dialect',
    labelNames: ['dialect'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const lookups = new Histogram({
    name: 'mailconf_directory_lookup_duration_seconds',
    help: 'Time of one pipeline run, directory to answer (the policy and the dialect run only when the answer cache does not hold the answer)',
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });
  const up = new Gauge({ name: 'mailconf_directory_up', help: '1 when the directory answered the last lookup or probe, else 0', registers: [registry] });
  up.set(1);
  const adminRequests = new Counter({
    name: 'mailconf_admin_requests_total',
    help: 'Admin API requests answered, by outcome (ok, unauthenticated, forbidden, not-found, invalid, rate-limited, client-error, error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const adminChanges = new Counter({
    name: 'mailconf_admin_changes_total',
    help: 'Changes written through the admin API (dry runs aside), by operation',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  // Only with REDIS_URL: registered when the store first reports.
  let redis: Gauge | undefined;
  new Gauge({ name: 'mailconf_build_info', help: 'The running build', labelNames: ['version', 'node'] as const, registers: [registry] })
    .labels(packageVersion(), process.version)
    .set(1);
  // A gauge per counter source, read when /metrics is scraped.
  const counters = (name: string, help: string, source: DirectoryStats) =>
    new Gauge({
      name,
      help,
      labelNames: ['counter'] as const,
      registers: [registry],
      collect() {
        for (const [counter, value] of Object.entries(source.stats())) this.labels(counter).set(value);
      },
    });
  if (directory.stats) counters('mailconf_directory_cache', 'Directory cache counters since start (hits, misses, stale serves, ...)', directory as DirectoryStats);
  if (answers) counters('mailconf_answer_cache', 'Answer cache counters since start (hits, misses, evictions) and its entries', answers);

  // prom-client hashes the label values on every labels() call: each combination's child is looked up once.
  const requestsBy = new Map<string, { inc(): void }>();
  const latencyBy = new Map<string, { observe(value: number): void }>();
  const erasBy = new Map<string, { inc(): void }>();
  const child = <C>(children: Map<string, C>, key: string, make: () => C): C => {
    let found = children.get(key);
    if (found === undefined) children.set(key, (found = make()));
    return found;
  };

  return {
    registry,
    observeLookup(request, resolution, seconds) {
      lookups.observe(seconds);
      up.set(resolution.kind === 'unavailable' ? 0 : 1);
      request.lookupOutcome = resolution.kind === 'settings' ? { outcome: 'settings', era: resolution.settings.era } : { outcome: OUTCOME_OF[resolution.kind] };
    },
    observeAnswer(request, reply) {
      const dialect = dialectOfRoute(request.routeOptions.url);
      const outcome = outcomeOf(request, reply);
      child(requestsBy, `${dialect} ${outcome}`, () => requests.labels(dialect, outcome)).inc();
      child(latencyBy, dialect, () => latency.labels(dialect)).observe(reply.elapsedTime / 1000);
      const era = request.lookupOutcome?.era;
      if (era) child(erasBy, era, () => eras.labels(era)).inc();
      if (dialect === 'admin') adminRequests.labels(adminOutcome(reply.statusCode)).inc();
    },
    adminChange: (operation) => adminChanges.labels(operation).inc(),
    directoryUp: (ok) => up.set(ok ? 1 : 0),
    redisUp: (ok) => {
      redis ??= new Gauge({ name: 'mailconf_redis_up', help: '1 while the shared rate-limit store (REDIS_URL) answers, 0 while it does not', registers: [registry] });
      redis.set(ok ? 1 : 0);
    },
  };
}

const NOT_FOUND = textAnswer(404, 'Not found');

/** The onResponse hook that counts every answer, and the /metrics route. */
export async function metricsPlugin(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { metrics } = ctx;
  app.decorateRequest('lookupOutcome', null);
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeAnswer(request, reply);
    done();
  });

  const allowed = proxyAddr.compile(['loopback', ...ctx.config.metricsAllow]);
  // A request some proxy forwarded came from elsewhere, whatever the peer: refused too.
  const mayRead = (request: FastifyRequest) => {
    const peer = request.socket.remoteAddress;
    return peer !== undefined && allowed(peer, 0) && !hasForwardingHeaders(request.headers);
  };
  app.get(METRICS_PATH, { config: { rateLimitExempt: mayRead } }, async (request, reply) => {
    if (!mayRead(request)) return sendAnswer(reply, NOT_FOUND);
    return reply
      .type(metrics.registry.contentType)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(await metrics.registry.metrics());
  });
}
