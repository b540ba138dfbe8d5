// `npm run bench:http`: the service as clients see it, over loopback. Starts the built
// server (`node dist/server.js`) on 127.0.0.1 with a fresh demo directory, then for a
// fixed time per scenario keeps BENCH_CONNECTIONS keep-alive requests in flight and
// reports requests/s and latency percentiles. Only loopback is contacted; every loop is
// bounded in time and the server is stopped by its PID.
//
// Knobs (environment): BENCH_SECONDS per scenario (5), BENCH_CONNECTIONS (16).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poxRequestBody } from '../dist/dialects/autodiscover-pox.js';
import { positive } from './knobs.mjs';

const SECONDS = positive('BENCH_SECONDS', 5);
const CONNECTIONS = positive('BENCH_CONNECTIONS', 16);


const SCENARIOS = [
  { name: 'autoconfig, address known (Thunderbird)', method: 'GET', path: '/mail/config-v1.1.xml?emailaddress=jane%40her-shop.example' },
  { name: 'autoconfig, Host only (K-9, KMail)', method: 'GET', path: '/.well-known/autoconfig/mail/config-v1.1.xml', host: 'newbie.example' },
  { name: 'autoconfig, unknown domain (404)', method: 'GET', path: '/mail/config-v1.1.xml?emailaddress=x%40unknown.example' },
  { name: 'autodiscover POX (Outlook)', method: 'POST', path: '/autodiscover/autodiscover.xml', body: poxRequestBody('sales@oldtimer-shop.example') },
  { name: 'autodiscover.json (new Outlook)', method: 'GET', path: '/autodiscover/autodiscover.json?Email=jane%40her-shop.example&Protocol=AutodiscoverV1' },
  { name: 'Apple profile (unsigned)', method: 'GET', path: '/mobileconfig?emailaddress=jane%40her-shop.example' },
  { name: 'settings page (HTML)', method: 'GET', path: '/settings?emailaddress=jane%40her-shop.example', accept: 'text/html' },
];

function request(agent, port, scenario) {
  return new Promise((resolve, reject) => {
    const headers = { host: scenario.host ?? '127.0.0.1', accept: scenario.accept ?? '*/*' };
    if (scenario.body) headers['content-type'] = 'text/xml; charset=utf-8';
    const req = http.request({ host: '127.0.0.1', port, method: scenario.method, path: scenario.path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(scenario.body);
  });
}

async function run(port, scenario) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies = [];
  const statuses = new Map();
  const deadline = performance.now() + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const status = await request(agent, port, scenario);
      latencies.push(performance.now() - started);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - began) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return {
    scenario: scenario.name,
    'req/s': Math.round(latencies.length / elapsed),
    'p50 ms': pct(50).toFixed(2),
    'p99 ms': pct(99).toFixed(2),
    'max ms': latencies.at(-1).toFixed(1),
    statuses: [...statuses].map(([s, n]) => `${s}×${n}`).join(' '),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'mailconf-bench-http-'));
  const child = spawn(process.execPath, ['dist/server.js'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '1000000',
      MAILCONF_DIRECTORY: `sqlite:${join(dir, 'directory.db')}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    // The start-up line says where it listens; after it, request lines are drained unread.
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the server did not start within 20 s')), 20_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /mailconf listening on http:\/\/[^:]+:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          child.stdout.removeAllListeners('data');
          child.stdout.resume();
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
    });
    console.log(`mailconf on 127.0.0.1:${port}; ${CONNECTIONS} connections in flight, ${SECONDS} s per scenario\n`);
    const rows = [];
    for (const scenario of SCENARIOS) rows.push(await run(port, scenario));
    console.table(rows);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
