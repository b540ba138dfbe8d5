// `mailconf import` as an operator runs it nightly: any format, from a file or standard
// input, refused whole with every problem named, or written with a report of what changed;
// on SQLite and PostgreSQL alike.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { readProgress } from '../src/cli/progress.js';
import { BACKENDS, emptyDirectory, runCli, type CliRun } from './support/cli.js';
import { throwAwayDatabase, type TestDatabase } from './support/postgres.js';

const OLDTIMER = { username: 'oldtimer', created: '2009-03-14', mailServer: 123, domains: ['oldtimer-shop.example'], mailboxes: [{ address: 'sales@oldtimer-shop.example', login: 'sales-oldtimer' }] };
const NEWBIE = { username: 'newbie', created: '2019-10-02T15:04:05Z', domains: ['newbie.example'] };
const HERSHOP = { username: 'hershop', created: '2021-04-19', domains: ['her-shop.example', 'her-shop.test'] };
const PAIRUSER = { username: 'pairuser', created: '2015-08-20' };
const EXAMPLE = [OLDTIMER, NEWBIE, HERSHOP, PAIRUSER];

const ndjson = (accounts: unknown[]) => accounts.map((a) => `${JSON.stringify(a)}\n`).join('');
const CSV = [
  'username,created,mailServer,domain,mailbox,login',
  'oldtimer,2009-03-14,123,oldtimer-shop.example,sales@oldtimer-shop.example,sales-oldtimer',
  'newbie,2019-10-02T15:04:05Z,,newbie.example,,',
  'hershop,2021-04-19,,her-shop.example,,',
  'hershop,2021-04-19,,her-shop.test,,',
  'pairuser,2015-08-20,,,,',
].join('\n');

let db: TestDatabase;
t.before(async () => {
  db = await throwAwayDatabase(t);
});

/** A directory of `backend` and commands run against it. */
async function workspace(t: Test, backend: (typeof BACKENDS)[number]) {
  const url = await emptyDirectory(t, backend, db);
  const dir = t.testdir();
  let n = 0;
  const file = (name: string, text: string) => {
    const path = join(dir, `${++n}-${name}`);
    writeFileSync(path, text);
    return path;
  };
  const run = (argv: string[], stdin?: string, options?: { terminal?: boolean }) => runCli([...argv, '--directory', url], {}, stdin, options);
  return { url, file, run };
}

function saysReport(t: Test, r: CliRun, lines: string[], message: string) {
  t.equal(r.code, 0, `${message}: exit 0 (${r.stderr})`);
  t.equal(r.stderr, '', `${message}: nothing on stderr`);
  t.equal(r.stdout, `${lines.join('\n')}\n`, message);
}

for (const backend of BACKENDS) {
  t.test(`${backend}: every format and standard input import the same, and the report says what changed`, async (t) => {
    const w = await workspace(t, backend);
    saysReport(t, await w.run(['import', '-'], ndjson(EXAMPLE)), [
      `imported 4 accounts, 4 domains, 1 mailbox login into ${w.url}`,
      'accounts: 4 added, 0 changed, 0 unchanged, 0 removed',
      'domains: 4 added, 0 removed, 0 moved to another account',
      'mailbox logins: 1 added, 0 changed, 0 removed',
    ], 'NDJSON on standard input');
    for (const [name, text] of [['a.json', JSON.stringify({ accounts: EXAMPLE })], ['a.csv', CSV], ['a.jsonl', ndjson(EXAMPLE)]] as const) {
      saysReport(t, await w.run(['import', w.file(name, text), '--replace']), [
        `imported 4 accounts, 4 domains, 1 mailbox login into ${w.url} (replacing everything it held before)`,
        'accounts: 0 added, 0 changed, 4 unchanged, 0 removed',
        'domains: 0 added, 0 removed, 0 moved to another account',
        'mailbox logins: 0 added, 0 changed, 0 removed',
      ], `${name}: the same accounts`);
    }
    // A CSV file named otherwise, told by --format; standard input in CSV.
    const moved = [
      'username,created,mailServer,domain,mailbox,login',
      'oldtimer,2009-03-14,456,her-shop.test,sales@oldtimer-shop.example,sales-2',
      'oldtimer,2009-03-14,456,oldtimer-shop.example,,',
      'hershop,2021-04-19,,her-shop.example,,',
      'thief,2022-01-01,,,,',
    ].join('\r\n');
    saysReport(t, await w.run(['import', w.file('accounts.txt', moved), '--format', 'csv']), [
      `imported 3 accounts, 3 domains, 1 mailbox login into ${w.url}`,
      'accounts: 1 added, 2 changed, 0 unchanged, 0 removed',
      'domains: 0 added, 0 removed, 1 moved to another account',
      'mailbox logins: 0 added, 1 changed, 0 removed',
    ], 'a domain moved from hershop, a login changed');
    saysReport(t, await w.run(['import', '-', '--format', 'csv', '--replace'], CSV), [
      `imported 4 accounts, 4 domains, 1 mailbox login into ${w.url} (replacing everything it held before)`,
      'accounts: 0 added, 2 changed, 2 unchanged, 1 removed',
      'domains: 0 added, 0 removed, 1 moved to another account',
      'mailbox logins: 0 added, 1 changed, 0 removed',
    ], 'back to the example, thief removed');
  });

  t.test(`${backend}: --dry-run reports what would change and writes nothing`, async (t) => {
    const w = await workspace(t, backend);
    const dry = await w.run(['import', '-', '--dry-run'], ndjson(EXAMPLE));
    saysReport(t, dry, [
      `dry run: would import 4 accounts, 4 domains, 1 mailbox login into ${w.url}; nothing written`,
      'accounts: 4 added, 0 changed, 0 unchanged, 0 removed',
      'domains: 4 added, 0 removed, 0 moved to another account',
      'mailbox logins: 1 added, 0 changed, 0 removed',
    ], 'the report of a dry run');
    if (backend === 'sqlite') t.notOk(existsSync(w.url.slice('sqlite:'.length)), 'no directory file made');
    t.equal((await w.run(['import', '-'], ndjson([NEWBIE]))).code, 0);
    const again = await w.run(['import', '-', '--dry-run', '--replace'], ndjson(EXAMPLE));
    t.match(again.stdout, /^accounts: 3 added, 0 changed, 1 unchanged, 0 removed$/m);
    t.equal((await w.run(['lookup', 'x@her-shop.example'])).code, 1, 'still not written');
  });

  t.test(`${backend}: accounts that give no mail host are refused unless --allow-data-errors`, async (t) => {
    const w = await workspace(t, backend);
    const broken = w.file('broken.ndjson', ndjson([NEWBIE, { username: 'noserver', created: '2005-01-01' }, { username: 'bad_name', created: '2015-01-01' }]));
    const r = await w.run(['import', broken]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.same(r.errLines, [
      `${broken}: line 2, mailServer: old-era account has no mail server number: a data error, clients would get no settings for this account`,
      `${broken}: line 3, username: username "bad_name" is not a valid DNS label: a data error, clients would get no settings for this account`,
      `mailconf: ${broken}: 2 problems, nothing imported`,
    ]);
    t.equal((await w.run(['lookup', 'x@newbie.example'])).code, 1, 'not even the valid account was written');
    const allowed = await w.run(['import', broken, '--allow-data-errors']);
    t.equal(allowed.code, 0, allowed.stderr);
    t.match(allowed.stdout, /^imported 3 accounts/);
    const check = await w.run(['check']);
    t.match(check.stdout, /checked 3 accounts: 2 with problems/);
  });

  t.test(`${backend}: every problem of the input, as FILE: position: reason`, async (t) => {
    const w = await workspace(t, backend);
    const text = [
      JSON.stringify(NEWBIE),
      '{"username": "x", "created": "2020-01-01",}',
      JSON.stringify({ ...PAIRUSER, mailserver: 3 }),
      JSON.stringify({ ...HERSHOP, domains: ['her-shop.example', 'not a domain'] }),
    ].join('\n');
    const r = await w.run(['import', '-'], text);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.same(r.errLines, [
      'stdin: line 2, column 43: not valid JSON: unexpected "}"',
      'stdin: line 3, mailserver: unknown field (did you mean "mailServer"?)',
      'stdin: line 4, domains[1]: not a valid domain name',
      'mailconf: stdin: 3 problems, nothing imported',
    ]);
    t.equal((await w.run(['lookup', 'x@newbie.example'])).code, 1, 'nothing written');
  });

  t.test(`${backend}: what the directory refuses (a username twice, another account's domain) is named by position too`, async (t) => {
    const w = await workspace(t, backend);
    t.equal((await w.run(['import', '-'], ndjson([HERSHOP]))).code, 0);
    const twice = await w.run(['import', '-'], ndjson([NEWBIE, PAIRUSER, { ...NEWBIE, domains: ['other.example'] }]));
    t.equal(twice.code, 1);
    t.equal(twice.errLines[0], 'stdin: line 3, username: username newbie is already given at line 1', 'the second line with the username');
    t.match(twice.errLines.at(-1), /^mailconf: stdin: 1 problem, nothing imported$/);
    const taken = await w.run(['import', '-'], ndjson([NEWBIE, { username: 'thief', created: '2022-01-01', domains: ['her-shop.example'] }]));
    t.equal(taken.code, 1);
    t.equal(taken.errLines[0], 'stdin: line 2, domains[0]: domain her-shop.example of account thief already belongs to account hershop', 'the line claiming it, and its owner');
    t.equal((await w.run(['lookup', 'x@newbie.example'])).code, 1, 'nothing written');
  });
}

t.test('usage: the format must be known, standard input must be a pipe', async (t) => {
  const w = await workspace(t, 'sqlite');
  const usage = async (argv: string[], pattern: RegExp, stdin?: string) => {
    const r = await w.run(argv, stdin);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.stderr, pattern);
  };
  await usage(['import', w.file('accounts.txt', '')], /cannot tell the format of .*accounts\.txt from its name: give --format json\|ndjson\|csv/);
  await usage(['import', '-', '--format', 'xml'], /unknown format "xml" \(json, ndjson, csv\)/, '');
  await usage(['import', '-'], /standard input is a terminal: pipe the accounts in, or give a FILE/);
  await usage(['import', '-', '--format'], /--format needs a value/, '');
  await usage(['lookup', 'a@b.example', '--dry-run'], /--dry-run does not apply to lookup/);
  const missing = await w.run(['import', join(w.url.slice(7), '..', 'nope.csv')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read .*nope\.csv: no such file/);
  t.notOk(existsSync(w.url.slice('sqlite:'.length)), 'no directory made for a file that cannot be read');
});

t.test('--replace refuses an input without accounts: a failed export must not empty the directory', async (t) => {
  const w = await workspace(t, 'sqlite');
  t.equal((await w.run(['import', '-'], ndjson(EXAMPLE))).code, 0);
  for (const [argv, stdin] of [[['import', '-', '--replace'], ''], [['import', '-', '--replace', '--format', 'json'], '{"accounts": []}']] as const) {
    const r = await w.run([...argv], stdin);
    t.equal(r.code, 1);
    t.same(r.errLines, ['stdin: (input): no accounts: with --replace this would empty the directory', 'mailconf: stdin: 1 problem, nothing imported']);
  }
  t.equal((await w.run(['lookup', 'x@her-shop.example'])).code, 0, 'the directory is as it was');
  t.match((await w.run(['import', '-'], '')).stdout, /^imported 0 accounts/, 'without --replace an empty input is no change');
});

t.test('a progress line on a terminal only, cleared at the end', async (t) => {
  const w = await workspace(t, 'sqlite');
  const many = ndjson(Array.from({ length: 50 }, (_, i) => ({ username: `user${i}`, created: '2020-01-01', domains: [`d${i}.example`] })));
  const onTerminal = await w.run(['import', '-'], many, { terminal: true });
  t.equal(onTerminal.code, 0);
  t.same(onTerminal.progress, ['read 1 account', ''], 'shown at once, then at most every second; cleared before the report');
  t.equal(onTerminal.stderr, '');
  t.match(onTerminal.stdout, /^imported 50 accounts/);
  const piped = await w.run(['import', '-', '--replace'], many);
  t.same(piped.progress, [], 'no progress where no one watches');
});

t.test('the progress line: at the first record, then at most once a second, with thousands separated', async (t) => {
  let clock = 0;
  const shown: string[] = [];
  const progress = readProgress({ progress: (line) => void shown.push(line) }, 'account', 1000, () => clock);
  for (let n = 1; n <= 250_000; n++) {
    clock = (n - 1) / 100; // 100 records a millisecond: 2.5 s in all
    progress.update(n);
  }
  progress.done();
  t.same(shown, ['read 1 account', 'read 100,001 accounts', 'read 200,001 accounts', '']);
  const silent = readProgress({}, 'account');
  silent.update(1);
  silent.done();
});
