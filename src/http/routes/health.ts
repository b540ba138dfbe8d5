// GET /healthz: whether the directory answers. Exempt from rate limiting (probes are frequent).
import type { FastifyInstance } from 'fastify';
import { HEALTH_PATH } from '../../links.js';
import type { AppContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(HEALTH_PATH, { config: { rateLimit: false } }, async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    try {
      await ctx.directory.ping();
      return reply.send({ status: 'ok' });
    } catch (err) {
      request.log.error({ err }, 'health check: directory unavailable');
      return reply.code(503).send({ status: 'unavailable', reason: 'directory does not answer' });
    }
  });
}
