// Running a command in a network namespace of its own that holds only loopback, so that
// nothing it starts can reach another machine, whatever it tries: `unshare -n` as root,
// `unshare -r -n` otherwise. A mount namespace of its own, too, so /etc/resolv.conf can
// name 127.0.0.1: the system resolver's lookups (Thunderbird's SRV and MX queries through
// libresolv) then go to loopback as well, and a trace of the run shows no other address.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The commands the client suite needs besides Thunderbird, and the Debian package of each. */
export const REQUIRED_TOOLS: Record<string, string> = {
  unshare: 'util-linux',
  ip: 'iproute2',
  mount: 'mount',
  strace: 'strace',
  openssl: 'openssl',
};

export function missingTools(): string[] {
  return Object.keys(REQUIRED_TOOLS).filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0);
}

/** Names the namespace resolves from a hosts file of its own: each line `address name...`. */
export type HostsEntries = Array<{ address: string; names: string[] }>;

/**
 * Spawns `command args` inside fresh network and mount namespaces: `lo` is brought up,
 * /etc/resolv.conf is replaced (in that namespace only) by one naming 127.0.0.1, and, with
 * `hosts`, /etc/hosts by one holding exactly those entries (every 127.0.0.0/8 address is
 * on `lo`, so each name can have an address of its own).
 */
export function spawnInLoopbackNamespace(dir: string, command: string, args: string[], options: SpawnOptions = {}, hosts?: HostsEntries): ChildProcess {
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  let hostsFile = '';
  if (hosts) {
    hostsFile = join(dir, 'hosts');
    // One name a line: glibc reads only so many aliases of one line.
    writeFileSync(hostsFile, ['127.0.0.1 localhost', ...hosts.flatMap((h) => h.names.map((n) => `${h.address} ${n}`))].join('\n') + '\n');
  }
  const unshareArgs = process.getuid?.() === 0 ? ['--net', '--mount'] : ['--map-root-user', '--net', '--mount'];
  const script = 'set -e; ip link set lo up; mount --bind "$0" /etc/resolv.conf; if [ -n "$1" ]; then mount --bind "$1" /etc/hosts; fi; shift; exec "$@"';
  return spawn('unshare', [...unshareArgs, '--', 'sh', '-c', script, resolvConf, hostsFile, command, ...args], options);
}

/** Whether this system lets us make the namespaces at all (user namespaces may be off). */
export function canMakeLoopbackNamespace(): { ok: boolean; why?: string } {
  const unshareArgs = process.getuid?.() === 0 ? ['--net', '--mount'] : ['--map-root-user', '--net', '--mount'];
  const r = spawnSync('unshare', [...unshareArgs, '--', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? { ok: true } : { ok: false, why: (r.stderr || r.error?.message || `exit ${r.status}`).trim() };
}
