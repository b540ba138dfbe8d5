// Opens the directory a URL names for the server or a CLI command. A new embedded
// directory opened by the server starts with the shipped demo accounts, so that
// `npm start` answers something real at once. The demo is for the embedded default only:
// a PostgreSQL database is never seeded (it is shared, and made by `mailconf migrate`;
// whatever the mode, it must hold the current schema), so a fleet never serves demo data.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DirectoryError, type Directory, type ImportSummary } from '../directory/directory.js';
import { openBackend, type PostgresOptions } from '../directory/open.js';
import type { ProviderProfile } from '../policy/provider-profile.js';
import { parseImportFile } from './accounts-file.js';

export const DEMO_FILE = fileURLToPath(new URL('../../data/demo.json', import.meta.url));

export type WhenMissing = 'load-demo' | 'create-empty' | 'fail';

export interface OpenedDirectory {
  directory: Directory;
  /** What the demo data added, when a new directory was seeded with it. */
  seeded: ImportSummary | null;
}

/**
 * `whenMissing` says what a missing SQLite file becomes: seeded with the demo, empty, or a
 * DirectoryError. `backend` carries the PostgreSQL pool settings (defaults when unset).
 */
export async function openDirectory(
  url: string,
  whenMissing: WhenMissing,
  profile: ProviderProfile,
  backend: { postgres?: Partial<PostgresOptions> | undefined } = {},
): Promise<OpenedDirectory> {
  const { directory, created } = await openBackend(url, { mustExist: whenMissing === 'fail', postgres: backend.postgres });
  if (!created || whenMissing !== 'load-demo') return { directory, seeded: null };
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
