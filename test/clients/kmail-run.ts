// The program the KMail suite runs inside a network and mount namespace that holds only
// loopback and its own hosts file (netns.ts, kmail-cases.ts): our service on
// FRONT_ADDRESS:80 and :443, and Debian's `ispdb` (KMail's discovery code, under strace)
// once per case, with its own HOME and XDG folders and no D-Bus. It writes
// WORKDIR/result.json and prints `RESULT <that path>` on stdout.
//
// Two things the namespace needs for ispdb, each first shown missing by a control run:
// - A network interface besides loopback. KIO's http worker asks Qt whether the machine
//   is online before it sends a request (HTTPProtocol::isOffline in KIO's
//   src/kioworkers/http/http.cpp: QNetworkConfigurationManager::isOnline; Qt's generic
//   bearer engine, qgenericengine.cpp, ignores the loopback interface). With only `lo` it
//   connects, sends nothing and reports the URL as "does not exist". A veth pair with both
//   ends inside the namespace (a cable from the namespace to itself) makes it online;
//   nothing outside becomes reachable (a dummy interface would do where veth is missing).
// - The test CA in the system store: a copy of /etc/ssl/certs with the CA added, mounted
//   over it in this mount namespace only (Qt reads the system roots there; KIO's
//   KSslCertificateManager starts from those).
//
//   usage: kmail-run.ts WORKDIR
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_ACCOUNTS, PUBLIC_URL, tlsNames } from './fixtures.js';
import {
  FRONT_ADDRESS,
  KM_ACCOUNT_NAMED,
  KM_CASES,
  KM_SOURCES,
  sourceUrl,
  requestUrl,
  type KmCase,
  type KmReport,
  type KmRun,
  type KmRunResult,
  type KmServer,
  type KmSetup,
} from './kmail-cases.js';
import { exitWhenDone, writeRunResult } from './run-result.js';
import { makeTestPki, startTestService, type TestService } from './service.js';
import { descendantsOf, isAlive, killPids, startTime } from './thunderbird.js';

export const ISPDB = 'ispdb';
/** One lookup takes well under a second here; this bounds a hung one. */
const CASE_TIMEOUT_MS = 20_000;
/**
 * ispdb has four steps, so more failures than that mean it repeats one: Debian's patch
 * retries the .well-known step after every failure of it. After this many it is stopped.
 */
const REPEAT_LIMIT = 6;

const LINE = /^org\.kde\.pim\.accountwizard: (.*)$/;
const SERVER = /^\thostname: "(.*)" - port: (\d+) - encryption: "(.*)" - username: "(.*)" - authentication: "(.*)"$/;

/** The servers main.cpp prints at the end, by section; null when it did not get there. */
export function parseReport(output: string, exited: boolean): KmReport | null {
  if (!exited) return null;
  const report: KmReport = { imap: [], pop3: [], smtp: [] };
  let section: keyof KmReport | undefined;
  for (const raw of output.split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const text = m[1]!;
    if (text === 'Imap servers:') section = 'imap';
    else if (text === 'pop3 servers:') section = 'pop3';
    else if (text === 'smtp servers:') section = 'smtp';
    const s = SERVER.exec(text);
    if (s && section) {
      const server: KmServer = { hostname: s[1]!, port: Number(s[2]), encryption: s[3]!, username: s[4]!, authentication: s[5]! };
      report[section].push(server);
    }
  }
  return report;
}

function failures(output: string): string[] {
  return output
    .split('\n')
    .map((l) => LINE.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && l.startsWith('Fetching failed'));
}

function sh(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A copy of /etc/ssl/certs with the test CA added (as a file, its hash link and in the bundle), mounted over it. */
function trustTestCa(dir: string, caPem: string): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync('/etc/ssl/certs', { withFileTypes: true })) {
    // The links point into /usr/share/ca-certificates, which stays visible.
    const from = join('/etc/ssl/certs', entry.name);
    if (entry.isSymbolicLink()) symlinkSync(execFileSync('readlink', [from], { encoding: 'utf8' }).trim(), join(dir, entry.name));
    else if (entry.isFile()) copyFileSync(from, join(dir, entry.name));
  }
  writeFileSync(join(dir, 'mailconf-test-ca.pem'), caPem);
  const hash = execFileSync('openssl', ['x509', '-hash', '-noout', '-in', join(dir, 'mailconf-test-ca.pem')], { encoding: 'utf8' }).trim();
  let n = 0;
  while (readdirSync(dir).includes(`${hash}.${n}`)) n++;
  symlinkSync('mailconf-test-ca.pem', join(dir, `${hash}.${n}`));
  writeFileSync(join(dir, 'ca-certificates.crt'), `${readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8')}\n${caPem}`);
  sh('mount', ['--bind', dir, '/etc/ssl/certs']);
}

/**
 * kmail0, up, with 192.0.2.1/32: one end of a veth pair whose other end (kmail1, up) is in
 * this namespace too, or a dummy interface where the kernel has no veth.
 */
function addLoopedInterface(): void {
  try {
    sh('ip', ['link', 'add', 'kmail0', 'type', 'veth', 'peer', 'name', 'kmail1']);
    sh('ip', ['link', 'set', 'kmail1', 'up']);
  } catch (veth) {
    try {
      sh('ip', ['link', 'add', 'kmail0', 'type', 'dummy']);
    } catch (dummy) {
      throw new Error(`cannot add a veth pair or a dummy interface in the namespace: ${String(veth)}; ${String(dummy)}`);
    }
  }
  // An IPv4 address of its own too: glibc's getaddrinfo (AI_ADDRCONFIG, which Qt's
  // resolver sets) asks for IPv4 only when a non-loopback interface has one, and the
  // hosts file is IPv4. A /32 from TEST-NET-1 (RFC 5737) adds no route to anywhere.
  sh('ip', ['address', 'add', '192.0.2.1/32', 'dev', 'kmail0']);
  sh('ip', ['link', 'set', 'kmail0', 'up']);
}

async function runIspdb(workDir: string, index: number, c: KmCase, setup: KmSetup, service: TestService): Promise<KmRun> {
  const home = join(workDir, `home-${index}`);
  const runtime = join(home, 'run');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const straceLog = join(workDir, `strace-${index}.log`);
  const earlier = KM_SOURCES.slice(0, KM_SOURCES.indexOf(c.source)).map((s) => sourceUrl(s, c.email));
  service.failRequests(earlier.length > 0 ? (r) => earlier.includes(requestUrl(r)) : undefined);
  const reqBefore = service.requests.length;
  const tlsBefore = service.tlsErrors.length;
  const started = Date.now();

  const child = spawn('strace', ['-f', '--seccomp-bpf', '-qq', '-e', 'trace=network', '-e', 'signal=none', '-o', straceLog, '--', ISPDB, '--email', c.email], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_RUNTIME_DIR: runtime,
      LANG: 'C.UTF-8',
      QT_QPA_PLATFORM: 'offscreen',
      // main.cpp prints its findings through this category only.
      QT_LOGGING_RULES: '*.debug=false;org.kde.pim.accountwizard.debug=true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const pids = new Set<number>();
  let ended: KmRun['ended'] = 'timeout';
  let exitCode: number | null = null;
  const deadline = started + CASE_TIMEOUT_MS;
  for (;;) {
    if (child.pid !== undefined) for (const p of [child.pid, ...descendantsOf(child.pid)]) pids.add(p);
    const done = await Promise.race([exited.then((code) => ({ code })), sleep(50).then(() => undefined)]);
    if (done) {
      ended = 'exited';
      exitCode = done.code;
      break;
    }
    if (failures(output).length >= REPEAT_LIMIT) {
      ended = 'repeating';
      break;
    }
    if (Date.now() > deadline) break;
  }
  const ms = Date.now() - started;
  if (ended !== 'exited') {
    await killPids([...pids].map((pid) => ({ pid, start: startTime(pid) })));
    exitCode = await exited;
  }
  // KIO's workers end when ispdb's socket closes; give them a moment, then stop the rest by PID.
  const waitUntil = Date.now() + 2000;
  while ([...pids].some(isAlive) && Date.now() < waitUntil) await sleep(50);
  const leftover = [...pids].filter(isAlive);
  if (leftover.length > 0) await killPids(leftover.map((pid) => ({ pid, start: startTime(pid) })));
  service.failRequests(undefined);
  return {
    case: c,
    setup,
    ended,
    exitCode,
    report: parseReport(output, ended === 'exited'),
    failures: failures(output),
    requests: service.requests.slice(reqBefore),
    tlsErrors: service.tlsErrors.slice(tlsBefore),
    log: output.split('\n').filter((l) => LINE.test(l)).slice(-40),
    straceLog,
    pids: [...pids],
    leftover,
    ms,
  };
}

function packageVersion(): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'accountwizard'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

async function main(): Promise<void> {
  const workDir = process.argv[2];
  if (!workDir) throw new Error('usage: kmail-run.ts WORKDIR');
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (name: string) => (timings[name] = Date.now() - t0);

  const pkiDir = join(workDir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  const pki = makeTestPki(pkiDir, tlsNames());
  const service = await startTestService(CLIENT_ACCOUNTS, pki, PUBLIC_URL, { host: FRONT_ADDRESS, httpPort: 80, httpsPort: 443 });
  mark('service');
  const runs: KmRun[] = [];
  let index = 0;
  try {
    const control = KM_CASES.find((c) => c.email === 'jane@her-shop.example')!;
    // Only loopback: KIO considers the machine offline and sends no request at all.
    runs.push(await runIspdb(workDir, index++, control, 'offline', service));
    mark('offline');
    addLoopedInterface();
    // Online, but the test CA is not trusted: the HTTPS steps must fail.
    runs.push(await runIspdb(workDir, index++, control, 'untrusted', service));
    mark('untrusted');
    trustTestCa(join(workDir, 'certs'), pki.caPem);
    for (const c of [...KM_CASES, ...KM_ACCOUNT_NAMED]) runs.push(await runIspdb(workDir, index++, c, 'trusted', service));
    mark('cases');
    const result: KmRunResult = {
      packageVersion: packageVersion(),
      ports: service.ports,
      runs,
      serviceErrors: service.logs().filter((l) => typeof l.level === 'number' && l.level >= 50),
      timings,
    };
    writeRunResult(workDir, result);
  } finally {
    await service.close();
  }
}

exitWhenDone('kmail-run', main());
