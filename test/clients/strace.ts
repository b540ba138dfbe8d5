// Reading an `strace -f -e trace=network` log: every IP address a traced process sent to
// or connected to (connect, sendto, sendmsg, sendmmsg destinations), so a test can fail
// when one is not loopback. Addresses inside payloads (netlink route queries, message
// bodies) are not destinations and are not counted.
import { isIP } from 'node:net';

export interface Destination {
  syscall: string;
  family: 'inet' | 'inet6';
  address: string;
  port: number;
  /** The line as strace wrote it, for the failure message. */
  line: string;
}

const SYSCALL = /^(?:\d+\s+)?(connect|sendto|sendmsg|sendmmsg)\(/;
const INET = /\{sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)\}/g;
const INET6 = /\{sa_family=AF_INET6, sin6_port=htons\((\d+)\), sin6_flowinfo=[^,]*, inet_pton\(AF_INET6, "([^"]+)", &sin6_addr\)/g;

export function destinations(log: string): Destination[] {
  const out: Destination[] = [];
  for (const line of log.split('\n')) {
    const syscall = SYSCALL.exec(line)?.[1];
    if (!syscall) continue;
    for (const m of line.matchAll(INET)) out.push({ syscall, family: 'inet', address: m[2]!, port: Number(m[1]), line });
    for (const m of line.matchAll(INET6)) out.push({ syscall, family: 'inet6', address: m[2]!, port: Number(m[1]), line });
  }
  return out;
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback (::ffff:127.x.y.z). */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (isIP(a) === 4) return a.startsWith('127.');
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return !!mapped && mapped[1]!.startsWith('127.');
}
