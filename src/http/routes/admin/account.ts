// One account: GET, PUT (create or replace, validated as an import's records are) and
// DELETE /admin/accounts/{username}. Writes go to the directory's backend, which tells
// every instance's cache; each is logged with the name of the token that made it.
import type { FastifyInstance } from 'fastify';
import { ADMIN_ACCOUNT_PATH } from '../../../links.js';
import type { AdminContext } from '../../admin/context.js';
import { directoryCall } from '../../admin/directory-call.js';
import { methodNotAllowedProblem, problemAnswer } from '../../admin/problem.js';
import { accountSchema, GATE_RESPONSES, problem, usernameParams } from '../../admin/schemas.js';
import { refuseOtherMethods, sendAnswer } from '../../send.js';

const noAccount = (username: string) => problemAnswer(404, `There is no account named ${username}`);

export async function adminAccountRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.get<{ Params: { username: string } }>(
    ADMIN_ACCOUNT_PATH,
    {
      schema: {
        summary: 'One account, with its domains and stored mailbox logins (sorted)',
        params: usernameParams,
        response: { 200: accountSchema, 404: problem('no account of that name'), ...GATE_RESPONSES },
      },
    },
    async (request, reply) => {
      const username = request.params.username.toLowerCase();
      const account = await directoryCall(request, () => ctx.directory.getAccount(username));
      if (!account) return sendAnswer(reply, noAccount(username));
      return reply.header('cache-control', 'no-store').send(account);
    },
  );

  app.delete<{ Params: { username: string } }>(
    ADMIN_ACCOUNT_PATH,
    {
      schema: {
        summary: 'Removes an account with its domains and stored logins; answers what it held',
        params: usernameParams,
        response: {
          200: { type: 'object', required: ['deleted'], properties: { deleted: accountSchema } },
          404: problem('no account of that name: nothing was removed'),
          ...GATE_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const username = request.params.username.toLowerCase();
      const deleted = await directoryCall(request, () => ctx.directory.deleteAccount(username));
      if (!deleted) return sendAnswer(reply, noAccount(username));
      ctx.metrics.adminChange('delete-account');
      request.log.info(
        { admin: request.adminHolder, operation: 'delete-account', username, domains: deleted.domains.length, mailboxes: deleted.mailboxes.length },
        `admin API: ${request.adminHolder} deleted account ${username}`,
      );
      return reply.header('cache-control', 'no-store').send({ deleted });
    },
  );

  refuseOtherMethods(app, ADMIN_ACCOUNT_PATH, ['GET', 'DELETE'], methodNotAllowedProblem);
}
