// A throw-away PostgreSQL database per test file, on the local server (.ci/run starts it):
// CREATE DATABASE mailconf_test_<random> at the start, DROP DATABASE at teardown. Each case
// that needs a clean directory gets a schema of its own in it (`freshSchema`), chosen
// through the URL's search_path. A server that cannot be reached fails the file: the
// PostgreSQL suites never pass by skipping.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import type { Test } from 'tap';
import { openServingDirectory, type ServingDirectory, type ServingDirectoryOptions } from '../../src/accounts/open.js';
import { configFromEnv } from '../../src/config/config.js';
import { createDialects } from '../../src/dialects/index.js';
import { migrateBackend, openBackend } from '../../src/directory/open.js';
import { buildApp } from '../../src/http/app.js';
import type { ImportAccount } from '../../src/model/account.js';
import { defaultProvider } from '../../src/policy/provider-profile.js';
import { Templates } from '../../src/templates.js';

/** The server to make test databases on: MAILCONF_TEST_POSTGRES, else the local trust-auth one. */
export const POSTGRES_SERVER = process.env.MAILCONF_TEST_POSTGRES || 'postgres://root@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** postgres://... of the throw-away database. */
  url: string;
  name: string;
  /** A pool on it, for the tests' own reads and for blocking writers. */
  pool: pg.Pool;
  /** A URL of the same database whose tables live in a new, empty schema. */
  freshSchema(): Promise<string>;
}

/** `url` with another database and, optionally, a search_path. */
export function databaseUrl(url: string, database: string, searchPath?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (searchPath) u.searchParams.set('options', `-c search_path=${searchPath}`);
  return u.toString();
}

/**
 * Creates the run's database; its teardown (on `t`) drops it. Throws with a clear message
 * when the server cannot be reached.
 */
export async function throwAwayDatabase(t: Test): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: POSTGRES_SERVER, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL at ${POSTGRES_SERVER} cannot be reached (${(err as Error).message || (err as { code?: string }).code}): ` +
        'start it (.ci/run does: pg_ctlcluster ... main start) or point MAILCONF_TEST_POSTGRES at a server where this user may CREATE DATABASE',
    );
  }
  const name = `mailconf_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = databaseUrl(POSTGRES_SERVER, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  let schemas = 0;
  t.teardown(async () => {
    await pool.end();
    // FORCE: a directory a failed test left open must not keep the database alive.
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  return {
    url,
    name,
    pool,
    async freshSchema() {
      const schema = `case_${++schemas}`;
      await pool.query(`CREATE SCHEMA ${schema}`);
      return databaseUrl(POSTGRES_SERVER, name, schema);
    },
  };
}

/**
 * An app as server.ts builds it on a PostgreSQL directory: read through
 * openServingDirectory's reader (the cache and its change feed), closed at teardown.
 */
export async function servingApp(
  t: Test,
  url: string,
  options: ServingDirectoryOptions = {},
  env: NodeJS.ProcessEnv = {},
): Promise<{ app: FastifyInstance; serving: ServingDirectory; logs: () => string }> {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const serving = await openServingDirectory(url, defaultProvider, options);
  const config = configFromEnv({ PUBLIC_URL: 'https://mailconf.pair-test.example', MAILCONF_SECRET: 'test-instance-secret-0123456789', ...env });
  const secret = config.secret!;
  const dialects = createDialects({ templates: new Templates(), profile: defaultProvider, publicUrl: config.publicUrl, secret });
  const app = await buildApp({ config, directory: serving.reader, directoryAdmin: serving.directory, profile: defaultProvider, dialects, secret }, logger);
  t.teardown(async () => {
    await app.close();
    await serving.close();
  });
  return { app, serving, logs: () => lines.join('') };
}

/** A database at `url` brought to the current schema, holding `accounts` (through a connection closed at once). */
export async function migratedWith(url: string, accounts: ImportAccount[]): Promise<void> {
  await migrateBackend(url);
  const { directory } = await openBackend(url, { mustExist: true });
  try {
    await directory.importAccounts(accounts, { replace: true });
  } finally {
    await directory.close();
  }
}
