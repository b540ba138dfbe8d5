// `node src/server.ts` as an operator starts it, in a child process (tap's TypeScript
// loader travels in execArgv), with its output captured.
import { spawn } from 'node:child_process';

const SERVER = new URL('../../src/server.ts', import.meta.url).pathname;

/** Variables a test must never inherit from the developer's shell. */
const CLEAN_ENV = { MAILCONF_SECRET: '', MOBILECONFIG_CERT: '', MOBILECONFIG_KEY: '', MOBILECONFIG_CHAIN: '', MAILCONF_PROVIDER: '' };

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
