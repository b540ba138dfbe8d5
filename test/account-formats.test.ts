// The accounts formats without a directory: what each reader finds in a text (records and
// their positions, every problem with its line and column), the validated stream
// importStream is given, and that each writer's output reads back as the same accounts.
import t, { type Test } from 'tap';
import { FORMATS, exportChunks, formatOfFile, type FormatName } from '../src/accounts/formats/index.js';
import { MAX_VALUE_BYTES } from '../src/accounts/formats/json.js';
import { MAX_PROBLEMS, validatedRecords, type SourceItem } from '../src/accounts/records.js';
import { ImportRejectedError, type ImportProblem, type ImportRecord } from '../src/directory/directory.js';
import type { ImportAccount } from '../src/model/account.js';
import { defaultProvider } from '../src/policy/provider-profile.js';

/** `text` as a stream of chunks of `size` bytes (splitting lines, tokens and UTF-8 characters). */
async function* chunked(text: string | Buffer, size = 7): AsyncGenerator<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

interface Outcome {
  accounts: ImportRecord[];
  problems: ImportProblem[];
}

/** What importStream would be given: the valid records, then every problem (none when it ended cleanly). */
async function imported(format: FormatName, text: string | Buffer, { allowDataErrors = false, size = 7 } = {}): Promise<Outcome> {
  const accounts: ImportRecord[] = [];
  try {
    for await (const r of validatedRecords(FORMATS[format].read(chunked(text, size)), defaultProvider, { allowDataErrors })) accounts.push(r);
  } catch (err) {
    if (!(err instanceof ImportRejectedError)) throw err;
    return { accounts, problems: [...err.problems] };
  }
  return { accounts, problems: [] };
}

const lines = (ps: ImportProblem[]) => ps.map((p) => `${p.position}: ${p.reason}`);

function accepted(t: Test, o: Outcome): ImportAccount[] {
  t.same(o.problems, [], 'no problems');
  return o.accounts.map((r) => r.account);
}

const OLDTIMER: ImportAccount = {
  username: 'oldtimer',
  created: '2009-03-14',
  mailServer: 123,
  domains: ['oldtimer-shop.example', 'oldtimer.test'],
  mailboxes: [{ address: 'sales@oldtimer-shop.example', login: 'sales-oldtimer' }],
};
const NEWBIE: ImportAccount = { username: 'newbie', created: '2019-10-02T15:04:05Z', mailServer: null, domains: ['newbie.example'], mailboxes: [] };
const PAIRUSER: ImportAccount = { username: 'pairuser', created: '2015-08-20', mailServer: null, domains: [], mailboxes: [{ address: 'pairuser@pair.com', login: 'pair"user,imap' }] };
const ACCOUNTS = [OLDTIMER, NEWBIE, PAIRUSER];

t.test('formats by extension', async (t) => {
  t.same(
    ['a.json', 'B.JSON', 'x.ndjson', 'x.jsonl', 'x.csv', 'x.txt', 'json'].map(formatOfFile),
    ['json', 'json', 'ndjson', 'ndjson', 'csv', undefined, undefined],
  );
});

t.test('JSON: the accounts file read in chunks, positions accounts[i]', async (t) => {
  const text = JSON.stringify({ accounts: ACCOUNTS }, null, 2);
  for (const size of [1, 7, 1 << 16]) {
    const o = await imported('json', text, { size });
    t.same(accepted(t, o), ACCOUNTS, `chunks of ${size}`);
    t.same(o.accounts.map((r) => r.position), ['accounts[0]', 'accounts[1]', 'accounts[2]']);
  }
  t.same(accepted(t, await imported('json', '\ufeff{"accounts": []}')), [], 'a byte order mark and an empty list');
});

t.test('JSON: problems name the record and field; unknown top-level fields get a hint', async (t) => {
  const o = await imported('json', JSON.stringify({ acounts: 1, accounts: [NEWBIE, { ...NEWBIE, username: 'two', mailserver: 3, domains: ['x.example'] }], version: 2 }));
  t.same(lines(o.problems), [
    'acounts: unknown field (did you mean "accounts"?)',
    'accounts[1].mailserver: unknown field (did you mean "mailServer"?)',
    'version: unknown field',
  ]);
  t.same(o.accounts.map((r) => r.position), ['accounts[0]'], 'valid records still flow on (the directory finds conflicts among them)');
});

t.test('JSON: syntax errors at line and column, counted in characters across chunks', async (t) => {
  const text = '{\n  "accounts": [\n    {"username": "jörg", "created": "2020-01-01"},\n    {"username": "x", }\n  ]\n}';
  for (const size of [1, 5, 1000]) {
    const o = await imported('json', text, { size, allowDataErrors: true });
    t.same(lines(o.problems), ['line 4, column 23: not valid JSON: unexpected "}"'], `chunks of ${size}`);
  }
  const trailing = '{"accounts": [{"username": "ä", "created": "2020-01-01"}]} x';
  t.same(lines((await imported('json', trailing, { allowDataErrors: true })).problems), ['line 1, column 60: not valid JSON: unexpected "x"'], 'what follows the document');
  t.same(lines((await imported('json', '{"accounts": [\n{"username"')).problems), ['line 2, column 12: not valid JSON: the text ends before the JSON value does']);
  t.same(lines((await imported('json', '{"users": []}')).problems), ['users: unknown field', '(file): expected an object with an "accounts" list']);
  for (const text of ['[]', '{"accounts": {}}', '"accounts"', '', '{"accounts": 3}']) {
    t.same(lines((await imported('json', text)).problems), ['(file): expected an object with an "accounts" list'], JSON.stringify(text));
  }
  t.same(lines((await imported('json', '{"accounts": [], "accounts": []}')).problems), ['accounts: given twice']);
});

t.test('JSON: a single value larger than the bound is refused, not held', async (t) => {
  const huge = `{"accounts": [{"username": "${'x'.repeat(MAX_VALUE_BYTES + (2 << 20))}"}]}`;
  const o = await imported('json', huge, { size: 1 << 20 });
  t.same(lines(o.problems), ['accounts[0]: larger than 16 MiB (a value is held in memory whole)']);
});

t.test('NDJSON: one account a line, positions line N, blank lines and CRLF', async (t) => {
  const text = `${JSON.stringify(OLDTIMER)}\r\n\n   \n${JSON.stringify(NEWBIE)}\n${JSON.stringify(PAIRUSER)}`;
  const o = await imported('ndjson', text);
  t.same(accepted(t, o), ACCOUNTS);
  t.same(o.accounts.map((r) => r.position), ['line 1', 'line 4', 'line 5']);
});

t.test('NDJSON: each bad line is reported and the next ones still read', async (t) => {
  const text = [
    JSON.stringify(NEWBIE),
    '{"username": "a", "created": "2020-01-01",}',
    '["not", "an", "object"]',
    JSON.stringify({ ...NEWBIE, username: 'b', domains: ['b.example', 'not a domain'], colour: 1 }),
    JSON.stringify({ ...NEWBIE, username: 'c', domains: ['c.example'] }),
  ].join('\n');
  const o = await imported('ndjson', text);
  t.same(lines(o.problems), [
    'line 2, column 43: not valid JSON: unexpected "}"',
    'line 3: expected an object',
    'line 4, colour: unknown field',
    'line 4, domains[1]: not a valid domain name',
  ]);
  t.same(o.accounts.map((r) => r.position), ['line 1', 'line 5']);
});

t.test('NDJSON: bytes that are not UTF-8, and a line past the bound, are refused with their line', async (t) => {
  const bad = Buffer.concat([Buffer.from(`${JSON.stringify(NEWBIE)}\n{"username": "`), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
  t.same(lines((await imported('ndjson', bad)).problems), ['line 2: not valid UTF-8']);
  const long = `${JSON.stringify(NEWBIE)}\n${' '.repeat(1024 * 1024 + 1)}`;
  t.same(lines((await imported('ndjson', long, { size: 1 << 16 })).problems), ['line 2: longer than 1048576 bytes']);
});

t.test('data errors are refused at the field, unless allowed', async (t) => {
  const text = [JSON.stringify({ username: 'noserver', created: '2005-01-01' }), JSON.stringify({ username: 'bad_name', created: '2015-01-01' })].join('\n');
  t.same(lines((await imported('ndjson', text)).problems), [
    'line 1, mailServer: old-era account has no mail server number: a data error, clients would get no settings for this account',
    'line 2, username: username "bad_name" is not a valid DNS label: a data error, clients would get no settings for this account',
  ]);
  t.equal(accepted(t, await imported('ndjson', text, { allowDataErrors: true })).length, 2);
});

const CSV_HEADER = 'username,created,mailServer,domain,mailbox,login';

t.test('CSV: one row per domain or mailbox login, adjacent rows make an account', async (t) => {
  const text = [
    CSV_HEADER,
    'OldTimer,2009-03-14,123,oldtimer-shop.example,,',
    'OldTimer,2009-03-14,123,oldtimer.test,sales@oldtimer-shop.example,sales-oldtimer',
    '',
    'newbie,2019-10-02T15:04:05Z,,newbie.example,,',
    'pairuser,2015-08-20,,,pairuser@pair.com,"pair""user,imap"',
  ].join('\r\n');
  const o = await imported('csv', text);
  t.same(accepted(t, o), ACCOUNTS);
  t.same(o.accounts.map((r) => r.position), ['line 2', 'line 5', 'line 6']);
  // Columns in another order, optional ones left out.
  t.same(accepted(t, await imported('csv', 'domain,created,username\nnewbie.example,2019-10-02T15:04:05Z,newbie\n')), [NEWBIE]);
});

t.test('CSV: the header is checked, with a hint for near names', async (t) => {
  t.same(lines((await imported('csv', 'username,created,mailserver,domains,colour\n')).problems), [
    'line 1: unknown column "mailserver" (did you mean "mailServer"?)',
    'line 1: unknown column "domains" (did you mean "domain"?)',
    'line 1: unknown column "colour"',
  ]);
  t.same(lines((await imported('csv', 'username,domain,domain\n')).problems), [
    'line 1: column "domain" given twice',
    'line 1: the header has no "created" column (it needs username and created)',
  ]);
  t.same(lines((await imported('csv', '')).problems), ['line 1: no header row (expected username,created,mailServer,domain,mailbox,login)']);
});

t.test('CSV: problems name the row and column', async (t) => {
  const text = [
    CSV_HEADER,
    'shop,2020-01-01,,shop.example,,',
    'shop,2020-01-02,,,sales@elsewhere.example,sales',
    'shop,2020-01-01,,not a domain,,',
    'shop,2020-01-01,,,,orphan-login',
    'shop,2020-01-01,,only,three',
    'other,2020-01-01,x12,,,',
    'third,2020-01-01,,third.example,"multi',
    'line",x',
  ].join('\n');
  const o = await imported('csv', text);
  t.same(lines(o.problems), [
    'line 3, created: "2020-01-02" where line 2 of the same account has "2020-01-01" (the rows of an account must agree)',
    'line 5, mailbox: required when a login is given',
    'line 6: 5 fields where the header has 6',
    'line 4, domain: not a valid domain name',
    'line 3, mailbox: sales@elsewhere.example is not in one of this account\'s domains',
    'line 7, mailServer: must be a positive integer',
    'line 8, mailbox: not a valid email address',
  ]);
  t.same(lines((await imported('csv', `${CSV_HEADER}\nshop,2020-01-01,,"open\n`)).problems), ['line 2: a quoted field is not closed before the end of the file']);
  t.same(lines((await imported('csv', `${CSV_HEADER}\nshop,2020-01-01,,sh"op,,\n`)).problems), ['line 2: a quote inside an unquoted field (quote the whole field and double the quote)']);
});

t.test('the validated stream stops reading at the problem bound', async (t) => {
  let pulled = 0;
  async function* garbage(): AsyncGenerator<SourceItem> {
    for (let i = 1; i <= 10_000; i++) {
      pulled++;
      yield { position: `line ${i}`, reason: 'not valid JSON' };
    }
  }
  const thrown = await (async () => {
    try {
      for await (const _ of validatedRecords(garbage(), defaultProvider, { allowDataErrors: false })) t.fail('no record');
    } catch (err) {
      return err;
    }
  })();
  t.ok(thrown instanceof ImportRejectedError && thrown.problems.length === MAX_PROBLEMS, `${MAX_PROBLEMS} problems`);
  t.equal(pulled, MAX_PROBLEMS, 'read no further');
});

t.test('every writer writes what its reader reads back as the same accounts', async (t) => {
  const tricky: ImportAccount = { username: 'jörg😀', created: '2021-04-19', mailServer: 7, domains: ['a.example', 'b.example'], mailboxes: [{ address: 'x,y@a.example', login: '"quoted"\\login' }] };
  async function* source() {
    yield* [...ACCOUNTS, tricky];
  }
  for (const format of ['json', 'ndjson', 'csv'] as const) {
    let text = '';
    for await (const chunk of exportChunks(format, source(), 10)) text += chunk;
    t.same(accepted(t, await imported(format, text, { allowDataErrors: true })), [...ACCOUNTS, tricky], `${format} reads back`);
  }
  let json = '';
  for await (const chunk of exportChunks('json', source())) json += chunk;
  t.same(JSON.parse(json).accounts[1], NEWBIE, 'the JSON export is the accounts file, every field given');
  let csv = '';
  for await (const chunk of exportChunks('csv', source())) csv += chunk;
  t.equal(
    csv.split('\r\n').slice(0, 6).join('\n'),
    [CSV_HEADER, 'oldtimer,2009-03-14,123,oldtimer-shop.example,,', 'oldtimer,2009-03-14,123,oldtimer.test,,', 'oldtimer,2009-03-14,123,,sales@oldtimer-shop.example,sales-oldtimer', 'newbie,2019-10-02T15:04:05Z,,newbie.example,,', 'pairuser,2015-08-20,,,pairuser@pair.com,"pair""user,imap"'].join('\n'),
    'the CSV export: one row per domain, then per login',
  );
});
