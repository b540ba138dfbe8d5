// The accounts and helpers the directory tests share (test/directory.test.ts for what only
// SQLite has, test/directory-contract.test.ts for what every backend must do).
import type { Directory } from '../../src/directory/directory.js';
import type { Account, ImportAccount, ImportMailbox } from '../../src/model/account.js';

export function account(
  username: string,
  domains: string[],
  mailboxes: ImportMailbox[] = [],
  extra: Partial<Pick<Account, 'created' | 'mailServer'>> = {},
): ImportAccount {
  return { username, created: '2020-02-02', mailServer: null, ...extra, domains, mailboxes };
}

export const ALICE = account(
  'alice',
  ['alice.example', 'alice-shop.example'],
  [
    { address: 'info@alice.example', login: 'alice-info' },
    { address: 'sales@alice-shop.example', login: 'alice-sales' },
  ],
  { created: '2009-03-14', mailServer: 123 },
);
export const BOB = account('bob', ['bob.example'], [{ address: 'bob@pair.com', login: 'bob' }]);

/** The error `promise` rejects with; fails when it resolves. */
export async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** Every account the directory lists, in its order. */
export async function collect(dir: Pick<Directory, 'allAccounts'>): Promise<Account[]> {
  const out: Account[] = [];
  for await (const a of dir.allAccounts()) out.push(a);
  return out;
}
