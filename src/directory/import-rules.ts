// What every backend's importAccounts decides the same way: which domain conflicts (and
// how that is worded), and what the summary counts. The backends only say who owns a
// domain now; so SQLite and PostgreSQL refuse the same imports with the same message.
import type { ImportAccount } from '../model/account.js';
import { ImportConflictError, type ImportSummary } from './directory.js';

/**
 * The first domain, in import order, that is already taken: by an earlier account (or an
 * earlier entry) of the same import, or by an account outside it. `ownerOutside` answers
 * for the directory as it is once the imported accounts' own domains have been cleared
 * (with `replace`, nothing is left: it is never asked).
 */
export function firstConflict(
  accounts: readonly ImportAccount[],
  ownerOutside: (domain: string) => string | undefined,
): ImportConflictError | undefined {
  const claimed = new Map<string, string>();
  for (const a of accounts) {
    for (const domain of a.domains) {
      const owner = claimed.get(domain) ?? ownerOutside(domain);
      if (owner !== undefined) {
        return new ImportConflictError(`domain ${domain} of account ${a.username} already belongs to account ${owner}`);
      }
      claimed.set(domain, a.username);
    }
  }
  return undefined;
}

/** What a successful import wrote. */
export function importSummary(accounts: readonly ImportAccount[]): ImportSummary {
  let domains = 0;
  let mailboxes = 0;
  for (const a of accounts) {
    domains += a.domains.length;
    mailboxes += a.mailboxes.length;
  }
  return { accounts: accounts.length, domains, mailboxes };
}
