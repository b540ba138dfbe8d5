// The `mailconf` command line, as an operator uses it: import a file, look addresses up,
// check the directory. `main` is called directly with captured output (support/cli.ts); one test runs
// the built `bin/mailconf.js` end to end.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import t, { type Test } from 'tap';
import { applyMigrations, MIGRATIONS } from '../src/directory/migrations.js';
import { runCli, type CliRun } from './support/cli.js';
import { throwAwayDatabase } from './support/postgres.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Run = CliRun;

const mailconf = runCli;

const OLDTIMER = {
  username: 'oldtimer',
  created: '2009-03-14',
  mailServer: 123,
  domains: ['oldtimer-shop.example'],
  mailboxes: [{ address: 'sales@oldtimer-shop.example', login: 'sales-oldtimer' }],
};
const NEWBIE = { username: 'newbie', created: '2019-10-02T15:04:05Z', domains: ['newbie.example'] };
const HERSHOP = { username: 'hershop', created: '2021-04-19', domains: ['her-shop.example', 'her-shop.test'] };
const PAIRUSER = { username: 'pairuser', created: '2015-08-20' };
const EXAMPLE = { accounts: [OLDTIMER, NEWBIE, HERSHOP, PAIRUSER] };

/** A temp dir with a directory URL in it and a helper to write accounts files. */
function workspace(t: Test) {
  const dir = t.testdir();
  const db = join(dir, 'd.db');
  const url = `sqlite:${db}`;
  let n = 0;
  const writeFile = (data: unknown, name = `accounts-${++n}.json`) => {
    const path = join(dir, name);
    writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data, null, 2));
    return path;
  };
  /** Runs a command against this workspace's directory. */
  const run = (...argv: string[]) => mailconf([...argv, '--directory', url]);
  return { dir, db, url, writeFile, run };
}

/** Every row of every table: the directory's content, independent of how the file is laid out. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).raw().all()]));
  } finally {
    db.close();
  }
}

/** The `Server:` and `Login:` lines of a text lookup. */
function field(text: string, name: 'Server' | 'Login'): string | undefined {
  return new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(text)?.[1];
}

const firstLine = (text: string) => text.split('\n')[0]!;

function failsWithOneLine(t: Test, r: Run, code: number, pattern: RegExp) {
  t.equal(r.code, code, `exit status ${code}`);
  t.equal(r.errLines.length, 1, `one line on stderr: ${JSON.stringify(r.stderr)}`);
  t.match(r.errLines[0], /^mailconf: /);
  t.match(r.errLines[0], pattern);
  t.equal(r.stdout, '', 'nothing on stdout');
}

async function imported(t: Test, w: ReturnType<typeof workspace>, data: unknown, ...flags: string[]) {
  const r = await w.run('import', w.writeFile(data), ...flags);
  t.equal(r.code, 0, `import succeeds: ${r.stderr}`);
  return r;
}

t.test('import creates the directory and says what it wrote', async (t) => {
  const w = workspace(t);
  t.notOk(existsSync(w.db));
  const r = await w.run('import', w.writeFile(EXAMPLE));
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  // The report's first line says what the file held; import.test.ts reads the rest of the report.
  t.equal(firstLine(r.stdout), `imported 4 accounts, 4 domains, 1 mailbox login into ${w.url}`);
  t.ok(existsSync(w.db), 'directory file created');
  // Nothing else than the file: no demo accounts were added to the new directory.
  t.equal((await w.run('lookup', 'lastday.example')).code, 1, 'no demo data');
});

t.test('lookup: host by era, login by mailbox, the six encrypted ports', async (t) => {
  const w = workspace(t);
  await imported(t, w, EXAMPLE);

  const cases = [
    // old era: mail<N>.pair.com; a stored per-mailbox login wins
    { ask: 'sales@oldtimer-shop.example', host: 'mail123.pair.com', login: 'sales-oldtimer' },
    { ask: 'SALES@Oldtimer-Shop.EXAMPLE', host: 'mail123.pair.com', login: 'sales-oldtimer' },
    // else the full address
    { ask: 'info@oldtimer-shop.example', host: 'mail123.pair.com', login: 'info@oldtimer-shop.example' },
    // new era: <username>.mail.pairserver.com
    { ask: 'info@newbie.example', host: 'newbie.mail.pairserver.com', login: 'info@newbie.example' },
    { ask: 'me@her-shop.test', host: 'hershop.mail.pairserver.com', login: 'me@her-shop.test' },
    // the account's main mailbox logs in with the bare username
    { ask: 'pairuser@pair.com', host: 'pairuser.mail.pairserver.com', login: 'pairuser' },
    { ask: 'OldTimer@pair.com', host: 'mail123.pair.com', login: 'oldtimer' },
  ];
  for (const c of cases) {
    const r = await w.run('lookup', c.ask);
    t.equal(r.code, 0, `${c.ask}: exit 0`);
    t.equal(r.stderr, '');
    t.equal(field(r.stdout, 'Server'), `${c.host} (incoming and outgoing)`, `${c.ask}: server`);
    t.equal(field(r.stdout, 'Login'), c.login, `${c.ask}: login`);
  }

  const text = (await w.run('lookup', 'info@oldtimer-shop.example')).stdout;
  const offered = [...text.matchAll(/^\s+(IMAP|POP3|SMTP)\s+(\S+)\s+port (\d+)\s+(SSL\/TLS|STARTTLS)/gm)].map((m) =>
    [m[1], m[2], Number(m[3]), m[4]].join(' '),
  );
  t.same(offered, [
    'IMAP mail123.pair.com 993 SSL/TLS',
    'IMAP mail123.pair.com 143 STARTTLS',
    'POP3 mail123.pair.com 995 SSL/TLS',
    'POP3 mail123.pair.com 110 STARTTLS',
    'SMTP mail123.pair.com 465 SSL/TLS',
    'SMTP mail123.pair.com 587 STARTTLS',
  ]);
  t.notMatch(text, /port 25\b/, 'port 25 never offered');
});

t.test('lookup --json prints the same settings as JSON', async (t) => {
  const w = workspace(t);
  await imported(t, w, EXAMPLE);
  for (const [ask, host, login] of [
    ['sales@oldtimer-shop.example', 'mail123.pair.com', 'sales-oldtimer'],
    ['x@newbie.example', 'newbie.mail.pairserver.com', 'x@newbie.example'],
  ] as const) {
    const text = await w.run('lookup', ask);
    const json = await w.run('lookup', '--json', ask);
    t.equal(json.code, 0);
    const settings = JSON.parse(json.stdout);
    t.equal(settings.host, host);
    t.equal(`${settings.host} (incoming and outgoing)`, field(text.stdout, 'Server'), 'same host as the text output');
    t.equal(settings.login, login);
    t.equal(settings.address, ask);
    t.same(
      settings.incoming.map((s: { protocol: string; port: number; security: string; host: string }) => [s.protocol, s.port, s.security, s.host]),
      [['imap', 993, 'tls', host], ['imap', 143, 'starttls', host], ['pop3', 995, 'tls', host], ['pop3', 110, 'starttls', host]],
    );
    t.same(
      settings.outgoing.map((s: { protocol: string; port: number; security: string; host: string }) => [s.protocol, s.port, s.security, s.host]),
      [['smtp', 465, 'tls', host], ['smtp', 587, 'starttls', host]],
    );
  }
});

t.test('lookup of a bare domain gives domain-level settings with no login', async (t) => {
  const w = workspace(t);
  await imported(t, w, EXAMPLE);
  const r = await w.run('lookup', 'Her-Shop.example');
  t.equal(r.code, 0);
  t.match(r.stdout, /^Mail settings for addresses at her-shop\.example$/m);
  t.equal(field(r.stdout, 'Server'), 'hershop.mail.pairserver.com (incoming and outgoing)');
  const json = JSON.parse((await w.run('lookup', 'her-shop.example', '--json')).stdout);
  t.equal(json.login, null);
  t.equal(json.address, null);
  t.equal(json.host, 'hershop.mail.pairserver.com');

  // An account-named domain names no account by itself.
  failsWithOneLine(t, await w.run('lookup', 'pair.com'), 2, /pair\.com.*address/);
});

t.test('import is all or nothing: one bad record changes nothing', async (t) => {
  const w = workspace(t);
  await imported(t, w, EXAMPLE);
  const before = dump(w.db);

  const bad = w.writeFile({
    accounts: [
      { ...OLDTIMER, mailServer: 456 }, // a valid change...
      { username: 'newcomer', created: '2022-01-01', domains: ['newcomer.example'] }, // ...a valid addition...
      { username: 'broken', created: '2011-02-30', domains: ['broken.example'] }, // ...and one bad record
    ],
  });
  for (const flags of [[], ['--replace']]) {
    const r = await w.run('import', bad, ...flags);
    t.equal(r.code, 1, `exit 1 ${flags.join(' ')}`);
    t.equal(r.stdout, '');
    t.same(r.errLines.slice(0, -1), [`${bad}: accounts[2].created: "2011-02-30" is not a real YYYY-MM-DD date or RFC 3339 timestamp`]);
    t.match(r.errLines.at(-1), /^mailconf: .*nothing imported/);
    t.same(dump(w.db), before, 'directory content unchanged');
  }
  t.equal(field((await w.run('lookup', 'a@oldtimer-shop.example')).stdout, 'Server'), 'mail123.pair.com (incoming and outgoing)');
  t.equal((await w.run('lookup', 'a@newcomer.example')).code, 1, 'the valid addition was not written');
  t.equal((await w.run('lookup', 'a@her-shop.example')).code, 0, '--replace did not empty the directory');
});

t.test('every validation problem is printed as FILE: position: reason', async (t) => {
  const w = workspace(t);
  const path = w.writeFile({
    accounts: [
      { username: 'a', created: 'yesterday', domains: ['pair.com'], colour: 'red' },
      { username: 'A', created: '2020-01-01', mailServer: 0 },
    ],
  });
  const r = await w.run('import', path);
  t.equal(r.code, 1);
  const positions = r.errLines.slice(0, -1).map((l) => {
    t.ok(l.startsWith(`${path}: `), `names the file: ${l}`);
    return l.slice(path.length + 2).split(': ')[0];
  });
  t.same(positions.sort(), [
    'accounts[0].colour',
    'accounts[0].created',
    'accounts[0].domains[0]',
    'accounts[1].mailServer',
  ]);
  // A username given twice is found among valid records only (the directory finds it while
  // streaming): the second "a" is invalid for its mailServer alone.
  t.match(r.errLines.at(-1), /^mailconf: .*4 problems/);
  t.notOk(existsSync(w.db), 'a rejected file does not even create the directory');

  const notJson = await w.run('import', w.writeFile('{"accounts": ['));
  t.equal(notJson.code, 1);
  t.match(notJson.errLines[0], /: line 1, column 15: not valid JSON: the text ends before the JSON value does$/);
});

t.test('import upserts by username; --replace replaces everything', async (t) => {
  const w = workspace(t);
  await imported(t, w, EXAMPLE);

  // oldtimer moves to another server and swaps its domain; brandnew is added; the rest stay.
  const update = {
    accounts: [
      { username: 'OldTimer', created: '2009-03-14', mailServer: 456, domains: ['oldtimer-new.example'] },
      { username: 'brandnew', created: '2023-05-05', domains: ['brandnew.example'] },
    ],
  };
  const up = await imported(t, w, update);
  t.equal(firstLine(up.stdout), `imported 2 accounts, 2 domains, 0 mailbox logins into ${w.url}`);
  t.equal(field((await w.run('lookup', 'a@oldtimer-new.example')).stdout, 'Server'), 'mail456.pair.com (incoming and outgoing)');
  t.equal((await w.run('lookup', 'sales@oldtimer-shop.example')).code, 1, "an upserted account's domains are exactly the file's");
  t.equal(field((await w.run('lookup', 'x@newbie.example')).stdout, 'Server'), 'newbie.mail.pairserver.com (incoming and outgoing)', 'untouched account kept');
  t.equal(field((await w.run('lookup', 'x@brandnew.example')).stdout, 'Server'), 'brandnew.mail.pairserver.com (incoming and outgoing)');

  const rep = await imported(t, w, { accounts: [NEWBIE] }, '--replace');
  t.match(rep.stdout, /^imported 1 account, 1 domain, 0 mailbox logins into /);
  t.equal((await w.run('lookup', 'x@newbie.example')).code, 0);
  for (const gone of ['x@her-shop.example', 'x@brandnew.example', 'x@oldtimer-new.example', 'pairuser@pair.com']) {
    failsWithOneLine(t, await w.run('lookup', gone), 1, /no mail settings for/);
  }
  const check = await w.run('check');
  t.match(check.stdout, /^checked 1 account: 0 with problems$/m);
});

t.test('a domain owned by another account in the directory is a conflict naming both', async (t) => {
  const w = workspace(t);
  await imported(t, w, EXAMPLE);
  const before = dump(w.db);
  const r = await w.run(
    'import',
    w.writeFile({
      accounts: [
        { username: 'innocent', created: '2022-01-01', domains: ['innocent.example'] },
        { username: 'thief', created: '2022-01-01', domains: ['her-shop.example'] },
      ],
    }),
  );
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.equal(r.errLines.length, 2, 'the conflict at its record, and the summary');
  t.match(r.errLines[0], /: accounts\[1\]\.domains\[0\]: .*her-shop\.example/);
  t.match(r.errLines[0], /\bthief\b/);
  t.match(r.errLines[0], /\bhershop\b/);
  t.match(r.errLines[1], /^mailconf: .*1 problem, nothing imported$/);
  t.same(dump(w.db), before, 'nothing written, not even the valid account before it');
  t.equal(field((await w.run('lookup', 'a@her-shop.example')).stdout, 'Server'), 'hershop.mail.pairserver.com (incoming and outgoing)');

  // Moving the domain is fine when the file also says where the old owner stands.
  await imported(t, w, { accounts: [{ ...HERSHOP, domains: ['her-shop.test'] }, { username: 'thief', created: '2022-01-01', domains: ['her-shop.example'] }] });
  t.equal(field((await w.run('lookup', 'a@her-shop.example')).stdout, 'Server'), 'thief.mail.pairserver.com (incoming and outgoing)');
});

t.test('check reports every account whose data gives no host', async (t) => {
  const w = workspace(t);
  await imported(t, w, EXAMPLE);
  const clean = await w.run('check');
  t.equal(clean.code, 0);
  t.equal(clean.stderr, '');
  t.equal(clean.stdout, 'checked 4 accounts: 0 with problems\n');

  await imported(t, w, {
    accounts: [
      { username: 'noserver', created: '2005-01-01', domains: ['broken-old.example'] },
      { username: 'bad_name', created: '2015-01-01', domains: ['broken-new.example'] },
      // The era decides: an old-era account needs a server number, a new-era one a DNS-label name.
      { username: 'old_but_fine', created: '2011-05-31', mailServer: 7 },
      { username: 'newnoserver', created: '2011-06-01' },
    ],
  }, '--allow-data-errors');
  const r = await w.run('check');
  t.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 3, 'two problem lines and the summary');
  t.match(lines.find((l) => l.includes('noserver')), /mail server/);
  t.match(lines.find((l) => l.includes('bad_name')), /DNS label/);
  t.notMatch(r.stdout, /old_but_fine|newnoserver|oldtimer|newbie|hershop|pairuser/, 'healthy accounts not reported');
  t.equal(lines.at(-1), 'checked 8 accounts: 2 with problems');
  t.equal(r.errLines.length, 1);
  t.match(r.errLines[0], /^mailconf: 2 accounts have data errors/);

  // The same accounts fail a lookup with a reason naming the account.
  failsWithOneLine(t, await w.run('lookup', 'x@broken-new.example'), 1, /bad_name.*DNS label/);
  failsWithOneLine(t, await w.run('lookup', 'x@broken-old.example'), 1, /noserver.*mail server/);
});

t.test('failures: exit status and one line of reason', async (t) => {
  const w = workspace(t);

  const missingFile = join(w.dir, 'nope.json');
  failsWithOneLine(t, await w.run('import', missingFile), 1, new RegExp(`cannot read ${missingFile.replace(/[.\\]/g, '\\$&')}: no such file`));
  t.notOk(existsSync(w.db), 'no directory created for a missing file');

  failsWithOneLine(t, await w.run('lookup', 'a@her-shop.example'), 1, /no directory at .*d\.db/);
  failsWithOneLine(t, await w.run('check'), 1, /no directory at/);
  t.notOk(existsSync(w.db), 'lookup and check do not create a directory');

  await imported(t, w, EXAMPLE);
  failsWithOneLine(t, await w.run('lookup', 'nobody@unknown.example'), 1, /^mailconf: no mail settings for unknown\.example$/);
  failsWithOneLine(t, await w.run('lookup', 'unknown.example'), 1, /^mailconf: no mail settings for unknown\.example$/);
  failsWithOneLine(t, await w.run('lookup', 'nobody@pair.com'), 1, /no mail settings for pair\.com.*nobody/);
  for (const malformed of ['not-an-address', 'a@b@c.example', '@her-shop.example', 'me@', 'me@localhost', 'two words@x.example']) {
    failsWithOneLine(t, await w.run('lookup', malformed), 2, /not a valid/);
  }

  failsWithOneLine(t, await mailconf(['lookup', 'a@her-shop.example', '--directory', 'mysql://db/x']), 1, /sqlite:PATH or postgres:\/\//);
  failsWithOneLine(t, await w.run('lookup', 'a@her-shop.example', '--provider', join(w.dir, 'none.json')), 1, /provider profile/);
});

t.test('usage errors exit 2', async (t) => {
  const w = workspace(t);
  failsWithOneLine(t, await mailconf(['frobnicate']), 2, /unknown command "frobnicate"/);
  failsWithOneLine(t, await mailconf(['lookup', '--frob', 'a@b.example']), 2, /unknown option --frob/);
  failsWithOneLine(t, await mailconf(['-x']), 2, /unknown option -x/);
  failsWithOneLine(t, await mailconf(['lookup', 'a@b.example', '--directory']), 2, /--directory needs a value/);
  failsWithOneLine(t, await mailconf(['check', '--json']), 2, /--json/);
  failsWithOneLine(t, await mailconf(['lookup', 'a@b.example', '--replace']), 2, /--replace/);
  failsWithOneLine(t, await mailconf(['import']), 2, /missing FILE/);
  failsWithOneLine(t, await mailconf(['lookup']), 2, /missing ADDRESS/);
  failsWithOneLine(t, await mailconf(['lookup', 'a@b.example', 'c@d.example']), 2, /unexpected argument "c@d\.example"/);
  failsWithOneLine(t, await mailconf(['check', 'extra']), 2, /unexpected argument/);
  failsWithOneLine(t, await mailconf(['lookup', '--json=yes', 'a@b.example']), 2, /--json takes no value/);
  t.notOk(existsSync(w.db));
});

t.test('help and version', async (t) => {
  for (const argv of [['--help'], ['-h'], ['help'], ['lookup', '--help']]) {
    const r = await mailconf(argv);
    t.equal(r.code, 0, `${argv.join(' ')}: exit 0`);
    t.equal(r.stderr, '');
    for (const word of ['import FILE', '--replace', 'lookup ADDRESS', '--json', 'check', 'migrate', '--directory URL', 'postgres://', '--provider FILE', '--version']) {
      t.ok(r.stdout.includes(word), `${argv.join(' ')}: help mentions ${word}`);
    }
  }
  const none = await mailconf([]);
  t.equal(none.code, 2, 'no arguments is a usage error');
  t.equal(none.stdout, '');
  t.match(none.stderr, /import FILE[\s\S]*lookup ADDRESS[\s\S]*check/, 'help on stderr');

  const v = await mailconf(['--version']);
  t.equal(v.code, 0);
  t.match(v.stdout, /^mailconf \d+\.\d+\.\d+\n$/);
});

t.test('the directory and provider come from the environment unless given', async (t) => {
  const w = workspace(t);
  const env = { MAILCONF_DIRECTORY: w.url };
  const r = await mailconf(['import', w.writeFile(EXAMPLE)], env);
  t.equal(r.code, 0);
  t.ok(firstLine(r.stdout).endsWith(`into ${w.url}`));
  t.equal((await mailconf(['lookup', 'x@newbie.example'], env)).code, 0, 'MAILCONF_DIRECTORY used');
  const other = `sqlite:${join(w.dir, 'other.db')}`;
  failsWithOneLine(t, await mailconf(['lookup', 'x@newbie.example', '--directory', other], env), 1, /no directory at .*other\.db/);

  const provider = w.writeFile({ newEraHost: '{username}.imap.example.net', oldEraHost: 'legacy{mailServer}.example.net' }, 'provider.json');
  const viaEnv = await mailconf(['lookup', 'x@newbie.example'], { ...env, MAILCONF_PROVIDER: provider });
  t.equal(field(viaEnv.stdout, 'Server'), 'newbie.imap.example.net (incoming and outgoing)', 'MAILCONF_PROVIDER used');
  const viaFlag = await mailconf(['lookup', 'x@oldtimer-shop.example', '--provider', provider], env);
  t.equal(field(viaFlag.stdout, 'Server'), 'legacy123.example.net (incoming and outgoing)', '--provider used');

  const badProvider = w.writeFile({ newEraHost: 'no-placeholder.example.net' }, 'bad-provider.json');
  failsWithOneLine(t, await mailconf(['lookup', 'x@newbie.example', '--provider', badProvider], env), 1, /newEraHost/);
});

t.test('the built bin/mailconf.js works end to end', async (t) => {
  const built = join(ROOT, 'dist/cli/mailconf.js');
  if (!existsSync(built)) {
    t.fail(`${built} is missing: run "npm run build" first`);
    return;
  }
  const w = workspace(t);
  const env = { ...process.env, MAILCONF_DIRECTORY: w.url, MAILCONF_PROVIDER: '' };
  const cli = (...args: string[]) => execFileSync('node', ['bin/mailconf.js', ...args], { cwd: ROOT, env, encoding: 'utf8' });

  t.equal(firstLine(cli('import', w.writeFile(EXAMPLE))), `imported 4 accounts, 4 domains, 1 mailbox login into ${w.url}`);
  t.equal(field(cli('lookup', 'sales@oldtimer-shop.example'), 'Login'), 'sales-oldtimer');
  t.equal(JSON.parse(cli('lookup', '--json', 'pairuser@pair.com')).host, 'pairuser.mail.pairserver.com');
  t.match(cli('--help'), /lookup ADDRESS/);

  const fail = spawnSync('node', ['bin/mailconf.js', 'lookup', 'nobody@unknown.example'], { cwd: ROOT, env, encoding: 'utf8' });
  t.equal(fail.status, 1, 'exit status reaches the shell');
  t.equal(fail.stderr, 'mailconf: no mail settings for unknown.example\n');
  const usage = spawnSync('node', ['bin/mailconf.js', 'lookup', 'not-an-address'], { cwd: ROOT, env, encoding: 'utf8' });
  t.equal(usage.status, 2);
});

t.test('migrate: nothing to do for SQLite (no file made), and its help', async (t) => {
  const w = workspace(t);
  const r = await w.run('migrate');
  t.equal(r.code, 0);
  t.equal(r.stderr, '');
  t.equal(r.stdout, `${w.url}: SQLite makes its schema when the directory is first opened: nothing to migrate\n`);
  t.notOk(existsSync(w.db), 'no directory created');
  const help = await mailconf(['migrate', '--help']);
  t.match(help.stdout, /^Usage: mailconf migrate\n\n {2}Create or upgrade a PostgreSQL directory's schema/);
  failsWithOneLine(t, await mailconf(['migrate', 'extra']), 2, /unexpected argument "extra"/);
  failsWithOneLine(t, await mailconf(['migrate', '--replace']), 2, /--replace does not apply to migrate/);
});

t.test('on PostgreSQL every command answers as on SQLite, once migrated', async (t) => {
  const db = await throwAwayDatabase(t);
  const url = (await db.freshSchema()).replace('://root@', '://root:s3cret-Pw@');
  const masked = url.replace(':s3cret-Pw@', ':***@');
  const pgRun = (...argv: string[]) => mailconf([...argv, '--directory', url]);

  // Before `mailconf migrate`, every command that opens the directory refuses, and says what to do.
  const w = workspace(t);
  const file = w.writeFile(EXAMPLE);
  for (const argv of [['import', file], ['lookup', 'a@her-shop.example'], ['check'], ['dns', 'her-shop.example', '--public-url', 'https://mailconf.example']]) {
    failsWithOneLine(t, await pgRun(...argv), 1, /has no mailconf schema: run "mailconf migrate" first$/);
  }
  const first = await pgRun('migrate');
  t.equal(first.code, 0);
  t.equal(first.stdout, `${masked}: migrated from schema version 0 to 2 (2 migrations: 1 accounts, domains and mailboxes, 2 mailbox address hashes (Evolution))\n`);
  t.match((await pgRun('migrate')).stdout, /: schema version 2 is current: nothing to migrate\n$/);

  // A directory of the release before (version 1) is refused, then brought up by migrate alone.
  const older = await db.freshSchema();
  const client = new pg.Client({ connectionString: older });
  await client.connect();
  await applyMigrations(client, MIGRATIONS.filter((m) => m.version === 1));
  await client.end();
  failsWithOneLine(t, await mailconf(['lookup', 'a@her-shop.example', '--directory', older]), 1, /has schema version 1, this mailconf needs 2: run "mailconf migrate" first$/);
  const upgraded = await mailconf(['migrate', '--directory', older]);
  t.match(upgraded.stdout, /: migrated from schema version 1 to 2 \(1 migration: 2 mailbox address hashes \(Evolution\)\)\n$/);

  // The same commands on both backends, compared line for line (the directory named alike).
  const conflict = w.writeFile({ accounts: [{ username: 'innocent', created: '2022-01-01', domains: ['innocent.example'] }, { username: 'thief', created: '2022-01-01', domains: ['her-shop.example'] }] });
  const broken = w.writeFile({ accounts: [{ username: 'noserver', created: '2005-01-01', domains: ['broken-old.example'] }, { username: 'bad_name', created: '2015-01-01', domains: ['broken-new.example'] }] });
  const invalid = w.writeFile({ accounts: [{ username: 'x', created: 'yesterday' }] });
  const script: string[][] = [
    ['import', file],
    ['lookup', 'sales@oldtimer-shop.example'],
    ['lookup', '--json', 'pairuser@pair.com'],
    ['lookup', 'her-shop.test'],
    ['lookup', 'nobody@unknown.example'],
    ['lookup', 'nobody@pair.com'],
    ['dns', 'her-shop.example', '--public-url', 'https://mailconf.example'],
    ['dns', 'unknown.example', '--public-url', 'https://mailconf.example'],
    ['check'],
    ['import', conflict],
    ['import', invalid],
    ['import', broken],
    ['import', broken, '--allow-data-errors'],
    ['check'],
    ['lookup', 'x@broken-new.example'],
    ['import', file, '--replace'],
    ['check'],
    ['lookup', 'x@broken-old.example'],
  ];
  for (const argv of script) {
    const onSqlite = await w.run(...argv);
    const onPostgres = await pgRun(...argv);
    t.notMatch(onPostgres.stdout + onPostgres.stderr, /s3cret-Pw/, `${argv.join(' ')}: no password shown`);
    const same = (r: Run, dir: string) => ({ code: r.code, stdout: r.stdout.replaceAll(dir, 'DIR'), stderr: r.stderr.replaceAll(dir, 'DIR') });
    t.same(same(onPostgres, masked), same(onSqlite, w.url), argv.join(' '));
  }
});

t.test('config: the configuration in effect, secrets masked; problems make it exit 1', async (t) => {
  const { configTable } = await import('../src/config/declaration.js');
  const good = await mailconf(['config'], {
    MAILCONF_SECRET: 'zqx-secret-value-0123456789',
    MAILCONF_DIRECTORY: 'postgres://app:hunter2@db.internal/mail',
    REDIS_URL: 'redis://:redispw@cache:6379',
    PORT: '9000',
  });
  t.equal(good.code, 0);
  t.equal(good.stderr, '');
  t.match(good.stdout, /^PORT +9000$/m, 'a set value, as set');
  t.match(good.stdout, /^HOST +0\.0\.0\.0 +\(default\)$/m, 'a default, marked');
  t.match(good.stdout, /^MAILCONF_DIRECTORY +postgres:\/\/app:\*\*\*@db\.internal\/mail$/m, 'the directory password masked');
  t.match(good.stdout, /^REDIS_URL +redis:\/\/:\*\*\*@cache:6379$/m, 'the Redis password masked');
  t.match(good.stdout, /^MAILCONF_SECRET +\*\*\*$/m, 'the secret masked');
  t.notMatch(good.stdout, /hunter2|redispw|zqx-secret/, 'no secret anywhere');

  const bad = await mailconf(['config'], { RATE_LIMIT_MAX: 'zero', LOG_LEVEL: 'loud' });
  t.equal(bad.code, 1, 'values start-up would refuse: exit 1');
  t.match(bad.stdout, /2 problems start-up would stop on:\n {2}- LOG_LEVEL must be one of[^\n]*\n {2}- RATE_LIMIT_MAX must be a whole number/);

  const md = await mailconf(['config', '--markdown']);
  t.equal(md.code, 0);
  t.equal(md.stdout, `${configTable()}\n`, "--markdown prints the README's table");
  t.equal((await mailconf(['lookup', 'a@b.example', '--markdown'])).code, 2, '--markdown is config only');
});
