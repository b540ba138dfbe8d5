// Thunderbird autoconfig: GET/HEAD /mail/config-v1.1.xml and its .well-known twin.
import type { FastifyInstance } from 'fastify';
import { AUTOCONFIG_PATHS } from '../../links.js';
import { readAutoconfigRequest } from '../../dialects/autoconfig.js';
import type { Resolution } from '../../pipeline/lookup.js';
import { requestHost } from '../arrival.js';
import type { AppContext } from '../context.js';
import { answerRequest } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

export async function autoconfigRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dialect = ctx.dialects.autoconfig;
  const render = (resolution: Resolution) => dialect.answer(resolution);
  for (const url of AUTOCONFIG_PATHS) {
    app.get<{ Querystring: { emailaddress?: string; emailmd5?: string } }>(url, async (request, reply) => {
      const { emailaddress, emailmd5 } = request.query;
      const target = readAutoconfigRequest(emailaddress, requestHost(request), emailmd5);
      if (!target) return sendAnswer(reply, dialect.noDomain);
      return sendAnswer(reply, await answerRequest(ctx, request, target, ['autoconfig'], render));
    });
    refuseOtherMethods(app, url, ['GET']);
  }
}
