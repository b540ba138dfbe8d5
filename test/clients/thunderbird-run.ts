// The program the client suite runs inside a network namespace that holds only loopback
// (see netns.ts): our service on two loopback ports, a headless Thunderbird under strace,
// Thunderbird's own account-setup code asked about every fixture address, then a clean
// shutdown. It writes WORKDIR/result.json and prints `RESULT <that path>` on stdout.
//
//   usage: thunderbird-run.ts WORKDIR
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_ACCOUNTS, CLIENT_CASES, PUBLIC_URL, SERVICE_BASE_DOMAIN, SERVICE_HOST, tlsNames, type ClientCase } from './fixtures.js';
import { appInfo, readPrefs, runProbe, runProbes, trustCa, type Probe } from './probes.js';
import { exitWhenDone, writeRunResult, type Phase, type ProbeRecord, type RunResult } from './run-result.js';
import { makeTestPki, startTestService } from './service.js';
import { isAlive, startThunderbird, type RunningThunderbird } from './thunderbird.js';

function autoconfigProbes(c: ClientCase): Probe[] {
  const d = c.domain;
  return [
    { kind: 'url', url: `https://autoconfig.${d}/mail/config-v1.1.xml`, email: c.email, source: 'isp-https' },
    { kind: 'url', url: `https://${d}/.well-known/autoconfig/mail/config-v1.1.xml`, email: c.email, source: 'isp-https' },
    { kind: 'url', url: `http://autoconfig.${d}/mail/config-v1.1.xml`, email: c.email, source: 'isp-http' },
    { kind: 'url', url: `http://${d}/.well-known/autoconfig/mail/config-v1.1.xml`, email: c.email, source: 'isp-http' },
    { kind: 'isp', domain: d, email: c.email },
  ];
}

async function main(): Promise<void> {
  const workDir = process.argv[2];
  if (!workDir) throw new Error('usage: thunderbird-run.ts WORKDIR');
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (name: string) => (timings[name] = Date.now() - t0);
  const tbLog = join(workDir, 'thunderbird.log');

  mkdirSync(join(workDir, 'pki'), { recursive: true });
  const pki = makeTestPki(join(workDir, 'pki'), tlsNames());
  mark('pki');
  const service = await startTestService(CLIENT_ACCOUNTS, pki, PUBLIC_URL);
  mark('service');
  let tb: RunningThunderbird | undefined;
  const straceLog = join(workDir, 'strace.log');
  try {
    tb = await startThunderbird({
      dir: join(workDir, 'thunderbird'),
      ports: service.ports,
      straceLog,
      onOutput: (line) => appendFileSync(tbLog, line + '\n'),
    });
    mark('thunderbird');
    const app = await appInfo(tb.marionette);
    const prefs = await readPrefs(tb.marionette, [
      'network.dns.forceResolve',
      'network.socket.forcePort',
      'mailnews.auto_config_url',
      'network.trr.mode',
      'network.captive-portal-service.enabled',
      'network.connectivity-service.enabled',
      'security.OCSP.enabled',
      'app.update.disabledForTesting',
      'toolkit.telemetry.enabled',
      'browser.safebrowsing.malware.enabled',
      'services.settings.server',
      'network.dns.disablePrefetch',
      'mailnews.auto_config.fetchFromISP.enabled',
      'mailnews.auto_config.fetchFromISP.sendEmailAddress',
      'mailnews.auto_config.fetchFromISP.sslOnly',
      'mailnews.auto_config.fetchFromExchange.enabled',
    ]);

    const probes: ProbeRecord[] = [];
    const ask = async (phase: Phase, c: ClientCase, probe: Probe) => {
      const before = service.requests.length;
      const started = Date.now();
      const result = await runProbe(tb!.marionette, probe);
      probes.push({ phase, email: c.email, probe, result, requests: service.requests.slice(before), ms: Date.now() - started });
    };
    const good = CLIENT_CASES.filter((c) => c.expect);

    // Before the test CA is trusted, HTTPS must fail: Thunderbird really checks the certificate.
    await ask('untrusted-ca', good[0]!, autoconfigProbes(good[0]!)[0]!);
    await trustCa(tb.marionette, pki.caBase64);
    mark('untrusted');

    for (const c of CLIENT_CASES) {
      for (const p of autoconfigProbes(c)) await ask('trusted', c, p);
      await ask('trusted', c, { kind: 'exchange', domain: c.domain, email: c.email });
      await ask('trusted', c, { kind: 'hub', domain: c.domain, email: c.email });
    }
    mark('trusted');

    // autodiscover.<domain> has no usable TLS: Thunderbird must fall back to https://<domain>/.
    service.refuseTls((name) => name.startsWith('autodiscover.'));
    for (const c of good) await ask('no-autodiscover-tls', c, { kind: 'exchange', domain: c.domain, email: c.email });
    // No usable TLS on any customer name (only the service's own name, PUBLIC_URL, has a
    // certificate): the plain-HTTP URLs must carry the set-up.
    service.refuseTls((name) => name !== SERVICE_HOST);
    for (const c of good) await ask('no-customer-tls', c, { kind: 'isp', domain: c.domain, email: c.email });
    // Exchange over plain HTTP is redirected to the service's own name, which Thunderbird
    // only follows after a pause of 2 s and the user's consent: all addresses at once.
    const before = service.requests.length;
    const started = Date.now();
    const exchangeProbes: Probe[] = good.map((c) => ({ kind: 'exchange', domain: c.domain, email: c.email, acceptRedirectTo: SERVICE_BASE_DOMAIN }));
    const results = await runProbes(tb.marionette, exchangeProbes);
    const batch = service.requests.slice(before);
    good.forEach((c, i) =>
      probes.push({ phase: 'no-customer-tls', email: c.email, probe: exchangeProbes[i]!, result: results[i]!, requests: batch, batched: true, ms: Date.now() - started }),
    );
    service.refuseTls(undefined);
    mark('probes');

    const pids = [...new Set([tb.pid, tb.thunderbirdPid, ...tb.descendants()])];
    const shutdown = await tb.stop();
    const leftover = pids.filter(isAlive);
    tb = undefined;
    mark('shutdown');
    const serviceErrors = service.logs().filter((l) => typeof l.level === 'number' && l.level >= 50);
    const result: RunResult = {
      app,
      ports: service.ports,
      prefs,
      probes,
      pids,
      shutdown: { ...shutdown, leftover },
      serviceErrors,
      straceLog,
      timings,
    };
    writeRunResult(workDir, result);
  } finally {
    if (tb) await tb.stop().catch(() => undefined);
    await service.close();
  }
}

exitWhenDone('thunderbird-run', main());
