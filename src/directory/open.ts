// Opens (or migrates) the backend a directory URL names: the one URL -> backend dispatch;
// and what a serving instance reads through (openServingBackend: PostgreSQL behind the
// cache and its change feed, SQLite as it is).
import { CachedDirectory, type CacheSettings, type CacheStats } from './cached.js';
import type { Directory, DirectoryReader } from './directory.js';
import { DirectoryError } from './directory.js';
import type { MigrationResult } from './migrations.js';
import type { FeedEvent, PostgresFeedOptions } from './pg-changes.js';
import type { PostgresOptions } from './postgres.js';
import { SqliteDirectory } from './sqlite.js';
import { maskDirectoryUrl, parseDirectoryUrl } from './url.js';

export type { PostgresOptions } from './postgres.js';
export type { CacheSettings } from './cached.js';
export { CACHE_DEFAULTS } from './cached.js';
export type { FeedEvent, PostgresFeedOptions } from './pg-changes.js';

// The PostgreSQL modules (and the pg driver) load only when a postgres:// URL is opened:
// an instance on the embedded SQLite directory never holds them in memory.
const postgresModule = () => import('./postgres.js');
const feedModule = () => import('./pg-changes.js');

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
    const { PostgresDirectory } = await postgresModule();
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
  const { migratePostgres } = await postgresModule();
  return { backend: 'postgres', description, ...(await migratePostgres(location.url, options.postgres)) };
}

export interface ServingOptions extends Pick<BackendOptions, 'postgres'> {
  /** SQLite: refuse to create a missing file. */
  mustExist: boolean;
  /** The PostgreSQL cache (CACHE_* settings); unset fields take CACHE_DEFAULTS. SQLite has no cache. */
  cache?: Partial<CacheSettings> | undefined;
  /** The PostgreSQL change feed's timings; unset fields take FEED_DEFAULTS (connectTimeoutMs: the pool's). */
  feed?: Partial<Omit<PostgresFeedOptions, 'onEvent'>> | undefined;
  /** Told when the change feed loses or regains its connection, for the log. */
  onFeedEvent?: ((event: FeedEvent) => void) | undefined;
}

/** The cached reader's counters, for metrics (`mailconf_directory_cache{counter=...}`): the cache's and its feed's. */
export type ServingStats = { [K in keyof CacheStats]-?: number } & {
  /** Feed connections made (LISTEN in place), the first included; connections lost or attempts failed; notifications heard. */
  feedConnects: number;
  feedLosses: number;
  feedNotifications: number;
};

export interface ReaderStats {
  stats(): ServingStats;
}

export interface ServingBackend {
  /** What every lookup and readiness probe reads through (the cache, for PostgreSQL). */
  reader: DirectoryReader & Partial<ReaderStats>;
  /** The backend itself, for writes (demo seeding), counts and the start-up line. */
  directory: Directory;
  /** As OpenedBackend's. */
  created: boolean;
  /** Closes the feed, the cache and the backend (the pool). */
  close(): Promise<void>;
}

/**
 * What a serving instance reads through. PostgreSQL, a store that every instance shares:
 * the backend behind CachedDirectory, which a PostgresChangeFeed keeps true (every
 * instance's writes, this one's included, drop what they changed within moments).
 * SQLite: the directory itself, uncached (cached.ts says why: a lost file must answer 503
 * at once, and an import by another process must show at once).
 *
 * Start-up: PostgreSQL that cannot be reached, or that lacks the schema, is a
 * DirectoryError here (start-up refuses), as with openBackend. The feed never fails
 * start-up: it keeps reconnecting, and the cache trusts nothing until it listens.
 */
export async function openServingBackend(url: string, options: ServingOptions): Promise<ServingBackend> {
  const location = parseDirectoryUrl(url);
  const { directory, created } = await openBackend(url, options);
  if (location.backend !== 'postgres') return { reader: directory, directory, created, close: () => directory.close() };
  const connectTimeoutMs = options.postgres?.connectTimeoutMs;
  const { PostgresChangeFeed } = await feedModule();
  const feed = await PostgresChangeFeed.open(location.url, {
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
    ...options.feed,
    onEvent: options.onFeedEvent,
  });
  const cache = new CachedDirectory(directory, { ...options.cache, changes: feed });
  const reader: DirectoryReader & ReaderStats = {
    description: cache.description,
    findByDomain: (domain, address) => cache.findByDomain(domain, address),
    findByUsername: (username, address) => cache.findByUsername(username, address),
    ping: () => cache.ping(),
    close: () => close(),
    stats: () => {
      const f = feed.stats();
      return { ...cache.stats(), feedListening: f.listening, feedConnects: f.connects, feedLosses: f.losses, feedNotifications: f.notifications };
    },
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // The feed first: no change is applied to a cache that is going away.
      await feed.close();
      await cache.close(); // closes the backend (its pool) too
    })());
  return { reader, directory, created, close };
}
