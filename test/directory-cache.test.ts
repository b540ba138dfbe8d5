// CachedDirectory: what it answers (exactly the backend's answer), for how long, what it
// drops when a write is heard, what it serves while the backend fails, and its bounds.
// Time is the injected clock: nothing here sleeps or measures time.
import t from 'tap';
import { CACHE_DEFAULTS, CachedDirectory, type CacheOptions } from '../src/directory/cached.js';
import {
  changeOfImport,
  decodeChange,
  encodeChange,
  LocalChangeFeed,
  MAX_CHANGE_BYTES,
  type DirectoryChange,
} from '../src/directory/changes.js';
import type { DirectoryHit, DirectoryReader, MailboxKey } from '../src/directory/directory.js';
import { addressMd5 } from '../src/model/address.js';
import { SqliteDirectory } from '../src/directory/sqlite.js';
import type { ImportAccount, ImportMailbox } from '../src/model/account.js';

function account(username: string, domains: string[], mailboxes: ImportMailbox[] = [], mailServer: number | null = null): ImportAccount {
  return { username, created: '2020-02-02', mailServer, domains, mailboxes };
}

/** A backend in memory with the SQLite backend's answers, counting calls, failing on demand. */
class FakeDirectory implements DirectoryReader {
  readonly description = 'fake:directory';
  readonly calls = { byDomain: 0, byUsername: 0, ping: 0, close: 0 };
  private readonly accounts = new Map<string, ImportAccount>();
  /** Set: every call (that gets past `gate`) throws it. */
  failure: Error | undefined;
  /** Set: calls wait for it before answering, so a test can hold them in flight. */
  gate: Promise<void> | undefined;

  constructor(...accounts: ImportAccount[]) {
    this.put(...accounts);
  }

  /** Upserts by username, as an import does. */
  put(...accounts: ImportAccount[]): void {
    for (const a of accounts) this.accounts.set(a.username, a);
  }

  remove(username: string): void {
    this.accounts.delete(username);
  }

  private async answer(found: ImportAccount | undefined, address: string | undefined, domain?: string): Promise<DirectoryHit | undefined> {
    if (this.gate) await this.gate;
    if (this.failure) throw this.failure;
    if (!found) return undefined;
    const login = found.mailboxes.find((m) => m.address === address)?.login ?? null;
    const domainHasMailboxLogins =
      domain === undefined ? null : found.mailboxes.some((m) => m.address.endsWith(`@${domain}`) && m.login.toLowerCase() !== m.address);
    return { account: { username: found.username, created: found.created, mailServer: found.mailServer }, mailboxLogin: login, domainHasMailboxLogins };
  }

  findByDomain(domain: string, address?: string): Promise<DirectoryHit | undefined> {
    this.calls.byDomain++;
    return this.answer([...this.accounts.values()].find((a) => a.domains.includes(domain)), address, domain);
  }

  findByUsername(username: string, address?: string): Promise<DirectoryHit | undefined> {
    this.calls.byUsername++;
    return this.answer(this.accounts.get(username), address);
  }

  async ping(): Promise<void> {
    this.calls.ping++;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.calls.close++;
  }
}

/** A clock the test moves by hand. */
function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const ALICE = account('alice', ['alice.example', 'alice-shop.example'], [{ address: 'info@alice.example', login: 'alice-info' }], 123);
const BOB = account('bob', ['bob.example'], [{ address: 'bob@pair.com', login: 'bob-login' }]);

function setup(options: Partial<CacheOptions> = {}, ...accounts: ImportAccount[]) {
  const backend = new FakeDirectory(...(accounts.length > 0 ? accounts : [ALICE, BOB]));
  const time = clock();
  const cache = new CachedDirectory(backend, { now: time.now, ...options });
  return { backend, time, cache };
}

const lookups = (backend: FakeDirectory) => backend.calls.byDomain + backend.calls.byUsername;

t.test('a repeated lookup is a hit; each address is its own answer', async (t) => {
  const { backend, cache } = setup();
  const first = await cache.findByDomain('alice.example', 'info@alice.example');
  t.same(first, { account: { username: 'alice', created: '2020-02-02', mailServer: 123 }, mailboxLogin: 'alice-info', domainHasMailboxLogins: true });
  t.same(await cache.findByDomain('alice.example', 'info@alice.example'), first);
  t.equal(lookups(backend), 1, 'the second lookup did not reach the backend');

  t.same((await cache.findByDomain('alice.example', 'other@alice.example'))?.mailboxLogin, null, 'another address: its own login');
  t.same((await cache.findByDomain('alice.example'))?.mailboxLogin, null, 'no address: no login');
  t.same((await cache.findByUsername('bob', 'bob@pair.com'))?.mailboxLogin, 'bob-login');
  t.same(await cache.findByDomain('bob'), undefined, 'a username is not a domain: the kinds do not share entries');
  t.equal(lookups(backend), 5);
  t.match(cache.stats(), { hits: 1, misses: 5, negativeHits: 0, entries: 4, negativeEntries: 1 });
  t.equal(cache.description, backend.description, 'logs name the backend, as without the cache');
});

t.test('callers get copies: changing an answer does not change the cache', async (t) => {
  const { cache } = setup();
  const hit = (await cache.findByDomain('alice.example'))!;
  hit.account.mailServer = 999;
  hit.mailboxLogin = 'changed';
  hit.domainHasMailboxLogins = false;
  t.same(await cache.findByDomain('alice.example'), {
    account: { username: 'alice', created: '2020-02-02', mailServer: 123 },
    mailboxLogin: null,
    domainHasMailboxLogins: true,
  });
  t.equal((await cache.findByUsername('bob'))?.domainHasMailboxLogins, null, 'the cache carries the field: null by username');
});

t.test('found answers expire after ttlMs, unknown names after negativeTtlMs', async (t) => {
  const { backend, time, cache } = setup({ ttlMs: 1000, negativeTtlMs: 100 });
  await cache.findByDomain('alice.example');
  await cache.findByDomain('nobody.example', 'a@nobody.example');
  time.advance(99);
  await cache.findByDomain('alice.example');
  t.equal(await cache.findByDomain('nobody.example', 'b@nobody.example'), undefined);
  t.equal(lookups(backend), 2, 'both fresh; one unknown-name entry answers every address');
  t.match(cache.stats(), { hits: 1, negativeHits: 1 });

  time.advance(1);
  await cache.findByDomain('nobody.example');
  t.equal(lookups(backend), 3, 'the unknown name expired at negativeTtlMs');
  time.advance(899);
  await cache.findByDomain('alice.example');
  t.equal(lookups(backend), 3, 'the found answer is still fresh');
  time.advance(1);
  backend.put({ ...ALICE, mailServer: 7 });
  t.equal((await cache.findByDomain('alice.example'))?.account.mailServer, 7, 'expired at ttlMs: refetched');
  t.equal(lookups(backend), 4);
});

t.test('the size bound evicts the least recently used', async (t) => {
  const domains = ['a', 'b', 'c', 'd'].map((x) => `${x}.example`);
  const { backend, cache } = setup({ maxEntries: 3 }, account('many', domains));
  for (const d of domains.slice(0, 3)) await cache.findByDomain(d);
  await cache.findByDomain('a.example'); // a is now the most recent
  await cache.findByDomain('d.example'); // pushes out b, the least recent
  t.match(cache.stats(), { entries: 3, evictions: 1 });
  const before = lookups(backend);
  for (const d of ['a.example', 'c.example', 'd.example']) await cache.findByDomain(d);
  t.equal(lookups(backend), before, 'a, c and d stayed');
  await cache.findByDomain('b.example');
  t.equal(lookups(backend), before + 1, 'b was evicted');
  t.ok(cache.stats().entries <= 3);
});

t.test('the negative pool has its own bound and never pushes out a found answer', async (t) => {
  const { backend, cache } = setup({ maxEntries: 5, maxNegativeEntries: 2 });
  await cache.findByDomain('alice.example');
  for (let i = 0; i < 10; i++) await cache.findByDomain(`unknown-${i}.example`);
  t.match(cache.stats(), { entries: 1, negativeEntries: 2, evictions: 8 });
  const before = lookups(backend);
  await cache.findByDomain('alice.example');
  t.equal(lookups(backend), before);
});

t.test('an attacker asking for endless distinct names does not push out answers in use', async (t) => {
  const real = Array.from({ length: 8 }, (_, i) => `real-${i}.example`);
  const { backend, cache } = setup({ maxEntries: 10, maxNegativeEntries: 10 }, account('victim', real));
  // Real clients: each answer asked for twice (the second time it is a hit).
  for (const d of real) await cache.findByDomain(d, `user@${d}`);
  for (const d of real) await cache.findByDomain(d, `user@${d}`);
  const before = lookups(backend);

  for (let i = 0; i < 1000; i++) {
    await cache.findByDomain(real[i % real.length]!, `random-${i}@${real[i % real.length]}`); // a real domain, invented addresses
    await cache.findByDomain(`random-${i}.example`, `x@random-${i}.example`); // invented domains
    await cache.findByUsername(`random-${i}`, `random-${i}@pair.com`); // invented account names
  }
  t.equal(lookups(backend), before + 3000, 'every invented name was a miss');
  t.ok(cache.stats().entries <= 10, `found entries stay bounded (${cache.stats().entries})`);
  t.ok(cache.stats().negativeEntries <= 10, `unknown-name entries stay bounded (${cache.stats().negativeEntries})`);

  const attacked = lookups(backend);
  for (const d of real) await cache.findByDomain(d, `user@${d}`);
  t.equal(lookups(backend), attacked, 'every real answer is still cached');
});

t.test('invalidating a domain drops its answers (every address) and what its account owns', async (t) => {
  const { backend, cache } = setup();
  await cache.findByDomain('alice.example');
  await cache.findByDomain('alice.example', 'info@alice.example');
  await cache.findByDomain('alice-shop.example');
  await cache.findByUsername('alice');
  await cache.findByDomain('bob.example');
  t.equal(lookups(backend), 5);

  cache.invalidate({ domains: ['alice.example'] });
  t.match(cache.stats(), { invalidations: 1, invalidatedEntries: 4, entries: 1 }, "alice's answers, by any path, are gone");
  await cache.findByDomain('bob.example');
  t.equal(lookups(backend), 5, "bob's answer stayed");
  await cache.findByDomain('alice.example', 'info@alice.example');
  await cache.findByUsername('alice');
  t.equal(lookups(backend), 7);

  cache.invalidate({ domains: ['BOB.EXAMPLE'] });
  await cache.findByDomain('bob.example');
  t.equal(lookups(backend), 8, 'a name is dropped whatever its case in the change');
});

t.test('an unknown domain becomes known when the import that adds it is heard', async (t) => {
  const { backend, cache } = setup({ negativeTtlMs: 1_000_000 });
  t.equal(await cache.findByDomain('new.example', 'info@new.example'), undefined);
  const carol = account('carol', ['new.example'], [{ address: 'info@new.example', login: 'carol-info' }]);
  backend.put(carol);
  t.equal(await cache.findByDomain('new.example', 'info@new.example'), undefined, 'before the change is heard: the cached answer');

  cache.invalidate(changeOfImport([carol], { replace: false }));
  t.same(await cache.findByDomain('new.example', 'info@new.example'), {
    account: { username: 'carol', created: '2020-02-02', mailServer: null },
    mailboxLogin: 'carol-info',
    domainHasMailboxLogins: true,
  });
});

t.test("invalidating a username drops its answers by username and by each of its domains", async (t) => {
  const { backend, cache } = setup();
  await cache.findByUsername('bob', 'bob@pair.com');
  await cache.findByDomain('bob.example', 'bob@bob.example');
  await cache.findByDomain('alice.example');
  await cache.findByUsername('nobody');

  // A mailbox login changes, and the account loses its domain: the import names the account.
  backend.put(account('bob', ['bob2.example'], [{ address: 'bob@pair.com', login: 'bob-new' }]));
  cache.invalidate({ usernames: ['bob', 'nobody'] });
  t.equal((await cache.findByUsername('bob', 'bob@pair.com'))?.mailboxLogin, 'bob-new');
  t.equal(await cache.findByDomain('bob.example', 'bob@bob.example'), undefined, 'the domain it lost, though not named');
  t.equal(lookups(backend), 6, 'both refetched');
  await cache.findByDomain('alice.example');
  t.equal(lookups(backend), 6, "alice's answer stayed");
  t.match(cache.stats(), { negativeEntries: 1 }, "the unknown username's entry went; bob.example's is new");
});

t.test("'all' drops everything, found and unknown", async (t) => {
  const { backend, cache } = setup();
  await cache.findByDomain('alice.example');
  await cache.findByDomain('nobody.example');
  backend.remove('alice');
  backend.put(account('dave', ['nobody.example']));
  cache.invalidate(changeOfImport([account('dave', ['nobody.example'])], { replace: true }));
  t.match(cache.stats(), { entries: 0, negativeEntries: 0, invalidatedEntries: 2 });
  t.equal(await cache.findByDomain('alice.example'), undefined);
  t.equal((await cache.findByDomain('nobody.example'))?.account.username, 'dave');
});

t.test('a call in flight when a change is heard is not cached, and later misses do not join it', async (t) => {
  const { backend, cache } = setup();
  const gate = deferred();
  backend.gate = gate.promise;
  const early = cache.findByDomain('alice.example');
  await Promise.resolve();
  cache.invalidate({ usernames: ['alice'] });
  const late = cache.findByDomain('alice.example');
  backend.gate = undefined;
  gate.resolve();
  await Promise.all([early, late]);
  t.equal(lookups(backend), 2, 'the miss after the change made its own call');
  t.equal(cache.stats().coalesced, 0);
  await cache.findByDomain('alice.example');
  t.equal(lookups(backend), 2, 'the later call was cached');

  backend.gate = deferred().promise; // never opens
  void cache.findByDomain('bob.example');
  cache.invalidate('all');
  backend.gate = undefined;
  await cache.findByDomain('bob.example');
  t.equal(cache.stats().entries, 1, 'only the call begun after the change was stored');
});

t.test('while the backend fails, entries up to maxStaleMs old are served; others fail', async (t) => {
  const { backend, time, cache } = setup({ ttlMs: 1000, negativeTtlMs: 100, maxStaleMs: 10_000 });
  await cache.findByDomain('alice.example', 'info@alice.example');
  await cache.findByDomain('nobody.example');
  backend.failure = new Error('statement timeout');

  time.advance(5000);
  t.equal((await cache.findByDomain('alice.example', 'info@alice.example'))?.mailboxLogin, 'alice-info', 'stale found answer');
  t.equal(await cache.findByDomain('nobody.example'), undefined, 'stale unknown name');
  t.equal(cache.stats().staleServes, 2);
  t.equal((await rejection(cache.findByDomain('alice.example', 'sales@alice.example'))).message, 'statement timeout', 'another address is not guessed');
  t.equal((await rejection(cache.findByDomain('bob.example'))).message, 'statement timeout', 'never cached: the error');

  time.advance(5001);
  t.equal((await rejection(cache.findByDomain('alice.example', 'info@alice.example'))).message, 'statement timeout', 'beyond maxStaleMs');
  t.equal((await rejection(cache.findByDomain('nobody.example'))).message, 'statement timeout', 'an unknown name too');
  t.equal(cache.stats().staleServes, 2);
  t.match(cache.stats(), { entries: 0, negativeEntries: 0 }, 'entries too old to serve were dropped');

  // The backend answers again: lookups refresh as usual.
  backend.failure = undefined;
  backend.put({ ...ALICE, mailServer: 5 });
  t.equal((await cache.findByDomain('alice.example', 'info@alice.example'))?.account.mailServer, 5);
  const before = lookups(backend);
  await cache.findByDomain('alice.example', 'info@alice.example');
  t.equal(lookups(backend), before, 'cached again');
});

t.test('a stale entry is refreshed, not served, once the backend answers', async (t) => {
  const { backend, time, cache } = setup({ ttlMs: 1000, maxStaleMs: 10_000 });
  await cache.findByDomain('alice.example');
  time.advance(2000);
  backend.put({ ...ALICE, mailServer: 9 });
  t.equal((await cache.findByDomain('alice.example'))?.account.mailServer, 9);
  t.equal(cache.stats().staleServes, 0);
});

t.test('a change heard while the backend fails drops the stale entry too', async (t) => {
  const { backend, time, cache } = setup({ ttlMs: 1000, maxStaleMs: 10_000 });
  await cache.findByDomain('alice.example');
  time.advance(2000);
  backend.failure = new Error('down');
  cache.invalidate({ domains: ['alice.example'] });
  await rejection(cache.findByDomain('alice.example'));
  t.equal(cache.stats().staleServes, 0);
});

t.test('concurrent misses for one answer share one backend call', async (t) => {
  const { backend, cache } = setup();
  const gate = deferred();
  backend.gate = gate.promise;
  const burst = Array.from({ length: 50 }, () => cache.findByDomain('alice.example', 'info@alice.example'));
  const other = cache.findByDomain('alice.example', 'sales@alice.example');
  gate.resolve();
  const answers = await Promise.all(burst);
  await other;
  t.equal(backend.calls.byDomain, 2, 'one call for the burst, one for the other address');
  t.ok(answers.every((a) => a?.mailboxLogin === 'alice-info'));
  t.not(answers[0], answers[1], 'each caller has its own copy');
  t.match(cache.stats(), { misses: 51, coalesced: 49 });

  // A failing shared call fails every caller that has nothing stale to fall back on.
  const failing = deferred();
  backend.gate = failing.promise;
  backend.failure = new Error('down');
  const failed = Array.from({ length: 5 }, () => rejection(cache.findByDomain('bob.example')));
  failing.resolve();
  t.ok((await Promise.all(failed)).every((e) => e.message === 'down'));
  t.equal(backend.calls.byDomain, 3);
});

t.test('a fresher answer that disagrees drops the older answers it contradicts', async (t) => {
  const { backend, time, cache } = setup({ ttlMs: 1000 });
  await cache.findByDomain('bob.example', 'a@bob.example');
  time.advance(500);
  await cache.findByDomain('bob.example', 'b@bob.example');
  time.advance(600); // the first answer expired; the second is fresh
  backend.put(account('carol', ['bob.example'])); // the domain moved, and no change was heard
  backend.put(account('bob', []));
  t.equal((await cache.findByDomain('bob.example', 'a@bob.example'))?.account.username, 'carol');
  t.equal((await cache.findByDomain('bob.example', 'b@bob.example'))?.account.username, 'carol', 'the still-fresh answer went too');

  // An account found gone takes the answers it owned with it.
  await cache.findByDomain('alice.example');
  backend.remove('alice');
  t.equal(await cache.findByUsername('alice'), undefined);
  t.equal(await cache.findByDomain('alice.example'), undefined, 'its domain, though still fresh');
});

t.test('a change feed reaches the cache until it is closed', async (t) => {
  const feed = new LocalChangeFeed();
  const { backend, cache } = setup({ changes: feed });
  await cache.findByDomain('alice.example');
  await feed.publish({ domains: ['alice.example'] });
  await cache.findByDomain('alice.example');
  t.equal(lookups(backend), 2);
  t.equal(cache.stats().invalidations, 1);

  await cache.close();
  t.equal(backend.calls.close, 1, 'close closes the backend');
  await feed.publish('all');
  t.equal(cache.stats().invalidations, 1, 'a closed cache no longer listens');
  t.equal((await rejection(cache.findByDomain('alice.example'))).message, 'directory fake:directory is closed');
});

t.test('ping asks the backend, however warm the cache', async (t) => {
  const { backend, cache } = setup();
  await cache.findByDomain('alice.example');
  await cache.ping();
  backend.failure = new Error('down');
  t.equal((await rejection(cache.ping())).message, 'down');
  t.equal(backend.calls.ping, 2);
});

t.test('options: defaults, and nonsense refused', async (t) => {
  t.same(CACHE_DEFAULTS, { maxEntries: 20_000, maxNegativeEntries: 5000, ttlMs: 60_000, negativeTtlMs: 10_000, maxStaleMs: 600_000 });
  const backend = new FakeDirectory();
  t.throws(() => new CachedDirectory(backend, { maxEntries: 0 }), RangeError);
  t.throws(() => new CachedDirectory(backend, { maxNegativeEntries: 1.5 }), RangeError);
  t.throws(() => new CachedDirectory(backend, { ttlMs: -1 }), RangeError);
  t.throws(() => new CachedDirectory(backend, { maxStaleMs: Number.NaN }), RangeError);
  t.doesNotThrow(() => new CachedDirectory(backend, { maxEntries: 1, ttlMs: 0 }));
});

t.test('a cache of one entry still caches', async (t) => {
  const { backend, cache } = setup({ maxEntries: 1 });
  await cache.findByDomain('alice.example');
  await cache.findByDomain('alice.example');
  await cache.findByDomain('alice.example');
  t.equal(lookups(backend), 1);
  await cache.findByDomain('bob.example');
  await cache.findByDomain('alice.example');
  t.equal(lookups(backend), 3);
  t.equal(cache.stats().entries, 1);
});

t.test('change payloads fit a NOTIFY and read back', async (t) => {
  const change: DirectoryChange = { domains: ['a.example', 'a.example', 'b.example'], usernames: ['alice'] };
  t.same(decodeChange(encodeChange(change)), { domains: ['a.example', 'b.example'], usernames: ['alice'] });
  t.equal(decodeChange(encodeChange('all')), 'all');
  t.same(decodeChange(encodeChange({})), { domains: [], usernames: [] });

  const many = { domains: Array.from({ length: 1000 }, (_, i) => `domain-${i}.example`) };
  t.ok(JSON.stringify(many).length > MAX_CHANGE_BYTES);
  t.equal(encodeChange(many), '"all"', 'too many names: all');

  const unicode = encodeChange({ domains: ['bücher.example', '😀.example'] });
  t.match(unicode, /^[\x20-\x7e]+$/, 'the payload is ASCII');
  t.same(decodeChange(unicode), { domains: ['bücher.example', '😀.example'], usernames: [] });

  for (const bad of ['', 'not json', '[]', 'null', '"some"', '{"domains":"a.example"}', '{"usernames":[1]}']) {
    t.equal(decodeChange(bad), 'all', `unreadable ${JSON.stringify(bad)} reads as all`);
  }
  t.same(changeOfImport([ALICE, BOB], { replace: false }), {
    usernames: ['alice', 'bob'],
    domains: ['alice.example', 'alice-shop.example', 'bob.example'],
  });
});

t.test('LocalChangeFeed: every subscriber hears each change; unsubscribe and close stop it', async (t) => {
  const feed = new LocalChangeFeed();
  const heard: DirectoryChange[] = [];
  const listener = (c: DirectoryChange) => void heard.push(c);
  const first = feed.subscribe(listener);
  feed.subscribe(listener);
  feed.subscribe(() => {
    throw new Error('listener failed');
  });
  t.equal((await rejection(feed.publish({ usernames: ['a'] }))).message, 'listener failed');
  t.equal(heard.length, 2, 'the failing listener did not stop the others');
  first();
  await rejection(feed.publish('all'));
  t.equal(heard.length, 3);
  await feed.close();
  await rejection(feed.publish('all'));
  t.equal(heard.length, 3);
});

t.test('against SqliteDirectory: the cache answers exactly what the backend answers', async (t) => {
  const sqlite = new SqliteDirectory(':memory:');
  const feed = new LocalChangeFeed();
  const cache = new CachedDirectory(sqlite, { now: clock().now, changes: feed });
  t.teardown(() => cache.close());
  const accounts = [
    account('alice', ['alice.example', 'alice-shop.example'], [
      { address: 'info@alice.example', login: 'alice-info' },
      { address: 'sales@alice-shop.example', login: 'alice-sales' },
      { address: `${addressMd5('info@alice.example')}@alice.example`, login: 'alice-hex' },
    ], 123),
    account('bob', ['bob.example'], [{ address: 'bob@pair.com', login: 'bob' }]),
    account('carol', ['carol.example']),
  ];
  await sqlite.importAccounts(accounts, { replace: false });

  // Hashes (Evolution) beside addresses, and an address spelled as a hash: keyed apart, a
  // cached answer for one would show here as the wrong login for the other.
  const hash = addressMd5('info@alice.example');
  const asks: [kind: 'domain' | 'username', name: string, mailbox?: MailboxKey][] = [
    ['domain', 'alice.example', { md5: hash }],
    ['domain', 'alice.example', hash],
    ['domain', 'alice.example', `${hash}@alice.example`],
    ['domain', 'alice.example', { md5: addressMd5('nobody@alice.example') }],
    ['domain', 'alice-shop.example', { md5: addressMd5('sales@alice-shop.example') }],
    ['username', 'bob', { md5: addressMd5('bob@pair.com') }],
    ['domain', 'unknown.example', { md5: hash }],
    ['domain', 'alice.example'],
    ['domain', 'alice.example', 'info@alice.example'],
    ['domain', 'alice.example', 'sales@alice-shop.example'],
    ['domain', 'alice-shop.example', 'sales@alice-shop.example'],
    ['domain', 'alice.example', 'nobody@alice.example'],
    ['domain', 'bob.example', 'bob@pair.com'],
    ['domain', 'carol.example', 'info@alice.example'],
    ['domain', 'unknown.example'],
    ['domain', 'unknown.example', 'x@unknown.example'],
    ['username', 'bob', 'bob@pair.com'],
    ['username', 'bob'],
    ['username', 'alice', 'info@alice.example'],
    ['username', 'nobody', 'nobody@pair.com'],
    ['domain', 'bob'],
  ];
  const ask = (dir: DirectoryReader, [kind, name, address]: (typeof asks)[number]) =>
    kind === 'domain' ? dir.findByDomain(name, address) : dir.findByUsername(name, address);
  const compare = async (label: string) => {
    for (const a of asks) t.same(await ask(cache, a), await ask(sqlite, a), `${label}: ${JSON.stringify(a)}`);
  };

  await compare('cold');
  await compare('warm');
  t.ok(cache.stats().hits + cache.stats().negativeHits >= asks.length, 'the second round came from the cache');

  // An import changes logins, moves a domain, adds one; the change is published after commit.
  const changed = [
    account('alice', ['alice.example', 'unknown.example'], [{ address: 'info@alice.example', login: 'alice-new' }], 124),
    account('carol', ['carol.example', 'alice-shop.example'], [{ address: 'sales@alice-shop.example', login: 'carol-sales' }]),
  ];
  await sqlite.importAccounts(changed, { replace: false });
  await feed.publish(changeOfImport(changed, { replace: false }));
  await compare('after an import');

  const replaced = [account('erin', ['bob.example'])];
  await sqlite.importAccounts(replaced, { replace: true });
  await feed.publish(changeOfImport(replaced, { replace: true }));
  await compare('after a replace');
});
