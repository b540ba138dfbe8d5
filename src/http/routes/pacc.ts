// PACC (draft-ietf-mailmaint-pacc): GET/HEAD /.well-known/user-agent-configuration.json
// on `ua-auto-config.<domain>`, the domain named by the Host alone (no address); on any
// other Host, 404.
import type { FastifyInstance } from 'fastify';
import { paccDomainOfHost } from '../../dialects/pacc.js';
import { PACC_PATH } from '../../links.js';
import type { Resolution } from '../../pipeline/lookup.js';
import { requestHost } from '../arrival.js';
import type { AppContext } from '../context.js';
import { answerRequest } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

export async function paccRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dialect = ctx.dialects.pacc;
  const render = (resolution: Resolution) => dialect.answer(resolution);
  app.get(PACC_PATH, async (request, reply) => {
    const domain = paccDomainOfHost(requestHost(request));
    if (domain === undefined) return sendAnswer(reply, dialect.noDomain);
    return sendAnswer(reply, await answerRequest(ctx, request, { domain }, ['pacc'], render));
  });
  refuseOtherMethods(app, PACC_PATH, ['GET']);
}
