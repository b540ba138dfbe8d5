// `npm run bench:http`: the service as clients see it, over loopback. Starts the built
// server (`node dist/server.js`) on 127.0.0.1 with a fresh demo directory, then for a
// fixed time per scenario keeps BENCH_CONNECTIONS keep-alive requests in flight and
// reports requests/s and latency percentiles. Only loopback is contacted; every loop is
// bounded in time and the server is stopped by its PID.
//
// Knobs (environment): BENCH_SECONDS per scenario (5), BENCH_CONNECTIONS (16).
import http from 'node:http';
import { poxRequestBody } from '../dist/dialects/autodiscover-pox.js';
import { positive } from './knobs.mjs';
import { startServer } from './server.mjs';

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
  const server = await startServer({ env: { RATE_LIMIT_MAX: '1000000', RATE_LIMIT_MISS_MAX: '1000000' } });
  try {
    console.log(`mailconf on 127.0.0.1:${server.port}; ${CONNECTIONS} connections in flight, ${SECONDS} s per scenario\n`);
    const rows = [];
    for (const scenario of SCENARIOS) rows.push(await run(server.port, scenario));
    console.table(rows);
  } finally {
    await server.stop();
  }
}

await main();
