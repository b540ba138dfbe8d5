#!/usr/bin/env node
// The `mailconf` command: runs the compiled CLI (src/cli/mailconf.ts, built by `npm run build`).
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
