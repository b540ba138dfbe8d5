// `npm run bench`: mailconf against a bare Fastify 5 baseline that sends the same bytes, in
// the same run, on the same Node, over loopback.
//
// 1. Starts the production build (`node dist/server.js`, bench/server.mjs) with production
//    settings: LOG_LEVEL=info written to a file, rate limiting on but with limits far above
//    what the run sends, the embedded SQLite directory (fresh demo data).
// 2. Captures mailconf's answer (status, content type, body bytes) for every scenario and
//    checks it (expected status, the exact host in the body); aborts if one is wrong.
// 3. Starts bench/baseline.mjs twice as child processes with those answers: bare (the
//    baseline) and with --production (the floor: pino's line per request and
//    @fastify/rate-limit, nothing else), and checks that both give byte-identical answers
//    with the same status and content type.
// 4. Loads all three with autocannon (as a library), interleaved per scenario and connection
//    count: a warm-up of each, then mailconf, floor, baseline, mailconf ... for ROUNDS rounds.
//
// Latency: every response's time as autocannon measures it (process.hrtime from the
// request's write to its complete response, a float in ms), taken from the instance's
// `response` event into a bounded Float64Array, sorted for exact p50/p99 (autocannon's own
// histogram has 1 ms buckets). CPU: utime+stime of each server's PID from /proc/<pid>/stat
// before and after each run (all its threads, clock ticks), divided by the responses.
//
// Knobs: --quick (1 round, 2 s per run, 0.5 s warm-up); environment BENCH_SECONDS (3),
// BENCH_ROUNDS (3), BENCH_CONNECTIONS (list, "10,100"). Writes the section
// "HTTP vs bare Fastify" of bench/RESULTS.md, keeping every other section.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { poxRequestBody } from '../dist/dialects/autodiscover-pox.js';
import { positive } from './knobs.mjs';
import { startListening, startServer } from './server.mjs';

const QUICK = process.argv.includes('--quick');
const SECONDS = positive('BENCH_SECONDS', QUICK ? 2 : 3);
const ROUNDS = positive('BENCH_ROUNDS', QUICK ? 1 : 3);
const WARMUP_S = QUICK ? 0.5 : 1;
const CONNECTIONS = (process.env.BENCH_CONNECTIONS || '10,100').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error('BENCH_CONNECTIONS: whole numbers 1-1000, comma-separated');
  return n;
});
if (ROUNDS > 20 || SECONDS > 60) throw new Error('BENCH_ROUNDS at most 20, BENCH_SECONDS at most 60');
const MAX_SAMPLES = 5_000_000; // per run; beyond this responses are counted but not timed
const RESULTS = new URL('./RESULTS.md', import.meta.url);
const SECTION = 'HTTP vs bare Fastify';

const NEW = 'hershop.mail.pairserver.com';
const OLD = 'mail123.pair.com';
const XML = 'text/xml; charset=utf-8';
// `expect`: status, strings the body must contain, strings it must not.
const SCENARIOS = [
  { name: 'autoconfig, address, old era', method: 'GET', path: '/mail/config-v1.1.xml?emailaddress=info%40oldtimer-shop.example', expect: { status: 200, has: [`<hostname>${OLD}</hostname>`], not: ['sales-oldtimer', 'pairserver'] } },
  { name: 'autoconfig, address, new era', method: 'GET', path: '/mail/config-v1.1.xml?emailaddress=jane%40her-shop.example', expect: { status: 200, has: [`<hostname>${NEW}</hostname>`], not: ['pair.com<'] } },
  { name: 'autoconfig, per-mailbox login', method: 'GET', path: '/mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example', expect: { status: 200, has: [`<hostname>${OLD}</hostname>`, '<username>sales-oldtimer</username>'], not: ['pairserver'] } },
  { name: 'autoconfig, Host only', method: 'GET', path: '/.well-known/autoconfig/mail/config-v1.1.xml', host: 'autoconfig.newbie.example', expect: { status: 200, has: ['<hostname>newbie.mail.pairserver.com</hostname>'], not: ['pair.com<'] } },
  { name: 'autodiscover POX', method: 'POST', path: '/autodiscover/autodiscover.xml', body: poxRequestBody('sales@oldtimer-shop.example'), expect: { status: 200, has: [`<Server>${OLD}</Server>`, '<LoginName>sales-oldtimer</LoginName>'], not: ['pairserver'] } },
  { name: 'autodiscover.json', method: 'GET', path: '/autodiscover/autodiscover.json?Email=jane%40her-shop.example&Protocol=AutodiscoverV1', expect: { status: 200, has: ['"Protocol":"AutodiscoverV1"', '/autodiscover/autodiscover.xml'] } },
  { name: 'settings JSON', method: 'GET', path: '/settings?emailaddress=jane%40her-shop.example', accept: 'application/json', expect: { status: 200, has: [`"${NEW}"`], type: 'application/json' } },
  { name: 'mobileconfig', method: 'GET', path: '/mobileconfig?emailaddress=jane%40her-shop.example', expect: { status: 200, has: [`<string>${NEW}</string>`] } },
  { name: 'unknown domain', method: 'GET', path: '/mail/config-v1.1.xml?emailaddress=x%40unknown.example', expect: { status: 404, not: ['pair.com<', 'pairserver'] } },
];

const headersOf = (s) => {
  const h = { host: s.host ?? '127.0.0.1', accept: s.accept ?? '*/*' };
  if (s.body !== undefined) h['content-type'] = XML;
  return h;
};

/** One request with node:http (no keep-alive); resolves { status, contentType, body: Buffer }. */
function fetchOnce(port, s) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: s.method, path: s.path, headers: headersOf(s), timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${s.method} ${s.path}`)));
    req.on('error', reject);
    req.end(s.body);
  });
}

function check(s, a) {
  const text = a.body.toString('utf8');
  const e = s.expect;
  const problems = [];
  if (a.status !== e.status) problems.push(`status ${a.status}, expected ${e.status}`);
  for (const h of e.has ?? []) if (!text.includes(h)) problems.push(`body lacks ${JSON.stringify(h)}`);
  for (const n of e.not ?? []) if (text.includes(n)) problems.push(`body contains ${JSON.stringify(n)}`);
  if (e.type && !a.contentType.startsWith(e.type)) problems.push(`content type ${a.contentType}, expected ${e.type}`);
  if (problems.length) {
    throw new Error(`scenario "${s.name}" gives a wrong answer: ${problems.join('; ')}\n--- body (first 600 bytes) ---\n${text.slice(0, 600)}`);
  }
}

/** The bare Fastify baseline serving the captured answers; `production`: the floor (baseline.mjs says what it adds), logging to `logFile`. */
function startBaseline(answersFile, { production = false, logFile } = {}) {
  return startListening([new URL('./baseline.mjs', import.meta.url).pathname, answersFile, ...(production ? ['--production'] : [])], {
    listening: /baseline listening on http:\/\/[^:]+:(\d+)/,
    what: production ? 'the floor' : 'the baseline',
    timeoutMs: 10_000,
    logFile,
  });
}

/** The issue's targets: req/s as a share of the baseline's, by scenario; p99 at 10 connections at most 2x. */
const targetOf = (s) => (s.name.startsWith('autoconfig') ? 0.8 : s.name.startsWith('autodiscover POX') ? 0.6 : 0.5);
const P99_TARGET = 2;

let TICK_MS = 10;
try { TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 10; } catch { /* default 100 Hz */ }
/** utime + stime of a process (all threads), in ms. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 on
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // fields 14 and 15
}
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Lines and bytes of a (possibly large) file, read in 1 MB chunks (at most 64 GB). */
function countLines(file) {
  let fd;
  try { fd = openSync(file, 'r'); } catch { return { lines: 0, bytes: 0 }; }
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < 65_536; i++) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      bytes += n;
      for (let k = buf.indexOf(10, 0); k !== -1 && k < n; k = buf.indexOf(10, k + 1)) lines++;
    }
  } finally { closeSync(fd); }
  return { lines, bytes };
}

const samples = new Float64Array(MAX_SAMPLES);
/** One autocannon run; returns req/s, exact p50/p99 (ms), CPU ms per request of `pid`. */
async function load(port, pid, s, connections, seconds) {
  let n = 0;
  let wrong = 0;
  let wrongStatus = 0;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const instance = autocannon({
    url: `http://127.0.0.1:${port}${s.path}`,
    method: s.method,
    headers: headersOf(s),
    body: s.body,
    connections,
    duration: seconds,
    timeout: 10,
  });
  const errorCodes = new Map();
  instance.on('reqError', (err) => errorCodes.set(err.code ?? err.message, (errorCodes.get(err.code ?? err.message) ?? 0) + 1));
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status !== s.expect.status) { wrong++; wrongStatus = status; }
    if (n < MAX_SAMPLES) samples[n] = ms;
    n++;
  });
  const result = await instance; // autocannon's instance is also a promise of its result
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuMs(pid) - cpu0;
  if (wrong > 0) throw new Error(`"${s.name}" at ${connections} connections: ${wrong} answers with status ${wrongStatus} instead of ${s.expect.status}`);
  if (result.errors > 0 || result.timeouts > 0) throw new Error(`"${s.name}" at ${connections} connections: ${result.errors} errors (${[...errorCodes].map(([c, k]) => `${c} x${k}`).join(', ')}), ${result.timeouts} timeouts, port ${port}`);
  if (n === 0) throw new Error(`"${s.name}": no responses`);
  const timed = samples.subarray(0, Math.min(n, MAX_SAMPLES)).sort();
  const pct = (p) => timed[Math.min(timed.length - 1, Math.ceil((p / 100) * timed.length) - 1)];
  return { rps: n / elapsed, p50: pct(50), p99: pct(99), cpuPerReq: cpu / n, n };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stat = (xs) => ({ med: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const range = (st, d = 0) => (ROUNDS > 1 ? `${f(st.med, d)} (${f(st.min, d)}-${f(st.max, d)})` : f(st.med, d));

async function main() {
  const started = Date.now();
  const tmp = mkdtempSync(join(os.tmpdir(), 'mailconf-compare-'));
  const logFile = join(tmp, 'mailconf.log');
  let mailconf;
  let baseline;
  let floor;
  const stopAll = async () => {
    await Promise.allSettled([mailconf?.stop(), baseline?.stop(), floor?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = () => { stopAll().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    mailconf = await startServer({ env: { LOG_LEVEL: 'info', RATE_LIMIT_MAX: '1000000', RATE_LIMIT_MISS_MAX: '1000000', RATE_LIMIT_WINDOW: '10 seconds', MAX_CONNECTIONS_PER_CLIENT: '1000' }, logFile });
    const answers = [];
    for (const s of SCENARIOS) {
      const a = await fetchOnce(mailconf.port, s);
      check(s, a);
      answers.push({ method: s.method, url: s.path, status: a.status, contentType: a.contentType, body: a.body.toString('base64'), bytes: a.body.length });
    }
    const answersFile = join(tmp, 'answers.json');
    writeFileSync(answersFile, JSON.stringify(answers));
    baseline = await startBaseline(answersFile);
    floor = await startBaseline(answersFile, { production: true, logFile: join(tmp, 'floor.log') });
    const basePort = baseline.port;
    for (const server of [baseline, floor]) {
      for (const [i, s] of SCENARIOS.entries()) {
        const b = await fetchOnce(server.port, s);
        const a = answers[i];
        if (b.status !== a.status || b.contentType !== a.contentType || b.body.toString('base64') !== a.body) {
          throw new Error(`the ${server === floor ? 'floor' : 'baseline'}'s answer for "${s.name}" differs from mailconf's (${b.status} ${b.contentType} ${b.body.length} B vs ${a.status} ${a.contentType} ${a.bytes} B)`);
        }
      }
    }
    const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
    const cores = os.cpus().length;
    const runs = SCENARIOS.length * CONNECTIONS.length * 3 * (1 + ROUNDS);
    const estimate = SCENARIOS.length * CONNECTIONS.length * 3 * (WARMUP_S + ROUNDS * SECONDS);
    console.log(`mailconf :${mailconf.port} (pid ${mailconf.pid}) vs floor :${floor.port} (pid ${floor.pid}) vs bare Fastify :${basePort} (pid ${baseline.pid}); ${cpuModel}, ${cores} cores, Node ${process.version}`);
    console.log(`${SCENARIOS.length} scenarios x ${CONNECTIONS.join('/')} connections, warm-up ${WARMUP_S} s, ${ROUNDS} round(s) A F B of ${SECONDS} s: ${runs} runs, ~${Math.ceil(estimate)} s\n`);

    const rows = [];
    for (const connections of CONNECTIONS) {
      for (const [i, s] of SCENARIOS.entries()) {
        await load(mailconf.port, mailconf.pid, s, connections, WARMUP_S);
        await load(floor.port, floor.pid, s, connections, WARMUP_S);
        await load(basePort, baseline.pid, s, connections, WARMUP_S);
        const A = [];
        const F = [];
        const B = [];
        for (let r = 0; r < ROUNDS; r++) {
          A.push(await load(mailconf.port, mailconf.pid, s, connections, SECONDS));
          F.push(await load(floor.port, floor.pid, s, connections, SECONDS));
          B.push(await load(basePort, baseline.pid, s, connections, SECONDS));
        }
        const row = {
          scenario: s.name, connections, bytes: answers[i].bytes, status: answers[i].status,
          a: { rps: stat(A.map((x) => x.rps)), p50: stat(A.map((x) => x.p50)), p99: stat(A.map((x) => x.p99)), cpu: stat(A.map((x) => x.cpuPerReq * 1000)) },
          b: { rps: stat(B.map((x) => x.rps)), p50: stat(B.map((x) => x.p50)), p99: stat(B.map((x) => x.p99)), cpu: stat(B.map((x) => x.cpuPerReq * 1000)) },
          f: { rps: stat(F.map((x) => x.rps)), p99: stat(F.map((x) => x.p99)), cpu: stat(F.map((x) => x.cpuPerReq * 1000)) },
          target: targetOf(s),
          // Ratios per round (each A with the F and B right after it), then their median.
          rpsRatio: stat(A.map((x, k) => x.rps / B[k].rps)),
          floorRatio: stat(F.map((x, k) => x.rps / B[k].rps)),
          ofFloor: stat(A.map((x, k) => x.rps / F[k].rps)),
          p99Ratio: stat(A.map((x, k) => x.p99 / B[k].p99)),
          cpuRatio: stat(A.map((x, k) => x.cpuPerReq / B[k].cpuPerReq)),
        };
        rows.push(row);
        console.log(`${s.name.padEnd(30)} c=${String(connections).padStart(3)}  mailconf ${f(row.a.rps.med).padStart(6)} req/s p99 ${f(row.a.p99.med, 2)} ms | floor ${f(row.f.rps.med).padStart(6)} | baseline ${f(row.b.rps.med).padStart(6)} req/s p99 ${f(row.b.p99.med, 2)} ms | ${f(row.rpsRatio.med, 2)}x (floor ${f(row.floorRatio.med, 2)}x), CPU/req ${f(row.cpuRatio.med, 1)}x`);
      }
    }
    const rss = rssMb(mailconf.pid);
    const { lines: logLines, bytes: logBytes } = countLines(logFile);
    const logMb = logBytes / 1e6;
    if (logLines === 0) console.warn('warning: mailconf wrote no log lines to its log file during the run');
    const baseRss = rssMb(baseline.pid);
    const floorRss = rssMb(floor.pid);
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    const date = new Date().toISOString().slice(0, 10);

    const met = (ok) => (ok ? 'met' : '**missed**');
    const header = ['scenario', 'conns', 'mailconf req/s', 'floor req/s', 'baseline req/s', 'ratio', 'target', 'floor ratio', 'mailconf / floor', 'mailconf p50 ms', 'mailconf p99 ms', 'floor p99 ms', 'baseline p99 ms', 'p99 ratio', 'CPU/req us mailconf', 'floor', 'baseline'];
    const table = rows.map((r) => [
      r.scenario, String(r.connections), range(r.a.rps), range(r.f.rps), range(r.b.rps), range(r.rpsRatio, 2),
      `${r.target}x: ${met(r.rpsRatio.med >= r.target)}`, range(r.floorRatio, 2), range(r.ofFloor, 2),
      range(r.a.p50, 2), range(r.a.p99, 2), range(r.f.p99, 2), range(r.b.p99, 2),
      r.connections === 10 ? `${range(r.p99Ratio, 2)} (${met(r.p99Ratio.med <= P99_TARGET)})` : range(r.p99Ratio, 2),
      range(r.a.cpu), range(r.f.cpu), range(r.b.cpu),
    ]);
    const md = [
      `### ${SECTION}, ${date}${QUICK ? ' (--quick)' : ''}`,
      '',
      `${cpuModel}, ${cores} cores, Node ${process.version}, ${os.platform()} ${os.release()}. \`npm run bench${QUICK ? ' -- --quick' : ''}\`: ${ROUNDS} round(s) of ${SECONDS} s per server, scenario and connection count after a ${WARMUP_S} s warm-up of each, interleaved (mailconf, floor, baseline, mailconf, ...); wall time ${minutes} min.`,
      '',
      'mailconf: the production build (`node dist/server.js`), LOG_LEVEL=info to a file, rate limiting on (limits 1,000,000 per 10 s window, never reached: every answer is checked for its status), MAX_CONNECTIONS_PER_CLIENT=1000 (all load comes from 127.0.0.1; the default 64 refuses the 100-connection runs), embedded SQLite directory with the demo data. Baseline: bare Fastify 5 (no logger, no plugins) in a child process on the same Node, sending the byte-identical answer mailconf gave, with the same status and content type, for the same method + URL. Floor: the same server plus only what the production settings cost before any lookup (`bench/baseline.mjs --production`): a pino logger writing one JSON line per request with the fields of mailconf\'s access log to a file, and @fastify/rate-limit with the same limits; no lookup, no rendering. It is the ceiling mailconf can reach with logging and rate limiting on. Load: autocannon 9 as a library in one process on loopback (it shares the 2 cores with the server under test, so the baseline figures are partly bounded by the load generator).',
      '',
      'Figures are medians over the rounds with min-max in brackets. Ratios are mailconf / baseline (\"ratio\"), floor / baseline and mailconf / floor per round (each mailconf run against the floor and baseline runs right after it), then their median; \"target\" is the issue\'s: 0.8x for autoconfig, 0.6x for POX, 0.5x for the rest, p99 at 10 connections at most 2x the baseline\'s. p50/p99: exact, from every response time autocannon measured (hrtime, write to complete response) recorded from its `response` event, sorted. CPU per request: utime+stime of the server process from /proc/<pid>/stat (all threads, 10 ms ticks) before and after each run, divided by its responses.',
      '',
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...table.map((c) => `| ${c.join(' | ')} |`),
      '',
      `RSS at the end: mailconf ${f(rss, 1)} MB, floor ${f(floorRss, 1)} MB, baseline ${f(baseRss, 1)} MB. mailconf's log: ${logLines} lines, ${f(logMb, 1)} MB. Answer sizes (bytes): ${rows.filter((r) => r.connections === CONNECTIONS[0]).map((r) => `${r.scenario} ${r.bytes}`).join(', ')}.`,
      '',
    ].join('\n');

    console.log('');
    console.table(rows.map((r, k) => Object.fromEntries(header.map((h, j) => [h, table[k][j]]))));
    console.log(`RSS at the end: mailconf ${f(rss, 1)} MB, baseline ${f(baseRss, 1)} MB; mailconf's log ${logLines} lines (${f(logMb, 1)} MB); wall time ${minutes} min`);
    writeSection(md);
    console.log(`wrote the "${SECTION}" section of bench/RESULTS.md`);
  } finally {
    await stopAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Replaces the section `### HTTP vs bare Fastify...` (up to the next `### `), or inserts it before the first `### `. */
function writeSection(md) {
  let text = '# Benchmark results\n\n';
  try { text = readFileSync(RESULTS, 'utf8'); } catch { /* a new file */ }
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`### ${SECTION}`));
  let out;
  if (start >= 0) {
    let end = lines.findIndex((l, k) => k > start && l.startsWith('### '));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...md.split('\n'), ...lines.slice(end)];
  } else {
    let at = lines.findIndex((l) => l.startsWith('### '));
    if (at < 0) at = lines.length;
    out = [...lines.slice(0, at), ...md.split('\n'), ...lines.slice(at)];
  }
  writeFileSync(RESULTS, out.join('\n').replace(/\n{3,}/g, '\n\n'));
}

await main();
