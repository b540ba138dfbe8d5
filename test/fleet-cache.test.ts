// Two instances of the service on one PostgreSQL database, each reading through its own
// cache (openServingDirectory, as server.ts does). A write through either instance's
// directory, or through a connection of its own (`mailconf import` on another machine),
// reaches the other instance's cache through LISTEN/NOTIFY: within a second it answers the
// new data, although its cache entries would live for a minute (CACHE_DEFAULTS).
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { openDirectory, openServingDirectory } from '../src/accounts/open.js';
import type { Directory } from '../src/directory/directory.js';
import { CHANGE_CHANNEL, PostgresChangeFeed } from '../src/directory/pg-changes.js';
import type { ImportAccount } from '../src/model/account.js';
import { defaultProvider } from '../src/policy/provider-profile.js';
import type { FastifyInstance } from 'fastify';
import { FIXTURE_ACCOUNTS } from './support/app.js';
import { migratedWith, servingApp, throwAwayDatabase } from './support/postgres.js';

const HOSTS = /mail\d+\.pair\.com|[a-z0-9-]+\.mail\.pairserver\.com/g;

/** What an instance answers autoconfig for `address`: its status, the hosts and the login it names. */
async function ask(app: FastifyInstance, address: string): Promise<string> {
  const res = await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}` });
  if (res.statusCode !== 200) return String(res.statusCode);
  const hosts = [...new Set(res.body.match(HOSTS) ?? [])].join(',');
  const login = /<username>([^<]*)<\/username>/.exec(res.body)?.[1];
  return `${hosts} ${login}`;
}

/** Asks until the answer is `wanted` (every 20 ms, for at most `ms`); the time it took, or undefined. */
async function answersWithin(app: FastifyInstance, address: string, wanted: string, ms: number): Promise<number | undefined> {
  const started = performance.now();
  for (let i = 0; i < 500; i++) {
    if ((await ask(app, address)) === wanted) return performance.now() - started;
    if (performance.now() - started > ms) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

function edited(username: string, change: Partial<ImportAccount>): ImportAccount {
  return { ...FIXTURE_ACCOUNTS.find((a) => a.username === username)!, ...change };
}

t.test('a change through one instance, or from another machine, reaches the other instance within a second', async (t) => {
  const db = await throwAwayDatabase(t);
  await migratedWith(db.url, FIXTURE_ACCOUNTS);
  const one = await servingApp(t, db.url);
  const two = await servingApp(t, db.url);
  // `mailconf import` on another machine: a plain directory connection, no cache, no feed.
  const { directory: remote } = await openDirectory(db.url, 'fail', defaultProvider);
  t.teardown(() => remote.close());
  const stats = () => two.serving.reader.stats!();

  /** Warms both caches with `before`, writes through `writer`, and waits for instance two (then one) to answer `after`. */
  const change = async (t: Test, what: string, address: string, before: string, after: string, writer: Directory, write: (d: Directory) => Promise<unknown>) => {
    for (const { app } of [one, two]) {
      t.equal(await ask(app, address), before, `${what}: before`);
      t.equal(await ask(app, address), before, `${what}: before, from the cache`);
    }
    const heard = stats().feedNotifications;
    await write(writer);
    const took = await answersWithin(two.app, address, after, 1000);
    t.ok(took !== undefined, `${what}: instance two answers "${after}" within a second (took ${took?.toFixed(0)} ms)`);
    t.equal(await answersWithin(one.app, address, after, 1000) !== undefined, true, `${what}: so does instance one`);
    t.ok(stats().feedNotifications > heard, `${what}: instance two heard it on ${CHANGE_CHANNEL}`);
  };

  await t.test('both caches serve from memory once warm', async (t) => {
    const before = stats();
    t.equal(await ask(two.app, 'sales@oldtimer-shop.example'), 'mail123.pair.com sales-oldtimer');
    t.equal(await ask(two.app, 'sales@oldtimer-shop.example'), 'mail123.pair.com sales-oldtimer');
    t.ok(stats().hits > before.hits, 'the second ask was a cache hit');
    t.equal(stats().feedListening, 1, 'the feed listens');
  });

  await t.test('an old-era account moved to another mail server (through instance one, as the CLI would)', async (t) => {
    await change(t, 'moved', 'jane@oldtimer-shop.example', 'mail123.pair.com jane@oldtimer-shop.example', 'mail7.pair.com jane@oldtimer-shop.example', one.serving.directory, (d) =>
      d.importAccounts([edited('oldtimer', { mailServer: 7 })], { replace: false }),
    );
  });

  await t.test('a mailbox login changed (from another machine)', async (t) => {
    await change(t, 'login', 'sales@oldtimer-shop.example', 'mail7.pair.com sales-oldtimer', 'mail7.pair.com sales-renamed', remote, (d) =>
      d.importAccounts([edited('oldtimer', { mailServer: 7, mailboxes: [{ address: 'sales@oldtimer-shop.example', login: 'sales-renamed' }] })], { replace: false }),
    );
  });

  await t.test('a new domain that was cached as unknown (404 -> 200, from another machine)', async (t) => {
    await change(t, 'new domain', 'jane@brand-new.example', '404', 'newbie.mail.pairserver.com jane@brand-new.example', remote, (d) =>
      d.importAccounts([edited('newbie', { domains: ['newbie.example', 'newbie-two.example', 'brand-new.example'] })], { replace: false }),
    );
    t.ok(stats().negativeHits > 0, 'the unknown domain had been answered from the cache');
  });

  await t.test('a removed domain (200 -> 404, through instance one)', async (t) => {
    await change(t, 'removed domain', 'jane@newbie-two.example', 'newbie.mail.pairserver.com jane@newbie-two.example', '404', one.serving.directory, (d) =>
      d.importAccounts([edited('newbie', { domains: ['newbie.example', 'brand-new.example'] })], { replace: false }),
    );
  });

  await t.test('a domain moved to another account (from another machine)', async (t) => {
    await change(t, 'domain moved', 'jane@lastday.example', 'mail12.pair.com jane@lastday.example', 'datelast.mail.pairserver.com jane@lastday.example', remote, (d) =>
      d.importAccounts([edited('lastday', { domains: [] }), edited('datelast', { created: '2012-01-01', domains: ['datelast.example', 'lastday.example'] })], {
        replace: false,
      }),
    );
  });

  await t.test("--replace: the whole directory ('all')", async (t) => {
    // Warm answers that the replacement changes in different ways.
    t.equal(await ask(two.app, 'jane@firstday.example'), 'firstday.mail.pairserver.com jane@firstday.example');
    t.equal(await ask(two.app, 'jane@datefirst.example'), 'datefirst.mail.pairserver.com jane@datefirst.example');
    const before = stats().invalidatedEntries;
    await change(t, 'replace', 'jane@oldtimer-shop.example', 'mail7.pair.com jane@oldtimer-shop.example', 'mail9.pair.com jane@oldtimer-shop.example', remote, (d) =>
      d.importAccounts(
        [edited('oldtimer', { mailServer: 9 }), edited('datefirst', { created: '2001-01-01', mailServer: 5 }), edited('newbie', {})],
        { replace: true },
      ),
    );
    t.equal(await ask(two.app, 'jane@firstday.example'), '404', 'an account the replacement left out is gone');
    t.equal(await ask(two.app, 'jane@datefirst.example'), 'mail5.pair.com jane@datefirst.example', 'an account it rewrote has its new era');
    t.equal(await ask(two.app, 'jane@brand-new.example'), '404', 'a domain only the old data had is gone');
    t.ok(stats().invalidatedEntries > before + 2, "'all' dropped every entry");
  });

  await t.test('a writer of its own (a future admin API) announces through publish()', async (t) => {
    const feed = await PostgresChangeFeed.open(db.url);
    t.teardown(() => feed.close());
    t.equal(await ask(two.app, 'jane@oldtimer-shop.example'), 'mail9.pair.com jane@oldtimer-shop.example');
    await db.pool.query("UPDATE accounts SET mail_server = 11 WHERE username = 'oldtimer'");
    await feed.publish({ usernames: ['oldtimer'] });
    t.ok((await answersWithin(two.app, 'jane@oldtimer-shop.example', 'mail11.pair.com jane@oldtimer-shop.example', 1000)) !== undefined);
  });

  await t.test('a write that fails (rolled back) announces nothing', async (t) => {
    const heard = stats().feedNotifications;
    // Two accounts claiming one domain: a conflict, rolled back.
    const conflict = remote.importAccounts([edited('oldtimer', { mailServer: 1, domains: ['newbie.example'] })], { replace: false });
    await t.rejects(conflict);
    // A committed write after it: once its notification is heard, the failed one would have been too.
    await remote.importAccounts([edited('oldtimer', { mailServer: 9 })], { replace: false });
    t.ok((await answersWithin(two.app, 'jane@oldtimer-shop.example', 'mail9.pair.com jane@oldtimer-shop.example', 1000)) !== undefined);
    for (let i = 0; i < 50 && stats().feedNotifications === heard; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(stats().feedNotifications, heard + 1, 'only the committed write was heard');
  });
});

t.test('SQLite is served as it is: no cache, the directory itself, seeded with the demo when new', async (t) => {
  const serving = await openServingDirectory(`sqlite:${join(t.testdir(), 'directory.db')}`, defaultProvider, { cache: { ttlMs: 60_000 } });
  t.teardown(() => serving.close());
  t.equal(serving.reader, serving.directory, 'the reader is the SqliteDirectory');
  t.notOk('stats' in serving.reader, 'no cache counters');
  t.ok(serving.seeded && serving.seeded.accounts > 0, 'a new file gets the demo accounts');
});
