// POST /admin/import: a batch of accounts in NDJSON, read as it arrives through the same
// reader and validator as `mailconf import`, into one transaction (the directory's
// importStream); the answer is the import's report. `?replace=true` makes the batch the
// whole directory, `?dryRun=true` reports without writing.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { readNdjsonAccounts } from '../../../accounts/formats/ndjson.js';
import { notEmptyForReplace, validatedRecords } from '../../../accounts/records.js';
import { ADMIN_IMPORT_PATH } from '../../../links.js';
import type { AdminContext } from '../../admin/context.js';
import { directoryCall } from '../../admin/directory-call.js';
import { flagSchema, queryFlag } from '../../admin/flags.js';
import { AdminProblem, methodNotAllowedProblem, problemAnswer } from '../../admin/problem.js';
import { GATE_RESPONSES, importReportSchema, problem } from '../../admin/schemas.js';
import { acceptStreamedNdjson, boundedBody, checkBodyHeaders, NDJSON_TYPES } from '../../admin/streamed-body.js';
import { refuseOtherMethods } from '../../send.js';

const NO_BODY = new AdminProblem(problemAnswer(400, 'The body is empty: send the accounts as NDJSON, one a line'));

/** A body without accounts, refused with ?replace=true: a failed export must not empty the directory. */
const EMPTY_REPLACE = { position: '(body)', reason: 'no accounts: with replace=true this would empty the directory' };

export async function adminImportRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const max = ctx.settings.importMaxBytes;
  acceptStreamedNdjson(app);
  app.post<{ Querystring: Record<string, string | undefined>; Body: IncomingMessage | undefined }>(
    ADMIN_IMPORT_PATH,
    {
      config: { adminAccepts: NDJSON_TYPES[0] },
      schema: {
        summary: 'Imports a batch of accounts (NDJSON, one account a line) in one transaction',
        description:
          'Each line is an account as PUT /admin/accounts/{username} takes it. Every line is checked as `mailconf import` checks it; ' +
          'any problem refuses the whole batch (422, each problem at its `line N`). Accounts are matched by username and replaced; ' +
          'with replace=true the batch becomes the whole directory.',
        querystring: {
          type: 'object',
          properties: {
            replace: flagSchema('the batch becomes the whole directory: accounts it does not name are removed'),
            dryRun: flagSchema('check and count what would change, write nothing'),
            allowDataErrors: flagSchema('accept accounts that clients would get no settings for (as `mailconf import --allow-data-errors`)'),
          },
        },
        consumes: [...NDJSON_TYPES],
        body: { description: 'NDJSON: one account object a line', type: 'string' },
        response: {
          ...GATE_RESPONSES,
          200: { ...importReportSchema, description: 'what was (dryRun: would be) changed' },
          400: problem('an empty or cut-off body, a query parameter that is not true or false, or a bad Authorization header'),
          413: problem('the body is larger than ADMIN_IMPORT_MAX_SIZE'),
          415: problem('the body is not application/x-ndjson, or is compressed'),
          422: problem('the batch breaks the import rules: every problem, at its `line N`; nothing was written'),
        },
      },
    },
    async (request, reply) => {
      const replace = queryFlag(request.query, 'replace');
      const dryRun = queryFlag(request.query, 'dryRun');
      const allowDataErrors = queryFlag(request.query, 'allowDataErrors');
      checkBodyHeaders(request.headers, max);
      if (request.body === undefined) throw NO_BODY;
      const records = validatedRecords(readNdjsonAccounts(boundedBody(request.body, max)), ctx.profile, { allowDataErrors });
      const report = await directoryCall(request, () => ctx.directory.importStream(notEmptyForReplace(records, replace, EMPTY_REPLACE), { replace, dryRun }));
      if (!dryRun) {
        ctx.metrics.adminChange('import');
        const { accounts, domains } = report;
        request.log.info(
          { admin: request.adminHolder, operation: 'import', replace, accounts, domains, mailboxes: report.mailboxes },
          `admin API: ${request.adminHolder} imported ${report.written.accounts} accounts${replace ? ' (replacing the directory)' : ''}: ` +
            `${accounts.added} added, ${accounts.changed} changed, ${accounts.removed} removed`,
        );
      }
      return reply.header('cache-control', 'no-store').send(report);
    },
  );
  refuseOtherMethods(app, ADMIN_IMPORT_PATH, ['POST'], methodNotAllowedProblem);
}
