// Child processes as the benchmarks start them. `startListening` spawns one Node script and
// resolves with the port its "listening on http://host:PORT" line names; `startServer` is
// the production build (`node dist/server.js`) on 127.0.0.1, a free port, a fresh demo
// directory in a temporary folder, info logging. `stop()` ends a child by its PID.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Spawns `node ...args` and waits (at most `timeoutMs`) for the line `listening` matches,
 * whose first group is the port. After it, stdout goes to `logFile` or is drained unread.
 */
export async function startListening(args, { env = process.env, listening, what, logFile, timeoutMs = 20_000, cleanup = () => {} }) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit');
      clearTimeout(force);
    }
    cleanup();
  };
  try {
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = listening.exec(out);
        if (match) {
          clearTimeout(timer);
          child.stdout.removeAllListeners('data');
          if (logFile) child.stdout.pipe(createWriteStream(logFile));
          else child.stdout.resume();
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited (${code}) before listening`));
      });
    });
    return { port, pid: child.pid, child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `env` is laid over the defaults; `logFile`, when given, receives the server's log lines. */
export async function startServer({ env = {}, logFile } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mailconf-bench-'));
  return startListening(['dist/server.js'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', MAILCONF_DIRECTORY: `sqlite:${join(dir, 'directory.db')}`, ...env },
    listening: /mailconf listening on http:\/\/[^:]+:(\d+)/,
    what: 'the server',
    logFile,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}
