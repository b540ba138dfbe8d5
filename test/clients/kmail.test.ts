// KMail's own discovery code reads our answers: Debian's `ispdb` (package accountwizard,
// KDE's kmail-account-wizard src/ispdb/) runs headless once per case inside a network and
// mount namespace that holds only loopback, a veth pair looped back into itself and a
// hosts file (kmail-run.ts says why each is there); our service answers on 80 and 443 with
// a test CA that the namespace's system store trusts. We assert what ispdb prints (IMAP,
// POP3 and SMTP: host, port, encryption, login), which of our URLs served it, and, under
// strace, that nothing outside loopback was contacted. Two control runs show that the
// namespace's additions are what make it work, and that the TLS check is real.
// Skipped, with the reason, when ispdb is not installed (Debian: apt-get install accountwizard).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import {
  FRONT_ADDRESS,
  kmHostsEntries,
  KM_SOURCES,
  MOZILLA_ISPDB_HOST,
  requestUrl,
  sourceUrl,
  type KmReport,
  type KmRun,
  type KmRunResult,
  type KmServer,
} from './kmail-cases.js';
import { prepareClientRun, runInNamespace, type RunnerOutcome } from './runner.js';
import { destinations, isLoopback } from './strace.js';
import { isAlive } from './thunderbird.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The whole run (two controls and nine cases, one ispdb start each) must take well under a minute. */
const RUN_BUDGET_MS = 60_000;
/** After this, the run is killed (by PID) and the suite fails. */
const RUN_TIMEOUT_MS = 120_000;

/**
 * What every answer of ours offers, in its order, as ispdb prints it: implicit TLS first,
 * then STARTTLS (main.cpp prints STARTTLS as "TLS"), password authentication ("plain").
 */
const OFFERED: Record<keyof KmReport, Array<[number, string]>> = {
  imap: [[993, 'SSL'], [143, 'TLS']],
  pop3: [[995, 'SSL'], [110, 'TLS']],
  smtp: [[465, 'SSL'], [587, 'TLS']],
};

function expectedReport(host: string, login: string): KmReport {
  const servers = (list: Array<[number, string]>): KmServer[] =>
    list.map(([port, encryption]) => ({ hostname: host, port, encryption, username: login, authentication: 'plain' }));
  return { imap: servers(OFFERED.imap), pop3: servers(OFFERED.pop3), smtp: servers(OFFERED.smtp) };
}

const noServers = (r: KmRun) => !r.report || (r.report.imap.length === 0 && r.report.pop3.length === 0 && r.report.smtp.length === 0);

function diagnostics(r: KmRun) {
  return {
    ended: r.ended,
    exitCode: r.exitCode,
    requests: r.requests.map((q) => `${q.method} ${requestUrl(q)} -> ${q.status}${q.failedByTest ? ' (failed by the test)' : ''}`),
    failures: r.failures,
    tlsErrors: r.tlsErrors,
    log: r.log,
  };
}

/** ispdb asks Mozilla's ISPDB first; in the namespace that name does not resolve. */
function checkIspdbFirst(t: Test, r: KmRun): void {
  t.match(r.failures[0] ?? '', new RegExp(`Unknown host ${MOZILLA_ISPDB_HOST.replace(/\./g, '\\.')}`), `it asked Mozilla's ISPDB (${MOZILLA_ISPDB_HOST}) first, which the namespace cannot resolve`);
}

async function suite(t: Test): Promise<void> {
  const workDir = prepareClientRun(t, 'kmail');
  if (!workDir) return;

  const run: RunnerOutcome<KmRunResult> = await runInNamespace<KmRunResult>(workDir, join(here, 'kmail-run.ts'), RUN_TIMEOUT_MS, kmHostsEntries());
  const { result } = run;
  if (!result || run.code !== 0) {
    t.fail('ispdb ran in the namespace and the runner reported what it did', { exitCode: run.code, stderr: run.stderr.slice(-6000) });
    return;
  }
  t.ok(run.ms < RUN_BUDGET_MS, `the run took ${run.ms} ms (budget ${RUN_BUDGET_MS} ms)`, { timings: result.timings });
  t.comment(`accountwizard ${result.packageVersion}`);
  const runs = (setup: KmRun['setup']) => result.runs.filter((r) => r.setup === setup);

  t.test('control: with only loopback, KIO considers the machine offline and sends no request', async (t) => {
    const [r] = runs('offline');
    if (!r) return void t.fail('the offline control ran');
    const email = r.case.email;
    t.same(r.requests, [], 'no request reached the service', diagnostics(r));
    t.ok(r.failures.some((f) => f.includes(`${sourceUrl('autoconfig-http', email)} does not exist`)), `the plain-HTTP step reports "${sourceUrl('autoconfig-http', email)} does not exist"`, diagnostics(r));
    const seen = destinations(readFileSync(r.straceLog, 'utf8'));
    t.ok(seen.some((d) => d.address === FRONT_ADDRESS && d.port === result.ports.http), `although the worker connected to our front ${FRONT_ADDRESS}:${result.ports.http}`);
    t.ok(noServers(r), 'and ispdb found no settings', diagnostics(r));
  });

  t.test('control: online, but without the test CA in the system store, HTTPS is refused and KMail falls back to plain HTTP', async (t) => {
    const [r] = runs('untrusted');
    if (!r?.case.expect) return void t.fail('the untrusted control ran');
    const email = r.case.email;
    t.ok(r.failures.some((f) => f.includes(`autoconfig.${email.split('@')[1]}`) && f.includes('SSL negotiation failed')), 'the HTTPS step fails: "SSL negotiation failed"', diagnostics(r));
    t.same(r.requests.filter((q) => q.scheme === 'https'), [], 'no HTTPS request reached the service', diagnostics(r));
    // Debian's CVE-2024-50624 patch keeps plain HTTP as a fallback for autoconfig.<d>:
    // port 80 must go on answering.
    t.same(r.requests.filter((q) => q.status === 200).map(requestUrl), [sourceUrl('autoconfig-http', email)], 'the answer came over plain HTTP', diagnostics(r));
    t.same(r.report, expectedReport(r.case.expect.host, r.case.expect.login), `and ispdb printed ${r.case.expect.host}'s servers from it`);
  });

  for (const r of runs('trusted')) {
    const c = r.case;
    t.test(`${c.email} (${c.label})`, async (t) => {
      t.ok(r.requests.every((q) => q.method === 'GET'), 'every request was a GET', diagnostics(r));
      t.same(r.requests.filter((q) => q.url.includes('?')).map(requestUrl), [], 'none carried the address: ispdb never sends it');
      checkIspdbFirst(t, r);
      const index = KM_SOURCES.indexOf(c.source);
      const urls = KM_SOURCES.map((s) => sourceUrl(s, c.email));
      if (!c.expect) {
        t.ok(noServers(r), 'ispdb printed no server', diagnostics(r));
        t.same(r.requests.filter((q) => q.status === 200).map(requestUrl), [], 'none of our URLs gave settings', diagnostics(r));
        t.same(r.requests.slice(0, 3).map(requestUrl), urls, 'it asked our three URLs in its order', diagnostics(r));
        // Upstream 22.12.3 gives up after the .well-known step (Ispdb::slotResult in
        // src/ispdb/ispdb.cpp); Debian's patched build (4:22.12.3-1+deb12u1) goes back to it
        // after each failure instead, so ispdb never ends here and KMail's wizard keeps waiting.
        t.equal(r.ended, 'repeating', 'and kept asking the .well-known URL until the runner stopped it', diagnostics(r));
        t.same([...new Set(r.requests.slice(3).map(requestUrl))], [urls[2]], 'nothing else', diagnostics(r));
        return;
      }
      t.equal(r.ended, 'exited', 'ispdb ended on its own', diagnostics(r));
      t.equal(r.exitCode, 0, 'with exit code 0');
      t.same(r.requests.map(requestUrl), urls.slice(0, index + 1), `it asked ${index + 1} of our URLs in its order, the last one ${c.source}`, diagnostics(r));
      const served = r.requests.filter((q) => q.status === 200 && !q.failedByTest);
      t.same(served.map(requestUrl), [sourceUrl(c.source, c.email)], `the answer came from ${sourceUrl(c.source, c.email)}`);
      const want = expectedReport(c.expect.host, c.expect.login);
      t.same(r.report?.imap, want.imap, `IMAP: ${c.expect.host} 993 SSL, then 143 STARTTLS, login ${c.expect.login}`, diagnostics(r));
      t.same(r.report?.pop3, want.pop3, `POP3: ${c.expect.host} 995 SSL, then 110 STARTTLS, login ${c.expect.login}`);
      t.same(r.report?.smtp, want.smtp, `SMTP: ${c.expect.host} 465 SSL, then 587 STARTTLS, login ${c.expect.login}`);
    });
  }

  t.test('only loopback was contacted (strace -f -e trace=network on every ispdb and its KIO workers)', async (t) => {
    const seen = result.runs.flatMap((r) => destinations(readFileSync(r.straceLog, 'utf8')));
    const foreign = seen.filter((d) => !isLoopback(d.address));
    t.same(foreign.map((d) => `${d.syscall} ${d.address}:${d.port}`), [], 'no destination outside 127.0.0.0/8 and ::1', {
      lines: foreign.slice(0, 20).map((d) => d.line),
    });
    for (const port of [result.ports.https, result.ports.http]) {
      t.ok(seen.some((d) => d.address === FRONT_ADDRESS && d.port === port), `the trace saw connections to our front ${FRONT_ADDRESS}:${port} (${seen.length} destinations in all)`);
    }
    t.ok(seen.some((d) => d.address === '127.0.0.1' && d.port === 53), `and the resolver asking 127.0.0.1:53 (for ${MOZILLA_ISPDB_HOST})`);
  });

  t.test('the service logged no error', async (t) => {
    t.same(result.serviceErrors, [], 'no error-level log line');
  });

  t.test('ispdb and its KIO workers left no process behind', async (t) => {
    t.same(result.runs.flatMap((r) => r.leftover), [], 'nothing had to be killed after ispdb ended or was stopped');
    const pids = result.runs.flatMap((r) => r.pids);
    t.same(pids.filter(isAlive), [], `none of the ${pids.length} processes is alive now`);
  });
}

const hasIspdb = spawnSync('sh', ['-c', 'command -v ispdb'], { stdio: 'ignore' }).status === 0;
if (!hasIspdb) {
  t.plan(0, 'ispdb not installed (KMail\'s discovery code; Debian: apt-get install accountwizard)');
} else {
  await suite(t);
}
