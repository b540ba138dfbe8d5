// The admin API's routes, each on SQLite and on PostgreSQL: PUT, GET and DELETE one
// account, POST /admin/import (NDJSON, one transaction, the import's report, dry runs),
// GET /admin/export (NDJSON), with exact bodies; refused data as RFC 9457 problems naming
// each problem where it is (a JSON Pointer into a PUT body, `line N` in an import); and the
// next lookup answers the change at once.
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { openBackend } from '../src/directory/open.js';
import type { ImportAccount } from '../src/model/account.js';
import { ADMIN_ENV, adminInject, ndjson } from './support/admin.js';
import { FIXTURE_ACCOUNTS, testApp, type TestApp } from './support/app.js';
import { migratedWith, throwAwayDatabase } from './support/postgres.js';

const PROBLEM = 'application/problem+json; charset=utf-8';
const NDJSON = 'application/x-ndjson';

/** An account as the directory gives it back: domains and logins sorted, every field present. */
const stored = (a: ImportAccount): ImportAccount => ({
  username: a.username,
  created: a.created,
  mailServer: a.mailServer,
  domains: [...a.domains].sort(),
  mailboxes: [...a.mailboxes].sort((x, y) => x.address.localeCompare(y.address)),
});
const fixture = (username: string) => stored(FIXTURE_ACCOUNTS.find((a) => a.username === username)!);

const report = (changes: { dryRun?: boolean; accounts?: object; domains?: object; mailboxes?: object; written: object }) => ({
  dryRun: changes.dryRun ?? false,
  accounts: { added: 0, changed: 0, unchanged: 0, removed: 0, ...changes.accounts },
  domains: { added: 0, removed: 0, moved: 0, ...changes.domains },
  mailboxes: { added: 0, changed: 0, removed: 0, ...changes.mailboxes },
  written: changes.written,
});

/** What autoconfig answers for `address`: 404, or the host it names. */
async function lookup(app: FastifyInstance, address: string): Promise<string> {
  const res = await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}` });
  return res.statusCode === 200 ? /<hostname>([^<]+)<\/hostname>/.exec(res.body)![1]! : String(res.statusCode);
}

const put = (app: FastifyInstance, username: string, payload: unknown, query = '') =>
  adminInject(app, { method: 'PUT', url: `/admin/accounts/${username}${query}`, payload: payload as object });
const importBatch = (app: FastifyInstance, payload: string | Readable, query = '') =>
  adminInject(app, { method: 'POST', url: `/admin/import${query}`, headers: { 'content-type': NDJSON }, payload });

type Open = (t: Test, env?: NodeJS.ProcessEnv) => Promise<TestApp>;

// One throw-away database for the file; each case gets a schema of its own in it.
const database = await throwAwayDatabase(t);
const BACKENDS: ReadonlyArray<[string, Open]> = [
  ['SQLite', (t, env) => testApp(t, { env: { ...ADMIN_ENV, ...env } })],
  [
    'PostgreSQL',
    async (t, env) => {
      const url = await database.freshSchema();
      await migratedWith(url, FIXTURE_ACCOUNTS);
      const { directory } = await openBackend(url, { mustExist: true });
      return testApp(t, { env: { ...ADMIN_ENV, ...env }, directory });
    },
  ],
];

for (const [backend, open] of BACKENDS) {
  t.test(`${backend}: PUT creates or replaces one account, validated as an import is`, async (t) => {
    const served = await open(t);
    const { app } = served;
    t.equal(await lookup(app, 'jane@fresh.example'), '404');

    const created = await put(app, 'Fresh', { created: '2020-02-02', domains: ['Fresh.Example'], mailboxes: [{ address: 'Info@fresh.example', login: 'fresh-info' }] });
    t.equal(created.statusCode, 201, 'created (RFC 9110 section 9.3.4)');
    t.equal(created.headers.location, '/admin/accounts/fresh');
    const freshAccount = { username: 'fresh', created: '2020-02-02', mailServer: null, domains: ['fresh.example'], mailboxes: [{ address: 'info@fresh.example', login: 'fresh-info' }] };
    t.same(created.json(), {
      account: freshAccount,
      report: report({ accounts: { added: 1 }, domains: { added: 1 }, mailboxes: { added: 1 }, written: { accounts: 1, domains: 1, mailboxes: 1 } }),
    });
    t.same((await adminInject(app, { url: '/admin/accounts/FRESH' })).json(), freshAccount, 'GET gives it back, by any case');
    t.equal(await lookup(app, 'jane@fresh.example'), 'fresh.mail.pairserver.com', 'the next lookup answers it');

    const replaced = await put(app, 'newbie', { username: 'NewBie', created: '2019-10-02T15:04:05Z', domains: ['newbie.example', 'third.example'] });
    t.equal(replaced.statusCode, 200, 'replaced');
    t.equal(replaced.headers.location, undefined);
    t.same(replaced.json().report, report({ accounts: { changed: 1 }, domains: { added: 1, removed: 1 }, written: { accounts: 1, domains: 2, mailboxes: 0 } }));
    t.equal(await lookup(app, 'jane@newbie-two.example'), '404', 'the domain it no longer lists is gone');
    t.equal(await lookup(app, 'jane@third.example'), 'newbie.mail.pairserver.com');

    const changes = served.logs.filter((l) => l.operation === 'put-account').map((l) => [l.admin, l.username, l.created, l.msg]);
    t.same(changes, [
      ['ADMIN_TOKEN', 'fresh', true, 'admin API: ADMIN_TOKEN created account fresh'],
      ['ADMIN_TOKEN', 'newbie', false, 'admin API: ADMIN_TOKEN replaced account newbie'],
    ]);
  });

  t.test(`${backend}: PUT refuses bad data with every problem at its JSON Pointer, writing nothing`, async (t) => {
    const { app } = await open(t);
    const bad = await put(app, 'bad', {
      created: '2019-13-45',
      domains: ['ok.example', 'not a domain'],
      mailserver: 3,
      mailboxes: [{ address: 'x@elsewhere.example', login: 'x' }, { adress: 'y@ok.example' }],
    });
    t.equal(bad.statusCode, 422);
    t.equal(bad.headers['content-type'], PROBLEM);
    t.same(bad.json(), {
      type: 'about:blank',
      title: 'Unprocessable Content',
      status: 422,
      detail: '6 problems in the account, nothing written',
      errors: [
        { pointer: '/mailserver', detail: 'unknown field (did you mean "mailServer"?)' },
        { pointer: '/created', detail: '"2019-13-45" is not a real YYYY-MM-DD date or RFC 3339 timestamp' },
        { pointer: '/domains/1', detail: 'not a valid domain name' },
        { pointer: '/mailboxes/0/address', detail: "x@elsewhere.example is not in one of this account's domains" },
        { pointer: '/mailboxes/1/adress', detail: 'unknown field (did you mean "address"?)' },
        { pointer: '/mailboxes/1/address', detail: 'not a valid email address' },
      ],
    });
    t.equal((await adminInject(app, { url: '/admin/accounts/bad' })).statusCode, 404, 'nothing written');

    const escaped = await put(app, 'odd', { created: '2020-01-01', 'a/b~c': 1 });
    t.same(escaped.json().errors, [{ pointer: '/a~1b~0c', detail: 'unknown field' }], 'RFC 6901 escapes ~ and / in a pointer');

    const dataError = await put(app, 'olden', { created: '2005-01-01', domains: ['olden.example'] });
    t.equal(dataError.statusCode, 422, 'an account clients would get no settings for');
    t.same(dataError.json().errors, [{ pointer: '/mailServer', detail: 'old-era account has no mail server number: a data error, clients would get no settings for this account' }]);
    t.equal((await put(app, 'olden', { created: '2005-01-01', domains: ['olden.example'] }, '?allowDataErrors=true')).statusCode, 201, 'unless allowed');

    const mismatch = await put(app, 'fresh', { username: 'other', created: '2020-01-01' });
    t.equal(mismatch.statusCode, 422);
    t.same(mismatch.json().errors, [{ pointer: '/username', detail: 'the body names the account other, the path fresh' }]);

    const taken = await put(app, 'taker', { created: '2020-01-01', domains: ['newbie.example'] });
    t.equal(taken.statusCode, 422, "another account's domain");
    t.same(taken.json().errors, [{ pointer: '/domains/0', detail: 'domain newbie.example of account taker already belongs to account newbie' }]);
    t.equal(await lookup(app, 'jane@newbie.example'), 'newbie.mail.pairserver.com', 'still the owner');

    t.same((await put(app, 'list', [1])).json().errors, [{ pointer: '', detail: 'expected an object' }]);
  });

  t.test(`${backend}: PUT bodies that are not one JSON account`, async (t) => {
    const { app } = await open(t);
    const send = (payload: string, type = 'application/json') =>
      adminInject(app, { method: 'PUT', url: '/admin/accounts/x', headers: { 'content-type': type }, payload });
    const malformed = await send('{"created": "2020-01-01",\n  "domains": [}');
    t.equal(malformed.statusCode, 400);
    t.same(malformed.json(), {
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'The body is not valid JSON (line 2, column 15)',
      errors: [{ position: 'line 2, column 15', detail: 'not valid JSON: unexpected "}"' }],
    });
    t.same((await send('')).json(), { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'The body is empty: send the account as JSON' });
    t.equal((await adminInject(app, { method: 'PUT', url: '/admin/accounts/x' })).statusCode, 400, 'no body at all');
    const wrongType = await send('username=x', 'application/x-www-form-urlencoded');
    t.equal(wrongType.statusCode, 415);
    t.same(wrongType.json(), { type: 'about:blank', title: 'Unsupported Media Type', status: 415, detail: 'This endpoint takes application/json' });
    const huge = await send(JSON.stringify({ created: '2020-01-01', domains: Array.from({ length: 100_000 }, (_, i) => `d${i}.example`) }));
    t.equal(huge.statusCode, 413);
    t.same(huge.json(), { type: 'about:blank', title: 'Content Too Large', status: 413, detail: 'The body is larger than this endpoint takes' });
  });

  t.test(`${backend}: GET and DELETE one account`, async (t) => {
    const { app } = await open(t);
    const missing = await adminInject(app, { url: '/admin/accounts/nobody' });
    t.equal(missing.statusCode, 404);
    t.same(missing.json(), { type: 'about:blank', title: 'Not Found', status: 404, detail: 'There is no account named nobody' });
    t.same((await adminInject(app, { url: '/admin/accounts/oldtimer' })).json(), fixture('oldtimer'));

    t.equal(await lookup(app, 'sales@oldtimer-shop.example'), 'mail123.pair.com');
    const deleted = await adminInject(app, { method: 'DELETE', url: '/admin/accounts/OldTimer' });
    t.equal(deleted.statusCode, 200);
    t.same(deleted.json(), { deleted: fixture('oldtimer') }, 'what it held');
    t.equal(await lookup(app, 'sales@oldtimer-shop.example'), '404', 'the next lookup knows it is gone');
    t.equal((await adminInject(app, { url: '/admin/accounts/oldtimer' })).statusCode, 404);
    const again = await adminInject(app, { method: 'DELETE', url: '/admin/accounts/oldtimer' });
    t.equal(again.statusCode, 404);
    t.same(again.json(), { type: 'about:blank', title: 'Not Found', status: 404, detail: 'There is no account named oldtimer' });
  });

  t.test(`${backend}: DELETE one domain: it leaves its account, the account and its other domains stay`, async (t) => {
    const served = await open(t);
    const { app } = served;
    t.equal(await lookup(app, 'jane@newbie-two.example'), 'newbie.mail.pairserver.com');
    const deleted = await adminInject(app, { method: 'DELETE', url: '/admin/domains/Newbie-Two.Example.' });
    t.equal(deleted.statusCode, 200);
    t.equal(deleted.headers['cache-control'], 'no-store');
    t.same(deleted.json(), { deleted: { domain: 'newbie-two.example', username: 'newbie' } }, 'the name as stored, and whose it was');
    t.equal(await lookup(app, 'jane@newbie-two.example'), '404', 'the next lookup knows it is gone');
    t.equal(await lookup(app, 'jane@newbie.example'), 'newbie.mail.pairserver.com', 'the account keeps its other domain');
    t.same((await adminInject(app, { url: '/admin/accounts/newbie' })).json().domains, ['newbie.example']);
    t.same(
      served.logs.filter((l) => l.operation === 'delete-domain').map((l) => [l.admin, l.username, l.domain, l.msg]),
      [['ADMIN_TOKEN', 'newbie', 'newbie-two.example', 'admin API: ADMIN_TOKEN removed domain newbie-two.example from account newbie']],
    );

    const oldtimer = await adminInject(app, { method: 'DELETE', url: '/admin/domains/oldtimer-shop.example' });
    t.same(oldtimer.json(), { deleted: { domain: 'oldtimer-shop.example', username: 'oldtimer' } });
    t.same((await adminInject(app, { url: '/admin/accounts/oldtimer' })).json().mailboxes, [], "the account's stored login at it went with it");

    for (const name of ['newbie-two.example', 'unknown.example', 'not a domain']) {
      const missing = await adminInject(app, { method: 'DELETE', url: `/admin/domains/${encodeURIComponent(name)}` });
      t.equal(missing.statusCode, 404, name);
      t.equal(missing.headers['content-type'], PROBLEM);
      t.equal(missing.json().status, 404);
      t.match(missing.json().detail, /^No account holds the domain /);
    }
  });

  t.test(`${backend}: POST /admin/import: NDJSON in one transaction, the import's report`, async (t) => {
    const served = await open(t);
    const { app } = served;
    const batch = ndjson(
      { username: 'bulk1', created: '2021-01-01', domains: ['bulk1.example'] },
      { ...fixture('newbie'), domains: ['newbie.example'] },
      fixture('lastday'),
    );

    const dry = await importBatch(app, batch, '?dryRun=true');
    t.equal(dry.statusCode, 200);
    const expected = report({
      accounts: { added: 1, changed: 1, unchanged: 1 },
      domains: { added: 1, removed: 1 },
      written: { accounts: 3, domains: 3, mailboxes: 0 },
    });
    t.same(dry.json(), { ...expected, dryRun: true }, 'a dry run reports what would change');
    t.equal((await adminInject(app, { url: '/admin/accounts/bulk1' })).statusCode, 404, 'and writes nothing');
    t.equal(await lookup(app, 'jane@newbie-two.example'), 'newbie.mail.pairserver.com');

    const done = await importBatch(app, batch);
    t.equal(done.statusCode, 200);
    t.equal(done.headers['content-type'], 'application/json; charset=utf-8');
    t.same(done.json(), expected);
    t.equal(await lookup(app, 'jane@bulk1.example'), 'bulk1.mail.pairserver.com');
    t.equal(await lookup(app, 'jane@newbie-two.example'), '404');

    const logged = served.logs.filter((l) => l.operation === 'import');
    t.equal(logged.length, 1, 'the change is logged, the dry run is not');
    t.same([logged[0]!.admin, logged[0]!.replace, logged[0]!.msg], ['ADMIN_TOKEN', false, 'admin API: ADMIN_TOKEN imported 3 accounts: 1 added, 1 changed, 0 removed']);

    const replaced = await importBatch(app, ndjson(fixture('newbie'), fixture('oldtimer')), '?replace=true');
    t.equal(replaced.statusCode, 200);
    t.same(replaced.json().accounts, { added: 0, changed: 1, unchanged: 1, removed: 9 }, 'a replace removes every account the batch does not name');
    t.equal(await lookup(app, 'jane@bulk1.example'), '404');
  });

  t.test(`${backend}: POST /admin/import refuses bad batches whole, each problem at its line`, async (t) => {
    const { app } = await open(t);
    const bad = await importBatch(
      app,
      ndjson({ username: 'fine', created: '2021-01-01', domains: ['fine.example'] }, { username: 'worse', created: 'x' }) + '{nope\n\n' + ndjson({ username: 'other', created: '2021-01-01' }),
    );
    t.equal(bad.statusCode, 422);
    t.equal(bad.headers['content-type'], PROBLEM);
    const body = bad.json();
    t.same(body.errors.slice(0, 2), [
      { position: 'line 2, created', detail: '"x" is not a real YYYY-MM-DD date or RFC 3339 timestamp' },
      { position: 'line 3, column 3', detail: 'not valid JSON: unexpected "o"' },
    ]);
    t.equal(body.errors.length, 2, 'the syntax and the data: the directory is not asked');
    t.equal(body.detail, '2 problems in the import, nothing written');
    t.equal((await adminInject(app, { url: '/admin/accounts/fine' })).statusCode, 404, 'the valid line was not written either');

    const conflicts = await importBatch(
      app,
      ndjson(
        { username: 'fine', created: '2021-01-01', domains: ['fine.example', 'newbie.example'] },
        { username: 'fine', created: '2021-01-01' },
      ),
    );
    t.equal(conflicts.statusCode, 422);
    t.same(conflicts.json().errors, [
      { position: 'line 1, domains[1]', detail: 'domain newbie.example of account fine already belongs to account newbie' },
      { position: 'line 2, username', detail: 'username fine is already given at line 1' },
    ], "the directory's refusals, at their lines as the readers name them");

    const many = await importBatch(app, '{\n'.repeat(150));
    t.equal(many.json().detail, 'at least 100 problems in the import, nothing written', 'past 100 problems the body is not read further');
    t.equal(many.json().errors.length, 100);

    const empty = await importBatch(app, '', '?replace=true');
    t.equal(empty.statusCode, 422);
    t.same(empty.json().errors, [{ position: '(body)', detail: 'no accounts: with replace=true this would empty the directory' }]);
    t.equal(await lookup(app, 'jane@newbie.example'), 'newbie.mail.pairserver.com', 'the directory is whole');

    t.equal((await importBatch(app, ndjson(fixture('newbie')), '?replace=maybe')).json().detail, 'The query parameter replace must be true or false');
    const json = await adminInject(app, { method: 'POST', url: '/admin/import', payload: { accounts: [] } });
    t.equal(json.statusCode, 415);
    t.equal(json.json().detail, 'This endpoint takes application/x-ndjson');
    t.equal((await adminInject(app, { method: 'POST', url: '/admin/import', headers: { 'content-type': NDJSON, 'content-encoding': 'gzip' }, payload: 'x' })).statusCode, 415);
    t.equal((await adminInject(app, { method: 'POST', url: '/admin/import' })).statusCode, 400, 'no body');
  });

  t.test(`${backend}: GET /admin/export: every account as NDJSON, which an import takes back unchanged`, async (t) => {
    const { app } = await open(t);
    const res = await adminInject(app, { url: '/admin/export' });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8');
    t.equal(res.headers['cache-control'], 'no-store');
    const expected = [...FIXTURE_ACCOUNTS].sort((a, b) => a.username.localeCompare(b.username)).map(stored);
    t.equal(res.body, ndjson(...expected), 'one account a line, in username order, every field');
    const head = await adminInject(app, { method: 'HEAD', url: '/admin/export' });
    t.equal(head.statusCode, 200);
    t.equal(head.body, '');
    const refused = await importBatch(app, res.body, '?replace=true');
    t.equal(refused.statusCode, 422, "the fixture's accounts that give no host are data errors");
    t.same(refused.json().errors, [
      { position: 'line 1, username', detail: 'username "bad_name" is not a valid DNS label: a data error, clients would get no settings for this account' },
      { position: 'line 7, mailServer', detail: 'old-era account has no mail server number: a data error, clients would get no settings for this account' },
    ]);
    const back = await importBatch(app, res.body, '?replace=true&allowDataErrors=true');
    t.same(back.json().accounts, { added: 0, changed: 0, unchanged: FIXTURE_ACCOUNTS.length, removed: 0 }, 'allowed, the round trip changes nothing');
  });
}

t.test('the import body is bounded by ADMIN_IMPORT_MAX_SIZE, announced or streamed', async (t) => {
  const { app } = await testApp(t, { env: { ...ADMIN_ENV, ADMIN_IMPORT_MAX_SIZE: '300' } });
  const line = ndjson({ username: 'big', created: '2021-01-01', domains: ['a'.repeat(60) + '.example'] });
  const problem = { type: 'about:blank', title: 'Content Too Large', status: 413, detail: 'The body is larger than ADMIN_IMPORT_MAX_SIZE (300 bytes): nothing was written' };
  const announced = await importBatch(app, line.repeat(4));
  t.equal(announced.statusCode, 413, 'by its Content-Length');
  t.same(announced.json(), problem);
  const streamed = await importBatch(app, Readable.from([line, line, line, line]));
  t.equal(streamed.statusCode, 413, 'by its bytes as they come (no Content-Length)');
  t.same(streamed.json(), problem);
  t.equal((await adminInject(app, { url: '/admin/accounts/big' })).statusCode, 404, 'nothing written');
  t.equal((await importBatch(app, line)).statusCode, 200, 'a body within the bound');
});

t.test("the directory's JSON paths become JSON Pointers", async (t) => {
  const { pointerFromJsonPath } = await import('../src/http/admin/pointer.js');
  t.equal(pointerFromJsonPath('.domains[0]'), '/domains/0');
  t.equal(pointerFromJsonPath('.mailboxes[12].login'), '/mailboxes/12/login');
  t.equal(pointerFromJsonPath('.username'), '/username');
  t.equal(pointerFromJsonPath(''), '', 'the record itself: the whole body');
  t.equal(pointerFromJsonPath('line 3.domains[0]'), '', 'not a path: the whole body');
});
