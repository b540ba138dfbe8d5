// Running a client suite's runner (a TypeScript program) inside the loopback-only namespace
// and reading what it reports: a JSON file named on its stdout as `RESULT <path>`. Shared by
// the Thunderbird and Delta Chat suites.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { HostsEntries } from './netns.js';
import { canMakeLoopbackNamespace, missingTools, REQUIRED_TOOLS, spawnInLoopbackNamespace } from './netns.js';
import { RESULT_MARKER } from './run-result.js';
import { descendantsOf, killPids, startTime } from './thunderbird.js';

export interface RunnerOutcome<R> {
  /** What the runner reported; undefined when it printed no RESULT line. */
  result?: R;
  /** Its stderr (the last 100,000 characters), and why it was stopped when it was. */
  stderr: string;
  code: number | null;
  ms: number;
}

/**
 * Runs `runner WORKDIR` in the namespace with this process's loader flags (tap's TS import),
 * and waits for it to end. After `timeoutMs` it is killed, with what descends from it, by
 * PID (ours alone), and the outcome says so.
 */
export async function runInNamespace<R>(workDir: string, runner: string, timeoutMs: number, hosts?: HostsEntries): Promise<RunnerOutcome<R>> {
  const started = Date.now();
  const child = spawnInLoopbackNamespace(
    workDir,
    process.execPath,
    [...process.execArgv, runner, workDir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } },
    hosts,
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-100_000)));
  const timer = setTimeout(() => {
    const pid = child.pid;
    if (pid === undefined) return;
    stderr += `\n(run killed after ${timeoutMs} ms)\n`;
    void killPids([pid, ...descendantsOf(pid)].map((p) => ({ pid: p, start: startTime(p) })));
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      stderr += `\n${err.message}\n`;
      resolve(null);
    });
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  const result = line ? (JSON.parse(readFileSync(line.slice(RESULT_MARKER.length), 'utf8')) as R) : undefined;
  return { result, stderr, code, ms: Date.now() - started };
}

/**
 * What every client suite checks before its run: the tools it needs (missing: the suite
 * fails) and a loopback-only namespace (impossible here: the suite plans nothing, with the
 * reason). Returns the run's work folder, removed at the end unless MAILCONF_KEEP_CLIENT_RUN
 * asks to keep it (homes, certificates, strace logs), or undefined when there is no run.
 */
export function prepareClientRun(t: Test, name: string): string | undefined {
  const missing = missingTools();
  if (missing.length > 0) {
    t.fail(`the client suite needs ${missing.join(', ')} (Debian: ${missing.map((m) => REQUIRED_TOOLS[m]).join(' ')})`);
    return undefined;
  }
  const namespace = canMakeLoopbackNamespace();
  if (!namespace.ok) {
    t.plan(0, `cannot make a loopback-only network namespace here (user namespaces off?): ${namespace.why}`);
    return undefined;
  }
  const workDir = mkdtempSync(join(tmpdir(), `mailconf-${name}-`));
  if (process.env.MAILCONF_KEEP_CLIENT_RUN) t.comment(`run kept in ${workDir}`);
  else t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  return workDir;
}
