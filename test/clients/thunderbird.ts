// Starting and stopping a real headless Thunderbird for the client tests: a fresh
// temporary profile and HOME, preferences that send every host name to our loopback
// listeners and switch off everything that would reach the network on its own, Marionette
// on a loopback port, and a shutdown that leaves no process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Marionette } from './marionette.js';

/** The launcher Debian installs; its absence means Thunderbird is not installed. */
export const THUNDERBIRD_LAUNCHER = '/usr/bin/thunderbird';

/**
 * The program to run, or undefined when Thunderbird is not installed. Debian's
 * /usr/bin/thunderbird is a shell wrapper (Icedove profile migration) that execs
 * /usr/lib/thunderbird/thunderbird; we run that directly so the PID we hold is
 * Thunderbird's own. THUNDERBIRD=/path/to/thunderbird overrides both.
 */
export function thunderbirdBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.THUNDERBIRD) return existsSync(env.THUNDERBIRD) ? env.THUNDERBIRD : undefined;
  if (!existsSync(THUNDERBIRD_LAUNCHER)) return undefined;
  const direct = '/usr/lib/thunderbird/thunderbird';
  return existsSync(direct) ? direct : THUNDERBIRD_LAUNCHER;
}

function prefValue(value: string | number | boolean): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Preferences for a Thunderbird that talks only to our service: every name resolves to
 * 127.0.0.1 and ports 80/443 go to our listeners (URLs, Host headers and TLS names stay
 * as Thunderbird built them), and nothing starts a connection of its own.
 */
export function testPrefs(ports: { http: number; https: number }): Record<string, string | number | boolean> {
  return {
    // Routing: the whole point.
    'network.dns.forceResolve': '127.0.0.1',
    'network.socket.forcePort': `80=${ports.http};443=${ports.https}`,
    'network.dns.disableIPv6': true,
    'network.proxy.type': 0,
    // Marionette on a free loopback port, written to <profile>/MarionetteActivePort.
    'marionette.port': 0,
    // DNS over HTTPS, prefetching, speculative connections.
    'network.trr.mode': 5,
    'network.trr.uri': '',
    'network.trr.confirmationNS': 'skip',
    'network.dns.disablePrefetch': true,
    'network.dns.disablePrefetchFromHTTPS': true,
    'network.prefetch-next': false,
    'network.predictor.enabled': false,
    'network.predictor.enable-prefetch': false,
    'network.http.speculative-parallel-limit': 0,
    'network.http.http3.enable': false,
    // Captive portal and connectivity checks.
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'captivedetect.canonicalURL': '',
    // Updates (application, add-ons, system add-ons, plugins/GMP).
    'app.update.disabledForTesting': true,
    'app.update.auto': false,
    'app.update.checkInstallTime': false,
    'extensions.update.enabled': false,
    'extensions.update.autoUpdateDefault': false,
    'extensions.systemAddon.update.enabled': false,
    'extensions.systemAddon.update.url': '',
    'extensions.getAddons.cache.enabled': false,
    'extensions.blocklist.enabled': false,
    'media.gmp-manager.url': '',
    'media.gmp-manager.updateEnabled': false,
    // Telemetry and data reporting.
    'toolkit.telemetry.enabled': false,
    'toolkit.telemetry.unified': false,
    'toolkit.telemetry.archive.enabled': false,
    'toolkit.telemetry.server': '',
    'toolkit.telemetry.shutdownPingSender.enabled': false,
    'toolkit.telemetry.newProfilePing.enabled': false,
    'toolkit.telemetry.firstShutdownPing.enabled': false,
    'toolkit.telemetry.updatePing.enabled': false,
    'toolkit.telemetry.bhrPing.enabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'datareporting.usage.uploadEnabled': false,
    'browser.crashReports.unsubmittedCheck.enabled': false,
    // Safe browsing.
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'browser.safebrowsing.downloads.enabled': false,
    'browser.safebrowsing.downloads.remote.enabled': false,
    'browser.safebrowsing.blockedURIs.enabled': false,
    'browser.safebrowsing.update.enabled': false,
    'browser.safebrowsing.provider.google.updateURL': '',
    'browser.safebrowsing.provider.google.gethashURL': '',
    'browser.safebrowsing.provider.google4.updateURL': '',
    'browser.safebrowsing.provider.google4.gethashURL': '',
    'browser.safebrowsing.provider.google5.enabled': false,
    'browser.safebrowsing.provider.google5.updateURL': '',
    'browser.safebrowsing.provider.google5.gethashURL': '',
    'browser.safebrowsing.provider.mozilla.updateURL': '',
    'browser.safebrowsing.provider.mozilla.gethashURL': '',
    // Remote settings, certificate revocation (OCSP, CRLite) and intermediates.
    'services.settings.server': 'data:,#remote-settings-dummy/v1',
    'services.settings.poll_interval': 86400 * 365,
    'security.OCSP.enabled': 0,
    'security.OCSP.require': false,
    'security.ssl.enable_ocsp_stapling': false,
    'security.remote_settings.crlite_filters.enabled': false,
    'security.remote_settings.intermediates.enabled': false,
    'security.pki.crlite_mode': 0,
    'security.certerrors.mitm.priming.enabled': false,
    // Region, geolocation, push, normandy-style experiments.
    'browser.region.update.enabled': false,
    'browser.region.network.url': '',
    'geo.provider.network.url': '',
    'geo.enabled': false,
    'dom.push.enabled': false,
    'dom.push.connection.enabled': false,
    'dom.push.serverURL': '',
    'app.normandy.enabled': false,
    'messaging-system.rsexperimentloader.enabled': false,
    'nimbus.disable': true,
    // Thunderbird: the central ISPDB, add-on list, start page, in-app notifications,
    // default-client check, account provisioner, dictionaries, chat.
    'mailnews.auto_config_url': '',
    'mailnews.auto_config.addons_url': '',
    'mailnews.start_page.enabled': false,
    'mailnews.start_page.url': '',
    'mail.inappnotifications.enabled': false,
    'mail.inappnotifications.url': '',
    'mail.shell.checkDefaultClient': false,
    'mail.provider.enabled': false,
    'mail.rights.override': true,
    'mail.spotlight.firstRunDone': true,
    'mail.winsearch.firstRunDone': true,
    'messenger.startup.action': 0,
    'browser.dictionaries.download.url': '',
    'spellchecker.dictionaries.download.url': '',
    'app.releaseNotesURL': '',
    // Calendar: no network calendars or timezone updates on a fresh profile, but be sure.
    'calendar.timezone.local': 'UTC',
    // Sandboxed content processes are not needed to read XML; fewer processes to stop.
    'dom.ipc.processCount': 1,
    'browser.tabs.remote.autostart': false,
    'fission.autostart': false,
  };
}

export function userJs(prefs: Record<string, string | number | boolean>): string {
  return Object.entries(prefs)
    .map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${prefValue(value)});`)
    .join('\n') + '\n';
}

export interface ThunderbirdOptions {
  /** A fresh directory of ours: the profile, HOME and temporary files go under it. */
  dir: string;
  ports: { http: number; https: number };
  /** When set, Thunderbird runs under `strace -f -e trace=network`, writing this file. */
  straceLog?: string;
  /** Milliseconds to wait for Marionette. */
  startTimeout?: number;
  /** Thunderbird's stdout/stderr lines (noisy GTK warnings included). */
  onOutput?: (line: string) => void;
}

export interface RunningThunderbird {
  marionette: Marionette;
  /** The process we spawned: Thunderbird itself, or strace when tracing. */
  pid: number;
  /** Thunderbird's main process. */
  thunderbirdPid: number;
  version: string;
  profile: string;
  /** Every process still alive that descends from the one we spawned. */
  descendants(): number[];
  /** Quits through Marionette, then by PID; returns what was still alive and had to be killed. */
  stop(): Promise<{ quitViaMarionette: boolean; killed: number[] }>;
}

/** The children of `pid` read from /proc (Linux), recursively. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** The start time of a process (clock ticks since boot), to tell a PID from its reuse. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited; it only waits for its parent to reap it.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, ms: number, probe: () => T | undefined, child?: ChildProcess): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** Kills, by PID and only if still the same process, each of `pids`; returns those it signalled. */
export async function killPids(pids: Array<{ pid: number; start: string | undefined }>): Promise<number[]> {
  const alive = () => pids.filter((p) => isAlive(p.pid) && startTime(p.pid) === p.start);
  const signalled: number[] = [];
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const targets = alive();
    if (targets.length === 0) break;
    for (const p of targets) {
      try {
        process.kill(p.pid, signal);
        if (!signalled.includes(p.pid)) signalled.push(p.pid);
      } catch {
        // gone meanwhile
      }
    }
    const deadline = Date.now() + 3000;
    while (alive().length > 0 && Date.now() < deadline) await sleep(50);
  }
  return signalled;
}

export async function startThunderbird(options: ThunderbirdOptions): Promise<RunningThunderbird> {
  const binary = thunderbirdBinary();
  if (!binary) throw new Error(`Thunderbird is not installed (${THUNDERBIRD_LAUNCHER} is missing)`);
  const profile = join(options.dir, 'profile');
  const home = join(options.dir, 'home');
  const tmp = join(options.dir, 'tmp');
  for (const d of [profile, home, tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(join(profile, 'user.js'), userJs(testPrefs(options.ports)));

  const tbArgs = ['--headless', '--marionette', '--remote-allow-system-access', '--profile', profile, '--no-remote'];
  const command = options.straceLog ? 'strace' : binary;
  const args = options.straceLog
    ? ['-f', '--seccomp-bpf', '-qq', '-e', 'trace=network', '-e', 'signal=none', '-o', options.straceLog, '--', binary, ...tbArgs]
    : tbArgs;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_RUNTIME_DIR: tmp,
    LANG: 'C.UTF-8',
    MOZ_HEADLESS: '1',
    MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1',
    MOZ_CRASHREPORTER_DISABLE: '1',
    MOZ_CRASHREPORTER_NO_REPORT: '1',
    MOZ_DISABLE_AUTO_SAFE_MODE: '1',
    // No session bus: nothing to autolaunch, nothing to talk to.
    DBUS_SESSION_BUS_ADDRESS: 'disabled:',
    NO_AT_BRIDGE: '1',
  };
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const onLine = options.onOutput ?? (() => undefined);
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
  }
  const spawnError = new Promise<never>((_resolve, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  if (child.pid === undefined) await spawnError;
  const pid = child.pid!;
  const known = new Map<number, string | undefined>([[pid, startTime(pid)]]);
  const remember = () => {
    for (const d of descendantsOf(pid)) if (!known.has(d)) known.set(d, startTime(d));
  };

  const cleanup = async () => {
    remember();
    return killPids([...known].map(([p, start]) => ({ pid: p, start })));
  };

  try {
    const portFile = join(profile, 'MarionetteActivePort');
    const port = await waitFor(
      'Marionette port',
      options.startTimeout ?? 30_000,
      () => {
        remember();
        if (!existsSync(portFile)) return undefined;
        const text = readFileSync(portFile, 'utf8').trim();
        return /^\d+$/.test(text) ? Number(text) : undefined;
      },
      child,
    );
    const { client } = await Marionette.connect(port);
    const session = await client.newSession();
    await client.setContext('chrome');
    await client.setScriptTimeout(60_000);
    const capabilities = (session.capabilities ?? {}) as Record<string, unknown>;
    const thunderbirdPid = Number(capabilities['moz:processID'] ?? pid);
    remember();
    return {
      marionette: client,
      pid,
      thunderbirdPid,
      version: String(capabilities.browserVersion ?? ''),
      profile,
      descendants: () => descendantsOf(pid).filter(isAlive),
      async stop() {
        remember();
        let quitViaMarionette = false;
        try {
          await Promise.race([client.quit(), sleep(10_000).then(() => Promise.reject(new Error('quit timed out')))]);
          quitViaMarionette = true;
        } catch {
          // fall through to the PIDs
        }
        client.close();
        // Give a clean exit time to finish before anything is signalled.
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && [...known.keys()].some(isAlive)) await sleep(50);
        const killed = await cleanup();
        return { quitViaMarionette, killed };
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
