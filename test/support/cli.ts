// The command line, run in this process (src/cli/mailconf.ts main) with its output kept,
// and a throw-away SQLite directory holding the fixture accounts, imported through it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { Readable } from 'node:stream';
import { main, type CliIo } from '../../src/cli/mailconf.js';
import { FIXTURE_ACCOUNTS } from './app.js';
import type { TestDatabase } from './postgres.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr split into lines, without the final empty one. */
  errLines: string[];
  /** The progress lines shown, when run as on a terminal (`terminal`); '' clears the line. */
  progress: string[];
}

/**
 * `mailconf ...argv` with `env` as its environment and, when given, `stdin` as its standard
 * input; with `terminal`, stderr is a terminal (progress lines are kept apart).
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, stdin?: string | Buffer, options: { terminal?: boolean } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const progress: string[] = [];
  const io: CliIo = {
    stdout: (s: string) => void (stdout += s),
    stderr: (s: string) => void (stderr += s),
    env,
    ...(stdin === undefined ? {} : { stdin: () => Readable.from([Buffer.from(stdin)]) }),
    ...(options.terminal ? { progress: (line: string) => void progress.push(line) } : {}),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr, errLines: stderr.split('\n').filter((l) => l !== ''), progress };
}

/** A `sqlite:` directory URL in the test's folder, with FIXTURE_ACCOUNTS imported by `mailconf import`. */
export async function fixtureDirectory(t: Test): Promise<string> {
  const dir = t.testdir();
  const url = `sqlite:${join(dir, 'd.db')}`;
  const file = join(dir, 'accounts.json');
  writeFileSync(file, JSON.stringify({ accounts: FIXTURE_ACCOUNTS }));
  // Two of them give no mail host on purpose (the data-error answers are tested with them).
  t.equal((await runCli(['import', file, '--allow-data-errors', '--directory', url])).code, 0, 'the fixture accounts are imported');
  return url;
}

export const BACKENDS = ['sqlite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * A new, empty directory of `backend`: a SQLite URL in the test's folder (the file made by
 * the first import), or a schema of `db` brought up by `mailconf migrate`.
 */
export async function emptyDirectory(t: Test, backend: Backend, db: TestDatabase): Promise<string> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'mailconf-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return `sqlite:${join(dir, 'd.db')}`;
  }
  const url = await db.freshSchema();
  t.equal((await runCli(['migrate', '--directory', url])).code, 0, 'the PostgreSQL schema is made');
  return url;
}
