#!/usr/bin/env node
// The `mailconf` command: runs the compiled CLI (src/cli/mailconf.ts, built by `npm run build`).
import { spawn } from 'node:child_process';

// An import reads records as fast as the input gives them, and V8 then grows its young
// generation to its default 16 MB per semi-space: about 35 MB of resident memory that holds
// nothing but short-lived records. The size can only be chosen when node starts
// (v8.setFlagsFromString is too late for the heap), so `import` runs in a child node with a
// 2 MB semi-space: the same work in about 30 MB less (bench/import-memory.mjs).
const SEMI_SPACE_FLAG = '--max-semi-space-size=2';
const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
if (command === 'import' && !process.execArgv.some((f) => f.startsWith('--max-semi-space-size'))) {
  const child = spawn(process.execPath, [SEMI_SPACE_FLAG, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  // The child shares the terminal's process group (it gets Ctrl-C itself); a signal sent to
  // this process alone is passed on.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
  child.on('error', (err) => {
    process.stderr.write(`mailconf: cannot start node for the import: ${err.message}\n`);
    process.exit(1);
  });
} else {
  await runCli();
}

async function runCli() {
  let cli;
  try {
    cli = await import('../dist/cli/mailconf.js');
  } catch (err) {
    process.stderr.write(`mailconf: cannot load the compiled CLI (run "npm run build"): ${err.message}\n`);
    process.exit(1);
  }
  // `mailconf lookup ... | head`: a closed pipe is not an error worth a stack trace.
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  process.exitCode = await cli.main(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    // Only a pipe or a file: a command never waits for someone to type.
    stdin: process.stdin.isTTY ? undefined : () => process.stdin,
    stdoutStream: () => process.stdout,
    // A progress line only for a person watching: rewritten in place, never in a log.
    progress: process.stderr.isTTY ? (line) => process.stderr.write(`\r\x1b[K${line}`) : undefined,
  });
}
