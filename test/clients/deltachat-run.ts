// The program the Delta Chat suite runs inside a network and mount namespace that holds
// only loopback and its own hosts file (netns.ts, deltachat-cases.ts): our service behind an
// HTTPS front on FRONT_ADDRESS:443, the stand-in IMAP/SMTP server on every mail host's own
// address, and Delta Chat's real core (deltachat-rpc-server, under strace) configuring one
// fresh account per case over JSON-RPC. It writes WORKDIR/result.json and prints
// `RESULT <that path>` on stdout.
//
//   usage: deltachat-run.ts WORKDIR
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { StdioDeltaChat } from '@deltachat/jsonrpc-client';
import { coreBinaryPath } from './deltachat-core.js';
import { CLIENT_ACCOUNTS, PUBLIC_URL } from './fixtures.js';
import { DC_CASES, DC_PASSWORD, DC_SOURCES, FRONT_ADDRESS, frontNames, mailHosts, PIN_TABLE, sourceUrl, type DcCase, type DcCaseRecord, type DcRunResult, type PinMode } from './deltachat-cases.js';
import { startMailStandIn } from './mail-standin.js';
import { exitWhenDone, writeRunResult } from './run-result.js';
import { issueServerCertificate, makeTestPki, startTestService } from './service.js';
import { descendantsOf, isAlive, killPids, startTime } from './thunderbird.js';

/** One configure may take this long (each step of the core has its own, longer, timeouts). */
const CONFIGURE_TIMEOUT_MS = 30_000;

/** SHA-256 of the DER SubjectPublicKeyInfo, base64: the form the core's pin store keeps (RFC 7469). */
export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : typeof err === 'object' ? JSON.stringify(err) : String(err));

async function main(): Promise<void> {
  const workDir = process.argv[2];
  if (!workDir) throw new Error('usage: deltachat-run.ts WORKDIR');
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (name: string) => (timings[name] = Date.now() - t0);

  const pkiDir = join(workDir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  const hosts = mailHosts();
  const pki = makeTestPki(pkiDir, frontNames());
  const mailCert = issueServerCertificate(pkiDir, 'mail', hosts.map((h) => h.host));
  const frontHash = spkiHash(pki.serverCert);
  const mailHostNames = new Set(hosts.map((h) => h.host));
  const pins = new Map<string, string>([
    ...frontNames().map((n) => [n, frontHash] as [string, string]),
    ...hosts.map((h) => [h.host, spkiHash(mailCert.cert)] as [string, string]),
  ]);
  mark('pki');
  const service = await startTestService(CLIENT_ACCOUNTS, pki, PUBLIC_URL, { host: FRONT_ADDRESS, httpPort: 0, httpsPort: 443 });
  const mail = await startMailStandIn(hosts.map((h) => h.address), mailCert);
  mark('servers');

  const accountsDir = join(workDir, 'accounts');
  const straceLog = join(workDir, 'strace.log');
  const binary = coreBinaryPath();
  const server = spawn('strace', ['-f', '--seccomp-bpf', '-qq', '-e', 'trace=network', '-e', 'signal=none', '-o', straceLog, '--', binary], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DC_ACCOUNTS_PATH: accountsDir, HOME: workDir, RUST_LOG: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let serverErr = '';
  server.stderr.setEncoding('utf8').on('data', (d: string) => (serverErr = (serverErr + d).slice(-20_000)));
  const dc = new StdioDeltaChat(server.stdin, server.stdout, true);
  const logs = new Map<number, string[]>();
  dc.on('ALL', (accountId: number, event: { kind: string; msg?: string; progress?: number; comment?: string | null }) => {
    if (!['Info', 'Warning', 'Error', 'ConfigureProgress'].includes(event.kind)) return;
    const line = event.kind === 'ConfigureProgress' ? `progress ${event.progress}${event.comment ? `: ${event.comment}` : ''}` : `${event.kind}: ${event.msg}`;
    const list = logs.get(accountId) ?? [];
    if (list.length < 400) list.push(line);
    logs.set(accountId, list);
  });
  const pids = () => (server.pid === undefined ? [] : [server.pid, ...descendantsOf(server.pid)]);

  try {
    const system = await dc.rpc.getSystemInfo();
    const coreVersion = system.deltachat_core_version ?? '';
    mark('core');

    const cases: DcCaseRecord[] = [];
    let pinTable: DcRunResult['pinTable'] = null;
    const runCase = async (c: DcCase, pinMode: PinMode) => {
      const id = await dc.rpc.addAccount();
      const info = await dc.rpc.getInfo(id);
      const dbFile = info.database_dir;
      if (!dbFile) throw new Error('get_info has no database_dir: cannot find the account database for the pins');
      const db = new Database(dbFile, { timeout: 5000 });
      try {
        const columns = (db.prepare(`PRAGMA table_info(${PIN_TABLE.name})`).all() as Array<{ name: string }>).map((r) => r.name);
        pinTable = { name: PIN_TABLE.name, columns };
        if (pinMode !== 'unpinned' && PIN_TABLE.columns.every((col) => columns.includes(col))) {
          const now = Math.floor(Date.now() / 1000);
          const insert = db.prepare(`INSERT OR REPLACE INTO ${PIN_TABLE.name} (host, spki_hash, timestamp) VALUES (?, ?, ?)`);
          for (const [host, hash] of pins) insert.run(host, pinMode === 'wrong-name' && mailHostNames.has(host) ? frontHash : hash, now);
        }
      } finally {
        db.close();
      }
      await dc.rpc.batchSetConfig(id, { addr: c.email, mail_pw: DC_PASSWORD, imap_certificate_checks: '1' });

      const closed = new Set(c.closedPorts ?? []);
      const expectedAddress = c.expect && hosts.find((h) => h.host === c.expect!.imap.host)?.address;
      mail.refuse(closed.size > 0 ? (address, port) => address === expectedAddress && closed.has(port) : undefined);
      mail.presentCertificate(pinMode === 'wrong-name' ? { key: pki.serverKey, cert: pki.serverCert } : undefined);
      const earlier = DC_SOURCES.slice(0, DC_SOURCES.indexOf(c.source)).map((s) => sourceUrl(s, c.email));
      service.failRequests(earlier.length > 0 ? (r) => earlier.includes(r.url) : undefined);

      const reqBefore = service.requests.length;
      const tlsBefore = service.tlsErrors.length;
      const connBefore = mail.connections.length;
      const started = Date.now();
      let ok = false;
      let error: string | undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          dc.rpc.configure(id),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`configure did not finish within ${CONFIGURE_TIMEOUT_MS} ms`)), CONFIGURE_TIMEOUT_MS);
          }),
        ]);
        ok = true;
      } catch (err) {
        error = errorText(err);
        if (error.startsWith('configure did not finish')) await dc.rpc.stopOngoingProcess(id).catch(() => undefined);
      } finally {
        clearTimeout(timer);
      }
      const ms = Date.now() - started;
      // Connections the core closes as it finishes may still be ending: a moment for the last records.
      await sleep(100);
      await dc.rpc.stopIo(id).catch(() => undefined);
      const configured = await dc.rpc.isConfigured(id).catch(() => false);
      service.failRequests(undefined);
      mail.refuse(undefined);
      mail.presentCertificate(undefined);
      cases.push({
        case: c,
        pins: pinMode,
        ok,
        ...(error !== undefined ? { error } : {}),
        requests: service.requests.slice(reqBefore),
        tlsErrors: service.tlsErrors.slice(tlsBefore),
        connections: mail.connections.slice(connBefore),
        log: logs.get(id) ?? [],
        configured,
        ms,
      });
    };

    // Without the pins, strict TLS must refuse our test CA: the checks are real.
    await runCase(DC_CASES[0]!, 'unpinned');
    // With the right key pinned but a certificate that does not name the host, it must refuse too.
    await runCase(DC_CASES[1]!, 'wrong-name');
    mark('controls');
    for (const c of DC_CASES) await runCase(c, 'pinned');
    mark('cases');

    const traced = pids();
    server.stdin.end();
    const deadline = Date.now() + 5000;
    while (server.exitCode === null && server.signalCode === null && Date.now() < deadline) await sleep(50);
    if (server.exitCode === null && server.signalCode === null) await killPids(traced.map((pid) => ({ pid, start: startTime(pid) })));
    const leftover = traced.filter(isAlive);
    mark('shutdown');

    const result: DcRunResult = {
      coreVersion,
      binary,
      pinTable,
      frontPort: service.ports.https,
      mailAddresses: Object.fromEntries(hosts.map((h) => [h.host, h.address])),
      cases,
      pids: traced,
      leftover,
      serviceErrors: service.logs().filter((l) => typeof l.level === 'number' && l.level >= 50),
      straceLog,
      timings,
    };
    writeRunResult(workDir, result);
  } catch (err) {
    process.stderr.write(`deltachat-rpc-server stderr:\n${serverErr}\n`);
    throw err;
  } finally {
    const rest = pids().filter(isAlive);
    if (rest.length > 0) await killPids(rest.map((pid) => ({ pid, start: startTime(pid) })));
    await mail.close();
    await service.close();
  }
}

exitWhenDone('deltachat-run', main());
