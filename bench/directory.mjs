// `npm run bench:directory`: the account directory at provider scale, SQLite and then
// PostgreSQL, through the production entry points (the `mailconf` command and the built
// server), compared with a 10-domain directory on the same machine in the same run.
//
// 1. Writes two import files (bench/directory-data.mjs, seeded PRNG: the same bytes every
//    run) to a temporary folder: 10 domains and BENCH_DOMAINS domains (1,000,000).
// 2. Imports each: `node bin/mailconf.js import FILE` as a child process (PostgreSQL: into a
//    throw-away database made for the run, after `mailconf migrate`). Wall time from spawn to
//    exit; peak memory as VmHWM from /proc/<pid>/status, polled every 50 ms, and read once
//    more by the child itself at exit (a `--require` preload that only reads /proc/self/
//    status in process.on('exit')); the larger is reported. Then the directory's size on
//    disk (SQLite: the file plus -wal/-shm; PostgreSQL: pg_database_size).
// 3. Cold start: spawns the production server (`node dist/server.js`, as bench/server.mjs
//    starts it, with the other benches' environment) on each directory BENCH_STARTS times, interleaved
//    (10, large, 10, large, ...), and times spawn -> its "listening" line and spawn -> the
//    first autoconfig answer with the expected <hostname> (polled every 10 ms). VmRSS right
//    after that first answer. The last server of each size stays up for step 4.
// 4. Loads both servers with autocannon (as a library) in two request patterns, the same
//    for both servers so that only the directory's size differs between them:
//    - spread: each server cycles through as many distinct addresses as there are probes
//      (about BENCH_PROBES): the large one through its probes (domains drawn uniformly from
//      the file and shuffled by the generator's own PRNG), the 10-domain one through the
//      same number of distinct local parts spread over its 10 domains (directory-data.mjs
//      addressesOver(): its stored mailboxes and made-up local parts it never stores). The
//      list wraps only after that many requests, so the answer cache, SQLite's lookup memo
//      and the PostgreSQL directory cache seldom hit on either. The target is judged on it.
//    - hot set: each server cycles through the first BENCH_HOT (1000) addresses of its
//      spread list, over and over, as real clients ask again for the same mailboxes: the
//      caches answer nearly everything on both.
//    Before timing, the host and login of a sample of answers is checked (the 10 domains'
//    probes, every stored mailbox of the 10-domain list, 500 spread over each spread list,
//    100 over each hot set). Per pattern: a warm-up of each server, then BENCH_ROUNDS rounds
//    of 10, large, each BENCH_SECONDS long, one cursor per server and pattern that carries on
//    across runs. Every answer's status is checked; the answer cache's (and PostgreSQL's
//    directory cache's) hits and misses are read from /metrics around each pattern. Memory
//    (VmRSS, VmHWM; heap used, heap total, external from /metrics) after start and after
//    each pattern.
// 5. SQLite only: the in-process lookup micro-benchmark (SqliteDirectory.findByDomain etc.
//    on the large file, one awaited call per lookup as the endpoints make them).
// Tables go to stdout; the section "Directory at scale, <date>" of bench/RESULTS.md is
// written (every other section is kept as it is).
//
// Knobs (environment): BENCH_DOMAINS (1000000), BENCH_SECONDS (3), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS (10), BENCH_PROBES (200000), BENCH_HOT (1000, at most BENCH_PROBES),
// BENCH_STARTS (3), BENCH_LOOKUPS per kind (200000), BENCH_SEED (1), BENCH_POSTGRES=0
// (skip PostgreSQL), BENCH_POSTGRES_URL (else
// MAILCONF_TEST_POSTGRES, else postgres://root@127.0.0.1:5432/postgres: a loopback server
// where this user may CREATE DATABASE).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { SqliteDirectory } from '../dist/directory/sqlite.js';
import { addressesOver, prng, word, writeAccountsFile } from './directory-data.mjs';
import { positive } from './knobs.mjs';

const DOMAINS = positive('BENCH_DOMAINS', 1_000_000);
const SMALL = 10;
const SECONDS = positive('BENCH_SECONDS', 3);
const ROUNDS = positive('BENCH_ROUNDS', 3);
const CONNECTIONS = positive('BENCH_CONNECTIONS', 10);
const PROBES = positive('BENCH_PROBES', 200_000);
const HOT = positive('BENCH_HOT', 1000);
const STARTS = positive('BENCH_STARTS', 3);
const LOOKUPS = positive('BENCH_LOOKUPS', 200_000);
const SEED = positive('BENCH_SEED', 1);
const WARMUP_S = 1;
const CHECKS = 500; // answers checked over each server's spread list before timing
const HOT_CHECKS = 100; // and over each hot set
if (process.env.BENCH_POSTGRES !== undefined && !['0', '1', ''].includes(process.env.BENCH_POSTGRES)) throw new Error('BENCH_POSTGRES: 0 (skip PostgreSQL) or 1');
const WITH_POSTGRES = process.env.BENCH_POSTGRES !== '0';
const POSTGRES_SERVER = process.env.BENCH_POSTGRES_URL || process.env.MAILCONF_TEST_POSTGRES || 'postgres://root@127.0.0.1:5432/postgres';
if (DOMAINS < SMALL || DOMAINS > 10_000_000) throw new Error(`BENCH_DOMAINS: ${SMALL} to 10000000`);
if (ROUNDS > 20 || SECONDS > 60 || CONNECTIONS > 1000 || STARTS > 10) throw new Error('BENCH_ROUNDS at most 20, BENCH_SECONDS at most 60, BENCH_CONNECTIONS at most 1000, BENCH_STARTS at most 10');
if (PROBES > 2_000_000 || LOOKUPS > 5_000_000) throw new Error('BENCH_PROBES at most 2000000, BENCH_LOOKUPS at most 5000000');
if (HOT > PROBES) throw new Error('BENCH_HOT at most BENCH_PROBES');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'mailconf.js');
const SERVER = join(ROOT, 'dist', 'server.js');
const RESULTS = new URL('./RESULTS.md', import.meta.url);
const SECTION = 'Directory at scale';
const SECRET = 'bench-directory-secret-0123456789abcdef';
const MAX_SAMPLES = 5_000_000; // latencies kept per run; beyond this responses are counted only
// Bounds on every wait: an import gets 2 minutes plus 0.6 ms per domain (10 min at 1,000,000).
const IMPORT_TIMEOUT_MS = 120_000 + DOMAINS * 0.6;
const START_TIMEOUT_MS = 60_000;
const FIRST_ANSWER_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------- small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const mb = (bytes) => bytes / 1024 / 1024;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stat = (xs) => ({ med: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length });
const range = (st, d = 0) => (st.n > 1 ? `${f(st.med, d)} (${f(st.min, d)}-${f(st.max, d)})` : f(st.med, d));
const ms = (x) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), or NaN once the process has gone. */
function statusKb(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}
const statusMb = (pid, field) => statusKb(pid, field) / 1024;

let TICK_MS = 10;
try { TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 10; } catch { /* default 100 Hz */ }
/** utime + stime of a process (all threads), in ms. */
function cpuMs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Columns left-aligned up to `left` (the first by default), the others right-aligned. */
function textTable(rows, header, left = 1) {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, j) => Math.max(...cells.map((r) => r[j].length)));
  const line = (r) => r.map((c, j) => (j < left ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
const mdTable = (rows, header) => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

// ---------------------------------------------------------------- cleanup of what this run started

const live = new Set(); // children and servers: { stop() }
const databases = []; // PostgreSQL databases made by this run
let admin; // pg.Client on POSTGRES_SERVER's maintenance database
let tmp;

let cleaning;
/** Stops every child, drops the databases and removes the folder this run made; once, whoever asks first. */
function cleanup() {
  cleaning ??= doCleanup();
  return cleaning;
}
/** Throws once the run is being stopped: nothing new is started after cleanup began. */
function guard() {
  if (cleaning) throw new Error('the run is stopping');
}
async function doCleanup() {
  await Promise.allSettled([...live].map((x) => x.stop()));
  live.clear();
  if (admin) {
    for (const name of databases.splice(0)) {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err) => console.error(`could not drop database ${name}: ${err.message}`));
    }
    await admin.end().catch(() => undefined);
    admin = undefined;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}

// ---------------------------------------------------------------- the mailconf command

/** Reads VmHWM from inside the child as it exits (it only reads /proc/self/status). */
const PRELOAD = `const fs = require('node:fs');
process.on('exit', () => {
  try {
    const m = /VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m && process.env.BENCH_HWM_FILE) fs.writeFileSync(process.env.BENCH_HWM_FILE, m[1]);
  } catch {}
});
`;
let cliRuns = 0;

/**
 * `node bin/mailconf.js ...args` with `env` laid over this process's; resolves with its wall
 * time (spawn to exit), peak memory (MB: the larger of the 50 ms polls and the exit reading)
 * and output. A non-zero exit, or a run longer than `timeoutMs`, is an error.
 */
async function mailconf(args, env, timeoutMs) {
  const hwmFile = join(tmp, `hwm-${++cliRuns}.txt`);
  const preload = join(tmp, 'hwm-preload.cjs');
  if (!existsSync(preload)) writeFileSync(preload, PRELOAD);
  guard();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--require', preload, BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, BENCH_HWM_FILE: hwmFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const closed = new Promise((resolve) => child.once('close', resolve)); // its output read to the end
  const entry = { stop: async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; } } };
  live.add(entry);
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { if (out.length < 100_000) out += c; });
  child.stderr.on('data', (c) => { if (err.length < 100_000) err += c; });
  let polled = 0;
  let polls = 0;
  const poll = () => {
    const kb = statusKb(child.pid, 'VmHWM');
    if (kb > polled) polled = kb;
    polls++;
  };
  const poller = setInterval(poll, 50);
  let timedOut = false;
  const killer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
  const { code, signal, at } = await exited;
  clearInterval(poller);
  clearTimeout(killer);
  live.delete(entry);
  await Promise.race([closed, sleep(5000)]);
  const what = `mailconf ${args.join(' ')}`;
  if (timedOut) throw new Error(`${what} took longer than ${Math.round(timeoutMs / 1000)} s and was killed\n${err}`);
  if (code !== 0) throw new Error(`${what} failed (${signal ?? `exit ${code}`}):\n${err || out}`);
  let atExit = NaN;
  try { atExit = Number(readFileSync(hwmFile, 'utf8')); } catch { /* no reading */ }
  const peakKb = Math.max(polled, Number.isFinite(atExit) ? atExit : 0);
  return { wallMs: at - t0, peakMb: peakKb / 1024, polledMb: polled / 1024, atExitMb: atExit / 1024, polls, out: out.trim() };
}

// ---------------------------------------------------------------- HTTP

const HEADERS = { host: '127.0.0.1', accept: '*/*' };
const pathOf = (address) => `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(address)}`;

/** One GET on a fresh connection; resolves { status, body }. */
function get(port, path, agent = false) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: HEADERS, agent, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on GET ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

/** What is wrong with an autoconfig answer for `probe` (empty when it is right). */
function problemsOf(probe, answer) {
  const problems = [];
  if (answer.status !== 200) problems.push(`status ${answer.status}`);
  if (!answer.body.includes(`<hostname>${probe.host}</hostname>`)) problems.push(`no <hostname>${probe.host}</hostname>`);
  if (!answer.body.includes(`<username>${probe.login}</username>`)) problems.push(`no <username>${probe.login}</username>`);
  return problems;
}

const serverEnv = (directoryUrl) => ({
  ...process.env,
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  MAX_CONNECTIONS_PER_CLIENT: '1000',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_MISS_MAX: '1000000',
  RATE_LIMIT_WINDOW: '10 seconds',
  MAILCONF_DIRECTORY: directoryUrl,
  MAILCONF_SECRET: SECRET,
});

/**
 * Spawns `node dist/server.js` with `env` and waits (at most START_TIMEOUT_MS) for its
 * "listening on http://host:PORT" line; after it, stdout goes to `logFile`. The child is
 * known to cleanup() from the spawn on. `stop()` ends it by its PID: SIGTERM, SIGKILL 5 s later.
 */
async function startServer(env, logFile, what) {
  guard();
  const child = spawn(process.execPath, [SERVER], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const server = {
    pid: child.pid,
    port: 0,
    stop: async () => {
      live.delete(server);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(force);
      }
    },
  };
  live.add(server);
  try {
    server.port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${what} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /mailconf listening on http:\/\/[^:]+:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          child.stdout.removeAllListeners('data');
          child.stdout.pipe(createWriteStream(logFile));
          resolve(Number(match[1]));
        } else if (out.length > 1_000_000) {
          out = out.slice(-10_000);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited (${signal ?? code}) before listening`));
      });
    });
    return server;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

let serverRuns = 0;
/**
 * Spawns the production server on `directoryUrl` and times spawn -> listening line -> first
 * right answer for `probe`. Resolves with the running server (stopped by the caller).
 */
async function coldStart(directoryUrl, probe, label) {
  const logFile = join(tmp, `server-${++serverRuns}.log`);
  const t0 = performance.now();
  const server = await startServer(serverEnv(directoryUrl), logFile, `the server on the ${label} directory`);
  const listeningMs = performance.now() - t0;
  const path = pathOf(probe.address);
  let last = 'no answer';
  for (let attempt = 0; attempt < 3000 && performance.now() - t0 < FIRST_ANSWER_TIMEOUT_MS; attempt++) {
    guard();
    try {
      const answer = await get(server.port, path);
      const problems = problemsOf(probe, answer);
      if (problems.length === 0) {
        const firstMs = performance.now() - t0;
        return { server, listeningMs, firstMs, rssMb: statusMb(server.pid, 'VmRSS') };
      }
      last = problems.join('; ');
    } catch (err) {
      last = err.message;
    }
    await sleep(10);
  }
  await server.stop();
  throw new Error(`the server on the ${label} directory gave no right answer for ${probe.address} within ${FIRST_ANSWER_TIMEOUT_MS / 1000} s: ${last}`);
}
const stopServer = (server) => server.stop();

/** Checks `count` answers spread evenly over `probes` (all of them when there are fewer). */
async function checkSample(port, probes, count, label) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const n = Math.min(count, probes.length);
    for (let k = 0; k < n; k++) {
      const probe = probes[Math.floor((k * probes.length) / n)];
      const answer = await get(port, pathOf(probe.address), agent);
      const problems = problemsOf(probe, answer);
      if (problems.length > 0) {
        throw new Error(`${label} directory: wrong answer for ${probe.address} (${problems.join('; ')})\n--- body (first 600 bytes) ---\n${answer.body.slice(0, 600)}`);
      }
    }
    return n;
  } finally {
    agent.destroy();
  }
}

/** The server's /metrics (on loopback, so it may read them), as { 'name' or 'name{labels}': value }. */
async function scrape(port) {
  const answer = await get(port, '/metrics');
  if (answer.status !== 200) throw new Error(`GET /metrics: status ${answer.status} (port ${port})`);
  const values = {};
  for (const line of answer.body.split('\n')) {
    const m = /^(mailconf_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}

/**
 * A server's memory now (MB): VmRSS (and its anonymous and file-backed parts: RssAnon,
 * RssFile) and VmHWM from /proc, then the V8 heap and external from its /metrics; with its metrics.
 */
async function memoryNow(server) {
  const rss = statusMb(server.pid, 'VmRSS');
  const anon = statusMb(server.pid, 'RssAnon');
  const file = statusMb(server.pid, 'RssFile');
  const peak = statusMb(server.pid, 'VmHWM');
  const m = await scrape(server.port);
  return {
    rss,
    anon,
    file,
    peak,
    heapUsed: mb(m.mailconf_nodejs_heap_size_used_bytes),
    heapTotal: mb(m.mailconf_nodejs_heap_size_total_bytes),
    external: mb(m.mailconf_nodejs_external_memory_bytes),
    answerEntries: m['mailconf_answer_cache{counter="entries"}'],
    metrics: m,
  };
}

/** Hits / (hits + misses) of a cache counter family between two scrapes (NaN without lookups or without the family). */
function hitShare(before, after, family) {
  const d = (counter) => after[`${family}{counter="${counter}"}`] - before[`${family}{counter="${counter}"}`];
  const hits = d('hits') + (family === 'mailconf_directory_cache' ? d('negativeHits') || 0 : 0);
  return hits / (hits + d('misses'));
}

const samples = new Float64Array(MAX_SAMPLES);
/**
 * One autocannon run of `seconds` against `server`, each request the next of `paths` (a
 * cursor shared by the connections, kept across runs). Every answer must be a 200.
 */
async function load(server, paths, cursor, seconds) {
  let n = 0;
  let wrong = 0;
  let wrongStatus = 0;
  const errorCodes = new Map();
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  guard();
  const instance = autocannon({
    url: `http://127.0.0.1:${server.port}`,
    headers: HEADERS,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    requests: [{
      method: 'GET',
      setupRequest: (req) => {
        req.path = paths[cursor.i];
        cursor.i = (cursor.i + 1) % paths.length;
        return req;
      },
    }],
  });
  instance.on('reqError', (err) => errorCodes.set(err.code ?? err.message, (errorCodes.get(err.code ?? err.message) ?? 0) + 1));
  instance.on('response', (_client, status, _bytes, latency) => {
    if (status !== 200) { wrong++; wrongStatus = status; }
    if (n < MAX_SAMPLES) samples[n] = latency;
    n++;
  });
  const running = { stop: async () => instance.stop() };
  live.add(running);
  let result;
  try {
    result = await instance; // a thenable of its result
  } finally {
    live.delete(running);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuMs(server.pid) - cpu0;
  if (wrong > 0) throw new Error(`${wrong} answers with status ${wrongStatus} instead of 200 (port ${server.port})`);
  if (result.errors > 0 || result.timeouts > 0) throw new Error(`${result.errors} errors (${[...errorCodes].map(([c, k]) => `${c} x${k}`).join(', ')}), ${result.timeouts} timeouts (port ${server.port})`);
  if (n === 0) throw new Error(`no responses (port ${server.port})`);
  const timed = samples.subarray(0, Math.min(n, MAX_SAMPLES)).sort();
  const pct = (p) => timed[Math.min(timed.length - 1, Math.ceil((p / 100) * timed.length) - 1)];
  return { rps: n / elapsed, p50: pct(50), p99: pct(99), cpuUs: (cpu / n) * 1000, n };
}

// ---------------------------------------------------------------- one backend

/** The request patterns, in the order they run (see the header). */
const PATTERNS = [
  { key: 'spread', label: 'spread' },
  { key: 'hot', label: 'hot set' },
];

const summarise = (runs) => ({
  rps: stat(runs.map((x) => x.rps)),
  p50: stat(runs.map((x) => x.p50)),
  p99: stat(runs.map((x) => x.p99)),
  cpu: stat(runs.map((x) => x.cpuUs)),
  requests: runs.reduce((n, x) => n + x.n, 0),
});

/**
 * Imports both files into the backend, starts its servers, loads them. `backend` gives
 * { name, urlOf(size) -> directory URL, prepare(size) (PostgreSQL: database + migrate),
 * sizeOf(size) -> bytes }.
 */
async function runBackend(backend, files) {
  console.log(`\n== ${backend.name} ==`);
  const imports = {};
  for (const size of ['small', 'large']) {
    const file = files[size];
    const migrate = await backend.prepare(size);
    const run = await mailconf(['import', file.path], { MAILCONF_DIRECTORY: backend.urlOf(size), MAILCONF_SECRET: SECRET }, IMPORT_TIMEOUT_MS);
    const said = /^imported (\d+) accounts?, (\d+) domains?, (\d+) mailbox logins?/.exec(run.out);
    if (!said || Number(said[1]) !== file.accounts || Number(said[2]) !== file.domains || Number(said[3]) !== file.mailboxes) {
      throw new Error(`${backend.name}: the import said "${run.out}", expected ${file.accounts} accounts, ${file.domains} domains, ${file.mailboxes} mailbox logins`);
    }
    imports[size] = { ...run, migrateMs: migrate?.wallMs, dbBytes: await backend.sizeOf(size) };
    const r = imports[size];
    console.log(`import ${fmt(file.domains)} domains: ${ms(r.wallMs)}, peak ${f(r.peakMb, 1)} MB (polled ${f(r.polledMb, 1)}, at exit ${f(r.atExitMb, 1)}, ${r.polls} polls), on disk ${f(mb(r.dbBytes), 1)} MB${r.migrateMs ? `; migrate ${ms(r.migrateMs)}` : ''}`);
  }

  // Cold starts, interleaved; the last of each size keeps running.
  const starts = { small: [], large: [] };
  const servers = {};
  for (let k = 0; k < STARTS; k++) {
    for (const size of ['small', 'large']) {
      const s = await coldStart(backend.urlOf(size), files[size].probes[0], `${fmt(files[size].domains)}-domain ${backend.name}`);
      starts[size].push(s);
      console.log(`start ${k + 1}/${STARTS}, ${fmt(files[size].domains)} domains: listening after ${ms(s.listeningMs)}, first right answer after ${ms(s.firstMs)}, RSS ${f(s.rssMb, 1)} MB`);
      if (k < STARTS - 1) await stopServer(s.server);
      else servers[size] = s.server;
    }
  }

  // Memory right after start (the servers that stay up, after their first answer only).
  const memory = { start: {}, spread: {}, hot: {} };
  for (const size of ['small', 'large']) memory.start[size] = await memoryNow(servers[size]);

  // Answers checked before timing: host and login, on every list the load will use.
  const L = fmt(DOMAINS);
  const stored = files.small.spread.filter((p) => p.stored);
  const checked = {
    small: await checkSample(servers.small.port, files.small.probes, CHECKS, `the ${SMALL}-domain ${backend.name}`) +
      await checkSample(servers.small.port, stored, stored.length, `the ${SMALL}-domain ${backend.name} (stored mailboxes)`) +
      await checkSample(servers.small.port, files.small.spread, CHECKS, `the ${SMALL}-domain ${backend.name} (spread)`) +
      await checkSample(servers.small.port, files.small.hot, HOT_CHECKS, `the ${SMALL}-domain ${backend.name} (hot set)`),
    large: await checkSample(servers.large.port, files.large.spread, CHECKS, `the ${L}-domain ${backend.name} (spread)`) +
      await checkSample(servers.large.port, files.large.hot, HOT_CHECKS, `the ${L}-domain ${backend.name} (hot set)`),
  };
  console.log(`answers checked (host and login): ${checked.small} on the ${SMALL}-domain server (${stored.length} with a stored login), ${checked.large} on the ${L}-domain one`);

  // The two patterns, one after the other; within each: warm-up of each, then A B A B ...
  const loads = {};
  for (const pattern of PATTERNS) {
    const paths = { small: files.small[pattern.key].map((p) => pathOf(p.address)), large: files.large[pattern.key].map((p) => pathOf(p.address)) };
    const cursors = { small: { i: 0 }, large: { i: 0 } };
    await load(servers.small, paths.small, cursors.small, WARMUP_S);
    await load(servers.large, paths.large, cursors.large, WARMUP_S);
    const before = { small: (await memoryNow(servers.small)).metrics, large: (await memoryNow(servers.large)).metrics };
    const A = [];
    const B = [];
    for (let r = 0; r < ROUNDS; r++) {
      A.push(await load(servers.small, paths.small, cursors.small, SECONDS));
      B.push(await load(servers.large, paths.large, cursors.large, SECONDS));
      console.log(`${pattern.label}, round ${r + 1}/${ROUNDS}: ${SMALL} domains ${f(A[r].rps)} req/s, ${L} domains ${f(B[r].rps)} req/s (${f(B[r].rps / A[r].rps, 3)}x)`);
    }
    const share = {};
    for (const size of ['small', 'large']) {
      memory[pattern.key][size] = await memoryNow(servers[size]);
      const after = memory[pattern.key][size].metrics;
      share[size] = { answers: hitShare(before[size], after, 'mailconf_answer_cache'), directory: hitShare(before[size], after, 'mailconf_directory_cache') };
    }
    loads[pattern.key] = {
      small: { ...summarise(A), hits: share.small },
      large: { ...summarise(B), hits: share.large },
      ratio: stat(A.map((a, k) => B[k].rps / a.rps)),
      distinct: { small: paths.small.length, large: paths.large.length },
    };
    const pct = (x) => (Number.isFinite(x) ? `${f(100 * x)}%` : '-');
    console.log(`${pattern.label}: answer cache hits ${pct(share.small.answers)} (${SMALL}) / ${pct(share.large.answers)} (${L})` +
      `${Number.isFinite(share.small.directory) ? `, directory cache hits ${pct(share.small.directory)} / ${pct(share.large.directory)}` : ''}`);
  }
  for (const size of ['small', 'large']) {
    const m = memory.hot[size];
    memory[size] = { afterLoad: m.rss, peak: m.peak };
    console.log(`memory, ${size === 'small' ? SMALL : L} domains (MB): after start RSS ${f(memory.start[size].rss, 1)}, heap ${f(memory.start[size].heapUsed, 1)} used / ${f(memory.start[size].heapTotal, 1)} total; ` +
      PATTERNS.map((p) => `after ${p.label} RSS ${f(memory[p.key][size].rss, 1)}, heap ${f(memory[p.key][size].heapUsed, 1)} / ${f(memory[p.key][size].heapTotal, 1)}, external ${f(memory[p.key][size].external, 1)}`).join('; ') +
      `; peak RSS ${f(m.peak, 1)}`);
    await stopServer(servers[size]);
  }
  return {
    name: backend.name,
    imports,
    starts: Object.fromEntries(Object.entries(starts).map(([size, list]) => [size, {
      listening: stat(list.map((s) => s.listeningMs)),
      first: stat(list.map((s) => s.firstMs)),
      rss: stat(list.map((s) => s.rssMb)),
    }])),
    memory,
    load: loads,
  };
}

// ---------------------------------------------------------------- in-process lookups (SQLite)

async function measure(label, count, probe) {
  for (let i = 0; i < Math.min(10_000, count); i++) await probe(); // warm-up
  const ns = new Float64Array(count);
  let found = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const hit = await probe();
    ns[i] = Number(process.hrtime.bigint() - t0);
    if (hit) found++;
  }
  const totalNs = Number(process.hrtime.bigint() - start);
  ns.sort();
  const at = (q) => ns[Math.min(count - 1, Math.floor(q * count))] / 1000;
  return { label, perSecond: count / (totalNs / 1e9), p50: at(0.5), p99: at(0.99), max: ns[count - 1] / 1000, found: `${fmt(found)}/${fmt(count)}` };
}

async function lookups(path, probes) {
  const random = prng((SEED * 7919) >>> 0);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const stored = probes.filter((p) => p.stored);
  let t = performance.now();
  const d = new SqliteDirectory(path, { mustExist: true });
  const openMs = performance.now() - t;
  try {
    t = performance.now();
    await d.counts();
    const countsMs = performance.now() - t;
    const rows = [
      await measure('findByDomain, existing domain', LOOKUPS, () => d.findByDomain(pick(probes).domain)),
      // Counted as found only when the stored login comes back.
      await measure('findByDomain, existing + stored mailbox', stored.length ? LOOKUPS : 1, async () => {
        const p = stored.length ? pick(stored) : probes[0];
        return (await d.findByDomain(p.domain, p.address))?.mailboxLogin;
      }),
      await measure('findByDomain, missing domain', LOOKUPS, () => d.findByDomain(`${word(random, 6)}-missing.example`)),
      await measure('findByUsername, existing + address', LOOKUPS, () => {
        const p = pick(probes);
        return d.findByUsername(p.username, `${p.username}@pair.com`);
      }),
      await measure('findByUsername, missing', LOOKUPS, () => d.findByUsername(`x${word(random, 7)}`)),
    ];
    return { openMs, countsMs, rows };
  } finally {
    await d.close();
  }
}

// ---------------------------------------------------------------- main

function sqliteBackend() {
  const path = (size) => join(tmp, `directory-${size}.db`);
  return {
    name: 'SQLite',
    urlOf: (size) => `sqlite:${path(size)}`,
    path,
    prepare: async () => undefined,
    sizeOf: async (size) => ['', '-wal', '-shm'].reduce((n, ext) => n + (existsSync(path(size) + ext) ? statSync(path(size) + ext).size : 0), 0),
  };
}

function postgresBackend() {
  const prefix = `mailconf_bench_${randomBytes(5).toString('hex')}`;
  const names = { small: `${prefix}_small`, large: `${prefix}_large` };
  const urlOf = (size) => {
    const u = new URL(POSTGRES_SERVER);
    u.pathname = `/${names[size]}`;
    return u.toString();
  };
  return {
    name: 'PostgreSQL',
    urlOf,
    prepare: async (size) => {
      guard();
      databases.push(names[size]); // before CREATE: cleanup's DROP ... IF EXISTS queues behind it
      await admin.query(`CREATE DATABASE ${names[size]}`);
      return mailconf(['migrate'], { MAILCONF_DIRECTORY: urlOf(size), MAILCONF_SECRET: SECRET }, 120_000);
    },
    sizeOf: async (size) => Number((await admin.query('SELECT pg_database_size($1) AS bytes', [names[size]])).rows[0].bytes),
  };
}

async function connectPostgres() {
  const u = new URL(POSTGRES_SERVER);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`BENCH_POSTGRES_URL: only a loopback server (127.0.0.1, ::1, localhost), not ${host}`);
  const masked = POSTGRES_SERVER.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  const client = new pg.Client({ connectionString: POSTGRES_SERVER, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL at ${masked} cannot be reached (${err.message || err.code}): start it, point BENCH_POSTGRES_URL at a loopback ` +
        'server where this user may CREATE DATABASE, or set BENCH_POSTGRES=0 to measure SQLite only',
    );
  }
  const version = (await client.query('SHOW server_version')).rows[0].server_version;
  return { client, version, masked };
}

async function main() {
  const started = Date.now();
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run "npm run build" first`);
  tmp = mkdtempSync(join(os.tmpdir(), 'mailconf-bench-directory-'));
  let postgres;
  if (WITH_POSTGRES) {
    postgres = await connectPostgres();
    admin = postgres.client;
  }
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  const cores = os.cpus().length;
  const loadS = 2 * PATTERNS.length * (WARMUP_S + ROUNDS * SECONDS);
  console.log(`mailconf directory at scale: ${SMALL} vs ${fmt(DOMAINS)} domains; ${cpuModel}, ${cores} cores, Node ${process.version}; ${tmp}`);
  console.log(`SQLite${WITH_POSTGRES ? ` and PostgreSQL ${postgres.version} (${postgres.masked})` : ' only (BENCH_POSTGRES=0: PostgreSQL skipped)'}; ` +
    `${STARTS} cold start(s) per directory; per pattern (spread, hot set of ${fmt(HOT)}) ${ROUNDS} round(s) of ${SECONDS} s after a ${WARMUP_S} s warm-up, ${CONNECTIONS} connections (~${loadS} s of load per backend)`);

  // The import files, shared by both backends.
  let t = performance.now();
  const small = { ...writeAccountsFile(join(tmp, `accounts-${SMALL}.json`), { domains: SMALL, seed: SEED, probes: PROBES, keepDomains: true }), path: join(tmp, `accounts-${SMALL}.json`) };
  const large = { ...writeAccountsFile(join(tmp, `accounts-${DOMAINS}.json`), { domains: DOMAINS, seed: SEED, probes: PROBES }), path: join(tmp, `accounts-${DOMAINS}.json`) };
  const generateMs = performance.now() - t;
  // The request patterns (see the header): the same number of distinct addresses for both servers.
  large.spread = large.probes;
  small.spread = addressesOver(small.domainList, large.spread.length, SEED);
  for (const file of [small, large]) file.hot = file.spread.slice(0, Math.min(HOT, file.spread.length));
  const files = { small, large };
  console.log(`generated: ${fmt(small.domains)} domains (${small.accounts} accounts, ${small.mailboxes} mailbox logins, ${fmt(small.bytes)} B) and ` +
    `${fmt(large.domains)} domains (${fmt(large.accounts)} accounts, ${fmt(large.mailboxes)} mailbox logins, ${f(mb(large.bytes), 1)} MB; ${fmt(large.probes.length)} probe addresses) in ${ms(generateMs)}`);

  const results = [];
  const sqlite = sqliteBackend();
  results.push(await runBackend(sqlite, files));
  console.log(`in-process lookups on the ${fmt(DOMAINS)}-domain SQLite file (${fmt(LOOKUPS)} per kind) ...`);
  const micro = await lookups(sqlite.path('large'), large.probes);
  if (WITH_POSTGRES) results.push(await runBackend(postgresBackend(), files));

  const minutes = (Date.now() - started) / 60000;
  report({ cpuModel, cores, postgres, files, generateMs, results, micro, minutes });
}

function report({ cpuModel, cores, postgres, files, generateMs, results, micro, minutes }) {
  const date = new Date().toISOString().slice(0, 10);
  const L = fmt(DOMAINS);
  const sizes = [['small', `${SMALL}`], ['large', L]];
  const importHeader = ['directory', 'domains', 'accounts', 'file MB', 'import', 'domains/s', 'peak memory MB (polled / at exit)', 'on disk MB', 'migrate'];
  const importRows = results.flatMap((r) => sizes.map(([size]) => {
    const i = r.imports[size];
    const file = files[size];
    return [r.name, fmt(file.domains), fmt(file.accounts), f(mb(file.bytes), 1), ms(i.wallMs), fmt(file.domains / (i.wallMs / 1000)),
      `${f(i.peakMb, 1)} (${f(i.polledMb, 1)} / ${f(i.atExitMb, 1)})`, f(mb(i.dbBytes), 1), i.migrateMs === undefined ? '-' : ms(i.migrateMs)];
  }));
  const startHeader = ['directory', 'domains', 'spawn -> listening ms', 'spawn -> first right answer ms', 'RSS after start MB', 'RSS after load MB', 'peak RSS (VmHWM) MB'];
  const startRows = results.flatMap((r) => sizes.map(([size, label]) => [r.name, label, range(r.starts[size].listening), range(r.starts[size].first), range(r.starts[size].rss, 1), f(r.memory[size].afterLoad, 1), f(r.memory[size].peak, 1)]));
  const pct = (x) => (Number.isFinite(x) ? `${f(100 * x, 1)}%` : '-');
  const loadHeader = ['directory', 'pattern', 'domains', 'distinct addresses', 'req/s', 'p50 ms', 'p99 ms', 'CPU/req us', 'answer cache hits', 'directory cache hits', 'requests'];
  const loadRows = results.flatMap((r) => PATTERNS.flatMap((p) => [
    ...sizes.map(([size, label]) => {
      const x = r.load[p.key][size];
      return [r.name, p.label, label, fmt(r.load[p.key].distinct[size]), range(x.rps), range(x.p50, 2), range(x.p99, 2), range(x.cpu), pct(x.hits.answers), pct(x.hits.directory), fmt(x.requests)];
    }),
    [r.name, p.label, `ratio ${L} / ${SMALL}`, '', range(r.load[p.key].ratio, 3), '', '', '', '', '', ''],
  ]));
  const memoryHeader = ['directory', 'domains', 'when', 'RSS MB', 'of it file-backed MB', 'heap used MB', 'heap total MB', 'external MB', 'rest of anonymous MB', 'answer cache entries'];
  const memoryRows = results.flatMap((r) => sizes.flatMap(([size, label]) => [['start', 'after start'], ...PATTERNS.map((p) => [p.key, `after ${p.label}`])].map(([when, text]) => {
    const m = r.memory[when][size];
    return [r.name, label, text, f(m.rss, 1), f(m.file, 1), f(m.heapUsed, 1), f(m.heapTotal, 1), f(m.external, 1), f(m.anon - m.heapTotal, 1), fmt(m.answerEntries ?? NaN)];
  })));
  const microHeader = ['lookup', 'lookups/s', 'p50 us', 'p99 us', 'max us', 'found'];
  const microRows = micro.rows.map((x) => [x.label, fmt(x.perSecond), f(x.p50, 1), f(x.p99, 1), f(x.max, 1), x.found]);

  // The targets, each next to its measurement.
  const verdict = (ok) => (ok ? 'met' : '**not met**');
  const targets = [];
  for (const r of results) {
    const spread = r.load.spread;
    const ratio = spread.ratio.med;
    targets.push([`throughput, ${L} vs ${SMALL} domains, within 5% (spread: ${fmt(spread.distinct.large)} distinct addresses on both)`, r.name, `${f(ratio, 3)}x (rounds ${f(spread.ratio.min, 3)}-${f(spread.ratio.max, 3)}): ${f(spread.large.rps.med)} vs ${f(spread.small.rps.med)} req/s`, verdict(ratio >= 0.95)]);
    const hot = r.load.hot;
    targets.push([`(not judged) throughput, hot set of ${fmt(hot.distinct.large)} addresses on both: the caches`, r.name, `${f(hot.ratio.med, 3)}x (rounds ${f(hot.ratio.min, 3)}-${f(hot.ratio.max, 3)}): ${f(hot.large.rps.med)} vs ${f(hot.small.rps.med)} req/s`, '-']);
    const rss = Math.max(r.starts.large.rss.max, r.memory.large.afterLoad);
    targets.push([`server RSS under 150 MB (${L} domains)`, r.name, `${f(r.starts.large.rss.med, 1)} MB after start, ${f(r.memory.large.afterLoad, 1)} MB after the load (peak ${f(r.memory.large.peak, 1)} MB)`, verdict(rss < 150)]);
    const first = r.starts.large.first;
    targets.push([`cold start under 1 s (${L} domains)`, r.name, `${f(first.med)} ms to the first right answer (${f(first.min)}-${f(first.max)} over ${first.n} starts)`, verdict(first.max < 1000)]);
    const imp = r.imports.large;
    targets.push([`import of ${L} domains under 30 s`, r.name, ms(imp.wallMs), verdict(imp.wallMs < 30_000)]);
    const base = r.imports.small.peakMb;
    // "Flat": the large import's peak stays within 25% of the 10-domain import's.
    targets.push([`import in flat memory (peak within 25% of the ${SMALL}-domain import's)`, r.name, `peak ${f(imp.peakMb, 1)} MB vs ${f(base, 1)} MB for ${SMALL} domains (${f(imp.peakMb / base, 1)}x)`, verdict(imp.peakMb <= base * 1.25)]);
  }
  const targetHeader = ['target', 'backend', 'measured', ''];

  console.log('');
  console.log(textTable(targets, targetHeader, 4));
  console.log('');
  console.log(textTable(importRows, importHeader));
  console.log('');
  console.log(textTable(startRows, startHeader));
  console.log('');
  console.log(textTable(loadRows, loadHeader, 3));
  console.log('');
  console.log(textTable(memoryRows, memoryHeader, 3));
  console.log('');
  console.log(`SQLite in-process (${L} domains): open ${f(micro.openMs, 1)} ms, counts() ${f(micro.countsMs, 1)} ms`);
  console.log(textTable(microRows, microHeader));
  console.log(`\nwall time ${f(minutes, 1)} min${WITH_POSTGRES ? '' : '; PostgreSQL skipped (BENCH_POSTGRES=0)'}`);

  const large = files.large;
  const md = [
    `### ${SECTION}, ${date}`,
    '',
    `${cpuModel}, ${cores} cores, Node ${process.version}, ${os.platform()} ${os.release()}; SQLite (better-sqlite3)${postgres ? ` and PostgreSQL ${postgres.version} on the same machine` : ''}. \`npm run bench:directory\` (bench/directory.mjs): ${SMALL} vs ${L} domains, ${STARTS} cold start(s) per directory, ${ROUNDS} round(s) of ${SECONDS} s per server after a ${WARMUP_S} s warm-up, ${CONNECTIONS} connections; wall time ${f(minutes, 1)} min.${postgres ? '' : ' **PostgreSQL skipped** (BENCH_POSTGRES=0).'}`,
    '',
    `Data: import files from a seeded PRNG (bench/directory-data.mjs, seed ${SEED}; the same bytes every run): ${L} domains in ${fmt(large.accounts)} accounts (1-7 domains each), half old-era with a mail server number, half new-era, ${fmt(large.mailboxes)} per-mailbox logins, ${f(mb(large.bytes), 1)} MB of JSON (written in ${ms(generateMs)}); the ${SMALL}-domain file is the same generator's first ${SMALL} domains.`,
    '',
    'Method. Import: `node bin/mailconf.js import FILE` as a child process (PostgreSQL: into a throw-away database made for the run, after `mailconf migrate`, timed apart), wall time from spawn to exit; peak memory is VmHWM from /proc/<pid>/status polled every 50 ms, and read once more by the child at exit (a `--require` preload that reads /proc/self/status in `process.on(\'exit\')`), the larger reported. On disk: the SQLite file with -wal/-shm, or pg_database_size (an empty database is about 7.5 MB). Cold start: the production server (`node dist/server.js`; HOST 127.0.0.1, PORT 0, LOG_LEVEL info to a file, MAX_CONNECTIONS_PER_CLIENT 1000, rate limits 1,000,000 per 10 s, MAILCONF_SECRET set), spawned on the imported directory; time from spawn to its "listening" line and to the first autoconfig answer with the expected `<hostname>` (polled every 10 ms); the data files were just written, so they are in the page cache. RSS: VmRSS right after that answer and after the load, VmHWM at the end.',
    '',
    `Throughput: autocannon 9 as a library, ${CONNECTIONS} connections, \`GET /mail/config-v1.1.xml?emailaddress=...\`, each request the next address of a list with one cursor per server and pattern kept across runs. Both servers get the same request pattern, so that only the size of the directory differs; two patterns, one after the other. **Spread**: each server cycles through ${fmt(large.spread.length)} distinct addresses, the ${L}-domain one on domains drawn uniformly from the file and shuffled (the stored mailbox when the domain has one), the ${SMALL}-domain one as many distinct local parts spread round-robin over its ${SMALL} domains and shuffled (bench/directory-data.mjs addressesOver(): its ${files.small.spread.filter((p) => p.stored).length} stored mailbox(es) with their stored logins, the rest local parts the data never stores, answered with the address as login); a list wraps only after ${fmt(large.spread.length)} requests (the load table gives the requests sent), so neither server can answer from its answer cache (ANSWER_CACHE_ENTRIES, default 5000), SQLite's per-connection lookup memo (10,000) or PostgreSQL's directory cache (100,000, 60 s) beyond what the table's hit rates show. **The throughput target is judged on spread**: it is the honest answer to "does the size of the directory cost a request anything", with every request reaching the store on both servers. **Hot set**: each server cycles through the first ${fmt(HOT)} addresses of its spread list over and over (${fmt(files.large.hot.length)} domains of the large directory; ${fmt(files.small.hot.length)} local parts over the ${SMALL} domains), as real traffic does (clients ask again for the same mailboxes): it shows the caches working (hit rates near 100% on both), not the store. Hit rates are the answer cache's (and PostgreSQL's directory cache's) counters from /metrics over the timed rounds; SQLite's memo has no counter (it misses with the answer cache under spread and hits under the hot set). Before timing, the host and login were checked in the ${SMALL} domains' probe answers, every stored mailbox of the ${SMALL}-domain list, ${Math.min(CHECKS, large.spread.length)} answers spread over each spread list and ${Math.min(HOT_CHECKS, files.large.hot.length)} over each hot set; during the load every status. Interleaved per pattern: warm-up of each, then ${SMALL}, ${L}, ${SMALL}, ... for ${ROUNDS} round(s). Figures are medians over rounds (or starts) with min-max in brackets; the ratio is ${L} / ${SMALL} per round, then its median. The load generator shares the 2 cores with the server.`,
    '',
    `Memory: VmRSS from /proc (with its file-backed part, RssFile), heap used, heap total and external (which holds array buffers) from the server's own /metrics (prom-client's process.memoryUsage()), right after the first answer and after each pattern's timed rounds; "rest of anonymous" is RssAnon minus heap total (native memory: SQLite's page cache, OpenSSL, libuv, malloc's free lists). "RSS after load" above is the reading after the hot set, the last load; below the memory table, what it is made of.`,
    '',
    mdTable(targets, targetHeader),
    '',
    mdTable(importRows, importHeader),
    '',
    mdTable(startRows, startHeader),
    '',
    mdTable(loadRows, loadHeader),
    '',
    mdTable(memoryRows, memoryHeader),
    '',
    memoryStory(results),
    '',
    `SQLite in process (SqliteDirectory on the ${L}-domain file, one awaited call per lookup, ${fmt(LOOKUPS)} per kind after 10,000 warm-up calls; existing names drawn from the probe addresses): open ${f(micro.openMs, 1)} ms, counts() ${f(micro.countsMs, 1)} ms.`,
    '',
    mdTable(microRows, microHeader),
    '',
  ].join('\n');
  writeSection(md);
  console.log(`wrote the "${SECTION}" section of bench/RESULTS.md`);
}

/** What the RSS after load is made of, from this run's readings after the last load, and why. */
function memoryStory(results) {
  const parts = results.map((r) => {
    const m = r.memory.hot.large;
    const s = r.memory.hot.small;
    return `${r.name}, ${fmt(DOMAINS)} domains: ${f(m.rss)} MB = ${f(m.file)} file-backed + ${f(m.heapTotal)} V8 heap (${f(m.heapUsed)} of it used) + ${f(m.anon - m.heapTotal)} other anonymous; the ${SMALL}-domain server, asked the same way, ${f(s.rss)} MB (heap ${f(s.heapTotal)} total, ${f(s.heapUsed)} used)`;
  });
  return [
    `Where the RSS after load goes (${parts.join('; ')}).`,
    'The file-backed part is the node binary\'s code and its shared libraries, the same for any directory (SQLite reads its file with pread into its own cache, not through a mapping).',
    'The V8 heap is most of the rest, and most of the heap used after a load is garbage waiting for the next full GC, not data kept: under the spread pattern every answer enters the answer cache (ANSWER_CACHE_ENTRIES, 5,000), SQLite\'s lookup memo (10,000) and the log-hash memo (10,000), lives long enough to be promoted to the old space and dies there when pushed out; V8 lets the old space grow to several times its live size (up to about 4x while GC costs little) before it compacts it, so the reading depends on how many requests were answered since the last full GC, and it is about the same for both directory sizes.',
    `(The earlier pattern, the ${SMALL}-domain server asked about 10 addresses only, put nothing in the old space: that, not the directory's size, made the small server look lighter.)`,
    'What the size of the directory can add is SQLite\'s page cache, in "other anonymous": better-sqlite3 builds SQLite with a default cache_size of 16,000 KiB per connection (mailconf does not change it), which a file much larger than that fills under the spread pattern and a small one cannot: about 16 MB at most, for one connection.',
    'The load generator runs in the bench process: none of it is in the server\'s RSS.',
  ].join(' ');
}

/**
 * Replaces the section `### Directory at scale...` (up to the next `### `), or appends it at
 * the end; every other line of the file is kept as it is.
 */
function writeSection(md) {
  let text = '# Benchmark results\n';
  try { text = readFileSync(RESULTS, 'utf8'); } catch { /* a new file */ }
  const lines = text.split('\n');
  const mine = md.replace(/\n*$/, '\n').split('\n'); // ends with '': one newline after the section
  const start = lines.findIndex((l) => l.startsWith(`### ${SECTION}`));
  let out;
  if (start >= 0) {
    let end = lines.findIndex((l, k) => k > start && l.startsWith('### '));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...mine, ...lines.slice(end)];
  } else {
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    out = [...lines, '', ...mine];
  }
  writeFileSync(RESULTS, out.join('\n'));
}

const onSignal = (signal) => {
  console.error(`${signal}: stopping what this run started`);
  cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  await main();
} catch (err) {
  process.exitCode = 1;
  console.error(`bench:directory failed: ${err.message}`);
} finally {
  await cleanup();
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
}
