// `npm run build && node bench/import-stream.mjs [N]`: the directory's streaming import
// (DirectoryAdmin.importStream) fed by a generator of N accounts (default 1,000,000) with
// one domain each, on SQLite (a file in a temporary folder) and on PostgreSQL (a throw-away
// database on MAILCONF_TEST_POSTGRES, else the local server), each in a child process of
// its own. Reports the wall time of the import and the child's peak RSS (VmHWM from
// /proc/self/status), beside a bare node process's, so the import's own share shows. A
// benchmark, not a test: nothing is asserted. BENCH_NODE_FLAGS passes node flags to the
// import children (V8 grows its young generation under a high allocation rate: a flag
// such as --max-semi-space-size=2 bounds that share). Everything it made is removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const N = Number((process.argv[2] === "--child" ? undefined : process.argv[2]) ?? process.env.BENCH_ACCOUNTS ?? 1_000_000);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = process.env.MAILCONF_TEST_POSTGRES || 'postgres://root@127.0.0.1:5432/postgres';

const peakKb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);

/** In a child: import N accounts into `url` and print {seconds, peakMb, report}. */
async function child(url) {
  const { openBackend, migrateBackend } = await import(pathToFileURL(join(ROOT, 'dist/directory/open.js')).href);
  await migrateBackend(url);
  const { directory } = await openBackend(url, { mustExist: false });
  async function* records() {
    for (let i = 0; i < N; i++) {
      const name = `u${String(i).padStart(7, '0')}`;
      yield { position: `line ${i + 1}`, account: { username: name, created: '2020-02-02', mailServer: null, domains: [`${name}.example`], mailboxes: [] } };
    }
  }
  const openedMb = Number((Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024).toFixed(1));
  const started = performance.now();
  const report = await directory.importStream(records(), { replace: true });
  const seconds = (performance.now() - started) / 1000;
  await directory.close();
  console.log(JSON.stringify({ seconds: Number(seconds.toFixed(1)), openedMb, peakMb: Number((peakKb() / 1024).toFixed(1)), report }));
}

/** Node flags for the import children (e.g. BENCH_NODE_FLAGS=--max-semi-space-size=2). */
const CHILD_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

function run(args) {
  const res = spawnSync(process.execPath, [...CHILD_FLAGS, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_ACCOUNTS: String(N) } });
  if (res.status !== 0) throw new Error(`child failed: ${args.join(' ')}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1));
}

async function main() {
  const self = fileURLToPath(import.meta.url);
  const bare = run(['-e', `console.log(JSON.stringify({ peakMb: Number((Number(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024).toFixed(1)) }))`]);
  console.log(`bare node: peak RSS ${bare.peakMb} MB`);
  const folder = mkdtempSync(join(tmpdir(), 'mailconf-import-bench-'));
  try {
    const sqlite = run([self, '--child', `sqlite:${join(folder, 'directory.db')}`]);
    console.log(`sqlite: ${N} accounts in ${sqlite.seconds} s, peak RSS ${sqlite.peakMb} MB (bare +${(sqlite.peakMb - bare.peakMb).toFixed(1)}; RSS before the import ${sqlite.openedMb} MB)`, JSON.stringify(sqlite.report));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  const name = `mailconf_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const u = new URL(SERVER);
    u.pathname = `/${name}`;
    const postgres = run([self, '--child', u.toString()]);
    console.log(`postgres: ${N} accounts in ${postgres.seconds} s, peak RSS ${postgres.peakMb} MB (bare +${(postgres.peakMb - bare.peakMb).toFixed(1)}; RSS before the import ${postgres.openedMb} MB)`, JSON.stringify(postgres.report));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]);
else await main();
