// The Fastify application: cross-cutting plugins (connection bounds, guards, rate limit,
// access log) around thin routes that each read a request, call the pipeline and send one
// dialect's Answer.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Answer } from '../dialects/answer.js';
import { MAX_AUTODISCOVER_BODY } from '../dialects/autodiscover-pox.js';
import { ownServiceHosts } from '../links.js';
import { AnswerCache } from '../pipeline/answer-cache.js';
import { mxLookupDomains } from '../policy/provider-profile.js';
import { adminApi } from './admin/api.js';
import { proxyTrust } from './client-ip.js';
import type { AppContext, Readiness } from './context.js';
import { accessLog, addressHasher } from './plugins/access-log.js';
import { connectionLimits } from './plugins/connections.js';
import { guards, routerErrors } from './plugins/guards.js';
import { createMetrics, metricsPlugin, type DirectoryStats, type Metrics } from './plugins/metrics.js';
import { rateLimiting } from './plugins/rate-limit.js';
import { parseQuery } from './query-string.js';
import { autoconfigRoutes } from './routes/autoconfig.js';
import { autodiscoverJsonRoutes } from './routes/autodiscover-json.js';
import { autodiscoverPoxRoutes } from './routes/autodiscover-pox.js';
import { healthRoutes } from './routes/health.js';
import { mobileconfigRoutes } from './routes/mobileconfig.js';
import { paccRoutes } from './routes/pacc.js';
import { settingsPageRoutes } from './routes/settings-page.js';
import { tlsAllowedRoutes } from './routes/tls-allowed.js';

/** Every endpoint; a new dialect's route is one more line here. */
const ROUTES = [
  autoconfigRoutes,
  autodiscoverPoxRoutes,
  autodiscoverJsonRoutes,
  healthRoutes,
  tlsAllowedRoutes,
  mobileconfigRoutes,
  paccRoutes,
  settingsPageRoutes,
] as const;

/** What the app is built from; metrics and readiness are made here unless the caller keeps its own. */
export type AppSetup = Omit<AppContext, 'metrics' | 'readiness' | 'answers' | 'logHash'> & { metrics?: Metrics; readiness?: Readiness };

export async function buildApp(setup: AppSetup, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const answers = new AnswerCache<Answer>(setup.config.answerCacheEntries);
  const ctx: AppContext = {
    ...setup,
    // The service's own names include `autoconfig.<MX domain>` of the provider's MX hosts
    // (SERVICE_HOSTS' documented default, links.ts ownServiceHosts).
    config: { ...setup.config, serviceHosts: ownServiceHosts(setup.config.serviceHosts, mxLookupDomains(setup.profile)) },
    answers,
    logHash: addressHasher(setup.secret),
    metrics: setup.metrics ?? createMetrics(setup.directory as Partial<DirectoryStats>, answers),
    readiness: setup.readiness ?? { accepting: true },
  };
  const trust = proxyTrust(ctx.config.trustProxy);
  const connections = connectionLimits(ctx.config.connections, trust, logger);
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: trust,
    bodyLimit: MAX_AUTODISCOVER_BODY,
    genReqId: () => randomUUID(),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: false, querystringParser: parseQuery },
    frameworkErrors: routerErrors,
    ...connections.options,
  });
  connections.attach(app);
  await rateLimiting(app, ctx.config, trust, (reachable) => ctx.metrics.redisUp(reachable));
  guards(app, ctx.readiness);
  accessLog(app);
  await metricsPlugin(app, ctx);
  for (const routes of ROUTES) await routes(app, ctx);
  await adminApi(app, ctx);
  return app;
}
