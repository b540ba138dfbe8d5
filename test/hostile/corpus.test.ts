// The hostile corpus (cases.ts) against the real server process, over raw TCP from
// 127.0.0.1, while a well-behaved client on 127.0.0.2 keeps asking for a known mailbox's
// settings. For every case: the expected outcome, never a 5xx, the process stays up; for
// the run: the well-behaved client always got the exact host within the latency bound, and
// the server's memory stayed bounded.
import { join } from 'node:path';
import t from 'tap';
import { exited, listeningPort, rssKiB, startServer } from '../support/server.js';
import { CASES, CORPUS_ENV, SLOW_CASES, type HostileCase } from './cases.js';
import { connect, destroyAll, exchange, request, until, type Exchange } from './raw-client.js';

/** The well-behaved client's bound: generous, a 2-core CI machine is busy with the corpus. */
const LATENCY_BOUND_MS = 2000;
/** How much the server's RSS may grow over the whole corpus. */
const RSS_GROWTH_KIB = 64 * 1024;

const GOOD = request('GET', '/mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example', { host: 'autoconfig.oldtimer-shop.example' });

/** Asks every 50 ms, from another address, until stopped; bounded in count and time. */
function wellBehavedClient(port: number) {
  const latencies: number[] = [];
  const failures: string[] = [];
  let stopped = false;
  const done = (async () => {
    for (let i = 0; i < 3000 && !stopped; i++) {
      const result = await exchange({ port, pieces: [GOOD], responses: 1, timeoutMs: 5000, localAddress: '127.0.0.2' });
      const answer = result.responses[0];
      const hosts = [...(answer?.body ?? '').matchAll(/<hostname>([^<]*)<\/hostname>/g)].map((m) => m[1]);
      if (answer?.status !== 200 || hosts.length === 0 || hosts.some((h) => h !== 'mail123.pair.com')) {
        failures.push(`request ${i}: ${answer?.status ?? 'no answer'} ${JSON.stringify(hosts)}`);
      }
      latencies.push(result.ms);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    latencies,
    failures,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

function statusesMatch(expect: HostileCase['expect'], statuses: number[]): boolean {
  const alternatives = 'anyOf' in expect ? expect.anyOf : [expect];
  return alternatives.some((a) => a.length === statuses.length && a.every((s, i) => s === statuses[i]));
}

t.test('the hostile corpus against the real server', async (t) => {
  const started = Date.now();
  const dir = t.testdir();
  const server = startServer({ MAILCONF_DIRECTORY: `sqlite:${join(dir, 'directory.db')}`, ...CORPUS_ENV });
  let good: ReturnType<typeof wellBehavedClient> | undefined;
  t.teardown(async () => {
    server.child.kill('SIGKILL');
    await good?.stop();
    destroyAll();
  });
  const port = await listeningPort(server);
  const pid = server.child.pid!;

  // Warm up, then take the baseline.
  for (let i = 0; i < 50; i++) await exchange({ port, pieces: [GOOD], responses: 1, timeoutMs: 2000, localAddress: '127.0.0.2' });
  const rssBefore = rssKiB(pid);
  good = wellBehavedClient(port);

  const check = (c: HostileCase, result: Exchange) => {
    const statuses = result.responses.map((r) => r.status);
    t.ok(statusesMatch(c.expect, statuses), `${c.name}: answered ${JSON.stringify(statuses)}`, { expected: c.expect, raw: result.raw.slice(0, 300) });
    t.notOk(statuses.some((s) => s >= 500), `${c.name}: no 5xx`);
    if (c.closes) t.ok(result.closedByServer, `${c.name}: the server closed the connection (${result.ms} ms)`);
    if (c.body) t.match(result.responses[0]?.body, c.body, `${c.name}: the answer`);
    if (c.never) t.notMatch(result.raw, c.never, `${c.name}: nothing leaked or injected`);
    t.equal(server.child.exitCode, null, `${c.name}: the server is still up`);
  };
  const run = (c: HostileCase) => {
    const expected = 'anyOf' in c.expect ? undefined : c.expect.length;
    // Cases the server must close end when it does; the others once their answers are in.
    const responses = c.closes || expected === undefined || expected === 0 ? undefined : expected;
    return exchange({ port, pieces: c.pieces, gapMs: c.gapMs ?? 0, timeoutMs: c.timeoutMs ?? 3000, head: c.head ?? false, ...(responses ? { responses } : {}) });
  };

  // The slow ones side by side: each must be closed by the server within seconds.
  const slow = await Promise.all(SLOW_CASES.map(run));
  SLOW_CASES.forEach((c, i) => check(c, slow[i]!));

  // Many sockets from one client: the cap holds, nobody else notices.
  const sockets = Array.from({ length: 40 }, () => connect(port));
  let closed = 0;
  for (const s of sockets) s.once('close', () => closed++);
  await until(() => closed >= 40 - Number(CORPUS_ENV.MAX_CONNECTIONS_PER_CLIENT), 3000, 'the connections over the cap to be refused');
  t.equal(closed, 40 - Number(CORPUS_ENV.MAX_CONNECTIONS_PER_CLIENT), 'the connections over the cap were refused, the rest kept');
  for (const s of sockets) s.destroy();
  await until(() => closed === 40, 2000, 'our sockets to close');

  // The rest one after the other.
  for (const c of CASES) check(c, await run(c));

  await good.stop();
  const rssAfter = rssKiB(pid);
  t.same(good.failures, [], 'the well-behaved client always got the exact host');
  const worst = Math.max(...good.latencies);
  t.ok(good.latencies.length > 20, `the well-behaved client asked throughout (${good.latencies.length} requests)`);
  t.ok(worst < LATENCY_BOUND_MS, `its slowest answer took ${worst} ms (bound ${LATENCY_BOUND_MS} ms)`);
  t.ok(rssAfter - rssBefore < RSS_GROWTH_KIB, `RSS ${Math.round(rssBefore / 1024)} MiB before, ${Math.round(rssAfter / 1024)} MiB after`);

  const lines = server.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; refusal?: string });
  t.same(lines.filter((l) => l.level >= 50), [], 'nothing logged as an error');
  t.ok(lines.some((l) => l.refusal === 'connection cap'), 'the connection cap was logged');
  t.ok(lines.some((l) => l.refusal === 'request timeout'), 'the slow requests were logged');
  t.equal(server.err(), '', 'nothing on stderr');
  // Privacy over the whole hostile run: the mailboxes it asked about never reach the log.
  for (const local of ['sales', 'jane']) t.notMatch(server.out(), new RegExp(`\\b${local}\\b|${local}(@|%40)`, 'i'), `the log never names ${local}@`);

  server.child.kill('SIGTERM');
  t.equal(await exited(server, 5000), 0, 'and it still shuts down cleanly');
  t.comment(`hostile corpus: ${SLOW_CASES.length + CASES.length + 1} cases in ${Date.now() - started} ms; RSS ${rssBefore} KiB -> ${rssAfter} KiB; ${good.latencies.length} good requests, slowest ${worst} ms`);
});
