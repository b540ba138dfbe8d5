// `mailconf delete NAME [--account|--domain]`: removes an account (with its domains and
// mailbox logins) or one domain. A bare NAME is the account of that username, else the
// domain; a name that is both is refused until the operator says which.
import { normalizeDomain } from '../../model/address.js';
import type { Directory } from '../../directory/directory.js';
import { withDirectory, type Command } from '../context.js';
import { EXIT_OK, Failure, plural, quote, UsageError } from '../errors.js';

/** What was removed, in words; undefined when nothing of that name exists. */
async function deleteAccount(directory: Directory, username: string): Promise<string | undefined> {
  const removed = await directory.deleteAccount(username);
  if (!removed) return undefined;
  const domains = removed.domains.length > 0 ? ` (${removed.domains.join(', ')})` : '';
  return `deleted account ${quote(removed.username)} with ${plural(removed.domains.length, 'domain')}${domains} and ${plural(removed.mailboxes.length, 'mailbox login')}`;
}

async function deleteDomain(directory: Directory, domain: string): Promise<string | undefined> {
  const owner = await directory.deleteDomain(domain);
  return owner && `deleted domain ${domain} of account ${quote(owner.username)}`;
}

export const deleteCommand: Command = {
  name: 'delete',
  usage: 'mailconf delete NAME [--account|--domain]',
  arguments: ['NAME'],
  options: ['account', 'domain'],
  synopsis: 'delete NAME [--account|--domain]',
  description: [
    'Remove the account named NAME (with its domains and mailbox logins)',
    'or, when there is none, the domain NAME. A NAME that is both needs',
    '--account or --domain.',
  ],

  async run(inv, ctx) {
    const name = inv.positionals[0]!;
    if (inv.account && inv.domain) throw new UsageError('delete: give --account or --domain, not both');
    const username = name.toLowerCase();
    const domain = normalizeDomain(name);
    if (inv.domain && !domain) throw new UsageError(`delete: ${quote(name)} is not a domain name`);
    const { said, description } = await withDirectory(ctx, 'fail', async (directory) => {
      let said: string | undefined;
      if (inv.account) said = await deleteAccount(directory, username);
      else if (inv.domain) said = await deleteDomain(directory, domain!);
      else {
        const account = await directory.getAccount(username);
        const owner = domain === undefined ? undefined : await directory.findByDomain(domain);
        if (account && owner) {
          throw new UsageError(
            `delete: ${quote(name)} is both an account and a domain (of account ${quote(owner.account.username)}): give --account or --domain`,
          );
        }
        said = account ? await deleteAccount(directory, username) : owner ? await deleteDomain(directory, domain!) : undefined;
      }
      return { said, description: directory.description };
    });
    if (!said) {
      const kind = inv.account ? 'account' : inv.domain ? 'domain' : 'account or domain';
      throw new Failure(`no ${kind} ${quote(name)} in ${description}: nothing deleted`);
    }
    ctx.io.stdout(`${said} from ${description}\n`);
    return EXIT_OK;
  },
};
