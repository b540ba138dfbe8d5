// `npm run bench:import`: the memory an import of BENCH_DOMAINS domains (1,000,000) takes,
// in every format, on SQLite and PostgreSQL, through the production entry point
// (`node bin/mailconf.js import FILE`, spawned, MAILCONF_DIRECTORY naming the directory).
// Target: a peak resident set under 150 MB however large the input (issue 12).
//
// Two shapes of the same number of domains: one domain per account (1,000,000 accounts),
// and BENCH_PER_ACCOUNT (100) domains per account (10,000 accounts); every tenth account
// has a stored mailbox login. Each input file is written to a temporary folder just before
// its imports and removed after them. Each import goes into a new, empty directory (a new
// SQLite file; a new PostgreSQL database, made by `mailconf migrate`), and must succeed.
// Peak memory is the child's VmHWM (the kernel's high-water mark of its resident set) from
// /proc/<pid>/status, polled every 20 ms: the last reading before it exits, so a peak in
// its last 20 ms could be missed. Time is spawn to exit.
//
// Knobs (environment): BENCH_DOMAINS (1000000), BENCH_PER_ACCOUNT (100), BENCH_POSTGRES=0
// (SQLite only), BENCH_POSTGRES_URL (else MAILCONF_TEST_POSTGRES, else
// postgres://root@127.0.0.1:5432/postgres: a loopback server where this user may CREATE
// DATABASE), BENCH_TIMEOUT_S per import (600).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'csv-stringify/sync';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/mailconf.js');
const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 1_000_000);
const PER_ACCOUNT = Number(process.env.BENCH_PER_ACCOUNT ?? 100);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 600) * 1000;
const WITH_POSTGRES = process.env.BENCH_POSTGRES !== '0';
const POSTGRES_SERVER = process.env.BENCH_POSTGRES_URL || process.env.MAILCONF_TEST_POSTGRES || 'postgres://root@127.0.0.1:5432/postgres';
const TARGET_MB = 150;

if (!Number.isSafeInteger(DOMAINS) || DOMAINS < 1 || !Number.isSafeInteger(PER_ACCOUNT) || PER_ACCOUNT < 1) {
  console.error('BENCH_DOMAINS and BENCH_PER_ACCOUNT: positive whole numbers');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist/cli/mailconf.js'))) {
  console.error('dist/ is missing: run "npm run build" (npm run bench:import does)');
  process.exit(2);
}

const tmp = mkdtempSync(join(os.tmpdir(), 'mailconf-bench-import-'));
const databases = [];
let admin;
let child;

async function cleanup() {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (admin) {
    for (const name of databases.splice(0)) {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err) => console.error(`could not drop database ${name}: ${err.message}`));
    }
    await admin.end().catch(() => undefined);
    admin = undefined;
  }
  rmSync(tmp, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

// ------------------------------------------------------------------ the input files

/** Account i of a shape with `perAccount` domains each (the last one fewer, to make DOMAINS exactly). */
function* accounts(perAccount) {
  for (let i = 0, left = DOMAINS; left > 0; i++) {
    const n = Math.min(perAccount, left);
    left -= n;
    const domains = Array.from({ length: n }, (_, j) => `d${i}-${j}.example`);
    const mailboxes = i % 10 === 0 ? [{ address: `info@${domains[0]}`, login: `u${i}-info` }] : [];
    yield { username: `u${i}`, created: '2020-01-01', mailServer: null, domains, mailboxes };
  }
}

const WRITERS = {
  ndjson: { extension: 'ndjson', start: '', account: (a) => `${JSON.stringify(a)}\n`, end: '' },
  json: { extension: 'json', start: '{"accounts":[\n', account: (a, first) => `${first ? '' : ',\n'}${JSON.stringify(a)}`, end: '\n]}\n' },
  csv: {
    extension: 'csv',
    start: 'username,created,mailServer,domain,mailbox,login\n',
    account: (a) =>
      stringify([...a.domains.map((d) => [a.username, a.created, '', d, '', '']), ...a.mailboxes.map((m) => [a.username, a.created, '', '', m.address, m.login])]),
    end: '',
  },
};

/** Writes the file of `format` for the shape; its path and size. */
function writeInput(format, perAccount) {
  const w = WRITERS[format];
  const path = join(tmp, `accounts-${perAccount}.${w.extension}`);
  const fd = openSync(path, 'w');
  try {
    let chunk = w.start;
    let first = true;
    for (const a of accounts(perAccount)) {
      chunk += w.account(a, first);
      first = false;
      if (chunk.length >= 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk + w.end);
  } finally {
    closeSync(fd);
  }
  return { path, bytes: statSync(path).size };
}

// ------------------------------------------------------------------ the import, measured

/** VmHWM of a running process in kB, or NaN once it has gone. */
function peakKb(pid) {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** `mailconf ...args` on `directoryUrl`; its wall time, peak memory and output. Fails on a non-zero exit. */
async function mailconf(args, directoryUrl) {
  const t0 = performance.now();
  child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MAILCONF_DIRECTORY: directoryUrl, MAILCONF_PROVIDER: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => void (out.length < 100_000 && (out += c)));
  child.stderr.on('data', (c) => void (out.length < 100_000 && (out += c)));
  let peak = 0;
  const poller = setInterval(() => {
    const kb = peakKb(child.pid);
    if (kb > peak) peak = kb;
  }, 20);
  const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  const [code, signal] = await new Promise((resolve) => child.once('close', (c, s) => resolve([c, s])));
  clearInterval(poller);
  clearTimeout(killer);
  if (code !== 0) throw new Error(`mailconf ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out}`);
  return { ms: performance.now() - t0, peakMb: peak / 1024, out: out.trim() };
}

const BACKENDS = {
  sqlite: async (run) => `sqlite:${join(tmp, `directory-${run}.db`)}`,
  postgres: async () => {
    const name = `mailconf_bench_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    databases.push(name);
    const u = new URL(POSTGRES_SERVER);
    u.pathname = `/${name}`;
    await mailconf(['migrate'], u.toString());
    return u.toString();
  },
};

async function dropDirectory(url) {
  if (url.startsWith('sqlite:')) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(url.slice('sqlite:'.length) + suffix, { force: true });
  } else {
    const name = new URL(url).pathname.slice(1);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    databases.splice(databases.indexOf(name), 1);
  }
}

// ------------------------------------------------------------------ the run

const f = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

try {
  const backends = ['sqlite'];
  if (WITH_POSTGRES) {
    admin = new pg.Client({ connectionString: POSTGRES_SERVER, connectionTimeoutMillis: 5000 });
    await admin.connect().catch((err) => {
      throw new Error(`PostgreSQL at ${POSTGRES_SERVER} cannot be reached (${err.message}): start it, or set BENCH_POSTGRES=0`);
    });
    backends.push('postgres');
  }
  const rows = [];
  let run = 0;
  for (const perAccount of [1, PER_ACCOUNT]) {
    const accountCount = Math.ceil(DOMAINS / perAccount);
    for (const format of Object.keys(WRITERS)) {
      const input = writeInput(format, perAccount);
      for (const backend of backends) {
        const url = await BACKENDS[backend](++run);
        const r = await mailconf(['import', input.path], url);
        if (!r.out.startsWith(`imported ${accountCount} account${accountCount === 1 ? "" : "s"}, ${DOMAINS} domains`)) throw new Error(`unexpected report:\n${r.out}`);
        const row = [`${f(accountCount)} x ${perAccount}`, format, backend, f(input.bytes / 1024 / 1024, 1), seconds(r.ms), f(DOMAINS / (r.ms / 1000)), f(r.peakMb, 1), r.peakMb < TARGET_MB ? 'yes' : 'NO'];
        rows.push(row);
        console.error(row.join('  '));
        await dropDirectory(url);
      }
      rmSync(input.path, { force: true });
    }
  }
  const header = ['accounts x domains', 'format', 'directory', 'file MB', 'import', 'domains/s', 'peak RSS MB', `< ${TARGET_MB} MB`];
  const cells = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => r[j].length)));
  const line = (r) => r.map((c, j) => (j < 3 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  console.log(`\nImport of ${f(DOMAINS)} domains, node ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log([line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n'));
  process.exitCode = rows.every((r) => r.at(-1) === 'yes') ? 0 : 1;
} catch (err) {
  console.error(`bench:import: ${err.message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
