// A real PostgreSQL that stops answering one instance, while that instance serves through
// its cache: cached answers go on up to the maximum staleness and no longer, uncached ones
// get the documented degraded answer (503 + Retry-After, POX error 603), never a guessed or
// wrong host, and the instance recovers by itself when the database returns (the feed
// reconnects and drops everything it may have missed). The machine's shared server is never
// stopped: the instance reaches it through a TCP proxy of this test's own, which can refuse
// connections (down), hold every byte (blocked), or pass everything (up); "slow" is a real
// lock that makes the server's statement timeout cancel the lookups.
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { openDirectory, openServingDirectory, type ServingDirectory } from '../src/accounts/open.js';
import { CachedDirectory } from '../src/directory/cached.js';
import { DirectoryError } from '../src/directory/directory.js';
import { PostgresChangeFeed, type FeedEvent } from '../src/directory/pg-changes.js';
import { defaultProvider } from '../src/policy/provider-profile.js';
import { FIXTURE_ACCOUNTS, poxRequest } from './support/app.js';
import { databaseUrl, migratedWith, POSTGRES_SERVER, servingApp, throwAwayDatabase } from './support/postgres.js';

const OLD = 'sales@oldtimer-shop.example';
const NEW = 'jane@newbie.example';
const HOSTS = /mail\d+\.pair\.com|[a-z0-9-]+\.mail\.pairserver\.com/g;

// Short timings, so that every phase takes a second or two.
const STATEMENT_TIMEOUT = 300;
const CONNECT_TIMEOUT = 500;
const MAX_STALE = 2500;
const OPTIONS = {
  postgres: { poolSize: 4, connectTimeoutMs: CONNECT_TIMEOUT, statementTimeoutMs: STATEMENT_TIMEOUT },
  // A TTL this short makes every lookup after it ask the database, as a long outage would.
  cache: { ttlMs: 100, negativeTtlMs: 100, maxStaleMs: MAX_STALE },
  feed: { checkIntervalMs: 300, retryMinMs: 50, retryMaxMs: 300 },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` every 25 ms for at most `ms`; whether it came true. */
async function until(predicate: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (let i = 0; i < 1000; i++) {
    if (await predicate()) return true;
    if (performance.now() > deadline) return false;
    await sleep(25);
  }
  return false;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  connected: boolean;
  /** Bytes held while the link is blocked (or the upstream is not yet connected). */
  toServer: Buffer[];
  toClient: Buffer[];
}

/**
 * A TCP proxy on 127.0.0.1 in front of the test PostgreSQL server. `down()` cuts every
 * connection and stops listening (new ones are refused); `block()` holds every byte both
 * ways, and new connections are accepted but never reach the server; `up()` undoes either.
 */
class Proxy {
  port = 0;
  private server: net.Server | undefined;
  private blocked = false;
  private readonly pairs = new Set<Pair>();
  private readonly target = new URL(POSTGRES_SERVER);

  static async start(): Promise<Proxy> {
    const proxy = new Proxy();
    await proxy.listen();
    return proxy;
  }

  private async listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    const pair: Pair = { client, upstream: undefined, connected: false, toServer: [], toClient: [] };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => this.drop(pair));
    client.on('data', (data) => {
      if (this.blocked || !pair.connected) pair.toServer.push(data);
      else pair.upstream!.write(data);
    });
    if (!this.blocked) this.connect(pair);
  }

  private connect(pair: Pair): void {
    const upstream = net.connect(Number(this.target.port || 5432), this.target.hostname);
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.drop(pair));
    upstream.on('connect', () => {
      pair.connected = true;
      this.flush(pair);
    });
    upstream.on('data', (data) => {
      if (this.blocked) pair.toClient.push(data);
      else pair.client.write(data);
    });
  }

  private flush(pair: Pair): void {
    if (this.blocked || !pair.connected) return;
    for (const data of pair.toServer.splice(0)) pair.upstream!.write(data);
    for (const data of pair.toClient.splice(0)) pair.client.write(data);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  /** Holds every byte: the database, as this instance sees it, stops answering. */
  block(): void {
    this.blocked = true;
  }

  /** Cuts every connection and refuses new ones. */
  async down(): Promise<void> {
    this.blocked = false;
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise((r) => server.close(r)) : Promise.resolve();
    for (const pair of [...this.pairs]) this.drop(pair);
    await closed;
  }

  /** Passes everything again (held bytes are delivered), listening again if it was down. */
  async up(): Promise<void> {
    this.blocked = false;
    if (!this.server) await this.listen();
    for (const pair of [...this.pairs]) {
      if (pair.upstream) this.flush(pair);
      else this.connect(pair);
    }
  }

  close(): Promise<void> {
    return this.down();
  }
}

/** The proxy's URL for the database `name`, with a password the messages must never show. */
function proxiedUrl(proxy: Proxy, name: string): string {
  const url = new URL(databaseUrl(POSTGRES_SERVER, name));
  url.host = `127.0.0.1:${proxy.port}`;
  url.password = 'Sw0rdfish-Secret';
  return url.toString();
}

type Seen = { kind: 'host'; host: string } | { kind: 'unavailable' };

/**
 * Asks autoconfig, POX and the settings page about `address` at once (one database call
 * between them: the cache joins them) and checks each answer is either exactly `host` or
 * the documented degraded answer. Returns what all three said (they must agree).
 */
async function probe(t: Test, app: FastifyInstance, address: string, host: string, phase: string): Promise<Seen['kind']> {
  const q = encodeURIComponent(address);
  const answers = await Promise.all([
    app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${q}` }).then((res) => ['autoconfig', res] as const),
    app.inject({ method: 'POST', url: '/autodiscover/autodiscover.xml', payload: poxRequest(address) }).then((res) => ['POX', res] as const),
    app.inject({ url: `/settings?emailaddress=${q}`, headers: { accept: 'application/json' } }).then((res) => ['settings', res] as const),
  ]);
  const kinds = new Set<string>();
  for (const [name, res] of answers) {
    if (res.statusCode === 200) {
      t.same([...new Set(res.body.match(HOSTS) ?? [])], [host], `${phase}: ${name} names ${host} and no other`);
      kinds.add('host');
    } else {
      t.equal(res.statusCode, 503, `${phase}: ${name} gives the degraded answer, never 404 or a guess`);
      t.equal(res.headers['retry-after'], '30', `${phase}: ${name} says when to retry`);
      if (name === 'POX') t.match(res.body, '<ErrorCode>603</ErrorCode>', `${phase}: POX error 603`);
      kinds.add('unavailable');
    }
  }
  t.equal(kinds.size, 1, `${phase}: every dialect agrees`);
  return [...kinds][0] as Seen['kind'];
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

t.test('PostgreSQL down, blocked or slow: stale answers up to the limit, 503 otherwise, recovery by itself', async (t) => {
  const db = await throwAwayDatabase(t);
  await migratedWith(db.url, FIXTURE_ACCOUNTS);
  const proxy = await Proxy.start();
  // The proxy goes first at teardown (tap runs teardowns in order): nothing waits on a held link.
  t.teardown(() => proxy.close());
  const events: FeedEvent[] = [];
  const { app, serving, logs } = await servingApp(t, proxiedUrl(proxy, db.name), { ...OPTIONS, onFeedEvent: (e) => void events.push(e) }, {
    // Plain HTTP, so that POX is answered rather than redirected to HTTPS.
    PUBLIC_URL: 'http://mailconf.pair-test.example',
  });
  // The rest of the fleet (and `mailconf import`) reach the database directly.
  const { directory: remote } = await openDirectory(db.url, 'fail', defaultProvider);
  t.teardown(() => remote.close());
  const stats = () => serving.reader.stats!();
  const ready = async () => (await app.inject({ url: '/readyz' })).statusCode;
  const moveOldtimer = (mailServer: number) =>
    remote.importAccounts([{ ...FIXTURE_ACCOUNTS.find((a) => a.username === 'oldtimer')!, mailServer }], { replace: false });
  /** Back to normal: the link up, the feed listening, OLD answered (and so cached) with `host`. */
  const recovered = async (t: Test, host: string, phase: string) => {
    await proxy.up();
    t.ok(await until(async () => stats().feedListening === 1 && (await probe(t, app, OLD, host, phase)) === 'host', 5000), `${phase}: answers again by itself`);
    t.equal(await ready(), 200, `${phase}: ready again`);
  };

  t.equal(stats().feedListening, 1, 'the feed listens');

  await t.test('down (connections cut, then refused)', async (t) => {
    t.equal(await probe(t, app, OLD, 'mail123.pair.com', 'up'), 'host');
    const fetched = performance.now();
    await proxy.down();
    t.ok(await until(() => stats().feedListening === 0, 2000), 'the feed notices at once');

    const before = stats().staleServes;
    t.equal(await probe(t, app, OLD, 'mail123.pair.com', 'down, cached'), 'host', 'a cached answer is served stale');
    t.ok(stats().staleServes > before, 'as a stale serve');
    t.equal(await probe(t, app, NEW, 'newbie.mail.pairserver.com', 'down, not cached'), 'unavailable');
    t.equal(await ready(), 503, '/readyz says the directory does not answer');

    // The database is up for everyone else, who moves the account meanwhile.
    await moveOldtimer(7);

    // Served stale until MAX_STALE after it was fetched, and not a moment beyond.
    let lastServed = 0;
    let firstRefused = 0;
    for (let i = 0; i < 100 && firstRefused === 0; i++) {
      const [seen] = await timed(() => probe(t, app, OLD, 'mail123.pair.com', 'down, ageing'));
      const age = performance.now() - fetched;
      if (seen === 'host') lastServed = age;
      else firstRefused = age;
      if (age > MAX_STALE + 2000) break;
      await sleep(100);
    }
    t.ok(lastServed > MAX_STALE - 600, `served stale until near the limit (last at ${lastServed.toFixed(0)} ms of ${MAX_STALE})`);
    t.ok(firstRefused >= MAX_STALE - 50 && firstRefused < MAX_STALE + 600, `then 503 (from ${firstRefused.toFixed(0)} ms)`);

    await recovered(t, 'mail7.pair.com', 'database back');
    t.equal(await probe(t, app, NEW, 'newbie.mail.pairserver.com', 'back, not cached'), 'host');
    const losses = events.filter((e) => e.kind === 'lost');
    t.ok(losses.length > 0, 'the feed reported the loss');
    t.same(losses.map((e) => e.first), [true, ...losses.slice(1).map(() => false)], 'as one outage, then its retries');
    t.match(events.at(-1), { kind: 'listening', reconnected: true }, 'and its return');
  });

  await t.test('blocked (the link holds every byte): lookups give up in bounded time', async (t) => {
    await sleep(150); // past the TTL: the next lookup asks the database
    proxy.block();
    const [cached, cachedMs] = await timed(() => probe(t, app, OLD, 'mail7.pair.com', 'blocked, cached'));
    t.equal(cached, 'host', 'a cached answer is served stale');
    const bound = STATEMENT_TIMEOUT + 1000 + 500;
    t.ok(cachedMs < bound, `after the lookup gave up (${cachedMs.toFixed(0)} ms)`);
    const [uncached, uncachedMs] = await timed(() => probe(t, app, 'jane@firstday.example', 'firstday.mail.pairserver.com', 'blocked, not cached'));
    t.equal(uncached, 'unavailable');
    t.ok(uncachedMs < bound, `503 in bounded time (${uncachedMs.toFixed(0)} ms), never a hung request`);
    const [status, readyMs] = await timed(ready);
    t.equal(status, 503, '/readyz says so');
    t.ok(readyMs < bound, `as quickly (${readyMs.toFixed(0)} ms)`);
    t.ok(await until(() => stats().feedListening === 0, 2000), "the feed's check notices a link that stopped answering");
    await recovered(t, 'mail7.pair.com', 'link unblocked');
  });

  await t.test('slow (a lock holds the lookups): the statement timeout cancels them', async (t) => {
    await sleep(150);
    const locker = await db.pool.connect();
    t.teardown(() => locker.release());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE domains IN ACCESS EXCLUSIVE MODE');
    try {
      const [cached, cachedMs] = await timed(() => probe(t, app, OLD, 'mail7.pair.com', 'slow, cached'));
      t.equal(cached, 'host', 'a cached answer is served stale');
      t.ok(cachedMs >= STATEMENT_TIMEOUT - 20 && cachedMs < STATEMENT_TIMEOUT + 1000, `once the server cancelled the lookup (${cachedMs.toFixed(0)} ms)`);
      const [uncached, uncachedMs] = await timed(() => probe(t, app, 'jane@datefirst.example', 'datefirst.mail.pairserver.com', 'slow, not cached'));
      t.equal(uncached, 'unavailable');
      t.ok(uncachedMs < STATEMENT_TIMEOUT + 1000, `503 after the statement timeout (${uncachedMs.toFixed(0)} ms)`);
      t.match(logs(), 'canceling statement due to statement timeout', 'the log says why');
      t.equal(stats().feedListening, 1, 'the feed is not affected');
    } finally {
      await locker.query('ROLLBACK');
    }
    t.equal(await probe(t, app, 'jane@datefirst.example', 'datefirst.mail.pairserver.com', 'lock released'), 'host', 'answers at once when it is released');
  });

  t.notMatch(logs(), 'Sw0rdfish', 'no log line shows the password');
});

t.test('the feed alone lost: the cache asks the database rather than trust what it may not have heard of', async (t) => {
  const db = await throwAwayDatabase(t);
  await migratedWith(db.url, FIXTURE_ACCOUNTS);
  const proxy = await Proxy.start();
  t.teardown(() => proxy.close());
  // The lookups reach the database directly; only the feed goes through the proxy.
  const { directory } = await openDirectory(db.url, 'fail', defaultProvider);
  const feed = await PostgresChangeFeed.open(proxiedUrl(proxy, db.name), OPTIONS.feed);
  const cache = new CachedDirectory(directory, { ttlMs: 60_000, changes: feed });
  t.teardown(async () => {
    await feed.close();
    await cache.close();
  });
  const { directory: remote } = await openDirectory(db.url, 'fail', defaultProvider);
  t.teardown(() => remote.close());
  const oldtimer = FIXTURE_ACCOUNTS.find((a) => a.username === 'oldtimer')!;
  const server = async () => (await cache.findByDomain('oldtimer-shop.example'))?.account.mailServer;

  t.equal(await server(), 123);
  t.equal(await server(), 123);
  t.equal(cache.stats().hits, 1, 'cached');
  await proxy.down();
  t.ok(await until(() => !feed.listening(), 2000), 'the feed lost its connection');
  // A change committed now is announced, but this feed cannot hear it.
  await remote.importAccounts([{ ...oldtimer, mailServer: 8 }], { replace: false });
  t.equal(await server(), 8, 'the entry was not trusted: the database was asked');
  t.equal(cache.stats().feedListening, 0);
  await proxy.up();
  t.ok(await until(() => feed.listening(), 3000), 'the feed is back by itself');
  t.equal(feed.stats().connects, 2);
  t.equal(await server(), 8);
  t.equal(await server(), 8);
  t.equal(cache.stats().hits, 2, 'and the cache trusted again');
});

t.test('start-up with PostgreSQL unreachable: refused, with the reason, in bounded time', async (t) => {
  const db = await throwAwayDatabase(t);
  await migratedWith(db.url, FIXTURE_ACCOUNTS);
  const proxy = await Proxy.start();
  t.teardown(() => proxy.close());
  const url = proxiedUrl(proxy, db.name);
  const shown = new RegExp(`^cannot open directory postgres://root:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port}/${db.name}: `);

  const attempt = async (): Promise<[unknown, number]> =>
    timed(async () => {
      try {
        const serving: ServingDirectory = await openServingDirectory(url, defaultProvider, OPTIONS);
        await serving.close();
        return undefined;
      } catch (err) {
        return err;
      }
    });

  await proxy.down();
  const [refused, refusedMs] = await attempt();
  t.type(refused, DirectoryError, 'connections refused: start-up refuses');
  t.match((refused as Error).message, shown);
  t.match((refused as Error).message, /ECONNREFUSED/);
  t.ok(refusedMs < 1000, `at once (${refusedMs.toFixed(0)} ms)`);

  await proxy.up();
  proxy.block();
  const [held, heldMs] = await attempt();
  t.type(held, DirectoryError, 'a database that does not answer: start-up refuses');
  t.match((held as Error).message, shown);
  t.match((held as Error).message, /timeout/i);
  t.ok(heldMs >= CONNECT_TIMEOUT - 20 && heldMs < CONNECT_TIMEOUT + 1500, `after the connect timeout (${heldMs.toFixed(0)} ms)`);
  t.notMatch(`${(refused as Error).message} ${(held as Error).message}`, 'Sw0rdfish', 'the password is never shown');

  await proxy.up();
  const serving = await openServingDirectory(url, defaultProvider, OPTIONS);
  t.teardown(() => serving.close());
  t.equal((await serving.reader.findByDomain('newbie.example'))?.account.username, 'newbie', 'and starts once it answers');
});
