// `npm run bench:directory`: the SQLite directory at provider scale (1,000,000 domains by default).
// Builds a throw-away directory in a temporary folder through SqliteDirectory.importAccounts,
// then times lookups the way the endpoints make them (one awaited call per request).
// Plain ESM over the compiled dist/ so that it needs no TypeScript loader.
//
// Knobs (environment): BENCH_ACCOUNTS (250000), BENCH_DOMAINS_PER_ACCOUNT (4),
// BENCH_LOOKUPS per kind (200000), BENCH_SEED (1).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDirectory } from '../dist/directory/sqlite.js';
import { positive } from './knobs.mjs';

const ACCOUNTS = positive('BENCH_ACCOUNTS', 250_000);
const PER_ACCOUNT = positive('BENCH_DOMAINS_PER_ACCOUNT', 4);
const LOOKUPS = positive('BENCH_LOOKUPS', 200_000);
const SEED = positive('BENCH_SEED', 1);

// Small deterministic PRNG (mulberry32): the same data and the same probes on every run.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const pick = (list) => list[Math.floor(random() * list.length)];
const word = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += 'abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 26)];
  return s;
};

/**
 * Accounts shaped like the import file: username order, domains with random prefixes (so
 * inserts land all over the B-tree, as real domain names do), one mailbox per account,
 * and half of the accounts old-era (with a mail server number).
 */
function generate() {
  const accounts = new Array(ACCOUNTS);
  const domains = new Array(ACCOUNTS * PER_ACCOUNT);
  for (let i = 0; i < ACCOUNTS; i++) {
    const username = `u${i.toString(36).padStart(4, '0')}`;
    const own = [];
    for (let k = 0; k < PER_ACCOUNT; k++) {
      const domain = `${word(6)}-${i.toString(36)}-${k}.example`;
      own.push(domain);
      domains[i * PER_ACCOUNT + k] = domain;
    }
    const old = i % 2 === 0;
    accounts[i] = {
      username,
      created: old ? '2008-05-17' : '2016-09-30T12:00:00Z',
      mailServer: old ? 1 + (i % 300) : null,
      domains: own,
      mailboxes: [{ address: `info@${own[0]}`, login: `${username}-info` }],
    };
  }
  return { accounts, domains };
}

function folderBytes(dir) {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

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
  return {
    label,
    perSecond: Math.round(count / (totalNs / 1e9)),
    p50: at(0.5),
    p99: at(0.99),
    max: ns[count - 1] / 1000,
    found: `${found}/${count}`,
  };
}

const fmt = (n) => n.toLocaleString('en-US');
const us = (n) => `${n.toFixed(1)} µs`;
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function table(rows, columns) {
  const cells = [columns.map((c) => c.title), ...rows.map((r) => columns.map((c) => String(c.value(r))))];
  const widths = columns.map((_, j) => Math.max(...cells.map((row) => row[j].length)));
  const line = (row) => row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

async function main() {
  const folder = mkdtempSync(join(tmpdir(), 'mailconf-bench-'));
  const path = join(folder, 'directory.db');
  let directory;
  try {
    console.log(
      `mailconf directory bench: ${fmt(ACCOUNTS)} accounts x ${PER_ACCOUNT} domains = ${fmt(ACCOUNTS * PER_ACCOUNT)} domains, ` +
        `${fmt(ACCOUNTS)} mailboxes; ${fmt(LOOKUPS)} lookups per kind; node ${process.version}; ${path}`,
    );
    let t = performance.now();
    const { accounts, domains } = generate();
    const generateMs = performance.now() - t;

    directory = new SqliteDirectory(path);
    t = performance.now();
    const summary = await directory.importAccounts(accounts, { replace: false });
    const importMs = performance.now() - t;

    // The same file imported again over itself: every account's domains and mailboxes
    // are deleted and rewritten (the upsert path a nightly full import takes).
    t = performance.now();
    await directory.importAccounts(accounts, { replace: false });
    const reimportMs = performance.now() - t;
    await directory.close();
    const bytes = folderBytes(folder);

    // Start-up as the server does it: open, then counts() for the start-up log line.
    t = performance.now();
    directory = new SqliteDirectory(path, { mustExist: true });
    const openMs = performance.now() - t;
    t = performance.now();
    const counts = await directory.counts();
    const countsMs = performance.now() - t;
    if (counts.domains !== ACCOUNTS * PER_ACCOUNT || counts.accounts !== ACCOUNTS) {
      throw new Error(`unexpected counts ${JSON.stringify(counts)}`);
    }

    const d = directory;
    const results = [
      await measure('findByDomain, existing domain', LOOKUPS, () => d.findByDomain(pick(domains))),
      // Counted as found only when the stored login comes back.
      await measure('findByDomain, existing + stored mailbox', LOOKUPS, async () => {
        const a = pick(accounts);
        return (await d.findByDomain(a.domains[0], a.mailboxes[0].address))?.mailboxLogin;
      }),
      await measure('findByDomain, missing domain', LOOKUPS, () => d.findByDomain(`${word(6)}-missing.example`)),
      await measure('findByUsername, existing + address', LOOKUPS, () => {
        const a = pick(accounts);
        return d.findByUsername(a.username, `${a.username}@pair.com`);
      }),
      await measure('findByUsername, missing', LOOKUPS, () => d.findByUsername(`x${word(7)}`)),
    ];

    console.log('');
    console.log(
      table(
        [
          { step: 'generate accounts (in memory)', ms: generateMs, note: '' },
          {
            step: 'importAccounts into an empty directory',
            ms: importMs,
            note: `${fmt(Math.round(summary.domains / (importMs / 1000)))} domains/s`,
          },
          { step: 'importAccounts again (upsert every account)', ms: reimportMs, note: '' },
          { step: 'open existing directory', ms: openMs, note: `${(bytes / 1024 / 1024).toFixed(0)} MiB on disk` },
          { step: 'counts() (start-up log line)', ms: countsMs, note: '' },
        ],
        [
          { title: 'step', value: (r) => r.step },
          { title: 'time', value: (r) => (r.ms >= 1000 ? secs(r.ms) : `${r.ms.toFixed(1)} ms`) },
          { title: '', value: (r) => r.note },
        ],
      ),
    );
    console.log('');
    console.log(
      table(results, [
        { title: 'lookup', value: (r) => r.label },
        { title: 'lookups/s', value: (r) => fmt(r.perSecond) },
        { title: 'p50', value: (r) => us(r.p50) },
        { title: 'p99', value: (r) => us(r.p99) },
        { title: 'max', value: (r) => us(r.max) },
        { title: 'found', value: (r) => r.found },
      ]),
    );
  } finally {
    await directory?.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
