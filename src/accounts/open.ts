// Opens the directory a URL names for the server or a CLI command. A new embedded
// directory opened by the server starts with the shipped demo accounts, so that
// `npm start` answers something real at once. The demo is for the embedded default only:
// a PostgreSQL database is never seeded (it is shared, and made by `mailconf migrate`;
// whatever the mode, it must hold the current schema), so a fleet never serves demo data.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DirectoryError, type Directory, type DirectoryReader, type ImportSummary } from '../directory/directory.js';
import {
  openBackend,
  openServingBackend,
  type CacheSettings,
  type FeedEvent,
  type PostgresFeedOptions,
  type PostgresOptions,
  type ReaderStats,
} from '../directory/open.js';
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
  return { directory, seeded: await seedDemo(directory, profile, () => directory.close()) };
}

/** What the server is given to configure its directory: every field optional, defaults apply. */
export interface ServingDirectoryOptions {
  /** The PostgreSQL pool (POSTGRES_DEFAULTS). */
  postgres?: Partial<PostgresOptions> | undefined;
  /** The PostgreSQL read-through cache (CACHE_DEFAULTS); SQLite is never cached. */
  cache?: Partial<CacheSettings> | undefined;
  /** The PostgreSQL change feed's timings (FEED_DEFAULTS). */
  feed?: Partial<Omit<PostgresFeedOptions, 'onEvent'>> | undefined;
  /** Told when the change feed loses or regains its connection, for the log. */
  onFeedEvent?: ((event: FeedEvent) => void) | undefined;
}

export interface ServingDirectory {
  /** What the app reads through: give it to buildApp as `directory` (its stats() feed /metrics). */
  reader: DirectoryReader & Partial<ReaderStats>;
  /** The backend, for counts and the start-up line (never read answers through it: it bypasses the cache). */
  directory: Directory;
  /** What the demo data added, when a new SQLite directory was seeded with it. */
  seeded: ImportSummary | null;
  /** Closes the change feed, the cache and the backend. */
  close(): Promise<void>;
}

/**
 * The server's directory: a new SQLite file is seeded with the demo (as openDirectory's
 * 'load-demo'); PostgreSQL is read through the cache, kept true by LISTEN/NOTIFY. An
 * unreachable PostgreSQL, or one without the current schema, is a DirectoryError.
 */
export async function openServingDirectory(url: string, profile: ProviderProfile, options: ServingDirectoryOptions = {}): Promise<ServingDirectory> {
  const serving = await openServingBackend(url, { mustExist: false, ...options });
  const seeded = serving.created ? await seedDemo(serving.directory, profile, serving.close) : null;
  return { reader: serving.reader, directory: serving.directory, seeded, close: serving.close };
}

/** Imports the demo accounts into a new `directory`; on failure, `close` and rethrow. */
async function seedDemo(directory: Directory, profile: ProviderProfile, close: () => Promise<void>): Promise<ImportSummary> {
  const parsed = parseImportFile(readFileSync(DEMO_FILE, 'utf8'), profile, { allowDataErrors: false });
  if (!parsed.ok) {
    await close();
    throw new DirectoryError(`demo data ${DEMO_FILE} is invalid: ${parsed.problems[0]!.position}: ${parsed.problems[0]!.reason}`);
  }
  try {
    return await directory.importAccounts(parsed.accounts, { replace: false });
  } catch (err) {
    await close();
    throw err;
  }
}
