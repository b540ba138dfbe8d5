// The shared directory: one PostgreSQL database that every instance reads, through a pool
// of connections. Lookups are one indexed query each; an import is one transaction that
// readers never wait for (see importStream).
import pg from 'pg';
import type { Account, ImportAccount } from '../model/account.js';
import { DirectoryError, type Directory, type DirectoryCounts, type DirectoryHit, type ImportOptions, type ImportRecord, type ImportReport, type ImportSummary, type MailboxKey } from './directory.js';
import { encodeChange } from './changes.js';
import { importAccountsVia, runImport, type ImportSession, type RepeatedUsername, type StagedRecord } from './import-stream.js';
import { applyMigrations, schemaProblem, schemaVersion, type MigrationResult } from './migrations.js';
import { CHANGE_CHANNEL } from './pg-changes.js';
import { maskDirectoryUrl, redactDirectoryUrl } from './url.js';

export interface PostgresOptions {
  /** Connections the pool may hold open at once. */
  poolSize: number;
  /** How long (ms) a query waits for a connection, connecting included, before it fails. */
  connectTimeoutMs: number;
  /**
   * How long (ms) the server lets one statement run before cancelling it (0: no limit).
   * A lookup also gives up by itself READ_MARGIN_MS later, for when the server (or the link
   * to it) does not answer at all and so cannot cancel anything.
   */
  statementTimeoutMs: number;
}

/** How much longer than the statement timeout a lookup waits for an answer that never comes. */
export const READ_MARGIN_MS = 1000;

/** How long close() waits for the pool's connections to say goodbye. */
const CLOSE_WAIT_MS = 2000;

export const POSTGRES_DEFAULTS: PostgresOptions = { poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 2000 };

// The lookups, as SQLite runs them: the domain (or username) by its unique index, the
// account by its primary key, the mailbox login by the mailbox's primary key.
const ACCOUNT_FIELDS = 'a.username, a.created, a.mail_server AS "mailServer"';
const ACCOUNT_COLUMNS = `${ACCOUNT_FIELDS},
  (SELECT m.login FROM mailboxes m WHERE m.address = $2 AND m.account_id = a.id) AS "mailboxLogin"`;
// Domain lookups also say whether a mailbox at the domain has a stored login that is not its
// own address (an EXISTS over the account's mailboxes, by their account index); username
// lookups answer NULL.
const DOMAIN_LOGINS = `,
  EXISTS (SELECT 1 FROM mailboxes m WHERE m.account_id = a.id
    AND right(m.address, length($1::text) + 1) = '@' || $1::text AND lower(m.login) <> m.address) AS "domainHasMailboxLogins"`;
const NO_DOMAIN_LOGINS = ', NULL::boolean AS "domainHasMailboxLogins"';
export const BY_DOMAIN = `SELECT ${ACCOUNT_COLUMNS}${DOMAIN_LOGINS} FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = $1`;
export const BY_USERNAME = `SELECT ${ACCOUNT_COLUMNS}${NO_DOMAIN_LOGINS} FROM accounts a WHERE a.username = $1`;
// The same, the mailbox named by its address's MD5 (Evolution): by the index of migration 2.
// LIMIT 1: a scalar subquery even if two addresses of one account ever shared a hash.
const ACCOUNT_COLUMNS_BY_MD5 = `${ACCOUNT_FIELDS},
  (SELECT m.login FROM mailboxes m WHERE m.address_md5 = $2 AND m.account_id = a.id LIMIT 1) AS "mailboxLogin"`;
export const BY_DOMAIN_MD5 = `SELECT ${ACCOUNT_COLUMNS_BY_MD5}${DOMAIN_LOGINS} FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = $1`;
export const BY_USERNAME_MD5 = `SELECT ${ACCOUNT_COLUMNS_BY_MD5}${NO_DOMAIN_LOGINS} FROM accounts a WHERE a.username = $1`;

/** The advisory lock key that serialises imports ("mailconf" + 1): two at once would judge conflicts on stale owners. */
const IMPORT_LOCK = '7872306010394431079';
/** Accounts per FETCH when listing them all. */
const PAGE = 1000;

interface HitRow extends Account {
  mailboxLogin: string | null;
  domainHasMailboxLogins: boolean | null;
}

/** A query with pg's per-query client-side timeout, which @types/pg does not declare on QueryConfig. */
export type TimedQuery = pg.QueryConfig & { query_timeout?: number | undefined };

type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

export class PostgresDirectory implements Directory {
  /** The URL with its password masked. */
  readonly description: string;
  private readonly pool: pg.Pool;
  /** The client-side bound on a lookup's wait (undefined: none, as statementTimeoutMs 0 asks). */
  private readonly readTimeoutMs: number | undefined;
  private closed = false;

  private constructor(url: string, options: PostgresOptions) {
    this.description = maskDirectoryUrl(url);
    const timeout = Math.max(0, Math.trunc(options.statementTimeoutMs));
    this.readTimeoutMs = timeout > 0 ? timeout + READ_MARGIN_MS : undefined;
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      // The server cancels a statement that runs longer. Set on each new connection, before
      // the pool hands it out, rather than sent as a startup parameter, which PgBouncer
      // refuses ("unsupported startup parameter").
      onConnect: async (client) => {
        await client.query(`SET statement_timeout = ${timeout}`);
      },
      // Named in pg_stat_activity, unless the URL names itself.
      fallback_application_name: 'mailconf',
      // A server that vanished without closing the connection is noticed.
      keepAlive: true,
    });
    // An idle connection that breaks (server restart) is reported here; without a listener
    // the process would crash. The next query takes a new connection and says what is wrong.
    this.pool.on('error', () => undefined);
  }

  /**
   * Opens the pool and checks that the database holds the schema this code needs (a
   * DirectoryError "run mailconf migrate" when it does not, or when it cannot be reached).
   */
  static async open(url: string, options: Partial<PostgresOptions> = {}): Promise<PostgresDirectory> {
    const directory = new PostgresDirectory(url, { ...POSTGRES_DEFAULTS, ...options });
    try {
      const problem = schemaProblem(await schemaVersion(directory.pool), directory.description);
      if (problem) throw problem;
      return directory;
    } catch (err) {
      await directory.close();
      throw directoryError(`cannot open directory ${directory.description}`, url, err);
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new Error(`directory ${this.description} is closed`);
    return this.pool.query<R>(text, values);
  }

  /** A named prepared statement: parsed and planned once per connection. */
  private async lookup(name: string, text: string, key: string, mailbox: string | undefined): Promise<DirectoryHit | undefined> {
    if (this.closed) throw new Error(`directory ${this.description} is closed`);
    // query_timeout: the pool then drops the connection, whose socket is cut (pg ends a
    // client with a query still active by destroying its stream).
    const query: TimedQuery = { name, text, values: [key, mailbox ?? null], query_timeout: this.readTimeoutMs };
    const { rows } = await this.pool.query<HitRow>(query);
    const row = rows[0];
    if (!row) return undefined;
    const { mailboxLogin, domainHasMailboxLogins, ...account } = row;
    return { account, mailboxLogin, domainHasMailboxLogins };
  }

  findByDomain(domain: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined> {
    if (typeof mailbox === 'object') return this.lookup('mailconf_by_domain_md5', BY_DOMAIN_MD5, domain, mailbox.md5);
    return this.lookup('mailconf_by_domain', BY_DOMAIN, domain, mailbox);
  }

  findByUsername(username: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined> {
    if (typeof mailbox === 'object') return this.lookup('mailconf_by_username_md5', BY_USERNAME_MD5, username, mailbox.md5);
    return this.lookup('mailconf_by_username', BY_USERNAME, username, mailbox);
  }

  async importAccounts(accounts: ImportAccount[], options: { replace: boolean }): Promise<ImportSummary> {
    return importAccountsVia(this, accounts, options);
  }

  /**
   * One transaction, as in SQLite, serialised with other imports by IMPORT_LOCK (two at
   * once would judge conflicts on stale owners); with `dryRun` rolled back. It takes no lock
   * that blocks a reader: DELETE, INSERT and UPDATE hold ROW EXCLUSIVE on the tables, which
   * conflicts only with SHARE and stronger modes (CREATE INDEX, LOCK TABLE, most ALTER
   * TABLE), never with the ACCESS SHARE a SELECT takes; there is no TRUNCATE, which would
   * take ACCESS EXCLUSIVE and make every lookup wait; and a plain SELECT never waits for
   * row locks. (The staging tables are TEMP, the session's own: indexing them locks
   * nothing shared.) Each reader's statement sees what was committed when it began (MVCC),
   * so during a `replace` of a million domains every lookup keeps answering from the old
   * data, and all of them see the new data from the commit on (PostgreSQL docs,
   * "Concurrency Control": "Explicit Locking" and "Read Committed Isolation Level").
   */
  async importStream(records: AsyncIterable<ImportRecord>, options: ImportOptions): Promise<ImportReport> {
    let report: ImportReport | undefined;
    await this.transaction(async (q) => {
      // An import is operator's work: no lookup-sized limit on its statements.
      await q('SET LOCAL statement_timeout = 0');
      await q('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
      await q(STAGING);
      report = await runImport(records, options, postgresSession(q));
      if (options.dryRun) throw new DryRun();
    }).catch((err: unknown) => {
      if (!(err instanceof DryRun)) throw err;
    });
    return report!;
  }

  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  private async transaction(work: (q: Query) => Promise<void>): Promise<void> {
    if (this.closed) throw new Error(`directory ${this.description} is closed`);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await work((text, values) => client.query(text, values));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      // A connection whose rollback failed is not given back to the pool.
      client.release(broken);
    }
  }

  async getAccount(username: string): Promise<ImportAccount | undefined> {
    return readAccount((text, values) => this.query(text, values), username);
  }

  async deleteAccount(username: string): Promise<ImportAccount | undefined> {
    let held: ImportAccount | undefined;
    await this.transaction(async (q) => {
      held = await readAccount(q, username, true);
      if (!held) return;
      await q('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, encodeChange({ usernames: [username], domains: held.domains })]);
      await q('DELETE FROM accounts WHERE username = $1', [username]);
    });
    return held;
  }

  async deleteDomain(domain: string): Promise<{ username: string } | undefined> {
    let owner: { username: string } | undefined;
    await this.transaction(async (q) => {
      const { rows } = await q<{ id: string; username: string }>(
        'SELECT a.id, a.username FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = $1 FOR UPDATE OF d',
        [domain],
      );
      const row = rows[0];
      if (!row) return;
      owner = { username: row.username };
      await q('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, encodeChange({ usernames: [row.username], domains: [domain] })]);
      await q('DELETE FROM domains WHERE domain = $1', [domain]);
      await q("DELETE FROM mailboxes WHERE account_id = $1 AND right(address, length($2::text) + 1) = '@' || $2::text", [row.id, domain]);
    });
    return owner;
  }

  /**
   * Every account with its domains and logins, as allAccounts lists them: a cursor in one
   * REPEATABLE READ READ ONLY transaction, a page at a time; leaving early closes it.
   */
  async *exportAccounts(): AsyncIterable<ImportAccount> {
    yield* this.cursor<ImportAccount>(`${WHOLE_ACCOUNTS} ORDER BY a.username`);
  }

  /**
   * Rows of `text` a page at a time from a cursor, inside a read-only REPEATABLE READ
   * transaction: one snapshot for the whole listing, and never all rows in memory. Leaving
   * the loop early closes it. The listing holds one pooled connection until it ends.
   */
  private async *cursor<R extends pg.QueryResultRow>(text: string): AsyncIterable<R> {
    if (this.closed) throw new Error(`directory ${this.description} is closed`);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`DECLARE listing NO SCROLL CURSOR FOR ${text}`);
      for (;;) {
        const { rows } = await client.query<R>(`FETCH ${PAGE} FROM listing`);
        yield* rows;
        if (rows.length < PAGE) break;
      }
    } finally {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      client.release(broken);
    }
  }

  async *allAccounts(): AsyncIterable<Account> {
    yield* this.cursor<Account>('SELECT username, created, mail_server AS "mailServer" FROM accounts ORDER BY username');
  }

  async counts(): Promise<DirectoryCounts> {
    const { rows } = await this.query<DirectoryCounts>(
      'SELECT (SELECT count(*) FROM accounts)::int AS accounts, (SELECT count(*) FROM domains)::int AS domains',
    );
    return rows[0]!;
  }

  /** A lookup as the endpoints run it (every table it touches), for a name that is never stored. */
  async ping(): Promise<void> {
    await this.findByDomain('', '');
  }

  /**
   * Ends the pool. Waits at most CLOSE_WAIT_MS: a connection to a server that stopped
   * answering never gets its goodbye, and shutdown must not wait for TCP to give up (the
   * process exits after close; its sockets go with it).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    await Promise.race([this.pool.end(), waited]);
    clearTimeout(timer);
  }
}

/** `mailconf migrate`: brings the database at `url` to the schema this code needs. */
export async function migratePostgres(url: string, options: Partial<PostgresOptions> = {}): Promise<MigrationResult> {
  const { connectTimeoutMs } = { ...POSTGRES_DEFAULTS, ...options };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, fallback_application_name: 'mailconf migrate' });
  // A connection that breaks mid-way is reported by the query that was running.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await applyMigrations(client);
  } catch (err) {
    throw directoryError(`cannot migrate directory ${maskDirectoryUrl(url)}`, url, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A DirectoryError as is; anything else becomes one, led by `what`, with no trace of the password. */
function directoryError(what: string, url: string, err: unknown): DirectoryError {
  if (err instanceof DirectoryError) return err;
  const e = err as Error & { code?: string };
  // pg's AggregateError (every address of a host refused) has an empty message.
  const detail = e.message || (e instanceof AggregateError ? e.errors.map((x: Error) => x.message).join('; ') : '') || e.code || String(err);
  return new DirectoryError(redactDirectoryUrl(`${what}: ${detail}`, url));
}

/** Rolls a dry run's transaction back. */
class DryRun extends Error {}

/**
 * The staging tables of an import (import-stream.ts): the session's own, dropped with its
 * transaction; names compare as bytes, as the directory's own columns (migrations.ts).
 */
const STAGING = `
CREATE TEMP TABLE import_accounts (ord integer PRIMARY KEY, username text COLLATE "C" NOT NULL UNIQUE, position text NOT NULL,
  created text NOT NULL, mail_server integer, account_id bigint) ON COMMIT DROP;
CREATE TEMP TABLE import_domains (ord integer NOT NULL, idx integer NOT NULL, domain text COLLATE "C" NOT NULL, PRIMARY KEY (ord, idx)) ON COMMIT DROP;
CREATE INDEX ON import_domains (domain, ord, idx);
CREATE TEMP TABLE import_mailboxes (ord integer NOT NULL, idx integer NOT NULL, address text COLLATE "C" NOT NULL, login text NOT NULL,
  PRIMARY KEY (ord, idx)) ON COMMIT DROP;
CREATE INDEX ON import_mailboxes (address, ord, idx);
`;

/** Staging by batch: one unnest statement per table and batch. */
function postgresSession(q: Query): ImportSession {
  return {
    writesAddressMd5: false,
    async stage(records: readonly StagedRecord[]): Promise<RepeatedUsername[]> {
      const repeated: RepeatedUsername[] = [];
      const first = new Map<string, StagedRecord>();
      for (const r of records) {
        const earlier = first.get(r.account.username);
        if (earlier) repeated.push({ ord: r.ord, position: r.position, username: r.account.username, firstPosition: earlier.position });
        else first.set(r.account.username, r);
      }
      const unique = [...first.values()];
      const { rows } = await q<{ ord: number }>(
        `INSERT INTO import_accounts (ord, username, position, created, mail_server)
         SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::integer[])
         ON CONFLICT (username) DO NOTHING RETURNING ord`,
        [unique.map((r) => r.ord), unique.map((r) => r.account.username), unique.map((r) => r.position), unique.map((r) => r.account.created), unique.map((r) => r.account.mailServer)],
      );
      const inserted = new Set(rows.map((r) => r.ord));
      const staged = unique.filter((r) => inserted.has(r.ord));
      const earlier = unique.filter((r) => !inserted.has(r.ord));
      if (earlier.length > 0) {
        const { rows: firsts } = await q<{ username: string; position: string }>('SELECT username, position FROM import_accounts WHERE username = ANY($1::text[])', [
          earlier.map((r) => r.account.username),
        ]);
        const at = new Map(firsts.map((f) => [f.username, f.position]));
        for (const r of earlier) repeated.push({ ord: r.ord, position: r.position, username: r.account.username, firstPosition: at.get(r.account.username)! });
      }
      const domains = staged.flatMap((r) => r.account.domains.map((d, i) => [r.ord, i, d] as const));
      if (domains.length > 0) {
        await q('INSERT INTO import_domains (ord, idx, domain) SELECT * FROM unnest($1::integer[], $2::integer[], $3::text[])', [
          domains.map((d) => d[0]),
          domains.map((d) => d[1]),
          domains.map((d) => d[2]),
        ]);
      }
      const mailboxes = staged.flatMap((r) => r.account.mailboxes.map((m, i) => [r.ord, i, m.address, m.login] as const));
      if (mailboxes.length > 0) {
        await q('INSERT INTO import_mailboxes (ord, idx, address, login) SELECT * FROM unnest($1::integer[], $2::integer[], $3::text[], $4::text[])', [
          mailboxes.map((m) => m[0]),
          mailboxes.map((m) => m[1]),
          mailboxes.map((m) => m[2]),
          mailboxes.map((m) => m[3]),
        ]);
      }
      return repeated;
    },
    async query<R extends object>(sql: string): Promise<R[]> {
      return (await q<R & pg.QueryResultRow>(sql)).rows;
    },
    async analyze() {
      // Temporary tables are never analysed by autovacuum: without statistics the planner
      // would guess a few rows and join a million by nested loops.
      await q('ANALYZE import_accounts, import_domains, import_mailboxes');
    },
    async announce(change) {
      await q('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, encodeChange(change)]);
    },
  };
}

/** Accounts with their domains and logins (sorted) as one row each: one statement, one snapshot. */
const WHOLE_ACCOUNTS = `SELECT a.username, a.created, a.mail_server AS "mailServer",
  coalesce((SELECT array_agg(d.domain ORDER BY d.domain) FROM domains d WHERE d.account_id = a.id), '{}') AS domains,
  coalesce((SELECT json_agg(json_build_object('address', m.address, 'login', m.login) ORDER BY m.address)
    FROM mailboxes m WHERE m.account_id = a.id), '[]') AS mailboxes
FROM accounts a`;

/** One account with its domains and logins, sorted; `lock` holds its row until the transaction ends. */
async function readAccount(q: Query, username: string, lock = false): Promise<ImportAccount | undefined> {
  if (lock) await q('SELECT 1 FROM accounts WHERE username = $1 FOR UPDATE', [username]);
  const { rows } = await q<ImportAccount>(`${WHOLE_ACCOUNTS} WHERE a.username = $1`, [username]);
  return rows[0];
}

