// `mailconf export`: the directory in every format import reads, so that export -> import
// is lossless (a round trip through an empty directory gives the same bytes and the same
// accounts), on SQLite and PostgreSQL; to standard output or whole to a file.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openBackend } from '../src/directory/open.js';
import type { ImportAccount } from '../src/model/account.js';
import { FIXTURE_ACCOUNTS } from './support/app.js';
import { BACKENDS, emptyDirectory, runCli } from './support/cli.js';
import { throwAwayDatabase, type TestDatabase } from './support/postgres.js';

let db: TestDatabase;
t.before(async () => {
  db = await throwAwayDatabase(t);
});

/** Every account of the directory at `url`, read through getAccount (not through export). */
async function accountsIn(url: string, usernames: string[]): Promise<(ImportAccount | undefined)[]> {
  const { directory } = await openBackend(url, { mustExist: true });
  try {
    return await Promise.all(usernames.map((u) => directory.getAccount(u)));
  } finally {
    await directory.close();
  }
}

/** The fixture accounts and some that test the formats' quoting: commas, quotes, non-ASCII. */
const ACCOUNTS: ImportAccount[] = [
  ...FIXTURE_ACCOUNTS,
  { username: 'jörg😀', created: '2021-04-19T08:00:00+02:00', mailServer: null, domains: ['jörg.example', 'b.example'], mailboxes: [{ address: 'a,b@b.example', login: '"q",x\\y' }] },
];
const USERNAMES = ACCOUNTS.map((a) => a.username);

for (const backend of BACKENDS) {
  t.test(`${backend}: export -> import -> export gives the same bytes and the same accounts, in every format`, async (t) => {
    const source = await emptyDirectory(t, backend, db);
    const input = join(t.testdir(), 'input.json');
    writeFileSync(input, JSON.stringify({ accounts: ACCOUNTS }));
    t.equal((await runCli(['import', input, '--allow-data-errors', '--directory', source])).code, 0);
    const stored = await accountsIn(source, USERNAMES);
    t.equal(stored.filter(Boolean).length, ACCOUNTS.length, 'every account stored');

    for (const format of ['json', 'ndjson', 'csv'] as const) {
      const first = await runCli(['export', '--format', format, '--directory', source]);
      t.equal(first.code, 0, first.stderr);
      t.equal(first.stderr, '');
      const copy = await emptyDirectory(t, backend, db);
      const imported = await runCli(['import', '-', '--format', format, '--allow-data-errors', '--directory', copy], {}, first.stdout);
      t.equal(imported.code, 0, `${format}: the export imports (${imported.stderr})`);
      const second = await runCli(['export', '-', '--format', format, '--directory', copy]);
      t.equal(second.stdout, first.stdout, `${format}: exported again, byte for byte the same`);
      t.same(await accountsIn(copy, USERNAMES), stored, `${format}: every account the same, domains and logins too`);
    }
  });
}

t.test('the export in each format, and its default', async (t) => {
  const url = await emptyDirectory(t, 'sqlite', db);
  const accounts = [FIXTURE_ACCOUNTS[0]!, FIXTURE_ACCOUNTS[6]!]; // oldtimer, pairuser
  t.equal((await runCli(['import', '-', '--directory', url], {}, accounts.map((a) => JSON.stringify(a)).join('\n'))).code, 0);
  const ndjson = [
    '{"username":"oldtimer","created":"2009-03-14","mailServer":123,"domains":["oldtimer-shop.example"],"mailboxes":[{"address":"sales@oldtimer-shop.example","login":"sales-oldtimer"}]}',
    '{"username":"pairuser","created":"2015-08-20","mailServer":null,"domains":[],"mailboxes":[{"address":"pairuser@pair.com","login":"pairuser-imap"}]}',
  ];
  t.equal((await runCli(['export', '--directory', url])).stdout, `${ndjson.join('\n')}\n`, 'NDJSON on standard output unless told');
  t.equal((await runCli(['export', '--format', 'json', '--directory', url])).stdout, `{"accounts":[\n${ndjson.join(',\n')}\n]}\n`);
  t.equal(
    (await runCli(['export', '--format', 'csv', '--directory', url])).stdout,
    [
      'username,created,mailServer,domain,mailbox,login',
      'oldtimer,2009-03-14,123,oldtimer-shop.example,,',
      'oldtimer,2009-03-14,123,,sales@oldtimer-shop.example,sales-oldtimer',
      'pairuser,2015-08-20,,,pairuser@pair.com,pairuser-imap',
      '',
    ].join('\r\n'),
  );
});

t.test('export to a file: the format from its name, the file whole or not at all', async (t) => {
  const url = await emptyDirectory(t, 'sqlite', db);
  t.equal((await runCli(['import', '-', '--directory', url], {}, JSON.stringify(FIXTURE_ACCOUNTS[1]))).code, 0);
  const dir = t.testdir();
  const file = join(dir, 'accounts.csv');
  const r = await runCli(['export', file, '--directory', url]);
  t.equal(r.code, 0);
  t.equal(r.stdout, `exported 1 account, 2 domains, 0 mailbox logins from ${url} to ${file}\n`);
  t.match(readFileSync(file, 'utf8'), /^username,created,mailServer,domain,mailbox,login\r\nnewbie,/);
  t.same(readdirSync(dir), ['accounts.csv'], 'nothing left beside it');

  const unknown = await runCli(['export', join(dir, 'accounts.txt'), '--directory', url]);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /cannot tell the format of .*accounts\.txt from its name: give --format json\|ndjson\|csv/);
  const nowhere = await runCli(['export', join(dir, 'no-such-dir', 'a.json'), '--directory', url]);
  t.equal(nowhere.code, 1);
  t.match(nowhere.stderr, /cannot write .*a\.json: no such file/);
  const missing = await runCli(['export', '--directory', `sqlite:${join(dir, 'none.db')}`]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no directory at/);
  t.notOk(existsSync(join(dir, 'none.db')), 'export makes no directory');
});

t.test('the built command: export piped into import -, through real standard streams', async (t) => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!existsSync(join(root, 'dist/cli/mailconf.js'))) {
    t.fail('dist/ is missing: run "npm run build" first');
    return;
  }
  const source = await emptyDirectory(t, 'sqlite', db);
  const copy = await emptyDirectory(t, 'sqlite', db);
  const many = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ username: `user${i}`, created: '2020-01-01', domains: [`d${i}.example`, `e${i}.example`] })).join('\n');
  const cli = (args: string[], input?: string) =>
    spawnSync('node', ['bin/mailconf.js', ...args], { cwd: root, env: { ...process.env, MAILCONF_PROVIDER: '' }, input, encoding: 'utf8', maxBuffer: 1 << 26 });
  t.equal(cli(['import', '-', '--directory', source], many).status, 0);
  const exported = cli(['export', '--directory', source]);
  t.equal(exported.status, 0, exported.stderr);
  t.equal(exported.stdout.split('\n').length, 3001, 'one account a line, and the final newline');
  const imported = cli(['import', '-', '--directory', copy], exported.stdout);
  t.equal(imported.status, 0, imported.stderr);
  t.match(imported.stdout, /^imported 3000 accounts, 6000 domains, 0 mailbox logins into /);
  t.equal(cli(['export', '--directory', copy]).stdout, exported.stdout);
});
