// The directory contract: one set of cases run against every backend, SQLite in a temp
// folder and a live PostgreSQL (a throw-away database per run, a schema per case), so that
// the endpoints and the CLI get the same answers from either. Then what only PostgreSQL
// has: migrations, readers during an uncommitted import, passwords in URLs, the shared
// instance secret. PostgreSQL that cannot be reached fails this file; nothing is skipped.
import { once } from 'node:events';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import t, { type Test } from 'tap';
import { openDirectory, openServingDirectory } from '../src/accounts/open.js';
import { ConfigError } from '../src/config/config.js';
import { instanceSecret } from '../src/config/secret.js';
import { DirectoryError, ImportConflictError, ImportRejectedError, type Directory, type ImportReport } from '../src/directory/directory.js';
import { recordsOf } from '../src/directory/import-stream.js';
import type { ImportAccount } from '../src/model/account.js';
import { applyMigrations, MIGRATIONS, SCHEMA_VERSION, schemaProblem } from '../src/directory/migrations.js';
import { migrateBackend, openBackend } from '../src/directory/open.js';
import { BY_DOMAIN, BY_DOMAIN_MD5, BY_USERNAME, BY_USERNAME_MD5 } from '../src/directory/postgres.js';
import { CHANGE_CHANNEL } from '../src/directory/pg-changes.js';
import { addressMd5 } from '../src/model/address.js';
import { maskDirectoryUrl, parseDirectoryUrl } from '../src/directory/url.js';
import { defaultProvider } from '../src/policy/provider-profile.js';
import { account, ALICE, BOB, caught, collect } from './support/directory-fixtures.js';
import { databaseUrl, POSTGRES_SERVER, throwAwayDatabase, type TestDatabase } from './support/postgres.js';
import { listeningPort, startServer, waitFor } from './support/server.js';

/** Every committed row, read through a connection of the test's own, the same shape for both backends. */
interface Rows {
  accounts: { id: number; username: string; created: string; mail_server: number | null }[];
  domains: { domain: string; account_id: number }[];
  mailboxes: { address: string; account_id: number; login: string }[];
}

const DUMP = {
  accounts: 'SELECT id, username, created, mail_server FROM accounts ORDER BY id',
  domains: 'SELECT domain, account_id FROM domains ORDER BY domain',
  mailboxes: 'SELECT address, account_id, login FROM mailboxes ORDER BY address',
};

/** One empty store: its URL, a directory opened on it (closed at teardown), and its rows. */
interface Store {
  url: string;
  dir: Directory;
  dump(): Promise<Rows>;
}

interface Backend {
  name: string;
  /** A new, empty store with its schema, opened through openBackend (as the server does). */
  fresh(t: Test): Promise<Store>;
  /** A URL where no directory is yet (SQLite: no file; PostgreSQL: a schema not migrated). */
  missing(t: Test): Promise<string>;
}

const sqlite: Backend = {
  name: 'sqlite',
  async fresh(t) {
    const path = join(t.testdir(), 'directory.db');
    const url = `sqlite:${path}`;
    const { directory } = await openBackend(url, { mustExist: false });
    t.teardown(() => directory.close());
    const dump = async (): Promise<Rows> => {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return {
          accounts: db.prepare(DUMP.accounts).all() as Rows['accounts'],
          domains: db.prepare(DUMP.domains).all() as Rows['domains'],
          mailboxes: db.prepare(DUMP.mailboxes).all() as Rows['mailboxes'],
        };
      } finally {
        db.close();
      }
    };
    return { url, dir: directory, dump };
  },
  async missing(t) {
    return `sqlite:${join(t.testdir(), 'missing.db')}`;
  },
};

/** Runs `work` on a connection of its own to `url`. */
async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function postgres(db: TestDatabase): Backend {
  return {
    name: 'postgres',
    async fresh(t) {
      const url = await db.freshSchema();
      await migrateBackend(url);
      const { directory } = await openBackend(url, { mustExist: false });
      t.teardown(() => directory.close());
      const dump = () =>
        withClient(url, async (c) => ({
          // bigint ids come back as strings: as numbers, the rows compare with SQLite's.
          accounts: (await c.query(DUMP.accounts.replace('SELECT id', 'SELECT id::int AS id'))).rows,
          domains: (await c.query(DUMP.domains.replace('account_id', 'account_id::int AS account_id'))).rows,
          mailboxes: (await c.query(DUMP.mailboxes.replace('account_id', 'account_id::int AS account_id'))).rows,
        }));
      return { url, dir: directory, dump };
    },
    missing: () => db.freshSchema(),
  };
}

/**
 * An expected ImportReport: accounts [added, changed, unchanged, removed], domains [added,
 * removed, moved], mailboxes [added, changed, removed], written [accounts, domains, mailboxes].
 */
function expectedReport(accounts: number[], domains: number[], mailboxes: number[], written: number[], dryRun = false): ImportReport {
  const [added = 0, changed = 0, unchanged = 0, removed = 0] = accounts;
  return {
    dryRun,
    accounts: { added, changed, unchanged, removed },
    domains: { added: domains[0] ?? 0, removed: domains[1] ?? 0, moved: domains[2] ?? 0 },
    mailboxes: { added: mailboxes[0] ?? 0, changed: mailboxes[1] ?? 0, removed: mailboxes[2] ?? 0 },
    written: { accounts: written[0] ?? 0, domains: written[1] ?? 0, mailboxes: written[2] ?? 0 },
  };
}

/** The cases every backend must pass. */
function contract(t: Test, backend: Backend): void {
  t.test('findByDomain and findByUsername, with the stored login of the asked-for mailbox', async (t) => {
    const { dir } = await backend.fresh(t);
    t.same(await dir.importAccounts([ALICE, BOB], { replace: false }), { accounts: 2, domains: 3, mailboxes: 3 });

    const aliceAccount = { username: 'alice', created: '2009-03-14', mailServer: 123 };
    t.same(await dir.findByDomain('alice.example'), { account: aliceAccount, mailboxLogin: null, domainHasMailboxLogins: true }, 'no address: no login');
    t.same(await dir.findByDomain('alice.example', 'info@alice.example'), { account: aliceAccount, mailboxLogin: 'alice-info', domainHasMailboxLogins: true });
    t.same(await dir.findByDomain('alice-shop.example', 'sales@alice-shop.example'), { account: aliceAccount, mailboxLogin: 'alice-sales', domainHasMailboxLogins: true });
    t.same(await dir.findByDomain('alice.example', 'nobody@alice.example'), { account: aliceAccount, mailboxLogin: null, domainHasMailboxLogins: true });
    t.equal((await dir.findByDomain('bob.example', 'info@alice.example'))?.mailboxLogin, null, "another account's login is never returned");
    t.equal(await dir.findByDomain('nobody.example'), undefined, 'unknown domain');
    t.equal(await dir.findByDomain('nobody.example', 'info@nobody.example'), undefined);
    t.equal(await dir.findByDomain('alice'), undefined, 'a username is not a domain');
    t.equal(await dir.findByDomain('ALICE.EXAMPLE'), undefined, 'keys are compared exactly (callers lower-case them)');

    const bobAccount = { username: 'bob', created: '2020-02-02', mailServer: null };
    t.same(await dir.findByUsername('bob'), { account: bobAccount, mailboxLogin: null, domainHasMailboxLogins: null });
    t.same(await dir.findByUsername('bob', 'bob@pair.com'), { account: bobAccount, mailboxLogin: 'bob', domainHasMailboxLogins: null });
    t.same(await dir.findByUsername('alice', 'info@alice.example'), { account: aliceAccount, mailboxLogin: 'alice-info', domainHasMailboxLogins: null });
    t.equal((await dir.findByUsername('alice', 'bob@pair.com'))?.mailboxLogin, null);
    t.equal(await dir.findByUsername('carol'), undefined, 'unknown username');
    t.equal(await dir.findByUsername('bob.example'), undefined, 'a domain is not a username');
  });

  t.test('domain lookups say whether a mailbox at that domain has a stored login other than its address (PACC)', async (t) => {
    const { dir } = await backend.fresh(t);
    await dir.importAccounts(
      [
        account('carol', ['carol.example', 'carol-shop.example', 'plain.example', 'xcarol.example'], [
          { address: 'info@carol-shop.example', login: 'carol-info' },
          { address: 'sales@plain.example', login: 'Sales@Plain.Example' },
          { address: 'me@plain.example', login: 'me@plain.example' },
          { address: 'info@xcarol.example', login: 'carol-x' },
        ]),
        BOB,
      ],
      { replace: false },
    );
    const has = async (domain: string, mailbox?: string) => (await dir.findByDomain(domain, mailbox))?.domainHasMailboxLogins;
    t.equal(await has('carol.example'), false, 'no mailbox at the domain (info@xcarol.example is not at it): none');
    t.equal(await has('carol-shop.example'), true, 'a stored login that is not the address');
    t.equal(await has('carol-shop.example', 'nobody@carol-shop.example'), true, 'whatever mailbox is asked');
    t.equal(await has('plain.example'), false, 'stored logins that are the address itself (in any case) are no per-mailbox logins');
    t.equal(await has('xcarol.example'), true);
    t.equal(await has('bob.example'), false, "bob's stored login is at pair.com, not at his domain");
    t.equal((await dir.findByDomain('carol-shop.example', { md5: addressMd5('info@carol-shop.example') }))?.domainHasMailboxLogins, true, 'by hash too');
    t.equal((await dir.findByUsername('bob'))?.domainHasMailboxLogins, null, 'by username: no domain asked');
    await dir.importAccounts([account('carol', ['carol-shop.example'], [])], { replace: false });
    t.equal(await has('carol-shop.example'), false, 'after the logins are removed');
  });

  t.test("a mailbox named by its address's MD5 (Evolution) finds the same login, by the account that serves the name", async (t) => {
    const { dir } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB], { replace: false });
    const md5 = (address: string) => ({ md5: addressMd5(address) });
    const aliceAccount = { username: 'alice', created: '2009-03-14', mailServer: 123 };
    t.same(await dir.findByDomain('alice.example', md5('info@alice.example')), { account: aliceAccount, mailboxLogin: 'alice-info', domainHasMailboxLogins: true });
    t.same(await dir.findByDomain('alice-shop.example', md5('sales@alice-shop.example')), { account: aliceAccount, mailboxLogin: 'alice-sales', domainHasMailboxLogins: true });
    t.same(await dir.findByDomain('alice.example', md5('nobody@alice.example')), { account: aliceAccount, mailboxLogin: null, domainHasMailboxLogins: true }, 'unknown hash: the account, no login');
    t.same(await dir.findByDomain('alice.example', md5('INFO@alice.example')), { account: aliceAccount, mailboxLogin: null, domainHasMailboxLogins: true }, 'the hash of the lower-cased address only');
    t.equal((await dir.findByDomain('bob.example', md5('info@alice.example')))?.mailboxLogin, null, "another account's login is never returned");
    t.equal(await dir.findByDomain('nobody.example', md5('info@nobody.example')), undefined, 'unknown domain');
    t.same(await dir.findByUsername('bob', md5('bob@pair.com')), { account: { username: 'bob', created: '2020-02-02', mailServer: null }, mailboxLogin: 'bob', domainHasMailboxLogins: null });
    t.equal((await dir.findByUsername('alice', md5('bob@pair.com')))?.mailboxLogin, null);
    t.equal((await dir.findByDomain('alice.example', { md5: 'info@alice.example' }))?.mailboxLogin, null, 'an address is no hash');

    // Re-imports keep the hashes true: a moved or renamed mailbox answers by its new address only.
    await dir.importAccounts([account('alice', ['alice.example'], [{ address: 'hello@alice.example', login: 'alice-hello' }], { created: '2009-03-14', mailServer: 123 })], { replace: false });
    t.equal((await dir.findByDomain('alice.example', md5('info@alice.example')))?.mailboxLogin, null, 'a removed mailbox is gone from the index');
    t.equal((await dir.findByDomain('alice.example', md5('hello@alice.example')))?.mailboxLogin, 'alice-hello');
  });

  t.test('upsert by username replaces the domains and mailboxes of the accounts given', async (t) => {
    const { dir, dump } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB], { replace: false });
    const bobBefore = (await dump()).domains.filter((d) => d.domain === 'bob.example');

    const alice2 = account('alice', ['alice-new.example'], [{ address: 'hello@alice-new.example', login: 'alice-hello' }], { created: '2012-12-12' });
    t.same(await dir.importAccounts([alice2], { replace: false }), { accounts: 1, domains: 1, mailboxes: 1 });
    t.equal(await dir.findByDomain('alice.example'), undefined, 'old domain gone');
    t.equal(await dir.findByDomain('alice-shop.example'), undefined, 'old domain gone');
    t.same(await dir.findByDomain('alice-new.example', 'hello@alice-new.example'), {
      account: { username: 'alice', created: '2012-12-12', mailServer: null },
      mailboxLogin: 'alice-hello',
      domainHasMailboxLogins: true,
    });
    t.same((await dump()).mailboxes.map((m) => m.address), ['bob@pair.com', 'hello@alice-new.example'], "alice's old mailboxes are gone, bob's stay");
    t.same((await dump()).domains.filter((d) => d.domain === 'bob.example'), bobBefore, 'accounts not in the import are untouched');
    t.same(await dir.counts(), { accounts: 2, domains: 2 });

    // A domain may move between accounts that are both in the import.
    const moved = [account('alice', []), account('bob', ['bob.example', 'alice-new.example'])];
    t.same(await dir.importAccounts(moved, { replace: false }), { accounts: 2, domains: 2, mailboxes: 0 });
    t.equal((await dir.findByDomain('alice-new.example'))?.account.username, 'bob', 'domain moved to bob');
    t.same(await dir.findByUsername('alice'), { account: { username: 'alice', created: '2020-02-02', mailServer: null }, mailboxLogin: null, domainHasMailboxLogins: null }, 'an account with no domains stays an account');

    const before = await dump();
    await dir.importAccounts(moved, { replace: false });
    t.same(await dump(), before, 'a repeated import is idempotent (account ids kept)');
  });

  t.test('{replace: true} makes the import the whole directory', async (t) => {
    const { dir, dump } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB], { replace: false });
    const carol = account('carol', ['carol.example', 'alice.example'], [{ address: 'me@carol.example', login: 'carol-me' }]);
    t.same(await dir.importAccounts([carol], { replace: true }), { accounts: 1, domains: 2, mailboxes: 1 }, "alice's domain is no conflict");
    t.same(await dir.counts(), { accounts: 1, domains: 2 });
    t.equal(await dir.findByUsername('alice'), undefined);
    t.equal(await dir.findByDomain('bob.example'), undefined);
    t.equal((await dir.findByDomain('alice.example'))?.account.username, 'carol');
    t.same((await dump()).mailboxes.map((m) => m.login), ['carol-me'], 'mailboxes of removed accounts are gone');
    t.same(await dir.importAccounts([], { replace: true }), { accounts: 0, domains: 0, mailboxes: 0 });
    t.same(await dump(), { accounts: [], domains: [], mailboxes: [] });
  });

  t.test('a domain owned outside the import is a conflict, worded alike, and nothing is written', async (t) => {
    const { dir, dump } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB], { replace: false });
    const before = await dump();

    const err = await caught(
      dir.importAccounts(
        // bob is changed first, so a rollback must also restore bob's domains and mailboxes.
        [account('bob', ['bob-new.example']), account('carol', ['carol.example', 'alice-shop.example'], [{ address: 'me@carol.example', login: 'x' }])],
        { replace: false },
      ),
    );
    t.type(err, ImportConflictError);
    t.equal(err.message, 'domain alice-shop.example of account carol already belongs to account alice');
    t.same(await dump(), before, 'directory unchanged');
    t.equal(await dir.findByUsername('carol'), undefined);
    t.equal((await dir.findByDomain('bob.example'))?.account.username, 'bob');

    // Two accounts of one import claiming one domain (the file validator normally catches this).
    const dup = await caught(dir.importAccounts([account('dave', ['shared.example']), account('erin', ['shared.example'])], { replace: false }));
    t.type(dup, ImportConflictError);
    t.equal(dup.message, 'domain shared.example of account erin already belongs to account dave');
    const dupReplace = await caught(dir.importAccounts([account('dave', ['shared.example']), account('erin', ['shared.example'])], { replace: true }));
    t.equal(dupReplace.message, dup.message, 'the same with replace');
    t.same(await dump(), before, 'directory unchanged');

    t.same(await dir.importAccounts([account('carol', ['carol.example'])], { replace: false }), { accounts: 1, domains: 1, mailboxes: 0 }, 'the directory stays usable');
    t.same(await dir.counts(), { accounts: 3, domains: 4 });
  });

  t.test('counts, allAccounts in byte order with early exit, ping, close', async (t) => {
    const { dir } = await backend.fresh(t);
    t.same(await dir.counts(), { accounts: 0, domains: 0 });
    t.same(await collect(dir), [], 'empty directory: no accounts');

    // Byte order: '-' < '.' < digits < '_' < letters, whatever the database's locale.
    const names = ['mike', 'alice', 'zed', 'a_b', 'bob', 'a1', 'a-b', 'bobby', 'a.b'];
    await dir.importAccounts(names.map((n, i) => account(n, [`${n}.example`, `${n}-2.example`], [], { mailServer: i + 1 })), { replace: false });
    t.same(await dir.counts(), { accounts: 9, domains: 18 });
    const all = await collect(dir);
    t.same(all.map((a) => a.username), ['a-b', 'a.b', 'a1', 'a_b', 'alice', 'bob', 'bobby', 'mike', 'zed'], 'username order');
    t.same(all[4], { username: 'alice', created: '2020-02-02', mailServer: 2 }, 'accounts have exactly the Account fields');

    for await (const a of dir.allAccounts()) {
      t.equal(a.username, 'a-b');
      t.equal((await dir.findByUsername('zed'))?.account.username, 'zed', 'lookups work while iterating');
      break;
    }
    t.same(await dir.importAccounts([account('zz', ['zz.example'])], { replace: false }), { accounts: 1, domains: 1, mailboxes: 0 }, 'leaving early released the listing');

    await t.resolves(dir.ping());
    await dir.close();
    await t.rejects(dir.ping(), 'ping fails once the directory is closed');
    await t.rejects(dir.findByDomain('zz.example'));
    await t.resolves(dir.close(), 'closing twice is harmless');
  });

  t.test('large imports and listings (more rows than one statement or page holds)', async (t) => {
    const { dir } = await backend.fresh(t);
    const many = Array.from({ length: 12_345 }, (_, i) => account(`u${String(i).padStart(5, '0')}`, [`d${i}.example`], [{ address: `m@d${i}.example`, login: `l${i}` }]));
    t.same(await dir.importAccounts(many, { replace: true }), { accounts: 12_345, domains: 12_345, mailboxes: 12_345 });
    t.same(await dir.counts(), { accounts: 12_345, domains: 12_345 });
    t.equal((await dir.findByDomain('d12344.example', 'm@d12344.example'))?.mailboxLogin, 'l12344');
    let n = 0;
    let last = '';
    let ordered = true;
    for await (const a of dir.allAccounts()) {
      ordered &&= a.username > last;
      last = a.username;
      n++;
    }
    t.equal(n, 12_345, 'every account listed');
    t.ok(ordered, 'in username order');
    n = 0;
    for await (const _ of dir.allAccounts()) if (++n === 2500) break;
    t.same(await dir.counts(), { accounts: 12_345, domains: 12_345 }, 'usable after leaving a long listing');
  });

  t.test('data survives close and reopen', async (t) => {
    const { url, dir } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB], { replace: false });
    await dir.close();
    const { directory: again, created } = await openBackend(url, { mustExist: true });
    t.teardown(() => again.close());
    t.equal(created, false);
    t.same(await again.counts(), { accounts: 2, domains: 3 });
    t.same(await again.findByDomain('alice-shop.example', 'sales@alice-shop.example'), {
      account: { username: 'alice', created: '2009-03-14', mailServer: 123 },
      mailboxLogin: 'alice-sales',
      domainHasMailboxLogins: true,
    });
  });

  t.test('importStream from an async generator: one transaction, readers see the old data until it commits, the exact report', async (t) => {
    const { dir, dump } = await backend.fresh(t);
    t.equal(await dir.findByDomain('alice.example'), undefined, 'looked up (and remembered) before the import');
    let lookedUp: unknown = 'not yet';
    const report = await dir.importStream(
      (async function* () {
        yield { position: 'line 1', account: BOB };
        await new Promise((r) => setTimeout(r, 5));
        // Mid-stream, in the same process: nothing of the import is visible yet.
        lookedUp = await dir.findByDomain('bob.example');
        yield { position: 'line 2', account: ALICE };
      })(),
      { replace: false },
    );
    t.equal(lookedUp, undefined, 'a lookup during the import sees the directory before it');
    t.same(report, expectedReport([2, 0, 0, 0], [3, 0, 0], [3, 0, 0], [2, 3, 3]));
    t.equal((await dir.findByDomain('alice.example'))?.account.username, 'alice', 'the lookup remembered before the import sees it now');
    t.equal((await dir.findByDomain('bob.example'))?.account.username, 'bob');
    t.same((await dump()).accounts.map((a) => a.username), ['bob', 'alice'], 'ids in input order');

    // Again, changed: one login changed, one removed, one added; a domain added, one removed; carol new.
    const alice2 = account('alice', ['alice.example', 'alice-new.example'], [
      { address: 'info@alice.example', login: 'alice-info2' },
      { address: 'new@alice-new.example', login: 'alice-new' },
    ], { created: '2009-03-14', mailServer: 123 });
    const again = await dir.importStream(recordsOf([alice2, BOB, account('carol', ['carol.example'])]), { replace: false });
    t.same(again, expectedReport([1, 1, 1, 0], [2, 1, 0], [1, 1, 1], [3, 4, 3]));
    t.same(await dir.getAccount('alice'), { ...alice2, domains: ['alice-new.example', 'alice.example'], mailboxes: [alice2.mailboxes[0], alice2.mailboxes[1]] });
    const before = await dump();
    const same = await dir.importStream(recordsOf([alice2, BOB]), { replace: false });
    t.same(same.accounts, { added: 0, changed: 0, unchanged: 2, removed: 0 }, 'a repeat changes nothing');
    t.same(same.domains, { added: 0, removed: 0, moved: 0 });
    t.same(same.mailboxes, { added: 0, changed: 0, removed: 0 });
    t.same(await dump(), before, 'and writes nothing new (ids kept)');
  });

  t.test('a domain moves between imported accounts in either order; replace counts what it removes', async (t) => {
    const { dir } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB], { replace: false });
    // bob comes first and takes alice.example, which alice (later) gives up.
    const moved = await dir.importStream(recordsOf([account('bob', ['bob.example', 'alice.example'], [{ address: 'bob@pair.com', login: 'bob' }]), account('alice', ['alice-shop.example'], ALICE.mailboxes.slice(1), { created: '2009-03-14', mailServer: 123 })]), { replace: false });
    t.same(moved.domains, { added: 0, removed: 0, moved: 1 });
    t.same(moved.accounts, { added: 0, changed: 2, unchanged: 0, removed: 0 });
    t.same(moved.mailboxes, { added: 0, changed: 0, removed: 1 });
    t.equal((await dir.findByDomain('alice.example'))?.account.username, 'bob');
    // A mailbox moving with its domain, the new owner first.
    await dir.importStream(recordsOf([account('bob', ['bob.example', 'alice.example', 'alice-shop.example'], [{ address: 'sales@alice-shop.example', login: 'bob-sales' }]), account('alice', [])]), { replace: false });
    t.equal((await dir.findByDomain('alice-shop.example', 'sales@alice-shop.example'))?.mailboxLogin, 'bob-sales');

    await dir.importAccounts([account('carol', ['carol.example', 'carol-2.example'], [{ address: 'me@carol.example', login: 'carol-me' }])], { replace: false });
    // Now: alice (no domains), bob (3 domains, 1 mailbox), carol (2 domains, 1 mailbox).
    const replaced = await dir.importStream(recordsOf([account('dave', ['dave.example', 'carol.example']), account('bob', ['bob.example'], [{ address: 'sales@alice-shop.example', login: 'bob-sales' }])]), { replace: true });
    t.same(replaced, expectedReport([1, 1, 0, 2], [1, 3, 1], [0, 0, 1], [2, 3, 1]));
    t.same(await dir.counts(), { accounts: 2, domains: 3 });
    t.equal((await dir.findByDomain('carol.example'))?.account.username, 'dave', "carol's domain, freed by the replace, went to dave (who came first)");
  });

  t.test('conflicts become problems with positions, all of them, after the whole stream; nothing is written', async (t) => {
    const { dir, dump } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB, account('frank', ['frank.example'], [{ address: 'frank@pair.com', login: 'frank' }])], { replace: false });
    const before = await dump();
    const input = [
      { position: 'line 1', account: account('carol', ['carol.example', 'frank.example']) },
      { position: 'line 2', account: account('dave', ['dave.example', 'carol.example', 'dave.example']) },
      { position: 'line 3', account: account('carol', ['other.example']) },
      { position: 'line 4', account: account('erin', ['erin.example'], [{ address: 'frank@pair.com', login: 'erin' }]) },
      // alice keeps alice.example, which bob (first) claims: bob's claim stands, alice's is the conflict.
      { position: 'line 5', account: account('bob', ['bob.example', 'alice.example']) },
      { position: 'line 6', account: account('alice', ['alice.example']) },
    ];
    const err = await caught(dir.importStream((async function* () { yield* input; })(), { replace: false }));
    t.type(err, ImportRejectedError);
    t.same((err as ImportRejectedError).problems, [
      { position: 'line 1.domains[1]', reason: 'domain frank.example of account carol already belongs to account frank' },
      { position: 'line 2.domains[1]', reason: 'domain carol.example of account dave already belongs to account carol' },
      { position: 'line 2.domains[2]', reason: 'domain dave.example is listed twice for account dave' },
      { position: 'line 3.username', reason: 'username carol is already given at line 1' },
      { position: 'line 4.mailboxes[0]', reason: 'mailbox frank@pair.com of account erin already belongs to account frank' },
      { position: 'line 6.domains[0]', reason: 'domain alice.example of account alice already belongs to account bob' },
    ]);
    t.equal(err.message, '6 problems, nothing imported');
    t.same(await dump(), before, 'nothing written');
    t.equal(await dir.findByUsername('carol'), undefined);

    // The same through importAccounts: the first conflict in import order, as before.
    const first = await caught(dir.importAccounts(input.map((r) => r.account), { replace: false }));
    t.type(first, ImportConflictError);
    t.equal(first.message, 'domain frank.example of account carol already belongs to account frank');

    // At most 100 problems, the first ones.
    const many = Array.from({ length: 150 }, (_, i) => account(`x${i}`, ['bob.example']));
    const capped = (await caught(dir.importStream(recordsOf(many), { replace: false }))) as ImportRejectedError;
    t.equal(capped.problems.length, 100);
    t.equal(capped.problems[0]!.position, 'accounts[0].domains[0]');
    t.equal(capped.problems[99]!.reason, 'domain bob.example of account x99 already belongs to account x0');
    t.same(await dump(), before);
  });

  t.test("the source's own rejection, or any error it throws, rolls back and is rethrown", async (t) => {
    const { dir, dump } = await backend.fresh(t);
    await dir.importAccounts([BOB], { replace: false });
    const before = await dump();
    const rejected = await caught(
      dir.importStream(
        (async function* () {
          yield { position: 'line 1', account: account('carol', ['carol.example']) };
          yield { position: 'line 3', account: account('dave', ['bob.example']) };
          throw new ImportRejectedError([{ position: 'line 2', reason: 'mailServer must be a number' }]);
        })(),
        { replace: true },
      ),
    );
    t.type(rejected, ImportRejectedError);
    t.same((rejected as ImportRejectedError).problems, [
      { position: 'line 2', reason: 'mailServer must be a number' },
    ], "the source's problems (replace: bob's domain is free)");
    const both = (await caught(
      dir.importStream(
        (async function* () {
          yield { position: 'line 3', account: account('dave', ['bob.example']) };
          throw new ImportRejectedError([{ position: 'line 2', reason: 'mailServer must be a number' }]);
        })(),
        { replace: false },
      ),
    )) as ImportRejectedError;
    t.same(both.problems.map((p) => p.position), ['line 2', 'line 3.domains[0]'], "the source's problems and the directory's");
    const broken = await caught(
      dir.importStream(
        (async function* () {
          yield { position: 'line 1', account: account('carol', ['carol.example']) };
          throw new Error('disk on fire');
        })(),
        { replace: false },
      ),
    );
    t.equal(broken.message, 'disk on fire');
    t.same(await dump(), before, 'nothing written');
    t.same(await dir.importStream(recordsOf([account('carol', ['carol.example'])]), { replace: false }).then((r) => r.written), { accounts: 1, domains: 1, mailboxes: 0 }, 'the directory stays usable');
  });

  t.test('a dry run reports what would change and writes nothing', async (t) => {
    const { dir, dump } = await backend.fresh(t);
    await dir.importAccounts([ALICE, BOB], { replace: false });
    t.equal((await dir.findByDomain('bob.example'))?.account.username, 'bob');
    const before = await dump();
    const report = await dir.importStream(recordsOf([account('carol', ['bob.example'])]), { replace: true, dryRun: true });
    t.same(report, expectedReport([1, 0, 0, 2], [0, 2, 1], [0, 0, 3], [1, 1, 0], true));
    t.same(await dump(), before, 'nothing written');
    t.equal((await dir.findByDomain('bob.example'))?.account.username, 'bob', 'a lookup gives the old data');
    t.equal(await dir.findByUsername('carol'), undefined);
    const refused = await caught(dir.importStream(recordsOf([account('carol', ['bob.example'])]), { replace: false, dryRun: true }));
    t.type(refused, ImportRejectedError, 'a dry run refuses what the import would');
  });

  t.test('getAccount, exportAccounts (one snapshot, early exit releases it), deleteDomain, deleteAccount', async (t) => {
    const { dir } = await backend.fresh(t);
    await dir.importAccounts([BOB, ALICE, account('carol', [], [], { mailServer: 7 })], { replace: false });
    const sortedAlice = { ...ALICE, domains: ['alice-shop.example', 'alice.example'] };
    t.same(await dir.getAccount('alice'), sortedAlice, 'domains and mailboxes sorted');
    t.same(await dir.getAccount('carol'), account('carol', [], [], { mailServer: 7 }));
    t.equal(await dir.getAccount('nobody'), undefined);

    const exported: ImportAccount[] = [];
    for await (const a of dir.exportAccounts()) {
      exported.push(a);
      // Written meanwhile: not in this listing, which reads one snapshot.
      if (exported.length === 1) await dir.importAccounts([account('aaron', ['aaron.example']), account('zed', ['zed.example'])], { replace: false });
    }
    t.same(exported, [sortedAlice, BOB, account('carol', [], [], { mailServer: 7 })], 'username order, sorted, one snapshot');
    for await (const a of dir.exportAccounts()) {
      t.equal(a.username, 'aaron');
      break;
    }
    t.same(await dir.importStream(recordsOf([account('zoe', ['zoe.example'])]), { replace: false }).then((r) => r.written.accounts), 1, 'leaving early released the listing');

    t.equal((await dir.findByDomain('alice-shop.example', 'sales@alice-shop.example'))?.mailboxLogin, 'alice-sales', 'remembered before the delete');
    t.same(await dir.deleteDomain('alice-shop.example'), { username: 'alice' });
    t.equal(await dir.findByDomain('alice-shop.example', 'sales@alice-shop.example'), undefined, 'gone at once');
    t.equal(await dir.deleteDomain('alice-shop.example'), undefined, 'no such domain');
    t.same(await dir.getAccount('alice'), { ...ALICE, domains: ['alice.example'], mailboxes: [ALICE.mailboxes[0]] }, "the account's login at that domain went with it");
    t.equal((await dir.findByUsername('bob'))?.account.username, 'bob');
    t.same(await dir.deleteAccount('bob'), BOB, 'what it held');
    t.equal(await dir.deleteAccount('bob'), undefined);
    t.equal(await dir.findByDomain('bob.example'), undefined);
    t.equal(await dir.findByUsername('bob'), undefined);
    t.same(await dir.counts(), { accounts: 5, domains: 4 });
  });

  t.test("openDirectory: 'fail' opens only an existing directory; the demo seeds only a new SQLite file", async (t) => {
    const missing = await backend.missing(t);
    const err = await caught(openDirectory(missing, 'fail', defaultProvider));
    t.type(err, DirectoryError);
    t.match(err.message, backend.name === 'sqlite' ? /no directory at/ : /has no mailconf schema: run "mailconf migrate" first/);

    const { url, dir } = await backend.fresh(t);
    await dir.importAccounts([BOB], { replace: false });
    for (const mode of ['fail', 'create-empty', 'load-demo'] as const) {
      const opened = await openDirectory(url, mode, defaultProvider);
      t.equal(opened.seeded, null, `${mode}: an existing directory is never seeded`);
      t.same(await opened.directory.counts(), { accounts: 1, domains: 1 });
      await opened.directory.close();
    }
  });
}

t.test('sqlite', async (t) => contract(t, sqlite));

t.test('postgres', async (t) => {
  let db: TestDatabase;
  try {
    db = await throwAwayDatabase(t);
  } catch (err) {
    t.fail((err as Error).message);
    return;
  }
  t.test('the contract', async (t) => contract(t, postgres(db)));

  t.test('migrate creates the schema, a second run changes nothing, concurrent runs are safe', async (t) => {
    const url = await db.freshSchema();
    const first = await migrateBackend(url);
    t.match(first, { backend: 'postgres', from: 0, to: SCHEMA_VERSION });
    t.same(first.backend === 'postgres' && first.applied.map((m) => m.version), MIGRATIONS.map((m) => m.version));
    const second = await migrateBackend(url);
    t.match(second, { backend: 'postgres', from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });

    const racing = await db.freshSchema();
    const runs = await Promise.all([1, 2, 3, 4].map(() => migrateBackend(racing)));
    const applied = runs.map((r) => (r.backend === 'postgres' ? r.applied.length : -1));
    t.same(applied.sort(), [0, 0, 0, MIGRATIONS.length], 'exactly one run applied the migrations');
    const recorded = await withClient(racing, (c) => c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'));
    t.same(recorded.rows.map((r) => r.version), MIGRATIONS.map((m) => m.version), 'each version recorded once');
    const { directory } = await openBackend(racing, { mustExist: true });
    t.same(await directory.counts(), { accounts: 0, domains: 0 });
    await directory.close();

    t.same(await migrateBackend('sqlite::memory:'), { backend: 'sqlite', description: 'sqlite::memory:' }, 'SQLite: nothing to migrate');
  });

  t.test('migration 2 adds, fills and indexes the address hashes of a version-1 directory; the release before keeps writing', async (t) => {
    const url = await db.freshSchema();
    await withClient(url, (c) => applyMigrations(c, MIGRATIONS.filter((m) => m.version === 1)));
    t.match((await caught(openBackend(url, { mustExist: true }))).message, /has schema version 1, this mailconf needs 2: run "mailconf migrate" first/, 'version 1: refused for serving');
    // Rows as the release before wrote them (it names no hash column).
    await withClient(url, async (c) => {
      await c.query("INSERT INTO accounts (username, created, mail_server) VALUES ('alice', '2009-03-14', 123)");
      await c.query("INSERT INTO domains (domain, account_id) SELECT 'alice.example', id FROM accounts");
      await c.query("INSERT INTO mailboxes (address, account_id, login) SELECT 'info@alice.example', id, 'alice-info' FROM accounts");
    });
    const result = await migrateBackend(url);
    t.match(result, { backend: 'postgres', from: 1, to: 2 });
    t.same(result.backend === 'postgres' && result.applied.map((m) => m.version), [2]);
    const { directory } = await openBackend(url, { mustExist: true });
    t.teardown(() => directory.close());
    t.equal((await directory.findByDomain('alice.example', { md5: addressMd5('info@alice.example') }))?.mailboxLogin, 'alice-info', 'filled for existing rows');
    // The release before, still running during a rolling deployment, inserts as it always did.
    await withClient(url, (c) => c.query("INSERT INTO mailboxes (address, account_id, login) SELECT 'new@alice.example', id, 'alice-new' FROM accounts"));
    t.equal((await directory.findByDomain('alice.example', { md5: addressMd5('new@alice.example') }))?.mailboxLogin, 'alice-new', 'computed for its rows too');
    const index = await withClient(url, (c) => c.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'mailboxes_by_md5'"));
    t.match(index.rows[0]?.indexdef, /\(address_md5, account_id\)/, 'indexed');
  });

  t.test('a schema older than the code is refused for serving; a newer one is accepted', async (t) => {
    const url = await db.freshSchema();
    for (const mode of ['fail', 'create-empty', 'load-demo'] as const) {
      const err = await caught(openDirectory(url, mode, defaultProvider));
      t.type(err, DirectoryError, mode);
      t.match(err.message, /^directory postgres:\/\/\S+ has no mailconf schema: run "mailconf migrate" first$/);
    }
    t.equal((await withClient(url, (c) => c.query("SELECT to_regclass('accounts') AS t"))).rows[0].t, null, 'opening created nothing');

    await migrateBackend(url);
    await withClient(url, (c) => c.query('DELETE FROM schema_migrations'));
    t.match((await caught(openBackend(url, { mustExist: false }))).message, /run "mailconf migrate"/, 'versions not recorded: refused');
    // The tables are there but not recorded: migrate fails (the schema is not what it would make) and changes nothing.
    t.type(await caught(migrateBackend(url)), DirectoryError);
    await withClient(url, (c) =>
      c.query("INSERT INTO schema_migrations (version, name) SELECT v, 'restored' FROM unnest($1::int[]) AS v", [MIGRATIONS.map((m) => m.version)]),
    );

    t.equal(schemaProblem(1, 'D', 2)?.message, 'directory D has schema version 1, this mailconf needs 2: run "mailconf migrate" first');
    t.equal(schemaProblem(2, 'D', 2), undefined);

    // A later release's migration: applied alone, recorded, and the code still serves from it.
    const next = { version: SCHEMA_VERSION + 1, name: 'test: a later column', sql: 'ALTER TABLE accounts ADD COLUMN note text' };
    const result = await withClient(url, (c) => applyMigrations(c, [...MIGRATIONS, next]));
    t.same(result, { from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1, applied: [next] });
    const { directory } = await openBackend(url, { mustExist: true });
    await directory.importAccounts([BOB], { replace: false });
    t.equal((await directory.findByDomain('bob.example'))?.account.username, 'bob');
    await directory.close();
  });

  t.test('readers keep the old data, unblocked, while a replace is uncommitted; the new data at commit', async (t) => {
    const url = await db.freshSchema();
    await migrateBackend(url);
    const { directory: writer } = await openBackend(url, { mustExist: true });
    // Another instance on the same database.
    const { directory: reader } = await openBackend(url, { mustExist: true });
    t.teardown(() => Promise.all([writer.close(), reader.close()]));
    await writer.importAccounts([ALICE, BOB], { replace: false });

    // A second connection holds an uncommitted row with the key the replace writes last:
    // the replace then waits in its INSERT INTO domains, having deleted and rewritten all else.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    t.teardown(() => blocker.end());
    await blocker.query('BEGIN');
    const id = (await blocker.query("INSERT INTO accounts (username, created) VALUES ('blocker', '2020-01-01') RETURNING id")).rows[0].id;
    await blocker.query("INSERT INTO domains (domain, account_id) VALUES ('zz-last.example', $1)", [id]);

    const bulk = Array.from({ length: 5000 }, (_, i) => account(`new${i}`, [`new${i}.example`]));
    const replace = [...bulk, account('carol', ['carol.example', 'alice.example']), account('zed', ['zz-last.example'])];
    const importing = writer.importAccounts(replace, { replace: true });
    let settled = false;
    void importing.then(() => (settled = true), () => (settled = true));
    const waiting = async () =>
      (await db.pool.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO domains%'")).rowCount! > 0;
    for (let i = 0; i < 200 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 50));
    t.ok(await waiting(), 'the replace is under way, waiting in its last insert');

    const within = <T>(p: Promise<T>, what: string) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} was blocked`)), 3000))]);
    for (const [name, d] of [['another instance', reader], ['the importing instance', writer]] as const) {
      t.equal((await within(d.findByDomain('alice.example', 'info@alice.example'), 'findByDomain'))?.mailboxLogin, 'alice-info', `${name}: old data`);
      t.equal(await within(d.findByDomain('carol.example'), 'findByDomain'), undefined, `${name}: no new data`);
      t.equal((await within(d.findByUsername('bob'), 'findByUsername'))?.account.username, 'bob', `${name}: old account`);
      t.same(await within(d.counts(), 'counts'), { accounts: 2, domains: 3 }, `${name}: old counts`);
      await t.resolves(within(d.ping(), 'ping'), `${name}: ping`);
    }
    t.same((await within(collect(reader), 'allAccounts')).map((a) => a.username), ['alice', 'bob']);
    t.equal(settled, false, 'the replace is still uncommitted');

    await blocker.query('ROLLBACK');
    t.same(await importing, { accounts: 5002, domains: 5003, mailboxes: 0 });
    t.equal((await reader.findByDomain('alice.example'))?.account.username, 'carol', 'the new data from the commit on');
    t.equal(await reader.findByUsername('bob'), undefined);
    t.same(await reader.counts(), { accounts: 5002, domains: 5003 });
  });

  t.test('importStream, deleteAccount and deleteDomain notify in their transaction (a dry run never); a cached reader sees each within a second', async (t) => {
    const url = await db.freshSchema();
    await migrateBackend(url);
    const { directory: writer } = await openBackend(url, { mustExist: true });
    t.teardown(() => writer.close());
    await writer.importAccounts([ALICE, BOB, account('carol', ['carol.example'])], { replace: false });
    // Another instance, reading through its cache and change feed (as the server does).
    const serving = await openServingDirectory(url, defaultProvider);
    t.teardown(() => serving.close());
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    t.teardown(() => listener.end());
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query(`LISTEN ${CHANGE_CHANNEL}`);
    const settle = () => new Promise((r) => setTimeout(r, 300));
    const seesWithin = async (look: () => Promise<unknown>, wanted: unknown) => {
      for (let i = 0; i < 50; i++) {
        if (JSON.stringify(await look()) === JSON.stringify(wanted)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    };
    const owner = async (domain: string) => (await serving.reader.findByDomain(domain))?.account.username;
    t.equal(await owner('bob.example'), 'bob', 'warm');
    t.equal(await owner('bob.example'), 'bob', 'from the cache');

    await writer.importStream(recordsOf([account('dave', ['bob.example'])]), { replace: true, dryRun: true });
    await settle();
    t.same(heard, [], 'a dry run sends no change');
    t.equal(await owner('bob.example'), 'bob');

    await writer.importStream(recordsOf([account('bob', ['bob-new.example'])]), { replace: false });
    t.ok(await seesWithin(() => owner('bob.example'), undefined), 'the cached reader sees the import');
    t.equal(await owner('bob-new.example'), 'bob');
    await settle();
    t.same(heard.map((h) => JSON.parse(h)), [{ domains: ['bob-new.example'], usernames: ['bob'] }], 'the import named what it wrote');

    t.equal(await owner('alice-shop.example'), 'alice');
    await writer.deleteDomain('alice-shop.example');
    t.ok(await seesWithin(() => owner('alice-shop.example'), undefined), 'the cached reader sees deleteDomain');
    t.equal(await owner('carol.example'), 'carol');
    await writer.deleteAccount('carol');
    t.ok(await seesWithin(() => owner('carol.example'), undefined), 'the cached reader sees deleteAccount');
    await settle();
    t.same(heard.slice(1).map((h) => JSON.parse(h)), [
      { domains: ['alice-shop.example'], usernames: ['alice'] },
      { domains: ['carol.example'], usernames: ['carol'] },
    ]);

    const big = Array.from({ length: 2000 }, (_, i) => account(`many${i}`, [`many${i}.example`]));
    await writer.importStream(recordsOf(big), { replace: false });
    await settle();
    t.equal(heard.at(-1), JSON.stringify('all'), "names that would not fit are sent as 'all'");
    await writer.importStream(recordsOf([account('bob', ['bob.example'])]), { replace: true });
    await settle();
    t.equal(heard.at(-1), JSON.stringify('all'), "replace sends 'all'");
    t.ok(await seesWithin(() => owner('bob.example'), 'bob'));
  });

  t.test('the statement timeout cancels a lookup that waits too long; the pool goes on', async (t) => {
    const url = await db.freshSchema();
    await migrateBackend(url);
    const { directory } = await openBackend(url, { mustExist: true, postgres: { statementTimeoutMs: 300, poolSize: 2 } });
    t.teardown(() => directory.close());
    await directory.importAccounts([BOB], { replace: false });
    // Only DDL-strength locks make a reader wait: take one, as a stand-in for a slow server.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    t.teardown(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE domains IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const err = await caught(directory.findByDomain('bob.example'));
    t.match(err.message, /statement timeout/);
    t.ok(Date.now() - started < 3000, `cancelled after ${Date.now() - started} ms`);
    await locker.query('ROLLBACK');
    t.equal((await directory.findByDomain('bob.example'))?.account.username, 'bob', 'answers again');
    // An import is not bound by the lookups' timeout.
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE domains IN ACCESS EXCLUSIVE MODE');
    const importing = directory.importAccounts([account('carol', ['carol.example'])], { replace: false });
    await new Promise((r) => setTimeout(r, 600));
    await locker.query('ROLLBACK');
    t.same(await importing, { accounts: 1, domains: 1, mailboxes: 0 }, 'the import waited past 300 ms and went through');
  });

  t.test('lookups are index probes (no sequential scans)', async (t) => {
    const url = await db.freshSchema();
    await migrateBackend(url);
    const { directory } = await openBackend(url, { mustExist: true });
    t.teardown(() => directory.close());
    const bulk = Array.from({ length: 3000 }, (_, i) => account(`user${i}`, [0, 1, 2].map((k) => `user${i}-${k}.example`), [{ address: `info@user${i}-0.example`, login: `user${i}` }]));
    await directory.importAccounts(bulk, { replace: false });
    await withClient(url, async (c) => {
      await c.query('ANALYZE');
      const hash = addressMd5('info@user1-0.example');
      const lookups = [
        ['byDomain', BY_DOMAIN, 'user1-0.example', 'info@user1-0.example'],
        ['byUsername', BY_USERNAME, 'user1', 'info@user1-0.example'],
        ['byDomainMd5', BY_DOMAIN_MD5, 'user1-0.example', hash],
        ['byUsernameMd5', BY_USERNAME_MD5, 'user1', hash],
      ] as const;
      for (const [name, sql, key, mailbox] of lookups) {
        const plan = JSON.stringify((await c.query(`EXPLAIN (FORMAT JSON) ${sql}`, [key, mailbox])).rows[0]['QUERY PLAN']);
        t.notMatch(plan, /Seq Scan/, `${name}: no sequential scan`);
        t.match(plan, name.startsWith('byDomain') ? /"Index Name":"domains_pkey"/ : /"Index Name":"accounts_username_key"/, `${name}: by its unique index`);
        // By the address (or its hash), or among the account's few mailboxes: either is an index probe.
        t.match(plan, name.endsWith('Md5') ? /"Index Name":"mailboxes_(by_md5|by_account)"/ : /"Index Name":"mailboxes_(pkey|by_account)"/, `${name}: the login by an index of mailboxes`);
        t.equal((await c.query(sql, [key, mailbox])).rows[0]?.mailboxLogin, 'user1', `${name}: finds the login`);
      }
    });
  });

  t.test('no password is shown: descriptions, errors, URLs', async (t) => {
    t.equal(maskDirectoryUrl('postgres://user:pw-1234@db.example/mail'), 'postgres://user:***@db.example/mail');
    t.equal(maskDirectoryUrl('postgresql://user:p@ss:w/rd@db.example:5432/mail?sslmode=require'), 'postgresql://user:***@db.example:5432/mail?sslmode=require', 'unencoded @ / :');
    t.equal(maskDirectoryUrl('postgres://db.example/mail?user=u&password=pw-1234'), 'postgres://db.example/mail?user=u&password=***');
    t.equal(maskDirectoryUrl('postgres://user@db.example/mail'), 'postgres://user@db.example/mail', 'nothing to mask');
    t.equal(maskDirectoryUrl('postgres://db.example:5432/mail'), 'postgres://db.example:5432/mail');
    t.equal(maskDirectoryUrl('sqlite:./data/directory.db'), 'sqlite:./data/directory.db');
    t.equal(maskDirectoryUrl('mysql://u:pw-1234@db/x'), 'mysql://u:***@db/x', 'any scheme');
    t.match(parseDirectoryUrl('postgresql://u@h/d'), { backend: 'postgres', file: undefined, shared: true });
    t.match(parseDirectoryUrl('sqlite::memory:'), { backend: 'sqlite', file: undefined, shared: false });
    for (const bad of ['mysql://u:pw-1234@db/x', 'postgres://u:pw-1234@db.example', 'postgres://u:pw-1234@[oops/x']) {
      const err = await caught(openBackend(bad, { mustExist: false }));
      t.type(err, DirectoryError, bad);
      t.notMatch(err.message, /pw-1234/, `${bad}: masked in the error`);
    }

    const secret = 's3cret-Pw';
    const withPassword = (database: string, schema?: string) => databaseUrl(POSTGRES_SERVER.replace('://root@', `://root:${secret}@`), database, schema);
    const url = await db.freshSchema();
    const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
    const good = withPassword(db.name, schema);
    t.ok(good.includes(secret), 'the URL carries a password (trust auth ignores it)');
    const migrated = await migrateBackend(good);
    t.notMatch(JSON.stringify(migrated), secret, 'migrate result masked');
    const { directory } = await openBackend(good, { mustExist: true });
    t.equal(directory.description, maskDirectoryUrl(good));
    t.match(directory.description, /^postgres:\/\/root:\*\*\*@127\.0\.0\.1:5432\//);
    await directory.close();

    const failures = [
      () => openBackend(withPassword('mailconf_no_such_db'), { mustExist: true }),
      () => openBackend(withPassword(db.name, 'no_schema_here'), { mustExist: true }),
      () => openBackend(`postgres://root:${secret}@127.0.0.1:1/x`, { mustExist: true, postgres: { connectTimeoutMs: 2000 } }),
      () => migrateBackend(`postgres://root:${secret}@127.0.0.1:1/x`),
    ];
    for (const f of failures) {
      const err = await caught(f());
      t.type(err, DirectoryError);
      t.notMatch(err.message, secret, `masked: ${err.message}`);
      t.match(err.message, /root:\*\*\*@/);
    }
  });

  t.test('instance secret: a shared directory needs MAILCONF_SECRET; SQLite keeps its own', async (t) => {
    const url = `postgres://root:pw-1234@db.example/mail`;
    const err = t.throws(() => instanceSecret(undefined, url)) as Error;
    t.type(err, ConfigError);
    t.match(err.message, /^MAILCONF_SECRET is not set: the directory postgres:\/\/root:\*\*\*@db\.example\/mail is shared by every instance/);
    t.notMatch(err.message, /pw-1234/);
    t.same(instanceSecret('x'.repeat(32), url), { secret: 'x'.repeat(32), source: 'environment' });
    t.equal(instanceSecret(undefined, 'sqlite::memory:').source, 'process', 'SQLite :memory: as before');
  });

  t.test('the server on PostgreSQL: refuses to start without MAILCONF_SECRET, else serves', async (t) => {
    const url = await db.freshSchema();
    const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
    const withPw = databaseUrl(POSTGRES_SERVER.replace('://root@', '://root:s3cret-Pw@'), db.name, schema);
    const refused = startServer({ MAILCONF_DIRECTORY: withPw });
    t.teardown(() => void refused.child.kill('SIGKILL'));
    const [code] = await once(refused.child, 'exit');
    t.equal(code, 1, 'an unmigrated database stops start-up');
    t.match(refused.err(), /^mailconf: cannot start: directory postgres:\/\/root:\*\*\*@\S+ has no mailconf schema: run "mailconf migrate" first\n$/);

    await migrateBackend(url);
    const noSecret = startServer({ MAILCONF_DIRECTORY: withPw });
    t.teardown(() => void noSecret.child.kill('SIGKILL'));
    t.equal((await once(noSecret.child, 'exit'))[0], 1);
    t.match(noSecret.err(), /^mailconf: cannot start: MAILCONF_SECRET is not set: the directory postgres:\/\/root:\*\*\*@\S+ is shared by every instance/);

    const { directory } = await openBackend(url, { mustExist: true });
    await directory.importAccounts([ALICE, BOB], { replace: false });
    await directory.close();
    const server = startServer({ MAILCONF_DIRECTORY: withPw, MAILCONF_SECRET: 'a-shared-secret-of-32-characters' });
    t.teardown(() => void server.child.kill('SIGKILL'));
    const port = await listeningPort(server);
    t.match(server.out(), /serving 2 accounts and 3 domains from postgres:\/\/root:\*\*\*@127\.0\.0\.1:5432\//, 'no demo data; the URL masked');
    const res = await fetch(`http://127.0.0.1:${port}/mail/config-v1.1.xml?emailaddress=sales%40alice-shop.example`);
    t.equal(res.status, 200);
    t.match(await res.text(), '<username>alice-sales</username>');
    server.child.kill('SIGTERM');
    await waitFor(() => server.child.exitCode !== null, 'the server to stop');
    t.equal(server.child.exitCode, 0);
    for (const s of [refused, noSecret, server]) t.notMatch(s.out() + s.err(), /s3cret-Pw/, 'no password in any output');
  });
});
