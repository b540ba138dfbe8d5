// The production build as the benchmarks start it: `node dist/server.js` on 127.0.0.1, a
// free port, a fresh demo directory in a temporary folder, info logging. Resolves once the
// start-up line says where it listens; `stop()` ends it by its PID and removes the folder.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `env` is laid over the defaults; `logFile`, when given, receives the server's log lines. */
export async function startServer({ env = {}, logFile } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mailconf-bench-'));
  const child = spawn(process.execPath, ['dist/server.js'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      MAILCONF_DIRECTORY: `sqlite:${join(dir, 'directory.db')}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the server did not start within 20 s')), 20_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /mailconf listening on http:\/\/[^:]+:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          child.stdout.removeAllListeners('data');
          // After the start-up line, log lines go to the file or are drained unread.
          if (logFile) child.stdout.pipe(createWriteStream(logFile));
          else child.stdout.resume();
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
    });
    return { port, pid: child.pid, child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
