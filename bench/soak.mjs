// `npm run soak -- --minutes N`: steady mixed load against a production start, to show that
// nothing leaks or degrades over time. Well-behaved clients (each from its own loopback
// address, inside the rate limit) ask every dialect and check each answer's host; at the
// same time one client floods past the rate limit, slow clients trickle bodies and hold
// idle sockets. Reports, for the well-behaved clients, throughput, errors (any wrong status,
// wrong host or failed connection) and p50/p99, and the server's RSS after the warm-up and
// at the end. Only loopback addresses are contacted; every loop ends at the deadline; the
// server is stopped by its PID.
//
// Options: --minutes N (10), --clients N well-behaved clients (16), --write (append the
// result to bench/RESULTS.md). Exit status 1 when there were errors.
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { poxRequestBody } from '../dist/dialects/autodiscover-pox.js';
import { startServer } from './server.mjs';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, clients: { type: 'string', default: '16' }, write: { type: 'boolean', default: false } },
});
const MINUTES = Number(values.minutes);
const CLIENTS = Number(values.clients);
if (!(MINUTES > 0 && MINUTES <= 120) || !(Number.isInteger(CLIENTS) && CLIENTS > 0 && CLIENTS <= 200)) {
  throw new Error('--minutes must be in (0, 120] and --clients a whole number from 1 to 200');
}
const DURATION_MS = MINUTES * 60_000;
const WARM_UP_MS = Math.min(30_000, DURATION_MS / 5);
/** Requests per second each well-behaved client makes: inside the limit below. */
const CLIENT_RATE = 40;
const RATE_LIMIT_PER_MINUTE = 3000;

// What the demo directory answers (data/demo.json): each request with the one host it must name.
const OLD = { address: 'sales@oldtimer-shop.example', host: 'mail123.pair.com' };
const NEW = { address: 'jane@her-shop.example', host: 'hershop.mail.pairserver.com' };
const q = (a) => encodeURIComponent(a);
const REQUESTS = [
  { method: 'GET', path: `/mail/config-v1.1.xml?emailaddress=${q(OLD.address)}`, status: 200, host: OLD.host },
  { method: 'GET', path: `/mail/config-v1.1.xml?emailaddress=${q(NEW.address)}`, status: 200, host: NEW.host },
  { method: 'POST', path: '/autodiscover/autodiscover.xml', body: poxRequestBody(NEW.address), status: 200, host: NEW.host },
  { method: 'GET', path: `/autodiscover/autodiscover.json?Email=${q(OLD.address)}&Protocol=AutodiscoverV1`, status: 200 },
  { method: 'GET', path: `/mobileconfig?emailaddress=${q(NEW.address)}`, status: 200, host: NEW.host },
  { method: 'GET', path: `/settings?emailaddress=${q(OLD.address)}`, accept: 'text/html', status: 200, host: OLD.host },
  { method: 'GET', path: '/mail/config-v1.1.xml?emailaddress=x%40unknown.example', status: 404 },
];
const HOSTS = /mail\d+\.pair\.com|[a-z0-9-]+\.mail\.pairserver\.com/g;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function send(agent, port, localAddress, r) {
  return new Promise((resolve) => {
    const headers = { host: 'mailconf.localhost', accept: r.accept ?? '*/*' };
    if (r.body) headers['content-type'] = 'text/xml; charset=utf-8';
    const req = http.request({ host: '127.0.0.1', port, localAddress, method: r.method, path: r.path, agent, headers, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end(r.body);
  });
}

/** Why an answer is wrong, or undefined when it is right. */
function problemOf(r, answer) {
  if (answer.error) return `connection: ${answer.error}`;
  if (answer.status !== r.status) return `status ${answer.status}, expected ${r.status}`;
  if (r.host) {
    const hosts = [...new Set(answer.body.match(HOSTS) ?? [])];
    if (hosts.length !== 1 || hosts[0] !== r.host) return `hosts ${hosts.join(',') || 'none'}, expected ${r.host}`;
  }
  return undefined;
}

async function wellBehaved(port, index, deadline, stats) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const localAddress = `127.0.1.${index + 1}`;
  let n = 0;
  const started = performance.now();
  while (performance.now() < deadline) {
    const r = REQUESTS[(index + n) % REQUESTS.length];
    const t0 = performance.now();
    const answer = await send(agent, port, localAddress, r);
    const ms = performance.now() - t0;
    const problem = problemOf(r, answer);
    const measured = t0 - stats.began > WARM_UP_MS;
    if (problem) {
      stats.errors++;
      if (stats.examples.length < 10) stats.examples.push(`${r.method} ${r.path}: ${problem}`);
    } else if (measured) {
      stats.ok++;
      stats.latencies.push(ms);
    }
    n++;
    // Keep to CLIENT_RATE requests per second, well inside the per-client limit.
    const due = started + (n * 1000) / CLIENT_RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  agent.destroy();
}

/** One client far past the rate limit: it must get 429s, never hurt the others. */
async function flooder(port, deadline, stats) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const worker = async () => {
    while (performance.now() < deadline) {
      const answer = await send(agent, port, '127.0.2.1', REQUESTS[0]);
      if (answer.status === 429) stats.limited++;
      else if (answer.status === 200) stats.floodServed++;
      else stats.floodOther++;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  agent.destroy();
}

/** Slow clients: a POST whose body trickles, and a socket that sends nothing. Each is cut by the server or ends at its own bound. */
async function slowClients(port, deadline, stats) {
  const one = (localAddress, behaviour) =>
    new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress });
      let timer;
      const end = () => {
        clearInterval(timer);
        socket.destroy();
        resolve();
      };
      socket.setTimeout(120_000, end);
      socket.on('error', end);
      socket.on('close', () => {
        stats.slowClosed++;
        end();
      });
      socket.on('connect', () => {
        if (behaviour === 'trickle') {
          socket.write('POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: mailconf.localhost\r\nContent-Length: 1000\r\n\r\n');
          timer = setInterval(() => socket.write('x'), 2000);
        }
      });
      setTimeout(end, Math.max(0, deadline - performance.now()));
    });
  let i = 0;
  while (performance.now() < deadline) {
    await Promise.all([one(`127.0.3.${(i % 8) + 1}`, 'trickle'), one(`127.0.3.${(i % 8) + 9}`, 'idle')]);
    i++;
  }
}

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
}

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  // Each well-behaved client asks one unhosted domain in seven requests: its miss budget
  // is its whole budget here (the flooder still meets the limit).
  const server = await startServer({
    env: { RATE_LIMIT_MAX: String(RATE_LIMIT_PER_MINUTE), RATE_LIMIT_MISS_MAX: String(RATE_LIMIT_PER_MINUTE), TRUST_PROXY: 'false' },
  });
  const stats = { began: performance.now(), ok: 0, errors: 0, examples: [], latencies: [], limited: 0, floodServed: 0, floodOther: 0, slowClosed: 0 };
  const deadline = stats.began + DURATION_MS;
  let rssWarm;
  const warmTimer = setTimeout(() => (rssWarm = rssOf(server.pid)), WARM_UP_MS);
  try {
    console.log(`soak: ${MINUTES} min, ${CLIENTS} clients x ${CLIENT_RATE} req/s, 1 flooder, slow clients; server pid ${server.pid} on :${server.port}`);
    await Promise.all([
      ...Array.from({ length: CLIENTS }, (_, i) => wellBehaved(server.port, i, deadline, stats)),
      flooder(server.port, deadline, stats),
      slowClients(server.port, deadline, stats),
    ]);
    clearTimeout(warmTimer);
    const rssEnd = rssOf(server.pid);
    const measuredSeconds = (DURATION_MS - WARM_UP_MS) / 1000;
    stats.latencies.sort((a, b) => a - b);
    const result = {
      date: new Date().toISOString().slice(0, 10),
      minutes: MINUTES,
      machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`,
      'well-behaved req/s': Math.round(stats.ok / measuredSeconds),
      errors: stats.errors,
      'p50 ms': percentile(stats.latencies, 50).toFixed(2),
      'p99 ms': percentile(stats.latencies, 99).toFixed(2),
      'flood 429s': stats.limited,
      'flood served': stats.floodServed,
      'slow sockets closed': stats.slowClosed,
      'RSS after warm-up MB': (rssWarm / 2 ** 20).toFixed(1),
      'RSS at end MB': (rssEnd / 2 ** 20).toFixed(1),
      'RSS growth %': (((rssEnd - rssWarm) / rssWarm) * 100).toFixed(1),
    };
    console.table(result);
    for (const e of stats.examples) console.log(`error: ${e}`);
    if (values.write) {
      appendFileSync(
        new URL('./RESULTS.md', import.meta.url),
        `\n### Soak, ${result.date}: ${MINUTES} minutes\n\n` +
          `${result.machine}. ${CLIENTS} well-behaved clients (each its own loopback address, ${CLIENT_RATE} req/s, every dialect, ` +
          `each answer's host checked), one client flooding past the limit (${RATE_LIMIT_PER_MINUTE}/min), trickling and idle sockets.\n\n` +
          '| measure | value |\n|---|---|\n' +
          Object.entries(result)
            .filter(([k]) => !['date', 'minutes', 'machine'].includes(k))
            .map(([k, v]) => `| ${k} | ${v} |`)
            .join('\n') +
          '\n',
      );
    }
    process.exitCode = stats.errors > 0 ? 1 : 0;
  } finally {
    clearTimeout(warmTimer);
    await server.stop();
  }
}

await main();
