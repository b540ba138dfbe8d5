// The answer cache (src/pipeline/answer-cache.ts): a repeated question is answered from it,
// and a change in the directory changes the very next answer, whoever made the change:
// the serving connection itself or another one on the same file (as `mailconf import` is).
// On PostgreSQL the same holds through the directory cache and its change feed:
// test/fleet-cache.test.ts asks two instances over HTTP, answer cache included.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { poxRequestBody } from '../src/dialects/autodiscover-pox.js';
import { SqliteDirectory } from '../src/directory/sqlite.js';
import type { MailTarget } from '../src/model/address.js';
import { AnswerCache, answerKey } from '../src/pipeline/answer-cache.js';
import { FIXTURE_ACCOUNTS, testApp } from './support/app.js';
import type { ImportAccount } from '../src/model/account.js';

const OLDTIMER = FIXTURE_ACCOUNTS.find((a) => a.username === 'oldtimer')!;
const NEWBIE = FIXTURE_ACCOUNTS.find((a) => a.username === 'newbie')!;

function tempDirectoryPath(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailconf-answers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'directory.db');
}

const hostOf = (body: string) => /<hostname>([^<]+)<\/hostname>/.exec(body)?.[1];
const usernameOf = (body: string) => /<username>([^<]+)<\/username>/.exec(body)?.[1];

t.test('the key holds every input: no two different questions or directory answers share one', async (t) => {
  const target = (domain: string, address?: string): MailTarget =>
    address ? { domain, address: { address, localPart: address.split('@')[0]!, domain } } : { domain };
  const hit = { account: { username: 'u', created: '2020-01-01', mailServer: null as number | null }, mailboxLogin: null as string | null, domainHasMailboxLogins: false as boolean | null };
  const base = answerKey(['autoconfig'], target('a.example', 'x@a.example'), hit);
  const keys = [
    base,
    answerKey(['autoconfig'], target('a.example', 'X@a.example'), hit), // the address is echoed as typed
    answerKey(['autoconfig'], target('a.example'), hit),
    answerKey(['autodiscover-pox', 'post'], target('a.example', 'x@a.example'), hit),
    answerKey(['autoconfig'], target('b.example', 'x@a.example'), hit),
    answerKey(['autoconfig'], target('a.example', 'x@a.example'), { ...hit, mailboxLogin: 'x-login' }),
    answerKey(['autoconfig'], target('a.example', 'x@a.example'), { ...hit, account: { ...hit.account, username: 'v' } }),
    answerKey(['autoconfig'], target('a.example', 'x@a.example'), { ...hit, account: { ...hit.account, created: '2009-01-01' } }),
    answerKey(['autoconfig'], target('a.example', 'x@a.example'), { ...hit, account: { ...hit.account, mailServer: 4 } }),
    // Parts cannot run into one another.
    answerKey(['settings', 'json', 'ab'], target('a.example'), hit),
    answerKey(['settings', 'jsona', 'b'], target('a.example'), hit),
    answerKey(['autoconfig'], target('a.example'), { ...hit, mailboxLogin: '' }),
    // Evolution's hash of the mailbox: two hashes never share an answer, nor a hash an address.
    answerKey(['autoconfig'], { domain: 'a.example', mailboxMd5: '0'.repeat(32) }, hit),
    answerKey(['autoconfig'], { domain: 'a.example', mailboxMd5: '1'.repeat(32) }, hit),
    answerKey(['autoconfig'], { domain: 'a.example', mailboxMd5: '0'.repeat(32) }, { ...hit, mailboxLogin: 'x-login' }),
    answerKey(['autoconfig'], target('a.example', '0'.repeat(32)), hit),
    // Whether the domain has stored per-mailbox logins (it decides whether PACC publishes).
    answerKey(['autoconfig'], target('a.example', 'x@a.example'), { ...hit, domainHasMailboxLogins: true }),
    answerKey(['autoconfig'], target('a.example', 'x@a.example'), { ...hit, domainHasMailboxLogins: null }),
  ];
  t.equal(new Set(keys).size, keys.length, 'every key differs');
  t.equal(answerKey(['autoconfig'], target('a.example', 'x@a.example'), { ...hit }), base, 'equal inputs, equal key');
});

t.test('the cache is bounded, counts, keeps answers frozen, and 0 turns it off', async (t) => {
  const cache = new AnswerCache<{ body: string; headers: Record<string, string> }>(3);
  const resolution = { kind: 'unknown-domain' as const, domain: 'a.example' };
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, { resolution, answer: { body: `b${i}`, headers: { h: 'v' } } });
  t.equal(cache.stats().entries, 3, 'never more than its size');
  t.equal(cache.stats().evictions, 7);
  const kept = cache.get('k9');
  t.equal(kept?.answer.body, 'b9');
  t.equal(cache.get('k0'), undefined, 'the oldest went first');
  t.same({ hits: cache.stats().hits, misses: cache.stats().misses }, { hits: 1, misses: 1 });
  t.throws(() => {
    (kept!.answer.headers as Record<string, string>).h = 'changed';
  }, TypeError, 'a shared answer cannot be altered');
  const off = new AnswerCache<string>(0);
  off.set('k', { resolution, answer: 'x' });
  t.equal(off.enabled, false);
  t.equal(off.get('k'), undefined);
  t.throws(() => new AnswerCache(-1), RangeError);
});

/** Each change to the directory, and what the next autoconfig answer for `address` must then say. */
const CHANGES: Array<{ what: string; accounts: ImportAccount[]; address: string; host: string | undefined; username?: string; status: number }> = [
  { what: 'the mail server number', accounts: [{ ...OLDTIMER, mailServer: 124 }], address: 'info@oldtimer-shop.example', host: 'mail124.pair.com', status: 200 },
  { what: 'the era (creation date)', accounts: [{ ...OLDTIMER, mailServer: 124, created: '2012-01-01' }], address: 'info@oldtimer-shop.example', host: 'oldtimer.mail.pairserver.com', status: 200 },
  {
    what: 'a stored login',
    accounts: [{ ...OLDTIMER, created: '2012-01-01', mailboxes: [{ address: 'info@oldtimer-shop.example', login: 'info-oldtimer' }] }],
    address: 'info@oldtimer-shop.example',
    host: 'oldtimer.mail.pairserver.com',
    username: 'info-oldtimer',
    status: 200,
  },
  {
    what: 'the domain moved to another account',
    accounts: [{ ...OLDTIMER, domains: [] }, { ...NEWBIE, domains: [...NEWBIE.domains, 'oldtimer-shop.example'] }],
    address: 'info@oldtimer-shop.example',
    host: 'newbie.mail.pairserver.com',
    username: 'info@oldtimer-shop.example',
    status: 200,
  },
  { what: 'the domain removed', accounts: [{ ...NEWBIE }], address: 'info@oldtimer-shop.example', host: undefined, status: 404 },
];

for (const writer of ['the serving connection', 'another connection (mailconf import)'] as const) {
  t.test(`a change through ${writer} changes the next answer`, async (t) => {
    const path = tempDirectoryPath(t);
    const serving = new SqliteDirectory(path);
    await serving.importAccounts(FIXTURE_ACCOUNTS, { replace: true });
    const other = writer === 'the serving connection' ? serving : new SqliteDirectory(path, { mustExist: true });
    if (other !== serving) t.teardown(() => other.close());
    const { app } = await testApp(t, { directory: serving });
    const ask = async (address: string) =>
      app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}`, headers: { host: 'autoconfig.pair.com' } });

    const first = await ask('info@oldtimer-shop.example');
    t.equal(hostOf(first.body), 'mail123.pair.com');
    t.equal((await ask('info@oldtimer-shop.example')).body, first.body, 'asked again: the same answer');
    const metrics = await app.inject({ url: '/metrics' });
    t.match(metrics.body, /mailconf_answer_cache\{counter="hits"\} [1-9]/, 'and it came from the cache');

    for (const change of CHANGES) {
      await other.importAccounts(change.accounts, { replace: false });
      const next = await ask(change.address);
      t.equal(next.statusCode, change.status, `${change.what}: status`);
      t.equal(hostOf(next.body), change.host, `${change.what}: the next answer's host`);
      if (change.username) t.equal(usernameOf(next.body), change.username, `${change.what}: the next answer's login`);
    }
  });
}

t.test('every dialect answers the same from the cache as without it', async (t) => {
  const requests = [
    { url: '/mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example' },
    { url: '/.well-known/autoconfig/mail/config-v1.1.xml', host: 'autoconfig.newbie.example' },
    { url: '/autodiscover/autodiscover.xml', method: 'POST' as const, payload: poxRequestBody('sales@oldtimer-shop.example') },
    { url: '/autodiscover/autodiscover.json?Email=jane%40newbie.example&Protocol=AutodiscoverV1' },
    { url: '/settings?emailaddress=jane%40newbie.example', accept: 'application/json' },
    { url: '/settings?emailaddress=Jane%40Newbie.example', accept: 'text/html' },
    { url: '/mobileconfig?emailaddress=jane%40newbie.example' },
    { url: '/tls-allowed?domain=autoconfig.newbie.example' },
  ];
  // Through a trusted TLS terminator (inject's peer, 127.0.0.1): POX over plain HTTP is a redirect.
  const cached = await testApp(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const uncached = await testApp(t, { env: { TRUST_PROXY: '127.0.0.1', ANSWER_CACHE_ENTRIES: '0' } });
  for (const r of requests) {
    const inject = (app: typeof cached.app) =>
      app.inject({
        method: r.method ?? 'GET',
        url: r.url,
        headers: { host: r.host ?? 'mailconf.pair-test.example', 'x-forwarded-proto': 'https', ...(r.accept ? { accept: r.accept } : {}), ...(r.payload ? { 'content-type': 'text/xml' } : {}) },
        ...(r.payload ? { payload: r.payload } : {}),
      });
    const plain = await inject(uncached.app);
    await inject(cached.app);
    const fromCache = await inject(cached.app);
    t.equal(plain.statusCode, 200, `${r.url}: answered`);
    t.equal(fromCache.statusCode, plain.statusCode, `${r.url}: status`);
    t.equal(fromCache.headers['content-type'], plain.headers['content-type'], `${r.url}: type`);
    t.equal(fromCache.headers['cache-control'], plain.headers['cache-control'], `${r.url}: cache-control`);
    t.equal(fromCache.body, plain.body, `${r.url}: body`);
  }
  const metrics = await cached.app.inject({ url: '/metrics' });
  t.match(metrics.body, new RegExp(`mailconf_answer_cache\\{counter="hits"\\} ${requests.length}\n`), 'the second of each came from the cache');
});

t.test("Evolution's hashes never share an answer, even when the directory returns the same login for both", async (t) => {
  // Both mailboxes store the login `self@newbie.example`: for `self` it is only its own
  // address (no override: the placeholder), for `other` a real override. Only the hash in
  // the key tells the two apart.
  const directory = new SqliteDirectory(':memory:');
  const login = 'self@newbie.example';
  await directory.importAccounts(
    [{ ...NEWBIE, mailboxes: [{ address: 'self@newbie.example', login }, { address: 'other@newbie.example', login }] }],
    { replace: true },
  );
  const { app } = await testApp(t, { directory });
  const md5 = (address: string) => createHash('md5').update(address).digest('hex');
  const ask = async (address: string) =>
    usernameOf((await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=EVOLUTIONUSER%40newbie.example&emailmd5=${md5(address)}` })).body);
  for (let round = 0; round < 2; round++) {
    t.equal(await ask('self@newbie.example'), '%EMAILADDRESS%', `round ${round}: self`);
    t.equal(await ask('other@newbie.example'), login, `round ${round}: other`);
  }
  const metrics = await app.inject({ url: '/metrics' });
  t.match(metrics.body, /mailconf_answer_cache\{counter="hits"\} 2\n/, 'the second round came from the cache');
});
