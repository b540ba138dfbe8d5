// The command line, run in this process (src/cli/mailconf.ts main) with its output kept,
// and a throw-away SQLite directory holding the fixture accounts, imported through it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { main } from '../../src/cli/mailconf.js';
import { FIXTURE_ACCOUNTS } from './app.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr split into lines, without the final empty one. */
  errLines: string[];
}

/** `mailconf ...argv` with `env` as its environment and, when given, `stdin` as its standard input. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, stdin?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s), env, ...(stdin === undefined ? {} : { stdin: async () => stdin }) };
  const code = await main(argv, io);
  return { code, stdout, stderr, errLines: stderr.split('\n').filter((l) => l !== '') };
}

/** A `sqlite:` directory URL in the test's folder, with FIXTURE_ACCOUNTS imported by `mailconf import`. */
export async function fixtureDirectory(t: Test): Promise<string> {
  const dir = t.testdir();
  const url = `sqlite:${join(dir, 'd.db')}`;
  const file = join(dir, 'accounts.json');
  writeFileSync(file, JSON.stringify({ accounts: FIXTURE_ACCOUNTS }));
  t.equal((await runCli(['import', file, '--directory', url])).code, 0, 'the fixture accounts are imported');
  return url;
}
