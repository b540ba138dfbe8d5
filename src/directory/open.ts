// Opens the directory a MAILCONF_DIRECTORY URL names; a fresh embedded directory starts
// with the shipped demo accounts so that `npm start` answers something real at once.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProviderProfile } from '../provider.js';
import type { Directory, ImportSummary } from './directory.js';
import { parseImportFile } from './import-file.js';
import { SqliteDirectory } from './sqlite.js';

export const DEMO_FILE = fileURLToPath(new URL('../../data/demo.json', import.meta.url));

export class DirectoryError extends Error {}

export type WhenMissing = 'load-demo' | 'create-empty' | 'fail';

export interface OpenedDirectory {
  directory: Directory;
  /** What the demo data added, when a new directory was seeded with it. */
  seeded: ImportSummary | null;
}

function sqlitePath(url: string): string {
  if (!url.startsWith('sqlite:') || url.length === 'sqlite:'.length) {
    throw new DirectoryError(`unsupported directory "${url}": expected sqlite:PATH`);
  }
  return url.slice('sqlite:'.length);
}

export async function openDirectory(url: string, whenMissing: WhenMissing, profile: ProviderProfile): Promise<OpenedDirectory> {
  const path = sqlitePath(url);
  const existed = SqliteDirectory.exists(path);
  if (!existed && whenMissing === 'fail') {
    throw new DirectoryError(`no directory at ${path} (start the service once, or run "mailconf import FILE")`);
  }
  let directory: SqliteDirectory;
  try {
    directory = new SqliteDirectory(path);
  } catch (err) {
    throw new DirectoryError(`cannot open directory ${path}: ${(err as Error).message}`);
  }
  if (existed || whenMissing !== 'load-demo') return { directory, seeded: null };
  const parsed = parseImportFile(readFileSync(DEMO_FILE, 'utf8'), profile);
  if (!parsed.ok) {
    await directory.close();
    throw new DirectoryError(`demo data ${DEMO_FILE} is invalid: ${parsed.problems[0]!.position}: ${parsed.problems[0]!.reason}`);
  }
  try {
    return { directory, seeded: await directory.importAccounts(parsed.accounts, { replace: false }) };
  } catch (err) {
    await directory.close();
    throw err;
  }
}
