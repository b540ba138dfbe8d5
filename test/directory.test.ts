// What only SqliteDirectory and openDirectory do: the file (made on first open, never after),
// its query plans, the demo seeding, unusable files. What every backend does (lookups,
// upserts, replace, conflicts, listing, counts) is test/directory-contract.test.ts.
// Speed at scale is guarded by query plans (no table scans), never by timing: timed
// numbers live in `npm run bench`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { DirectoryError } from '../src/directory/directory.js';
import type { ImportAccount } from '../src/model/account.js';
import { parseImportFile } from '../src/accounts/accounts-file.js';
import { DEMO_FILE, openDirectory } from '../src/accounts/open.js';
import { SqliteDirectory } from '../src/directory/sqlite.js';
import { addressMd5 } from '../src/model/address.js';
import { defaultProvider } from '../src/policy/provider-profile.js';
import { account, ALICE, BOB, caught } from './support/directory-fixtures.js';

/** A directory in a fresh temporary folder, closed when the test ends. */
async function fresh(t: Test): Promise<{ dir: SqliteDirectory; path: string; folder: string }> {
  // (t.testdir() empties the folder on every call: call it once per test.)
  const folder = t.testdir();
  const path = join(folder, 'directory.db');
  const dir = new SqliteDirectory(path);
  t.teardown(() => dir.close());
  return { dir, path, folder };
}

t.test('the file: made on open, reopened with mustExist, never made by mustExist', async (t) => {
  const { dir, path, folder } = await fresh(t);
  t.equal(SqliteDirectory.exists(path), true, 'the file is created on open');
  t.equal(SqliteDirectory.exists(join(folder, 'other.db')), false);
  t.equal(SqliteDirectory.exists(':memory:'), false);
  await dir.importAccounts([ALICE, BOB], { replace: false });
  await dir.close();

  const again = new SqliteDirectory(path, { mustExist: true });
  t.teardown(() => again.close());
  t.same(await again.counts(), { accounts: 2, domains: 3 });
  t.same(await again.findByDomain('alice-shop.example', 'sales@alice-shop.example'), {
    account: { username: 'alice', created: '2009-03-14', mailServer: 123 },
    mailboxLogin: 'alice-sales',
    domainHasMailboxLogins: true,
  });
  t.same(await again.findByUsername('bob', 'bob@pair.com'), {
    account: { username: 'bob', created: '2020-02-02', mailServer: null },
    mailboxLogin: 'bob',
    domainHasMailboxLogins: null,
  });

  t.throws(() => new SqliteDirectory(join(folder, 'missing.db'), { mustExist: true }), 'mustExist: no new file');
  t.equal(existsSync(join(folder, 'missing.db')), false);
});

t.test('lookups use the primary keys and indexes (no table scans at any size)', async (t) => {
  const { dir, path } = await fresh(t);
  // Some bulk so that ANALYZE has something to say; the plans must hold with and without it.
  const bulk: ImportAccount[] = [];
  for (let i = 0; i < 500; i++) {
    const u = `user${i}`;
    bulk.push(account(u, [0, 1, 2, 3].map((k) => `${u}-${k}.example`), [{ address: `info@${u}-0.example`, login: u }]));
  }
  await dir.importAccounts(bulk, { replace: false });

  // The SQL the directory really runs, not a copy of it.
  const sqlOf = (name: 'byDomain' | 'byUsername' | 'byDomainMd5' | 'byUsernameMd5'): string => {
    const statement = (dir as unknown as Record<string, { source?: unknown } | undefined>)[name];
    if (typeof statement?.source !== 'string') {
      throw new Error(`SqliteDirectory.${name} is no longer a prepared statement: update this test`);
    }
    return statement.source;
  };
  const lookups = { byDomain: sqlOf('byDomain'), byUsername: sqlOf('byUsername'), byDomainMd5: sqlOf('byDomainMd5'), byUsernameMd5: sqlOf('byUsernameMd5') };
  for (const [name, sql] of Object.entries(lookups)) t.match(sql, /mailboxes/, `${name} includes the mailbox login subquery`);

  const params = { domain: 'user1-1.example', username: 'user1', address: 'info@user1-1.example', md5: addressMd5('info@user1-1.example') };
  const byHash = (name: string) => name.endsWith('Md5');
  for (const analyzed of [false, true]) {
    if (analyzed) {
      const w = new Database(path);
      w.exec('ANALYZE');
      w.close();
    }
    const db = new Database(path, { readonly: true, fileMustExist: true });
    for (const [name, sql] of Object.entries(lookups)) {
      const bound = byHash(name) ? { domain: params.domain, username: params.username, md5: params.md5 } : { domain: params.domain, username: params.username, address: params.address };
      const plan = db.prepare<[typeof bound], { id: number; parent: number; detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(bound);
      const details = plan.map((p) => p.detail);
      const label = `${name}${analyzed ? ' (after ANALYZE)' : ''}`;
      t.notOk(details.some((d) => /^SCAN\b/.test(d)), `${label}: no full scan`, { plan: details });
      if (name.startsWith('byDomain')) {
        t.ok(details.some((d) => /^SEARCH \S+ USING PRIMARY KEY \(domain=\?\)/.test(d)), `${label}: domains by primary key`, { plan: details });
        t.ok(details.some((d) => /^SEARCH \S+ USING INTEGER PRIMARY KEY \(rowid=\?\)/.test(d)), `${label}: accounts by id`, { plan: details });
      } else {
        t.ok(details.some((d) => /^SEARCH \S+ USING (COVERING )?INDEX \S+ \(username=\?\)/.test(d)), `${label}: accounts by username index`, {
          plan: details,
        });
      }
      const sub = plan.find((p) => /SCALAR SUBQUERY/.test(p.detail));
      t.ok(sub, `${label}: mailbox login is a subquery`, { plan: details });
      const inner = plan.filter((p) => p.parent === sub?.id).map((p) => p.detail);
      if (byHash(name)) {
        // The hash names no primary key: only its own index finds it without a scan.
        t.ok(
          inner.length > 0 && inner.every((d) => /^SEARCH \S+ USING INDEX mailboxes_by_md5 \(address_md5=\? AND account_id=\?\)/.test(d)),
          `${label}: mailbox login by the hash index`,
          { plan: details },
        );
      } else {
        t.ok(
          inner.length > 0 && inner.every((d) => /^SEARCH \S+ USING (PRIMARY KEY \(address=\?\)|(COVERING )?INDEX )/.test(d)),
          `${label}: mailbox login by primary key or index`,
          { plan: details },
        );
      }
      // And the statement answers what it should.
      const asked = byHash(name) ? { ...bound, md5: addressMd5('info@user1-0.example') } : { ...bound, address: 'info@user1-0.example' };
      const row = db.prepare<[typeof asked], { mailboxLogin: string | null }>(sql).get(asked);
      t.equal(row?.mailboxLogin, 'user1', `${label}: finds the login`);
    }
    db.close();
  }
});

// The schema of the release before the hash index, exactly as it made its files.
const SCHEMA_BEFORE_MD5 = `
CREATE TABLE accounts (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, created TEXT NOT NULL, mail_server INTEGER);
CREATE TABLE domains (domain TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE) WITHOUT ROWID;
CREATE INDEX domains_by_account ON domains(account_id);
CREATE TABLE mailboxes (address TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, login TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX mailboxes_by_account ON mailboxes(account_id);
`;

t.test('a file of the schema before the hash index is upgraded in place when opened', async (t) => {
  const path = join(t.testdir(), 'directory.db');
  const old = new Database(path);
  old.exec(SCHEMA_BEFORE_MD5);
  old.exec(`INSERT INTO accounts (id, username, created, mail_server) VALUES (1, 'alice', '2009-03-14', 123);
    INSERT INTO domains VALUES ('alice.example', 1);
    INSERT INTO mailboxes VALUES ('info@alice.example', 1, 'alice-info'), ('sales@alice.example', 1, 'alice-sales');`);
  old.close();

  const dir = new SqliteDirectory(path, { mustExist: true });
  t.teardown(() => dir.close());
  t.equal((await dir.findByDomain('alice.example', { md5: addressMd5('sales@alice.example') }))?.mailboxLogin, 'alice-sales', 'the hash finds a mailbox stored before');
  t.equal((await dir.findByDomain('alice.example', 'info@alice.example'))?.mailboxLogin, 'alice-info', 'address lookups unchanged');
  const check = new Database(path, { readonly: true });
  t.same(
    check.prepare('SELECT address, address_md5 AS md5 FROM mailboxes ORDER BY address').all(),
    ['info@alice.example', 'sales@alice.example'].map((address) => ({ address, md5: addressMd5(address) })),
    'every row has its hash',
  );
  t.ok(check.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'mailboxes_by_md5'").get(), 'the index is made');
  check.close();

  // The release before keeps importing into the upgraded file (it names no hash column);
  // the next open fills what it left empty.
  const before = new Database(path);
  before.exec("INSERT INTO mailboxes (address, account_id, login) VALUES ('new@alice.example', 1, 'alice-new')");
  before.close();
  await dir.close();
  const again = new SqliteDirectory(path, { mustExist: true });
  t.teardown(() => again.close());
  t.equal((await again.findByDomain('alice.example', { md5: addressMd5('new@alice.example') }))?.mailboxLogin, 'alice-new');
  t.equal((await again.findByDomain('alice.example', { md5: addressMd5('nobody@alice.example') }))?.mailboxLogin, null);
});

t.test('the lookup memo keeps a hash apart from an address', async (t) => {
  const { dir } = await fresh(t);
  // A mailbox whose address is, letter for letter, another mailbox's hash.
  const hash = addressMd5('info@alice.example');
  await dir.importAccounts([account('alice', ['alice.example'], [{ address: 'info@alice.example', login: 'by-hash' }, { address: `${hash}@alice.example`, login: 'by-address' }])], { replace: false });
  t.equal((await dir.findByDomain('alice.example', `${hash}@alice.example`))?.mailboxLogin, 'by-address');
  t.equal((await dir.findByDomain('alice.example', { md5: hash }))?.mailboxLogin, 'by-hash');
  t.equal((await dir.findByDomain('alice.example', hash))?.mailboxLogin, null, 'a bare hash as an address finds nothing');
  t.equal((await dir.findByDomain('alice.example', { md5: addressMd5(`${hash}@alice.example`) }))?.mailboxLogin, 'by-address');
});

t.test('openDirectory', async (t) => {
  const demo = parseImportFile(readFileSync(DEMO_FILE, 'utf8'), defaultProvider, { allowDataErrors: false });
  if (!demo.ok) throw new Error(`data/demo.json does not validate: ${JSON.stringify(demo.problems)}`);
  const demoSummary = {
    accounts: demo.accounts.length,
    domains: demo.accounts.reduce((n, a) => n + a.domains.length, 0),
    mailboxes: demo.accounts.reduce((n, a) => n + a.mailboxes.length, 0),
  };

  t.test("'load-demo' seeds a new directory with the demo accounts, only once", async (t) => {
    const path = join(t.testdir(), 'nested', 'dir', 'directory.db');
    const first = await openDirectory(`sqlite:${path}`, 'load-demo', defaultProvider);
    t.same(first.seeded, demoSummary);
    t.equal(first.directory.description, `sqlite:${path}`);
    t.same(await first.directory.counts(), { accounts: demoSummary.accounts, domains: demoSummary.domains });
    for (const a of demo.accounts) {
      for (const d of a.domains) t.equal((await first.directory.findByDomain(d))?.account.username, a.username, d);
      for (const m of a.mailboxes) {
        t.equal((await first.directory.findByDomain(m.address.split('@')[1]!, m.address))?.mailboxLogin, m.login, m.address);
      }
    }
    // Emptied on purpose: reopening must not bring the demo back.
    await first.directory.importAccounts([], { replace: true });
    await first.directory.close();
    const second = await openDirectory(`sqlite:${path}`, 'load-demo', defaultProvider);
    t.teardown(() => second.directory.close());
    t.equal(second.seeded, null, 'an existing file is never seeded');
    t.same(await second.directory.counts(), { accounts: 0, domains: 0 });
  });

  t.test("'create-empty' creates an empty directory", async (t) => {
    const path = join(t.testdir(), 'directory.db');
    const opened = await openDirectory(`sqlite:${path}`, 'create-empty', defaultProvider);
    t.teardown(() => opened.directory.close());
    t.equal(opened.seeded, null);
    t.equal(existsSync(path), true);
    t.same(await opened.directory.counts(), { accounts: 0, domains: 0 });
  });

  t.test("'fail' opens only an existing directory", async (t) => {
    const dir = t.testdir();
    const missing = join(dir, 'sub', 'directory.db');
    const err = await caught(openDirectory(`sqlite:${missing}`, 'fail', defaultProvider));
    t.type(err, DirectoryError);
    t.match(err.message, missing);
    t.equal(existsSync(missing), false, 'no file created');
    t.equal(existsSync(join(dir, 'sub')), false, 'no folder created');

    const path = join(dir, 'directory.db');
    const made = new SqliteDirectory(path);
    await made.importAccounts([BOB], { replace: false });
    await made.close();
    const opened = await openDirectory(`sqlite:${path}`, 'fail', defaultProvider);
    t.teardown(() => opened.directory.close());
    t.equal(opened.seeded, null);
    t.equal((await opened.directory.findByDomain('bob.example'))?.account.username, 'bob');
  });

  t.test('unsupported URLs and unreadable files are DirectoryErrors', async (t) => {
    const dir = t.testdir();
    for (const url of ['mysql://db.example/mailconf', 'postgres://db.example', 'postgres://[oops/x', 'sqlite:', join(dir, 'directory.db'), 'file:directory.db', '']) {
      for (const whenMissing of ['load-demo', 'create-empty', 'fail'] as const) {
        const err = await caught(openDirectory(url, whenMissing, defaultProvider));
        t.type(err, DirectoryError, `${JSON.stringify(url)} (${whenMissing})`);
      }
    }
    t.equal(existsSync(join(dir, 'directory.db')), false, 'a bare path is not opened');

    // A 0-byte file would become an empty directory ("serving 0 accounts", every answer 404);
    // a device or a /proc entry is no database at all.
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    for (const [file, why] of [[empty, /is empty \(0 bytes\)/], ['/proc/self/status', /is empty \(0 bytes\)/], ['/dev/null', /not a regular file/]] as const) {
      for (const whenMissing of ['load-demo', 'create-empty', 'fail'] as const) {
        const err = await caught(openDirectory(`sqlite:${file}`, whenMissing, defaultProvider));
        t.type(err, DirectoryError, `${file} (${whenMissing})`);
        t.match(err.message, why);
      }
    }
    t.equal(readFileSync(empty, 'utf8'), '', 'the empty file is left as it was');

    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'this is not a database, just some text that is long enough '.repeat(200));
    const err = await caught(openDirectory(`sqlite:${garbage}`, 'load-demo', defaultProvider));
    t.type(err, DirectoryError);
    t.match(err.message, garbage);
  });
});

t.test("a streaming import runs on its own connection: the serving connection's memo never serves stale answers", async (t) => {
  const path = join(t.testdir(), 'directory.db');
  // recheckMs far off: the file-identity reopen cannot be what makes the new data visible.
  const serving = new SqliteDirectory(path, { recheckMs: 60_000 });
  const other = new SqliteDirectory(path, { recheckMs: 60_000 }); // e.g. `mailconf import` in another process
  t.teardown(async () => {
    await serving.close();
    await other.close();
  });
  await serving.importAccounts([ALICE], { replace: false });
  t.equal((await serving.findByDomain('alice.example'))?.account.username, 'alice');
  t.equal(await serving.findByDomain('bob.example'), undefined, 'remembered: no such domain');
  await other.importStream((async function* () { yield { position: 'line 1', account: BOB }; })(), { replace: false });
  t.equal((await serving.findByDomain('bob.example'))?.account.username, 'bob', "another directory's commit changes data_version: the memo is dropped");
  await other.deleteAccount('alice');
  t.equal(await serving.findByDomain('alice.example'), undefined, 'so does its delete');
  // In the same directory: the import's own connection commits; the serving connection's memo is not stale either.
  t.equal(await serving.findByDomain('carol.example'), undefined);
  await serving.importStream((async function* () { yield { position: 'line 1', account: account('carol', ['carol.example']) }; })(), { replace: false });
  t.equal((await serving.findByDomain('carol.example'))?.account.username, 'carol');
  // Writes of this directory made while its import is open wait for it, without blocking the process.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = serving.importStream((async function* () { yield { position: 'line 1', account: account('dave', ['dave.example']) }; await gate; })(), { replace: false });
  const deleted = serving.deleteAccount('carol');
  const second = serving.importStream((async function* () { yield { position: 'line 1', account: account('erin', ['erin.example']) }; })(), { replace: false });
  await new Promise((r) => setTimeout(r, 20));
  t.equal(await serving.findByDomain('dave.example'), undefined, 'lookups go on while an import is open');
  t.equal((await serving.findByDomain('carol.example'))?.account.username, 'carol', 'the delete waits');
  release();
  t.same((await first).written, { accounts: 1, domains: 1, mailboxes: 0 });
  t.equal((await deleted)?.username, 'carol');
  t.same((await second).written, { accounts: 1, domains: 1, mailboxes: 0 });
  t.equal((await serving.findByDomain('dave.example'))?.account.username, 'dave');
  t.equal(await serving.findByDomain('carol.example'), undefined);
  t.equal((await serving.findByDomain('erin.example'))?.account.username, 'erin');
});
