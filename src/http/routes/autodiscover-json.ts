// Autodiscover v2 (new Outlook, Outlook mobile): GET /autodiscover/autodiscover.json in
// its query form and its `/v1.0/<address>` path form.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readAutodiscoverJsonRequest } from '../../dialects/autodiscover-json.js';
import type { Resolution } from '../../pipeline/lookup.js';
import { AUTODISCOVER_JSON_PATH } from '../../links.js';
import type { AppContext } from '../context.js';
import { answerRequest } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

type Query = { Querystring: Record<string, string> };

export async function autodiscoverJsonRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dialect = ctx.dialects.autodiscoverJson;
  const render = (resolution: Resolution) => dialect.answer(resolution);
  const answer = async (request: FastifyRequest<Query>, reply: FastifyReply, pathRest?: string) => {
    const read = readAutodiscoverJsonRequest(request.query, pathRest);
    if (!read.ok) return sendAnswer(reply, read.answer);
    return sendAnswer(reply, await answerRequest(ctx, request, read.target, ['autodiscover-json'], render));
  };
  app.get<Query>(AUTODISCOVER_JSON_PATH, async (request, reply) => answer(request, reply));
  app.get<Query & { Params: { '*'?: string } }>(`${AUTODISCOVER_JSON_PATH}/*`, async (request, reply) =>
    answer(request, reply, request.params['*'] ?? ''),
  );
  for (const url of [AUTODISCOVER_JSON_PATH, `${AUTODISCOVER_JSON_PATH}/*`]) refuseOtherMethods(app, url, ['GET']);
}
