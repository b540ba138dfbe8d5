// The directory file damaged, removed, replaced and restored while the service answers:
// never a wrong host, the documented degraded answer (503 + Retry-After, POX 603) while the
// file is unusable, /readyz saying so, and recovery without a restart.
import { copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SqliteDirectory } from '../src/directory/sqlite.js';
import { FIXTURE_ACCOUNTS, poxRequest, testApp } from './support/app.js';

const OLD = 'sales@oldtimer-shop.example'; // mail123.pair.com
const NEW = 'jane@newbie.example'; // newbie.mail.pairserver.com

/** A file directory with the fixture accounts, checkpointed so that the file alone holds them. */
function makeFile(path: string, accounts = FIXTURE_ACCOUNTS): Promise<void> {
  const d = new SqliteDirectory(path);
  return d
    .importAccounts(accounts, { replace: true })
    .then(() => d.close())
    .then(() => {
      const db = new Database(path);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    });
}

t.test('damaged, removed, replaced, restored: no wrong host, 503 meanwhile, recovery by itself', async (t) => {
  const folder = t.testdir();
  const path = join(folder, 'directory.db');
  const backup = join(folder, 'backup.db');
  await makeFile(path);
  copyFileSync(path, backup);
  const directory = new SqliteDirectory(path, { recheckMs: 0 });
  const { app } = await testApp(t, { directory, env: { PUBLIC_URL: 'http://mailconf.pair-test.example' } });

  /** Every dialect for both eras: either the right host or the degraded answer. */
  const probe = async (phase: string): Promise<'ok' | 'unavailable'> => {
    const seen = new Set<string>();
    for (const [address, host] of [[OLD, 'mail123.pair.com'], [NEW, 'newbie.mail.pairserver.com']] as const) {
      const ac = await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}` });
      const pox = await app.inject({ method: 'POST', url: '/autodiscover/autodiscover.xml', payload: poxRequest(address) });
      const page = await app.inject({ url: `/settings?emailaddress=${encodeURIComponent(address)}`, headers: { accept: 'application/json' } });
      for (const [name, res] of [['autoconfig', ac], ['POX', pox], ['settings', page]] as const) {
        if (res.statusCode === 200) {
          const hosts = res.body.match(/mail\d+\.pair\.com|[a-z0-9-]+\.mail\.pairserver\.com/g) ?? [];
          t.ok(hosts.length > 0, `${phase}: ${name} ${address} names a host`);
          t.same([...new Set(hosts)], [host], `${phase}: ${name} ${address} names ${host} and no other`);
          seen.add('ok');
        } else {
          t.equal(res.statusCode, 503, `${phase}: ${name} ${address} is the degraded answer`);
          t.equal(res.headers['retry-after'], '30', `${phase}: ${name} Retry-After`);
          if (name === 'POX') t.match(res.body, '<ErrorCode>603</ErrorCode>');
          seen.add('unavailable');
        }
      }
    }
    t.equal(seen.size, 1, `${phase}: every dialect agrees`);
    return [...seen][0] as 'ok' | 'unavailable';
  };
  const health = async () => (await app.inject({ url: '/readyz' })).statusCode;

  t.equal(await probe('healthy'), 'ok');
  t.equal(await health(), 200);

  // Written over in place with garbage (same inode): SQLite may not notice on its own.
  writeFileSync(path, Buffer.alloc(readFileSync(backup).length, 0x5a));
  t.equal(await health(), 503, 'damaged: health says so');
  t.equal(await probe('damaged'), 'unavailable');

  copyFileSync(backup, path);
  t.equal(await health(), 200, 'restored in place: healthy again without a restart');
  t.equal(await probe('restored in place'), 'ok');

  rmSync(path);
  t.equal(await health(), 503, 'removed: health says so');
  t.equal(await probe('removed'), 'unavailable');
  const notFound = await app.inject({ url: '/mail/config-v1.1.xml?emailaddress=x%40oldtimer-shop.example' });
  t.equal(notFound.statusCode, 503, 'removed: never "unknown domain" (no empty directory is made in its place)');

  copyFileSync(backup, path);
  t.equal(await health(), 200, 'restored after removal');
  t.equal(await probe('restored after removal'), 'ok');

  // Replaced (by rename, as a deploy would) with a directory where the old-era account moved server.
  const other = join(folder, 'other.db');
  await makeFile(other, FIXTURE_ACCOUNTS.map((a) => (a.username === 'oldtimer' ? { ...a, mailServer: 7 } : a)));
  renameSync(other, path);
  const moved = await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(OLD)}` });
  t.equal(moved.statusCode, 200);
  t.match(moved.body, '<hostname>mail7.pair.com</hostname>', 'replaced: answers follow the new file');

  // Replaced by a SQLite file that is not a directory (no tables): unavailable, not 404.
  const empty = join(folder, 'empty.db');
  new Database(empty).exec('CREATE TABLE unrelated (x)');
  renameSync(empty, path);
  t.equal(await health(), 503, 'a foreign database: health says so');
  t.equal(await probe('foreign database'), 'unavailable');

  copyFileSync(backup, path);
  t.equal(await probe('restored at last'), 'ok');
});

t.test('between checks a lookup costs no stat: the open file keeps answering', async (t) => {
  const folder = t.testdir();
  const path = join(folder, 'directory.db');
  await makeFile(path);
  const backup = readFileSync(path);
  const directory = new SqliteDirectory(path, { recheckMs: 60_000 });
  t.teardown(() => directory.close());
  t.equal((await directory.findByDomain('newbie.example'))?.account.username, 'newbie');
  rmSync(path);
  // Within the recheck interval the open connection still serves the (unlinked) file it has.
  t.equal((await directory.findByDomain('newbie.example'))?.account.username, 'newbie', 'no stat per lookup');
  writeFileSync(path, backup);
  await t.resolves(directory.ping());
});
