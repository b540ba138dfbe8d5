// Two instances of the service on one PostgreSQL database, each reading through its own
// cache and change feed (openServingDirectory, as server.ts does): a change through one
// instance's admin API is answered by the other within a second, although the other's
// cache entries would live for a minute. The API writes through the backend, whose
// writes notify every instance (LISTEN/NOTIFY), never around it.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { ADMIN_ENV, adminInject, ndjson } from './support/admin.js';
import { FIXTURE_ACCOUNTS } from './support/app.js';
import { migratedWith, servingApp, throwAwayDatabase } from './support/postgres.js';

/** The host autoconfig names for `address` on `app`, or its status. */
async function hostFor(app: FastifyInstance, address: string): Promise<string> {
  const res = await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}` });
  return res.statusCode === 200 ? /<hostname>([^<]+)<\/hostname>/.exec(res.body)![1]! : String(res.statusCode);
}

/** Asks every 20 ms until the answer is `wanted`, for at most a second; the time it took, or undefined. */
async function answeredWithinASecond(app: FastifyInstance, address: string, wanted: string): Promise<number | undefined> {
  const started = performance.now();
  for (let i = 0; i < 100; i++) {
    if ((await hostFor(app, address)) === wanted) return performance.now() - started;
    if (performance.now() - started > 1000) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

t.test("a change through one instance's admin API is answered by the other within a second", async (t) => {
  const db = await throwAwayDatabase(t);
  await migratedWith(db.url, FIXTURE_ACCOUNTS);
  const one = await servingApp(t, db.url, {}, ADMIN_ENV);
  const two = await servingApp(t, db.url, {}, ADMIN_ENV);
  const stats = () => two.serving.reader.stats!();

  /** Warms instance two's cache with `before`, changes through instance one, waits for two to answer `after`. */
  const change = async (t: Test, address: string, before: string, after: string, write: () => Promise<number>) => {
    t.equal(await hostFor(two.app, address), before, 'before');
    const hits = stats().hits + stats().negativeHits;
    t.equal(await hostFor(two.app, address), before, 'before, from the cache');
    t.ok(stats().hits + stats().negativeHits > hits, "instance two's cache answered");
    const heard = stats().feedNotifications;
    t.equal(await write(), 2, 'written through instance one');
    const took = await answeredWithinASecond(two.app, address, after);
    t.ok(took !== undefined, `instance two answers ${after} within a second (took ${took?.toFixed(0)} ms)`);
    t.ok(stats().feedNotifications > heard, 'it heard the change on the feed');
  };

  await t.test('PUT: an old-era account moved to another mail server', async (t) => {
    await change(t, 'jane@oldtimer-shop.example', 'mail123.pair.com', 'mail7.pair.com', async () => {
      const res = await adminInject(one.app, { method: 'PUT', url: '/admin/accounts/oldtimer', payload: { created: '2009-03-14', mailServer: 7, domains: ['oldtimer-shop.example'] } });
      return Math.floor(res.statusCode / 100);
    });
  });

  await t.test('POST /admin/import: a new domain that was cached as unknown', async (t) => {
    await change(t, 'jane@brand-new.example', '404', 'newbie.mail.pairserver.com', async () => {
      const res = await adminInject(one.app, {
        method: 'POST',
        url: '/admin/import',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: ndjson({ username: 'newbie', created: '2019-10-02T15:04:05Z', domains: ['newbie.example', 'brand-new.example'] }),
      });
      return Math.floor(res.statusCode / 100);
    });
  });

  await t.test('DELETE: an account closed', async (t) => {
    await change(t, 'jane@lastday.example', 'mail12.pair.com', '404', async () => {
      const res = await adminInject(one.app, { method: 'DELETE', url: '/admin/accounts/lastday' });
      return Math.floor(res.statusCode / 100);
    });
  });

  await t.test('a dry run changes nothing anywhere', async (t) => {
    t.equal(await hostFor(two.app, 'jane@firstday.example'), 'firstday.mail.pairserver.com');
    const res = await adminInject(one.app, {
      method: 'POST',
      url: '/admin/import?dryRun=true&replace=true',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ndjson({ username: 'newbie', created: '2019-10-02T15:04:05Z', domains: ['newbie.example'] }),
    });
    t.equal(res.statusCode, 200);
    t.equal(res.json().dryRun, true);
    await new Promise((r) => setTimeout(r, 200));
    t.equal(await hostFor(two.app, 'jane@firstday.example'), 'firstday.mail.pairserver.com', 'instance two still answers the account the dry replace would remove');
    t.equal(await hostFor(one.app, 'jane@firstday.example'), 'firstday.mail.pairserver.com');
  });
});
