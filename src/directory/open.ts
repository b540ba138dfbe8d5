// Opens (or migrates) the backend a directory URL names: the one URL -> backend dispatch.
import type { Directory } from './directory.js';
import { DirectoryError } from './directory.js';
import type { MigrationResult } from './migrations.js';
import { migratePostgres, PostgresDirectory, type PostgresOptions } from './postgres.js';
import { SqliteDirectory } from './sqlite.js';
import { maskDirectoryUrl, parseDirectoryUrl } from './url.js';

export type { PostgresOptions } from './postgres.js';
export { POSTGRES_DEFAULTS } from './postgres.js';

export interface OpenedBackend {
  directory: Directory;
  /** Whether the store was created by this call (it holds nothing yet). Never for PostgreSQL. */
  created: boolean;
}

export interface BackendOptions {
  /** SQLite: refuse to create a missing file. (PostgreSQL never creates anything on open.) */
  mustExist: boolean;
  /** The PostgreSQL pool; unset fields take POSTGRES_DEFAULTS. */
  postgres?: Partial<PostgresOptions> | undefined;
}

/**
 * Opens the directory at `url`. SQLite: a missing file is created with its schema, or with
 * `mustExist` a DirectoryError. PostgreSQL: the database must hold the schema this code
 * needs (made by `mailconf migrate`), else a DirectoryError, whatever `mustExist` says.
 */
export async function openBackend(url: string, options: BackendOptions): Promise<OpenedBackend> {
  const location = parseDirectoryUrl(url);
  if (location.backend === 'postgres') {
    return { directory: await PostgresDirectory.open(location.url, options.postgres), created: false };
  }
  const existed = SqliteDirectory.exists(location.path);
  if (!existed && options.mustExist) {
    throw new DirectoryError(`no directory at ${location.path} (start the service once, or run "mailconf import FILE")`);
  }
  try {
    return { directory: new SqliteDirectory(location.path), created: !existed };
  } catch (err) {
    throw new DirectoryError(`cannot open directory ${location.path}: ${(err as Error).message}`);
  }
}

export type MigrateOutcome =
  /** SQLite makes its schema itself when a directory is first opened: nothing to migrate. */
  | { backend: 'sqlite'; description: string }
  | ({ backend: 'postgres'; description: string } & MigrationResult);

/** `mailconf migrate`: creates or upgrades the schema of the store at `url`. */
export async function migrateBackend(url: string, options: Pick<BackendOptions, 'postgres'> = {}): Promise<MigrateOutcome> {
  const location = parseDirectoryUrl(url);
  const description = maskDirectoryUrl(url);
  if (location.backend === 'sqlite') return { backend: 'sqlite', description };
  return { backend: 'postgres', description, ...(await migratePostgres(location.url, options.postgres)) };
}
