// Apple Mail (iOS, iPadOS, macOS): GET/HEAD /mobileconfig?emailaddress=… (alias
// /email.mobileconfig) downloads a configuration profile for that mailbox.
import type { FastifyInstance } from 'fastify';
import { readMobileconfigRequest } from '../../dialects/mobileconfig.js';
import type { Resolution } from '../../pipeline/lookup.js';
import { MOBILECONFIG_PATHS } from '../../links.js';
import type { AppContext } from '../context.js';
import { answerRequest } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

export async function mobileconfigRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dialect = ctx.dialects.mobileconfig;
  const render = (resolution: Resolution) => dialect.answer(resolution);
  for (const url of MOBILECONFIG_PATHS) {
    app.get<{ Querystring: { emailaddress?: string } }>(url, async (request, reply) => {
      const read = readMobileconfigRequest(request.query.emailaddress);
      if (!read.ok) return sendAnswer(reply, read.answer);
      return sendAnswer(reply, await answerRequest(ctx, request, read.target, ['mobileconfig'], render));
    });
    refuseOtherMethods(app, url, ['GET']);
  }
}
