// DELETE /admin/domains/{domain}: one domain leaves its account (a customer moved it
// elsewhere), with that account's stored logins at it; the account and its other domains
// stay. As `mailconf delete --domain`. The write goes to the directory's backend, which
// tells every instance's cache; it is logged with the name of the token that made it.
import type { FastifyInstance } from 'fastify';
import { normalizeDomain } from '../../../model/address.js';
import { ADMIN_DOMAIN_PATH } from '../../../links.js';
import type { AdminContext } from '../../admin/context.js';
import { directoryCall } from '../../admin/directory-call.js';
import { methodNotAllowedProblem, problemAnswer } from '../../admin/problem.js';
import { domainParams, GATE_RESPONSES, problem } from '../../admin/schemas.js';
import { refuseOtherMethods, sendAnswer } from '../../send.js';

const deletedSchema = {
  type: 'object',
  required: ['deleted'],
  properties: {
    deleted: {
      type: 'object',
      required: ['domain', 'username'],
      properties: { domain: { type: 'string' }, username: { type: 'string', description: 'the account that held it' } },
    },
  },
} as const;

export async function adminDomainRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.delete<{ Params: { domain: string } }>(
    ADMIN_DOMAIN_PATH,
    {
      schema: {
        summary: "Removes one domain from its account, with that account's stored logins at it; answers whose it was",
        params: domainParams,
        response: { 200: deletedSchema, 404: problem('no account holds that domain: nothing was removed'), ...GATE_RESPONSES },
      },
    },
    async (request, reply) => {
      // The same normal form an import stores (lower case, no trailing dot); a name that is
      // no domain at all is held by no account.
      const domain = normalizeDomain(request.params.domain);
      const owner = domain === undefined ? undefined : await directoryCall(request, () => ctx.directory.deleteDomain(domain));
      if (!domain || !owner) return sendAnswer(reply, problemAnswer(404, `No account holds the domain ${domain ?? request.params.domain}`));
      ctx.metrics.adminChange('delete-domain');
      request.log.info(
        { admin: request.adminHolder, operation: 'delete-domain', username: owner.username, domain },
        `admin API: ${request.adminHolder} removed domain ${domain} from account ${owner.username}`,
      );
      return reply.header('cache-control', 'no-store').send({ deleted: { domain, username: owner.username } });
    },
  );

  refuseOtherMethods(app, ADMIN_DOMAIN_PATH, ['DELETE'], methodNotAllowedProblem);
}
