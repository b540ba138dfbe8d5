// A second real client, end to end: Delta Chat's core (deltachat-rpc-server 2.57.0, the
// Rust core itself, over JSON-RPC) configures one fresh account per case. Its `configure`
// asks our service for settings over HTTPS and then logs in to the IMAP and SMTP servers it
// found, so the run (deltachat-run.ts) happens inside a network and mount namespace with
// only loopback and a hosts file giving every mail host its own 127.x address; our service
// sits behind an HTTPS front on 443 and a stand-in IMAP/SMTP server records which host,
// port, TLS mode and login each connection used. Under strace: no destination outside
// loopback.
//
// TLS: the core's strict mode trusts only its built-in roots, with one exception kept on
// purpose: a per-host SPKI pin store (table tls_spki in the account database,
// src/net/tls/spki.rs), consulted instead of the root check, while the host-name check
// stays unconditional (src/net/tls/danger.rs). The runner pins our test keys for exactly
// the names the test serves; it never turns checks off. A core whose version or pin table
// differs from the one this was checked against fails the suite, and an unpinned run must
// fail: the checks are real.
// Skipped, with the reason, when the core's binary is missing or user namespaces are off.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { CORE_PACKAGE, coreBinaryPath } from './deltachat-core.js';
import {
  DC_PASSWORD,
  DC_SOURCES,
  dcHostsEntries,
  FRONT_ADDRESS,
  PIN_TABLE,
  sourceUrl,
  VERIFIED_CORE_VERSION,
  type DcCaseRecord,
  type DcRunResult,
  type DcServer,
} from './deltachat-cases.js';
import { prepareClientRun, runInNamespace, type RunnerOutcome } from './runner.js';
import { destinations, isLoopback } from './strace.js';
import { isAlive } from './thunderbird.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The whole run (core start, a dozen configures, shutdown) must take well under a minute. */
const RUN_BUDGET_MS = 60_000;
/** After this, the run is killed (by PID) and the suite fails. */
const RUN_TIMEOUT_MS = 120_000;

function runDeltaChat(workDir: string): Promise<RunnerOutcome<DcRunResult>> {
  return runInNamespace<DcRunResult>(workDir, join(here, 'deltachat-run.ts'), RUN_TIMEOUT_MS, dcHostsEntries());
}

/**
 * The connections that logged in for one protocol, as (address, port, TLS, server name,
 * login) once each: the core may connect more than once (configure, then its IMAP loop),
 * and every such connection must be the expected one.
 */
function logins(r: DcCaseRecord, protocol: 'imap' | 'smtp') {
  const seen = r.connections
    .filter((c) => c.protocol === protocol && c.login !== undefined)
    .map((c) => ({ address: c.address, port: c.port, tlsMode: c.tlsMode, tls: c.tls, sni: c.sni ?? null, login: c.login, password: c.password }));
  return [...new Set(seen.map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x) as (typeof seen)[number]);
}

function checkServer(t: Test, r: DcCaseRecord, want: DcServer, mailAddresses: Record<string, string>, what: string): void {
  const address = mailAddresses[want.host];
  // The core sends the server name with implicit TLS only (use_sni = false for STARTTLS,
  // src/imap/client.rs and src/smtp/connect.rs); it checks the name on the certificate in both.
  const sni = want.tlsMode === 'implicit' ? want.host : null;
  t.same(
    logins(r, want.protocol),
    [{ address, port: want.port, tlsMode: want.tlsMode, tls: true, sni, login: want.login, password: DC_PASSWORD }],
    `${what}: ${want.protocol.toUpperCase()} login at ${want.host} (${address}):${want.port} ${want.tlsMode === 'implicit' ? 'implicit TLS' : 'STARTTLS'}, login ${want.login}`,
  );
}

function caseDiagnostics(r: DcCaseRecord) {
  return {
    error: r.error ?? null,
    requests: r.requests.map((q) => `${q.method} ${q.url} -> ${q.status}${q.failedByTest ? ' (failed by the test)' : ''}`),
    connections: r.connections.map((c) => `${c.protocol} ${c.address}:${c.port} ${c.tlsMode}${c.refused ? ' refused' : ''} tls=${c.tls} login=${c.login ?? '-'} [${c.commands.join(' ')}]`),
    log: r.log.slice(-40),
  };
}

async function suite(t: Test): Promise<void> {
  const workDir = prepareClientRun(t, 'deltachat');
  if (!workDir) return;

  const run = await runDeltaChat(workDir);
  const { result } = run;
  if (!result || run.code !== 0) {
    t.fail('the Delta Chat core ran and reported what it did', { exitCode: run.code, stderr: run.stderr.slice(-6000) });
    return;
  }
  t.ok(run.ms < RUN_BUDGET_MS, `the run took ${run.ms} ms (budget ${RUN_BUDGET_MS} ms)`, { timings: result.timings });

  t.test('the TLS trust mechanism is the one this suite was checked against', async (t) => {
    t.equal(result.coreVersion, VERIFIED_CORE_VERSION,
      `core ${result.coreVersion}: re-read src/net/tls.rs, tls/danger.rs and tls/spki.rs of the new version (is the per-host SPKI pin still consulted before the root check, and the host name still checked unconditionally?), then update VERIFIED_CORE_VERSION`);
    t.same(result.pinTable, PIN_TABLE, `the account database has the pin table ${PIN_TABLE.name}(${PIN_TABLE.columns.join(', ')})`);
    const unpinned = result.cases.filter((r) => r.pins === 'unpinned');
    t.equal(unpinned.length, 1, 'one case ran without pins');
    for (const r of unpinned) {
      t.notOk(r.ok, `without pins, strict TLS refuses our test CA: configure of ${r.case.email} fails`, caseDiagnostics(r));
      t.same(r.connections.filter((c) => c.login !== undefined), [], 'and no login reaches a mail host');
      t.same(r.requests, [], 'no request reached the service: every HTTPS handshake was refused', caseDiagnostics(r));
      const names = [...new Set(r.tlsErrors.map((e) => e.servername))].sort();
      t.same(names, DC_SOURCES.map((s) => new URL(sourceUrl(s, r.case.email)).hostname).filter((n, i, all) => all.indexOf(n) === i).sort(),
        'by the core, for each of our names it tried', { tlsErrors: r.tlsErrors });
      t.ok(r.tlsErrors.every((e) => /unknown ca/i.test(e.message)), 'each with the alert "unknown CA": the test CA is not among its roots', { tlsErrors: r.tlsErrors });
    }
    const wrongName = result.cases.filter((r) => r.pins === 'wrong-name');
    t.equal(wrongName.length, 1, 'one case ran with a pinned key on a certificate for other names');
    for (const r of wrongName) {
      const want = r.case.expect!.imap;
      t.notOk(r.ok, `the pin does not lift the host-name check: configure of ${r.case.email} fails`, caseDiagnostics(r));
      t.ok(r.requests.some((q) => q.status === 200), 'although our service answered (the front names were pinned and matched)', caseDiagnostics(r));
      const tried = r.connections.filter((c) => c.address === result.mailAddresses[want.host] && !c.refused);
      t.ok(tried.length > 0, `the core connected to ${want.host}`, caseDiagnostics(r));
      t.same(tried.filter((c) => c.tls || c.login !== undefined).map((c) => `${c.protocol}:${c.port}`), [], 'and finished no TLS handshake and no login there', caseDiagnostics(r));
      t.ok(tried.every((c) => c.tlsError !== undefined && /certificate/i.test(c.tlsError)), 'each handshake ended with the core refusing the certificate', {
        tlsErrors: tried.map((c) => `${c.protocol}:${c.port} ${c.tlsError ?? '(none)'}`),
      });
      t.ok(r.log.some((l) => l.includes(`certificate not valid for name "${want.host}"`)), `the core says why: the certificate is not valid for ${want.host}`, caseDiagnostics(r));
    }
  });

  for (const r of result.cases.filter((x) => x.pins === 'pinned')) {
    const c = r.case;
    const what = `${c.email} (${c.label})`;
    t.test(what, async (t) => {
      // The URLs the core asked, in order: every one before the expected source failed in the front.
      const ours = r.requests.map((q) => q.url);
      t.ok(r.requests.every((q) => q.scheme === 'https' && q.method === 'GET'), 'every request was an HTTPS GET', caseDiagnostics(r));
      t.ok(ours.every((u) => u.startsWith('https://')), 'in absolute form (the core writes the whole URL in the request line)');
      if (!c.expect) {
        t.notOk(r.ok, 'configure fails', caseDiagnostics(r));
        // The POX error answer on <d> (code 600, unknown domain) ends the core's search: it
        // does not go on to autodiscover.<d>.
        const urls = DC_SOURCES.map((s) => sourceUrl(s, c.email));
        t.same(ours.slice(0, 3), urls.slice(0, 3), 'the core asked autoconfig.<d>, .well-known and the Outlook GET on <d>, in that order');
        t.same(ours.filter((u) => !urls.includes(u)), [], 'and nothing but our four URLs');
        // Autoconfig answers 404; POX answers its error (code 600: no address in a GET, an unknown domain) with 200.
        t.same(r.requests.filter((q) => q.status !== 404 && (q.body ?? '').includes('<Protocol>')).map((q) => q.url), [], 'and got no settings from any');
        t.same(r.connections, [], 'no mail host was reached', caseDiagnostics(r));
        return;
      }
      t.ok(r.ok, 'configure succeeds', caseDiagnostics(r));
      const index = DC_SOURCES.indexOf(c.source);
      t.same(ours, DC_SOURCES.slice(0, index + 1).map((s) => sourceUrl(s, c.email)), `the core asked ${index + 1} URL(s) in its order, the last one ${c.source}`);
      const served = r.requests.filter((q) => q.status === 200 && !q.failedByTest);
      t.same(served.map((q) => q.url), [sourceUrl(c.source, c.email)], `the answer came from ${sourceUrl(c.source, c.email)}`);
      checkServer(t, r, c.expect.imap, result.mailAddresses, 'incoming');
      checkServer(t, r, c.expect.smtp, result.mailAddresses, 'outgoing');
      const expectedAddress = result.mailAddresses[c.expect.imap.host];
      t.same(r.connections.filter((x) => x.address !== expectedAddress).map((x) => `${x.address}:${x.port}`), [], 'no other mail host was contacted');
      t.same(r.connections.filter((x) => x.plaintextLogin), [], 'no login was tried before TLS');
      if (c.closedPorts) {
        const refused = [...new Set(r.connections.filter((x) => x.refused).map((x) => x.port))].sort();
        t.same(refused, [...c.closedPorts].sort(), `the core tried ${c.closedPorts.join(' and ')} first, then fell back to STARTTLS`);
      }
      t.ok(r.configured, 'the core considers the account configured');
    });
  }

  t.test('only loopback was contacted (strace -f -e trace=network on the core)', async (t) => {
    const seen = destinations(readFileSync(result.straceLog, 'utf8'));
    const foreign = seen.filter((d) => !isLoopback(d.address));
    t.same(foreign.map((d) => `${d.syscall} ${d.address}:${d.port}`), [], 'no destination outside 127.0.0.0/8 and ::1', {
      lines: foreign.slice(0, 20).map((d) => d.line),
    });
    t.ok(seen.some((d) => d.address === FRONT_ADDRESS && d.port === result.frontPort), `the trace saw the core connect to our front ${FRONT_ADDRESS}:${result.frontPort} (${seen.length} destinations in all)`);
    const mailAddresses = new Set(Object.values(result.mailAddresses));
    t.ok(seen.some((d) => mailAddresses.has(d.address)), 'and to the mail hosts');
  });

  t.test('the service logged no error', async (t) => {
    t.same(result.serviceErrors, [], 'no error-level log line');
  });

  t.test('the core was shut down and left no process behind', async (t) => {
    t.same(result.leftover, [], 'no process left when the runner checked');
    t.same(result.pids.filter(isAlive), [], `none of ${result.pids.join(', ')} is alive now`);
  });
}

function coreBinary(): string | undefined {
  try {
    const path = coreBinaryPath();
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

if (!coreBinary()) {
  t.plan(0, `the Delta Chat core is not installed (${CORE_PACKAGE}, a devDependency for linux-x64)`);
} else {
  await suite(t);
}
