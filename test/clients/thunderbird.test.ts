// A real Thunderbird reads our answers. One headless Thunderbird 153 (Debian's package),
// inside a network namespace that holds only loopback and under strace, asks our service
// for every fixture address through its own account-setup code, and we assert what it
// understood: the era host, IMAP 993 SSL in, SMTP 465 SSL out, the right login; over HTTP
// and over HTTPS with a test CA; by autoconfig.<domain>, by <domain>/.well-known/ and by
// Outlook AutoDiscover; and no config at all where there is none to give.
// Skipped, with the reason, when Thunderbird is not installed. Alone: `npm run test:clients`.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { readAutoconfig } from '../support/autoconfig-clients.js';
import { readAutodiscover } from '../support/autodiscover-clients.js';
import { CLIENT_CASES, PUBLIC_URL, SERVICE_BASE_DOMAIN, SERVICE_HOST, type ClientCase } from './fixtures.js';
import { missingTools, REQUIRED_TOOLS } from './netns.js';
import type { ConfigReading, ProbeResult, ServerReading } from './probes.js';
import type { RecordedRequest } from './service.js';
import { destinations, isLoopback } from './strace.js';
import type { Phase, ProbeRecord, RunResult } from './run-result.js';
import { runInNamespace, type RunnerOutcome } from './runner.js';
import { isAlive, testPrefs, THUNDERBIRD_LAUNCHER, thunderbirdBinary } from './thunderbird.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The whole run (Thunderbird start, about 120 lookups, shutdown) must take well under a minute. */
const RUN_BUDGET_MS = 60_000;
/** After this, the run is killed (by PID) and the suite fails. */
const RUN_TIMEOUT_MS = 100_000;

// ---------------------------------------------------------------------------------------
// Running Thunderbird (in the namespace) and collecting what it understood.

function runThunderbird(workDir: string): Promise<RunnerOutcome<RunResult>> {
  return runInNamespace<RunResult>(workDir, join(here, 'thunderbird-run.ts'), RUN_TIMEOUT_MS);
}

// ---------------------------------------------------------------------------------------
// Expectations.

const GOOD_SOCKETS = ['SSL', 'alwaysSTARTTLS'];

/** The era host, port, TLS mode, password authentication and login Thunderbird must use. */
function checkServer(t: Test, s: ServerReading | undefined, want: { type: string; port: number; socketType: string }, c: ClientCase, what: string): void {
  const exp = c.expect!;
  t.same(
    s && { type: s.type, hostname: s.hostname, port: s.port, socketType: s.socketType, auth: s.auth, username: s.username },
    { ...want, hostname: exp.host, auth: 'passwordCleartext', username: exp.login },
    `${what}: ${want.type} ${exp.host}:${want.port} ${want.socketType}, password, login ${exp.login}`,
  );
}

/** Every other server Thunderbird offers: same host and login, TLS, never port 25. */
function checkAlternatives(t: Test, list: ServerReading[], c: ClientCase, what: string): void {
  const exp = c.expect!;
  const bad = list.filter(
    (s) => s.hostname !== exp.host || s.username !== exp.login || !GOOD_SOCKETS.includes(s.socketType) || s.auth !== 'passwordCleartext' || s.port === 25,
  );
  t.same(bad, [], `${what}: every alternative uses ${exp.host}, login ${exp.login}, TLS, password`);
}

function checkConfig(t: Test, result: ProbeResult, c: ClientCase, subSource: string, what: string): ConfigReading | undefined {
  const config = result.config;
  if (!config) {
    t.fail(`${what}: Thunderbird found a config`, { error: result.error ?? null });
    return undefined;
  }
  t.equal(config.subSource, subSource, `${what}: config from ${subSource}`);
  t.ok(config.complete, `${what}: Thunderbird considers the config complete`);
  checkServer(t, config.incoming, { type: 'imap', port: 993, socketType: 'SSL' }, c, `${what}: incoming`);
  checkServer(t, config.outgoing, { type: 'smtp', port: 465, socketType: 'SSL' }, c, `${what}: outgoing`);
  checkAlternatives(t, config.incomingAlternatives, c, `${what}: incoming alternatives`);
  checkAlternatives(t, config.outgoingAlternatives, c, `${what}: outgoing alternatives`);
  return config;
}

function checkNoConfig(t: Test, result: ProbeResult, what: string): void {
  t.ok(result.error || result.config === null, `${what}: Thunderbird finds no config and moves on`, { config: result.config ?? null });
}

/**
 * The request a single-URL probe made, as our service saw it. Under load a straggler from
 * the previous probe can land in this probe's window, and Thunderbird may retry a request
 * whose connection dropped: so only requests for this URL count, all must get the same
 * answer, and the last one is the one Thunderbird read.
 */
function requestsFor(record: ProbeRecord): RecordedRequest[] {
  if (record.probe.kind !== 'url') return [];
  const url = new URL(record.probe.url);
  return record.requests.filter((r) => {
    const seen = new URL(r.url, `${r.scheme}://${r.host}`);
    return `${r.scheme}:` === url.protocol && r.host === url.host && seen.pathname === url.pathname;
  });
}

function checkSingleRequest(t: Test, record: ProbeRecord, c: ClientCase, status: number): RecordedRequest | undefined {
  if (record.probe.kind !== 'url') return undefined;
  const url = new URL(record.probe.url);
  const mine = requestsFor(record);
  t.ok(mine.length >= 1, `${record.probe.url}: the request reached the service`, { requests: record.requests });
  t.same(new Set(mine.map((r) => r.status)), new Set([status]), `${record.probe.url}: every attempt answered ${status}`);
  const req = mine.at(-1);
  if (!req) return undefined;
  const seen = new URL(req.url, `${req.scheme}://${req.host}`);
  t.same(
    { scheme: req.scheme, host: req.host, path: seen.pathname, emailaddress: seen.searchParams.get('emailaddress'), status: req.status },
    { scheme: url.protocol.slice(0, -1), host: url.host, path: url.pathname, emailaddress: c.email, status },
    `${record.probe.url}: the service saw ${url.protocol}//${url.host}${url.pathname}?emailaddress=${c.email} and answered ${status}`,
  );
  if (req.scheme === 'https') t.equal(req.sni, url.hostname, `${record.probe.url}: TLS server name ${url.hostname}`);
  return req;
}

// The in-repo checker's words for what Thunderbird calls its enums.
const SOCKET: Record<string, string> = { SSL: 'SSL', alwaysSTARTTLS: 'STARTTLS', plain: 'plain' };
const AUTH: Record<string, string> = { passwordCleartext: 'password-cleartext', secure: 'secure', passwordEncrypted: 'password-encrypted', OAuth2: 'OAuth2' };
const normal = (s: { type: string | null; hostname: string | null; port: number | null; socketType: string; auth: string; username: string | null }) => ({
  type: String(s.type).toLowerCase(),
  hostname: s.hostname,
  port: s.port,
  socketType: SOCKET[s.socketType] ?? s.socketType,
  auth: AUTH[s.auth] ?? s.auth,
  username: s.username,
});
const view = (c: { incoming: ServerReading; incomingAlternatives: ServerReading[]; outgoing: ServerReading; outgoingAlternatives: ServerReading[] }) => ({
  incoming: normal(c.incoming),
  incomingAlternatives: c.incomingAlternatives.map(normal),
  outgoing: normal(c.outgoing),
  outgoingAlternatives: c.outgoingAlternatives.map(normal),
});

/** The in-repo checker (test/support/autoconfig-clients.ts, autodiscover-clients.ts) must read the same bytes as Thunderbird did. */
function crossCheckAutoconfig(t: Test, body: string, email: string, config: ConfigReading, what: string): void {
  const reading = readAutoconfig(body, email);
  t.same(reading.problems, [], `${what}: the in-repo checker finds no problem in the answer Thunderbird read`);
  const tb = reading.clients.thunderbird;
  const mine = (s: typeof tb.incoming) => s && normal({ ...s, auth: s.authentication === 'password-cleartext' ? 'passwordCleartext' : s.authentication, socketType: s.socketType === 'STARTTLS' ? 'alwaysSTARTTLS' : s.socketType });
  t.same(
    { incoming: mine(tb.incoming), incomingAlternatives: tb.incomingAlternatives.map(mine), outgoing: mine(tb.outgoing), outgoingAlternatives: tb.outgoingAlternatives.map(mine) },
    view(config),
    `${what}: the in-repo checker's Thunderbird model agrees with Thunderbird`,
  );
}

function crossCheckAutodiscover(t: Test, body: string, email: string, config: ConfigReading, what: string): void {
  const reading = readAutodiscover(body, email);
  t.same(reading.problems, [], `${what}: the in-repo checker finds no problem in the answer Thunderbird read`);
  const tb = reading.thunderbird;
  const mine = (s: typeof tb.incoming) =>
    s && normal({ type: s.type, hostname: s.server, port: s.port, socketType: s.socketType === 'STARTTLS' ? 'alwaysSTARTTLS' : s.socketType, auth: s.auth === 'password-cleartext' ? 'passwordCleartext' : s.auth, username: s.username });
  t.same(
    { incoming: mine(tb.incoming), incomingAlternatives: tb.incomingAlternatives.map(mine), outgoing: mine(tb.outgoing), outgoingAlternatives: tb.outgoingAlternatives.map(mine) },
    view(config),
    `${what}: the in-repo checker's Thunderbird model agrees with Thunderbird`,
  );
}

// ---------------------------------------------------------------------------------------

async function suite(t: Test): Promise<void> {
  const missing = missingTools();
  if (missing.length > 0) {
    t.fail(`the client suite needs ${missing.join(', ')} (Debian: ${missing.map((m) => REQUIRED_TOOLS[m]).join(' ')})`);
    return;
  }
  const workDir = mkdtempSync(join(tmpdir(), 'mailconf-thunderbird-'));
  // MAILCONF_KEEP_CLIENT_RUN=1 keeps the profile, certificates, strace log and Thunderbird's output.
  if (process.env.MAILCONF_KEEP_CLIENT_RUN) t.comment(`run kept in ${workDir}`);
  else t.teardown(() => rmSync(workDir, { recursive: true, force: true }));

  const run = await runThunderbird(workDir);
  const { result } = run;
  if (!result || run.code !== 0) {
    const tbLog = join(workDir, 'thunderbird.log');
    t.fail('Thunderbird ran and reported what it understood', {
      exitCode: run.code,
      stderr: run.stderr.slice(-4000),
      thunderbird: existsSync(tbLog) ? readFileSync(tbLog, 'utf8').slice(-4000) : '(no output)',
    });
    return;
  }
  t.comment(`${result.app.name} ${result.app.version}: ${result.probes.length} lookups in ${run.ms} ms (start ${result.timings.thunderbird} ms)`);
  t.ok(run.ms < RUN_BUDGET_MS, `the whole run took ${run.ms} ms, under ${RUN_BUDGET_MS} ms`);

  const byPhase = (phase: Phase, email: string) => result.probes.filter((p) => p.phase === phase && p.email === email);

  t.test('Thunderbird runs headless with our preferences', async (t) => {
    t.equal(result.app.name, 'Thunderbird');
    t.match(result.app.version, /^\d+\./, `version ${result.app.version}`);
    const prefs = testPrefs(result.ports);
    for (const [name, value] of Object.entries(result.prefs)) {
      if (name in prefs) t.equal(value, prefs[name], `${name} = ${JSON.stringify(prefs[name])}`);
    }
    t.equal(result.prefs['mailnews.auto_config.fetchFromISP.sendEmailAddress'], true, 'Thunderbird sends the address to the ISP (its default)');
    t.equal(result.prefs['mailnews.auto_config.fetchFromISP.sslOnly'], false, 'Thunderbird falls back to plain HTTP (its default)');
  });

  t.test('HTTPS is real: before the test CA is trusted, Thunderbird refuses our certificate', async (t) => {
    const [untrusted] = result.probes.filter((p) => p.phase === 'untrusted-ca');
    t.ok(untrusted?.result.error, 'the HTTPS autoconfig URL fails', { result: untrusted?.result });
    t.same(untrusted?.requests.filter((r) => r.scheme === 'https'), [], 'no HTTPS request got through');
  });

  for (const c of CLIENT_CASES) {
    t.test(`${c.email} (${c.label})`, async (t) => {
      const trusted = byPhase('trusted', c.email);
      const urls = trusted.filter((p) => p.probe.kind === 'url');
      const isp = trusted.find((p) => p.probe.kind === 'isp');
      const exchange = trusted.find((p) => p.probe.kind === 'exchange');
      const hub = trusted.find((p) => p.probe.kind === 'hub');
      t.equal(urls.length, 4, 'four autoconfig URLs asked');
      t.ok(isp && exchange && hub, 'FetchConfig.fromISP, Exchange AutoDiscover and the Account Hub asked');

      if (!c.expect) {
        for (const p of urls) {
          checkNoConfig(t, p.result, p.probe.kind === 'url' ? p.probe.url : '');
          const statuses = requestsFor(p).map((r) => r.status);
          t.ok(statuses.length > 0 && statuses.every((s) => s === 404 || s === 500), `${p.probe.kind === 'url' ? p.probe.url : ''}: answered ${statuses.join(', ')}, not a 200 that would hide other sources`);
        }
        if (isp) checkNoConfig(t, isp.result, 'FetchConfig.fromISP');
        if (exchange) checkNoConfig(t, exchange.result, 'Exchange AutoDiscover');
        if (hub) checkNoConfig(t, hub.result, 'Account Hub discovery');
        return;
      }

      for (const p of urls) {
        if (p.probe.kind !== 'url') continue;
        const what = p.probe.url;
        const config = checkConfig(t, p.result, c, `xml-from-${p.probe.source}`, what);
        const req = checkSingleRequest(t, p, c, 200);
        t.match(req?.contentType ?? '', /^text\/xml/, `${what}: Content-Type text/xml, as Thunderbird requires`);
        if (config && req?.body) crossCheckAutoconfig(t, req.body, c.email, config, what);
      }
      if (isp) checkConfig(t, isp.result, c, 'xml-from-isp-https', 'FetchConfig.fromISP (HTTPS autoconfig wins)');
      if (exchange) {
        const config = checkConfig(t, exchange.result, c, 'exchange-from-url1', 'Exchange AutoDiscover');
        const post = exchange.requests.find((r) => r.method === 'POST' && r.scheme === 'https' && r.host === `autodiscover.${c.domain}` && r.status === 200);
        t.ok(post, `Exchange AutoDiscover: POST https://autodiscover.${c.domain}/autodiscover/autodiscover.xml answered 200`);
        if (config && post?.body) crossCheckAutodiscover(t, post.body, c.email, config, 'Exchange AutoDiscover');
      }
      if (hub) {
        checkConfig(t, hub.result, c, 'xml-from-isp-https', 'Account Hub discovery (autoconfig before Exchange)');
        t.same(hub.result.confirmations, [], 'Account Hub discovery: nothing to confirm, the user is not asked');
      }
      if (exchange) t.same(exchange.result.confirmations, [], 'Exchange AutoDiscover over HTTPS: the user is not asked');

      const noAd = byPhase('no-autodiscover-tls', c.email).find((p) => p.probe.kind === 'exchange');
      if (noAd) checkConfig(t, noAd.result, c, 'exchange-from-url2', `Exchange AutoDiscover without TLS on autodiscover.${c.domain}: https://${c.domain}/autodiscover`);

      const noTls = byPhase('no-customer-tls', c.email);
      const httpIsp = noTls.find((p) => p.probe.kind === 'isp');
      if (httpIsp) checkConfig(t, httpIsp.result, c, 'xml-from-isp-http', 'FetchConfig.fromISP without TLS on the customer names: plain HTTP');
      const httpExchange = noTls.find((p) => p.probe.kind === 'exchange');
      if (httpExchange) {
        // Outlook's HTTP redirect method: http://autodiscover.<domain> answers 302 to our own
        // HTTPS name; Thunderbird asks the user before it sends the password to another
        // domain, then POSTs there. Its XMLHttpRequest first follows the 302 as a GET, and it
        // only POSTs again when that GET fails.
        const what = `Exchange AutoDiscover without TLS on the customer names: http://autodiscover.${c.domain}, redirected to ${PUBLIC_URL}`;
        const followed = httpExchange.requests.filter((r) => r.scheme === 'https' && r.host === SERVICE_HOST && r.method === 'GET');
        const config = checkConfig(t, httpExchange.result, c, 'exchange-from-url3', what);
        if (!config && followed.some((r) => r.status === 200)) {
          t.comment(`the redirected GET on ${SERVICE_HOST} answered 200: Thunderbird takes that document as the answer and never POSTs again`);
        }
        t.same(httpExchange.result.confirmations, [{ host: SERVICE_BASE_DOMAIN, scheme: 'https', accepted: true }], `${what}: Thunderbird asked the user once, about ${SERVICE_BASE_DOMAIN}`);
      }
    });
  }

  t.test('only loopback was contacted (strace -f -e trace=network on Thunderbird)', async (t) => {
    const log = readFileSync(result.straceLog, 'utf8');
    const seen = destinations(log);
    const foreign = seen.filter((d) => !isLoopback(d.address));
    t.same(foreign.map((d) => `${d.syscall} ${d.address}:${d.port}`), [], 'no destination outside 127.0.0.0/8 and ::1', {
      lines: foreign.slice(0, 20).map((d) => d.line),
    });
    const ports = new Set(seen.map((d) => d.port));
    t.ok(ports.has(result.ports.http) && ports.has(result.ports.https), `the trace saw Thunderbird connect to our ports ${result.ports.http} and ${result.ports.https} (${seen.length} destinations in all)`);
    t.ok(ports.has(53), 'the trace saw the system resolver (SRV/MX lookups) go to 127.0.0.1:53');
  });

  t.test('the service logged no unexpected error', async (t) => {
    const unexpected = result.serviceErrors.filter((l) => !String(l.msg).startsWith('account noserver: '));
    t.same(unexpected, [], 'only the deliberate data error of the broken-old.example fixture');
  });

  t.test('Thunderbird was shut down through Marionette and left no process behind', async (t) => {
    t.ok(result.shutdown.quitViaMarionette, 'Marionette:Quit answered');
    t.same(result.shutdown.killed, [], 'nothing had to be killed');
    t.same(result.shutdown.leftover, [], 'no process left when the runner checked');
    t.same(result.pids.filter(isAlive), [], `none of ${result.pids.join(', ')} is alive now`);
  });
}

if (!thunderbirdBinary()) {
  const why = process.env.THUNDERBIRD ? `THUNDERBIRD=${process.env.THUNDERBIRD} does not exist` : `${THUNDERBIRD_LAUNCHER} is missing`;
  t.plan(0, `thunderbird not installed (${why}; Debian: apt-get install thunderbird)`);
} else {
  await suite(t);
}
