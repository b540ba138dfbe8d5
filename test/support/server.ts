// `node src/server.ts` as an operator starts it, in a child process (tap's TypeScript
// loader travels in execArgv), with its output captured.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SERVER = new URL('../../src/server.ts', import.meta.url).pathname;

/** Variables a test must never inherit from the developer's shell. */
const CLEAN_ENV = { MAILCONF_SECRET: '', MOBILECONFIG_CERT: '', MOBILECONFIG_KEY: '', MOBILECONFIG_CHAIN: '', MAILCONF_PROVIDER: '', ADMIN_TOKEN: '', ADMIN_TOKENS_FILE: '' };

export type StartedServer = ReturnType<typeof startServer>;

export function startServer(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...process.execArgv, SERVER], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...CLEAN_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { child, out: () => stdout, err: () => stderr };
}

export async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !predicate(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

/** The port a started server listens on, read from its "mailconf listening on" line. */
export async function listeningPort(server: StartedServer): Promise<number> {
  const line = /mailconf listening on http:\/\/[^ ]+:(\d+),/;
  await waitFor(() => line.test(server.out()), 'the listening line');
  return Number(line.exec(server.out())![1]);
}

/** Resolves with the exit code once the server has exited, or undefined after `ms`. */
export function exited(server: StartedServer, ms: number): Promise<number | null | undefined> {
  if (server.child.exitCode !== null) return Promise.resolve(server.child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    server.child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** A process's resident set size in KiB, from /proc (Linux). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
}
