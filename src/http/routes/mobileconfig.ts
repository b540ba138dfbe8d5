// Apple Mail (iOS, iPadOS, macOS): GET/HEAD /mobileconfig?emailaddress=… (alias
// /email.mobileconfig) downloads a configuration profile for that mailbox.
import type { FastifyInstance } from 'fastify';
import { readMobileconfigRequest } from '../../dialects/mobileconfig.js';
import { MOBILECONFIG_PATHS } from '../../links.js';
import type { AppContext } from '../context.js';
import { lookupFor } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

export async function mobileconfigRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dialect = ctx.dialects.mobileconfig;
  for (const url of MOBILECONFIG_PATHS) {
    app.get<{ Querystring: { emailaddress?: string } }>(url, async (request, reply) => {
      const read = readMobileconfigRequest(request.query.emailaddress);
      if (!read.ok) return sendAnswer(reply, read.answer);
      return sendAnswer(reply, await dialect.answer(await lookupFor(ctx, request, read.target)));
    });
    refuseOtherMethods(app, url, ['GET']);
  }
}
