// GET /healthz: the process answers (liveness). GET /readyz: this instance should take
// traffic: its directory answers a real lookup and it is not shutting down (readiness).
// Both exempt from rate limiting: probes are frequent.
import type { FastifyInstance } from 'fastify';
import { HEALTH_PATH, READY_PATH } from '../../links.js';
import type { AppContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(HEALTH_PATH, { config: { rateLimit: false } }, async (_request, reply) =>
    reply.header('x-content-type-options', 'nosniff').send({ status: 'ok' }),
  );

  app.get(READY_PATH, { config: { rateLimit: false } }, async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
    if (!ctx.readiness.accepting) return reply.code(503).send({ status: 'unavailable', reason: 'shutting down' });
    try {
      await ctx.directory.ping();
      ctx.metrics.directoryUp(true);
      // Redis unreachable does not make the instance unready (rate limits fail open), but says so.
      const store = app.rateLimitStore();
      return reply.send(store === 'local' ? { status: 'ok' } : { status: 'ok', rateLimits: store === 'shared' ? 'shared' : 'per instance: Redis unreachable' });
    } catch (err) {
      ctx.metrics.directoryUp(false);
      request.log.error({ err }, 'readiness check: directory unavailable');
      return reply.code(503).send({ status: 'unavailable', reason: 'directory does not answer' });
    }
  });
}
