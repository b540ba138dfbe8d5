// `mailconf delete NAME`: an account with its domains and logins, or one domain, on SQLite
// and PostgreSQL; a name that is both is refused until the operator says which.
import t from 'tap';
import { BACKENDS, emptyDirectory, runCli } from './support/cli.js';
import { throwAwayDatabase, type TestDatabase } from './support/postgres.js';

let db: TestDatabase;
t.before(async () => {
  db = await throwAwayDatabase(t);
});

const ACCOUNTS = [
  { username: 'shop', created: '2020-01-01', domains: ['shop.example', 'shop.test'], mailboxes: [{ address: 'sales@shop.example', login: 'sales-shop' }] },
  { username: 'other', created: '2020-01-01', domains: ['other.example'] },
  // A username that is also a domain name, and that domain belongs to another account.
  { username: 'both.example', created: '2005-01-01', mailServer: 3 },
  { username: 'owner', created: '2020-01-01', domains: ['both.example'] },
];

for (const backend of BACKENDS) {
  t.test(`${backend}: delete an account, a domain, or say which`, async (t) => {
    const url = await emptyDirectory(t, backend, db);
    const run = (...argv: string[]) => runCli([...argv, '--directory', url]);
    const imported = await runCli(['import', '-', '--directory', url], {}, ACCOUNTS.map((a) => JSON.stringify(a)).join('\n'));
    t.equal(imported.code, 0, imported.stderr);

    const account = await run('delete', 'SHOP');
    t.equal(account.code, 0, account.stderr);
    t.equal(account.stdout, `deleted account "shop" with 2 domains (shop.example, shop.test) and 1 mailbox login from ${url}\n`);
    t.equal((await run('lookup', 'sales@shop.example')).code, 1, 'its domains are gone');

    const domain = await run('delete', 'Other.Example');
    t.equal(domain.stdout, `deleted domain other.example of account "other" from ${url}\n`);
    t.equal((await run('lookup', 'x@other.example')).code, 1);
    t.match((await run('export')).stdout, /"username":"other","created":"2020-01-01","mailServer":null,"domains":\[\]/, 'the account stays, without the domain');

    const ambiguous = await run('delete', 'both.example');
    t.equal(ambiguous.code, 2);
    t.equal(ambiguous.stderr, 'mailconf: delete: "both.example" is both an account and a domain (of account "owner"): give --account or --domain (see "mailconf --help")\n');
    t.equal((await run('delete', 'both.example', '--domain')).stdout, `deleted domain both.example of account "owner" from ${url}\n`);
    t.equal((await run('delete', 'both.example', '--account')).stdout, `deleted account "both.example" with 0 domains and 0 mailbox logins from ${url}\n`);

    for (const [argv, message] of [
      [['delete', 'nobody'], 'mailconf: no account or domain "nobody" in DIR: nothing deleted'],
      [['delete', 'shop', '--account'], 'mailconf: no account "shop" in DIR: nothing deleted'],
      [['delete', 'shop.example', '--domain'], 'mailconf: no domain "shop.example" in DIR: nothing deleted'],
    ] as const) {
      const r = await run(...argv);
      t.equal(r.code, 1, argv.join(' '));
      t.equal(r.stderr.replace(url, 'DIR'), `${message}\n`);
    }
    t.equal((await run('delete', 'a', '--account', '--domain')).code, 2);
    t.equal((await run('delete', 'not a domain', '--domain')).code, 2);
  });
}
