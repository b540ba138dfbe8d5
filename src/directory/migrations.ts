// The PostgreSQL schema as numbered migrations, and the one routine that applies them.
// Each applied migration is a row of `schema_migrations`; the code needs every migration
// it knows (SCHEMA_VERSION), and a serving instance refuses a database that lacks one.
// A migration is never edited once released: a change is a new, higher-numbered one,
// written so that the release before it keeps working on the new schema (instances of
// both run side by side while a deployment rolls).
import type pg from 'pg';
import { DirectoryError } from './directory.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// COLLATE "C" compares bytes, as SQLite does: usernames list in the same order on both
// backends, whatever the database's default locale (PostgreSQL docs, "Collation Support").
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts, domains and mailboxes',
    sql: `
CREATE TABLE accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text COLLATE "C" NOT NULL UNIQUE,
  created text NOT NULL,
  mail_server integer
);
CREATE TABLE domains (
  domain text COLLATE "C" PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
);
CREATE INDEX domains_by_account ON domains(account_id);
CREATE TABLE mailboxes (
  address text COLLATE "C" PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  login text NOT NULL
);
CREATE INDEX mailboxes_by_account ON mailboxes(account_id);
`,
  },
  // Evolution names a mailbox by the MD5 of its lower-cased address (model/address.ts).
  // A stored generated column: added and filled for every existing row by this one
  // statement (PostgreSQL rewrites the table), and computed on every later insert, so the
  // release before it, whose imports name only (address, account_id, login), keeps
  // working, and no writer can forget it. md5() hashes the text's bytes (UTF-8 in a UTF-8
  // database) to lower-case hex, as model/address.ts `addressMd5` does; it is immutable,
  // as a generated column requires (PostgreSQL docs, "Generated Columns").
  {
    version: 2,
    name: 'mailbox address hashes (Evolution)',
    sql: `
ALTER TABLE mailboxes ADD COLUMN address_md5 text COLLATE "C" GENERATED ALWAYS AS (md5(address)) STORED;
CREATE INDEX mailboxes_by_md5 ON mailboxes(address_md5, account_id);
`,
  },
];

/** The schema version this code needs: the highest migration it knows. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/**
 * The advisory lock key (any 64-bit number of our own; "mailconf" in ASCII) that
 * serialises concurrent `mailconf migrate` runs on one database.
 */
const MIGRATE_LOCK = '7872306010394431078';

/** The recorded schema version; 0 for a database that has no `schema_migrations` table yet. */
export async function schemaVersion(db: pg.ClientBase | pg.Pool): Promise<number> {
  const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!rows[0]?.present) return 0;
  const max = await db.query<{ version: number }>('SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations');
  return max.rows[0]!.version;
}

/** Why a database cannot be served from by this code (its schema is older), or undefined. */
export function schemaProblem(version: number, description: string, needed = SCHEMA_VERSION): DirectoryError | undefined {
  if (version >= needed) return undefined;
  const what = version === 0 ? 'has no mailconf schema' : `has schema version ${version}, this mailconf needs ${needed}`;
  return new DirectoryError(`directory ${description} ${what}: run "mailconf migrate" first`);
}

export interface MigrationResult {
  /** The version before and after. */
  from: number;
  to: number;
  /** The migrations this run applied (none when the schema was current). */
  applied: Migration[];
}

/**
 * Applies the migrations the database lacks, in version order, in one transaction: all of
 * them or none (PostgreSQL's DDL is transactional). A transaction-level advisory lock taken
 * first makes concurrent runs wait for each other; the one that waited then finds the
 * versions recorded and applies nothing (PostgreSQL docs, "Advisory Locks").
 */
export async function applyMigrations(client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  await client.query('BEGIN');
  try {
    // A migration may rightly run longer than a lookup may.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const from = Math.max(0, ...done);
    const applied = [...migrations].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version));
    for (const m of applied) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, ...applied.map((m) => m.version)), applied };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
