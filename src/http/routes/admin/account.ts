// One account: GET, PUT (create or replace, validated as an import's records are:
// admin/account-body.ts) and DELETE /admin/accounts/{username}. Writes go to the
// directory's backend, which tells every instance's cache; each is logged with the name of
// the token that made it.
import type { FastifyInstance } from 'fastify';
import { ImportRejectedError, type ImportRecord } from '../../../directory/directory.js';
import { ADMIN_ACCOUNT_PATH, ADMIN_PREFIX } from '../../../links.js';
import { accountFromBody, refusedAccount } from '../../admin/account-body.js';
import type { AdminContext } from '../../admin/context.js';
import { directoryCall } from '../../admin/directory-call.js';
import { flagSchema, queryFlag } from '../../admin/flags.js';
import { acceptJsonBody, JSON_BODY } from '../../admin/json-body.js';
import { methodNotAllowedProblem, problemAnswer } from '../../admin/problem.js';
import { accountSchema, GATE_RESPONSES, importReportSchema, problem, usernameParams } from '../../admin/schemas.js';
import { refuseOtherMethods, sendAnswer } from '../../send.js';

const noAccount = (username: string) => problemAnswer(404, `There is no account named ${username}`);

async function* only(record: ImportRecord): AsyncGenerator<ImportRecord> {
  yield record;
}

const putAnswer = { type: 'object', required: ['account', 'report'], properties: { account: accountSchema, report: importReportSchema } } as const;

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

  acceptJsonBody(app);
  app.put<{ Params: { username: string }; Querystring: Record<string, string | undefined>; Body: unknown }>(
    ADMIN_ACCOUNT_PATH,
    {
      config: { adminAccepts: JSON_BODY },
      schema: {
        summary: 'Creates or replaces one account: its domains and stored logins become exactly those given',
        description:
          'Checked as an import record is (the same rules as `mailconf import`); the username is the path\'s, and a body that names one must name the same. ' +
          'One transaction; every instance answers the new data within a second.',
        params: usernameParams,
        querystring: { type: 'object', properties: { allowDataErrors: flagSchema('accept an account that clients would get no settings for (as `mailconf import --allow-data-errors`)') } },
        consumes: [JSON_BODY],
        body: { ...accountSchema, required: ['created'] },
        response: {
          ...GATE_RESPONSES,
          200: { ...putAnswer, description: 'replaced' },
          201: { ...putAnswer, description: 'created' },
          400: problem('the body is not JSON (the problem has its line and column), a query parameter is not true or false, or the Authorization header is not "Bearer <token>"'),
          413: problem('the body is larger than one account may be (1 MB)'),
          415: problem('the body is not application/json'),
          422: problem('the account breaks the import rules: every problem, at its JSON Pointer'),
        },
      },
    },
    async (request, reply) => {
      const account = accountFromBody(request.body, request.params.username, ctx.profile, queryFlag(request.query, 'allowDataErrors'));
      const { username } = account;
      let report;
      try {
        report = await directoryCall(request, () => ctx.directory.importStream(only({ position: '', account }), { replace: false }));
      } catch (err) {
        // The directory's refusals (a domain another account holds) are about this body.
        if (err instanceof ImportRejectedError) throw refusedAccount(err.problems);
        throw err;
      }
      const created = report.accounts.added > 0;
      ctx.metrics.adminChange('put-account');
      request.log.info(
        { admin: request.adminHolder, operation: 'put-account', username, created, domains: account.domains.length, mailboxes: account.mailboxes.length },
        `admin API: ${request.adminHolder} ${created ? 'created' : 'replaced'} account ${username}`,
      );
      // RFC 9110 section 9.3.4: 201 when the PUT created the resource.
      if (created) reply.code(201).header('location', `${ADMIN_PREFIX}/accounts/${encodeURIComponent(username)}`);
      return reply.header('cache-control', 'no-store').send({ account, report });
    },
  );

  refuseOtherMethods(app, ADMIN_ACCOUNT_PATH, ['GET', 'PUT', 'DELETE'], methodNotAllowedProblem);
}
