// The settings page for people: GET/HEAD / (a form) and GET/HEAD /settings?emailaddress=…
// Not on customers' autoconfig./autodiscover. names, which are for mail clients.
import type { FastifyInstance } from 'fastify';
import { textAnswer } from '../../dialects/answer.js';
import type { Resolution } from '../../pipeline/lookup.js';
import { negotiate, readTypedTarget, servesPage } from '../../dialects/settings-page.js';
import { HOME_PATH, SETTINGS_PATH } from '../../links.js';
import { requestHost } from '../arrival.js';
import type { AppContext } from '../context.js';
import { answerRequest } from '../lookup.js';
import { refuseOtherMethods, sendAnswer } from '../send.js';

const NOT_HERE = textAnswer(404, 'Not found');

export async function settingsPageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const dialect = ctx.dialects.settingsPage;
  const names = ctx.config;

  app.get(HOME_PATH, async (request, reply) =>
    sendAnswer(reply, servesPage(requestHost(request), names) ? dialect.form() : NOT_HERE),
  );
  refuseOtherMethods(app, HOME_PATH, ['GET']);

  app.get<{ Querystring: { emailaddress?: string } }>(SETTINGS_PATH, async (request, reply) => {
    if (!servesPage(requestHost(request), names)) return sendAnswer(reply, NOT_HERE);
    const format = negotiate(request.headers.accept);
    const raw = request.query.emailaddress ?? '';
    const target = readTypedTarget(raw);
    if ('status' in target) return sendAnswer(reply, dialect.problem(format, target, raw));
    const render = (resolution: Resolution) => dialect.answer(format, resolution, target, raw);
    return sendAnswer(reply, await answerRequest(ctx, request, target, ['settings', format, raw], render));
  });
  refuseOtherMethods(app, SETTINGS_PATH, ['GET']);
}
