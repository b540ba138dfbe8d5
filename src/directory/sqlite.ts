// The embedded directory: one SQLite file, indexed so that a lookup is a primary-key
// probe however many domains are stored.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Account, ImportAccount } from '../model/account.js';
import { addressMd5 } from '../model/address.js';
import type { Directory, DirectoryCounts, DirectoryHit, ImportOptions, ImportRecord, ImportReport, ImportSummary, MailboxKey } from './directory.js';
import { buffered, importAccountsVia, runImport, type ImportSession, type RepeatedUsername, type StagedRecord } from './import-stream.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL,
  mail_server INTEGER
);
CREATE TABLE IF NOT EXISTS domains (
  domain TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS domains_by_account ON domains(account_id);
CREATE TABLE IF NOT EXISTS mailboxes (
  address TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  login TEXT NOT NULL,
  address_md5 TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mailboxes_by_account ON mailboxes(account_id);
`;

/**
 * The hash index (Evolution names a mailbox by the MD5 of its address: model/address.ts),
 * made apart from SCHEMA because a file of the schema before it has the table without the
 * column: `upgradeSchema` adds the column, fills it and then makes the index. The column is
 * nullable so that the release before it, whose imports do not write it, keeps working on
 * an upgraded file; the next open fills what it left empty.
 */
const MD5_INDEX = 'CREATE INDEX IF NOT EXISTS mailboxes_by_md5 ON mailboxes(address_md5, account_id)';

const ACCOUNT_FIELDS = 'a.username AS username, a.created AS created, a.mail_server AS mailServer';
const ACCOUNT_COLUMNS = `${ACCOUNT_FIELDS},
  (SELECT m.login FROM mailboxes m WHERE m.address = @address AND m.account_id = a.id) AS mailboxLogin`;
// Domain lookups also say whether a mailbox at the domain has a stored login that is not its
// own address (an EXISTS over the account's mailboxes, by mailboxes_by_account); username
// lookups answer NULL.
const DOMAIN_LOGINS = `,
  EXISTS (SELECT 1 FROM mailboxes m WHERE m.account_id = a.id
    AND substr(m.address, -length(@domain) - 1) = '@' || @domain AND lower(m.login) <> m.address) AS domainHasMailboxLogins`;
const NO_DOMAIN_LOGINS = ', NULL AS domainHasMailboxLogins';
// Two addresses of one account with one MD5 would be a collision nobody has found for MD5
// of short texts by chance; LIMIT 1 keeps the subquery scalar whatever happens.
const ACCOUNT_COLUMNS_BY_MD5 = `${ACCOUNT_FIELDS},
  (SELECT m.login FROM mailboxes m WHERE m.address_md5 = @md5 AND m.account_id = a.id LIMIT 1) AS mailboxLogin`;

interface HitRow extends Account {
  mailboxLogin: string | null;
  /** SQLite has no booleans: 0 or 1, or NULL. */
  domainHasMailboxLogins: number | null;
}

/** One open database and the statements prepared on it. */
interface Connection {
  db: Database.Database;
  byDomain: Database.Statement<{ domain: string; address: string | null }, HitRow>;
  byUsername: Database.Statement<{ username: string; address: string | null }, HitRow>;
  byDomainMd5: Database.Statement<{ domain: string; md5: string }, HitRow>;
  byUsernameMd5: Database.Statement<{ username: string; md5: string }, HitRow>;
  /** The file as it was when opened, to notice it damaged, replaced or removed under us. */
  file: FileIdentity | undefined;
  /** `PRAGMA data_version`: changes whenever another connection commits (sqlite.org/pragma.html#pragma_data_version). */
  dataVersion: Database.Statement<[], number>;
  /** Lookups answered since the data last changed, by lookup key (see `lookup`). */
  answers: Map<string, DirectoryHit | undefined>;
  /** The data_version `answers` belong to. */
  answersVersion: number;
}

/** Lookups remembered per connection at most; past it the memo starts again (a scanner's names cannot grow it). */
const ANSWERS_KEPT = 2000;

/**
 * Inode and device tell a replaced file; size and modification time one written over in
 * place, which SQLite itself may not notice while it serves pages from its cache (in WAL
 * mode a reader checks the WAL index, not the main file). Our own writes change them too:
 * that costs one reopen.
 */
interface FileIdentity {
  ino: number;
  dev: number;
  size: number;
  mtimeMs: number;
}

function identityOf(path: string): FileIdentity {
  const { ino, dev, size, mtimeMs } = statSync(path);
  return { ino, dev, size, mtimeMs };
}

/** How often (ms) a lookup checks that the file is still the one opened, or retries a broken one. */
const RECHECK_MS = 1000;

export interface SqliteOptions {
  /** Refuse to create a new file: the directory must be there already. */
  mustExist?: boolean;
  /** Milliseconds between checks of the file under an open directory (tests: 0). */
  recheckMs?: number;
}

/**
 * The embedded directory. It follows its file: when a lookup fails (the file was damaged)
 * or the file at the path is no longer the one opened (removed, replaced), the connection
 * is dropped and reopened, at most once per `recheckMs`, on the file that is there now. It
 * never creates a new, empty file after the first open, so a lost file answers "directory
 * unavailable" (503), never "unknown domain", until it is restored.
 */
export class SqliteDirectory implements Directory {
  readonly description: string;
  private readonly path: string;
  private readonly recheckMs: number;
  private conn: Connection | undefined;
  private closed = false;
  private checkedAt = 0;
  private lastFault: unknown;
  /** The end of the last write queued (see `serially`). */
  private writes: Promise<unknown> = Promise.resolve();

  /** Opens (creating when needed) the directory at `path`; `:memory:` for a throw-away one. */
  constructor(path: string, options: SqliteOptions = {}) {
    this.path = path;
    this.description = `sqlite:${path}`;
    this.recheckMs = options.recheckMs ?? RECHECK_MS;
    checkExistingFile(path);
    if (path !== ':memory:' && !options.mustExist) mkdirSync(dirname(path), { recursive: true });
    this.conn = this.connect(options.mustExist ?? false, true);
    this.checkedAt = Date.now();
  }

  /** True when a directory file already exists at `path`. */
  static exists(path: string): boolean {
    return path === ':memory:' ? false : existsSync(path);
  }

  private connect(mustExist: boolean, createSchema: boolean): Connection {
    const db = new Database(this.path, { fileMustExist: mustExist });
    try {
      // WAL lets `mailconf import` write while the service keeps reading.
      if (this.path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // A reopened file must already be a directory: tables are made only on first open.
      if (createSchema) db.exec(SCHEMA);
      // Any file opened may be of the schema before the hash index (or have rows the release
      // before wrote): brought up to date in place, before a statement needs the column.
      upgradeSchema(db);
      return {
        db,
        byDomain: db.prepare(`SELECT ${ACCOUNT_COLUMNS}${DOMAIN_LOGINS} FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = @domain`),
        byUsername: db.prepare(`SELECT ${ACCOUNT_COLUMNS}${NO_DOMAIN_LOGINS} FROM accounts a WHERE a.username = @username`),
        byDomainMd5: db.prepare(`SELECT ${ACCOUNT_COLUMNS_BY_MD5}${DOMAIN_LOGINS} FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = @domain`),
        byUsernameMd5: db.prepare(`SELECT ${ACCOUNT_COLUMNS_BY_MD5}${NO_DOMAIN_LOGINS} FROM accounts a WHERE a.username = @username`),
        file: this.path === ':memory:' ? undefined : identityOf(this.path),
        dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
        answers: new Map(),
        answersVersion: -1,
      };
    } catch (err) {
      db.close(); // e.g. the file is not a SQLite database, or not ours
      throw err;
    }
  }

  /** Whether the file at the path is still the one `conn` has open. */
  private sameFile(conn: Connection): boolean {
    if (!conn.file) return true;
    try {
      const now = identityOf(this.path);
      return now.ino === conn.file.ino && now.dev === conn.file.dev && now.size === conn.file.size && now.mtimeMs === conn.file.mtimeMs;
    } catch {
      return false;
    }
  }

  private drop(conn: Connection): void {
    if (this.conn === conn) this.conn = undefined;
    try {
      conn.db.close();
    } catch {
      // already unusable
    }
  }

  /** The connection to use now: checked against its file, reopened when it was dropped. */
  private current(): Connection {
    if (this.closed) throw new Error(`directory ${this.description} is closed`);
    const now = Date.now();
    if (now - this.checkedAt < this.recheckMs) {
      if (this.conn) return this.conn;
      throw this.lastFault;
    }
    this.checkedAt = now;
    if (this.conn && !this.sameFile(this.conn)) this.drop(this.conn);
    if (!this.conn) {
      try {
        checkExistingFile(this.path);
        this.conn = this.connect(true, false);
      } catch (err) {
        this.lastFault = err;
        throw err;
      }
    }
    return this.conn;
  }

  /** Runs `work` on the current connection; a failure drops it, so the next check reopens. */
  private use<T>(work: (conn: Connection) => T): T {
    const conn = this.current();
    try {
      return work(conn);
    } catch (err) {
      if (this.path !== ':memory:' && isStoreFault(err)) {
        this.lastFault = err;
        this.drop(conn);
      }
      throw err;
    }
  }

  // The statements the lookups run (read by the query-plan test).
  private get byDomain() {
    return this.current().byDomain;
  }

  private get byUsername() {
    return this.current().byUsername;
  }

  private get byDomainMd5() {
    return this.current().byDomainMd5;
  }

  private get byUsernameMd5() {
    return this.current().byUsernameMd5;
  }

  async findByDomain(domain: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined> {
    if (typeof mailbox === 'object') {
      const { md5 } = mailbox;
      return this.lookup('d', domain, mailbox, (c) => c.byDomainMd5.get({ domain, md5 }));
    }
    return this.lookup('d', domain, mailbox, (c) => c.byDomain.get({ domain, address: mailbox ?? null }));
  }

  async findByUsername(username: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined> {
    if (typeof mailbox === 'object') {
      const { md5 } = mailbox;
      return this.lookup('u', username, mailbox, (c) => c.byUsernameMd5.get({ username, md5 }));
    }
    return this.lookup('u', username, mailbox, (c) => c.byUsername.get({ username, address: mailbox ?? null }));
  }

  /**
   * A lookup, remembered until the data changes: asking SQLite whether anything was
   * committed since (data_version, one read of the WAL index) costs half of the query it
   * saves. Our own writes do not change data_version for this connection: the writes forget
   * the answers themselves. The hits are frozen, as they are shared between callers.
   */
  private lookup(kind: 'd' | 'u', name: string, mailbox: MailboxKey | undefined, query: (c: Connection) => HitRow | undefined): DirectoryHit | undefined {
    return this.use((c) => {
      const version = c.dataVersion.get()!;
      if (version !== c.answersVersion) {
        c.answers.clear();
        c.answersVersion = version;
      }
      // The name is length-prefixed: no name or address can run into the other; a hash
      // follows `#`, an address `=`, so a hash is never taken for an address.
      const tail = mailbox === undefined ? '~' : typeof mailbox === 'string' ? `=${mailbox}` : `#${mailbox.md5}`;
      const key = `${kind}${name.length}:${name}${tail}`;
      if (c.answers.has(key)) return c.answers.get(key);
      const hit = toHit(query(c));
      if (c.answers.size >= ANSWERS_KEPT) c.answers.clear();
      c.answers.set(key, hit);
      return hit;
    });
  }

  async importAccounts(accounts: ImportAccount[], options: { replace: boolean }): Promise<ImportSummary> {
    return importAccountsVia(this, accounts, options);
  }

  /**
   * One IMMEDIATE transaction, after this directory's earlier writes (another process's
   * import makes it wait up to busy_timeout, then fail busy).
   * On a file it runs on a connection of its own, opened for the import and closed after:
   * the import awaits its source between records, and the serving connection, whose
   * lookups run meanwhile, must never see its uncommitted rows (WAL readers see the last
   * commit). The serving connection notices the commit by its data_version (another
   * connection's commit changes it) and forgets its answers; they are forgotten here too.
   * ':memory:' (tests only) has one connection: the source is read whole first, then
   * written on it with no I/O awaited between the statements.
   */
  async importStream(records: AsyncIterable<ImportRecord>, options: ImportOptions): Promise<ImportReport> {
    return this.serially(() => this.importNow(records, options));
  }

  private async importNow(records: AsyncIterable<ImportRecord>, options: ImportOptions): Promise<ImportReport> {
    if (this.path === ':memory:') {
      const source = await buffered(records);
      const c = this.current();
      try {
        return await importOn(c.db, source, options);
      } finally {
        c.answers.clear();
      }
    }
    this.current(); // refuses when closed, reopens a dropped serving connection
    const db = new Database(this.path, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      // This build's default page cache is 16 MB per schema (main and temp): an import
      // writes its pages once, it gains little from more than a few MB of each.
      db.pragma(`cache_size = -${IMPORT_CACHE_KB}`);
      db.pragma(`temp.cache_size = -${IMPORT_CACHE_KB}`);
      return await importOn(db, records, options);
    } finally {
      db.close();
      if (this.conn) this.conn.answers.clear();
    }
  }

  async getAccount(username: string): Promise<ImportAccount | undefined> {
    return this.use(({ db }) => readAccount(db, username));
  }

  async deleteAccount(username: string): Promise<ImportAccount | undefined> {
    return this.writeNow((db) => {
      const held = readAccount(db, username);
      if (held) db.prepare('DELETE FROM accounts WHERE username = ?').run(username);
      return held;
    });
  }

  async deleteDomain(domain: string): Promise<{ username: string } | undefined> {
    return this.writeNow((db) => {
      const owner = db
        .prepare<[string], { id: number; username: string }>('SELECT a.id, a.username FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = ?')
        .get(domain);
      if (!owner) return undefined;
      db.prepare('DELETE FROM domains WHERE domain = ?').run(domain);
      db.prepare("DELETE FROM mailboxes WHERE account_id = ? AND substr(address, -length(?) - 1) = '@' || ?").run(owner.id, domain, domain);
      return { username: owner.username };
    });
  }

  /** A short write in one IMMEDIATE transaction on the serving connection, after this directory's earlier writes. */
  private writeNow<T>(work: (db: Database.Database) => T): Promise<T> {
    return this.serially(async () =>
      this.use((c) => {
        try {
          return c.db.transaction(() => work(c.db)).immediate();
        } finally {
          c.answers.clear();
        }
      }),
    );
  }

  /**
   * Runs this directory's writes one after the other. A write waits for the file's write
   * lock synchronously (busy_timeout, the whole process with it): one behind an import of
   * this same process, which holds the lock across awaits, would wait for an import that
   * cannot go on meanwhile. Queued here, it waits without blocking.
   */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work);
    this.writes = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Every account from one read statement (one snapshot). On a file it runs on a connection
   * of its own, so the serving connection stays free for lookups while the caller awaits
   * between accounts; leaving the loop early closes it. ':memory:' (tests) has one
   * connection only: its listing is read whole first.
   */
  async *exportAccounts(): AsyncIterable<ImportAccount> {
    if (this.path === ':memory:') {
      yield* this.use(({ db }) => [...exportStatement(db).iterate()].map(toExported));
      return;
    }
    this.current();
    const db = new Database(this.path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      for (const row of exportStatement(db).iterate()) yield toExported(row);
    } finally {
      db.close();
    }
  }

  async *allAccounts(): AsyncIterable<Account> {
    // Streams rows: a million accounts never sit in memory at once.
    yield* this.use(({ db }) =>
      db.prepare<[], Account>('SELECT username, created, mail_server AS mailServer FROM accounts ORDER BY username').iterate(),
    );
  }

  async counts(): Promise<DirectoryCounts> {
    return this.use(({ db }) =>
      db.prepare<[], DirectoryCounts>('SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM domains) AS domains').get()!,
    );
  }

  /** A lookup as the endpoints run it (every table it touches), for a name that is never stored. */
  async ping(): Promise<void> {
    this.use((c) => c.byDomain.get({ domain: '', address: '' }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.conn) this.drop(this.conn);
  }
}

/**
 * Brings a directory file of the schema before the hash index up to date, in place: adds
 * the column, fills it for every mailbox without one, makes the index. Nothing is written
 * when nothing is missing (a read checks that first), so the usual open takes no lock.
 */
function upgradeSchema(db: Database.Database): void {
  const state = () => ({
    column: db.prepare<[], string>("SELECT name FROM pragma_table_info('mailboxes')").pluck().all().includes('address_md5'),
    index: db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'mailboxes_by_md5'").get() !== undefined,
  });
  const unfilled = () => db.prepare('SELECT 1 FROM mailboxes WHERE address_md5 IS NULL LIMIT 1').get() !== undefined;
  const seen = state();
  if (seen.column && seen.index && !unfilled()) return;
  db.function('mailconf_address_md5', { deterministic: true }, (address: unknown) => addressMd5(String(address)));
  // Asked again under the write lock: another process may have upgraded the file meanwhile.
  db.transaction(() => {
    if (!state().column) db.exec('ALTER TABLE mailboxes ADD COLUMN address_md5 TEXT');
    db.exec('UPDATE mailboxes SET address_md5 = mailconf_address_md5(address) WHERE address_md5 IS NULL');
    db.exec(MD5_INDEX);
  }).immediate();
}

/** KiB of page cache an import's own connection keeps per schema (main, temp). */
const IMPORT_CACHE_KB = 2000;

/** The staging tables of an import (import-stream.ts), in the connection's temp schema. */
const STAGING = `
CREATE TEMP TABLE import_accounts (ord INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, position TEXT NOT NULL,
  created TEXT NOT NULL, mail_server INTEGER, account_id INTEGER);
CREATE TEMP TABLE import_domains (ord INTEGER NOT NULL, idx INTEGER NOT NULL, domain TEXT NOT NULL, PRIMARY KEY (ord, idx)) WITHOUT ROWID;
CREATE INDEX temp.import_domains_by_domain ON import_domains (domain, ord, idx);
CREATE TEMP TABLE import_mailboxes (ord INTEGER NOT NULL, idx INTEGER NOT NULL, address TEXT NOT NULL, login TEXT NOT NULL,
  PRIMARY KEY (ord, idx)) WITHOUT ROWID;
CREATE INDEX temp.import_mailboxes_by_address ON import_mailboxes (address, ord, idx);
`;
const DROP_STAGING = 'DROP TABLE IF EXISTS temp.import_accounts; DROP TABLE IF EXISTS temp.import_domains; DROP TABLE IF EXISTS temp.import_mailboxes;';

/**
 * runImport in one IMMEDIATE transaction on `db`: committed when it succeeds, rolled back
 * when it throws or is dry. The staging tables live in the temp schema, on disk (this
 * build's default temp store is a file), and are dropped before the transaction ends.
 */
async function importOn(db: Database.Database, records: AsyncIterable<ImportRecord>, options: ImportOptions): Promise<ImportReport> {
  db.pragma('foreign_keys = ON');
  db.function('mailconf_address_md5', { deterministic: true }, (address: unknown) => addressMd5(String(address)));
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(STAGING);
    const report = await runImport(records, options, sqliteSession(db));
    db.exec(DROP_STAGING);
    db.exec(options.dryRun ? 'ROLLBACK' : 'COMMIT');
    return report;
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function sqliteSession(db: Database.Database): ImportSession {
  const addAccount = db.prepare('INSERT INTO import_accounts (ord, username, position, created, mail_server) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING');
  const firstPosition = db.prepare<[string], string>('SELECT position FROM import_accounts WHERE username = ?').pluck();
  const addDomain = db.prepare('INSERT INTO import_domains (ord, idx, domain) VALUES (?, ?, ?)');
  const addMailbox = db.prepare('INSERT INTO import_mailboxes (ord, idx, address, login) VALUES (?, ?, ?, ?)');
  return {
    writesAddressMd5: true,
    async stage(records: readonly StagedRecord[]): Promise<RepeatedUsername[]> {
      const repeated: RepeatedUsername[] = [];
      for (const { ord, position, account: a } of records) {
        if (addAccount.run(ord, a.username, position, a.created, a.mailServer).changes === 0) {
          repeated.push({ ord, position, username: a.username, firstPosition: firstPosition.get(a.username)! });
          continue;
        }
        a.domains.forEach((d, i) => addDomain.run(ord, i, d));
        a.mailboxes.forEach((m, i) => addMailbox.run(ord, i, m.address, m.login));
      }
      return repeated;
    },
    async query<R extends object>(sql: string): Promise<R[]> {
      const statement = db.prepare(sql);
      if (statement.reader) return statement.all() as R[];
      statement.run();
      return [];
    },
    async analyze() {},
    async announce() {},
  };
}

interface ExportRow extends Account {
  domains: string;
  mailboxes: string;
}

/** Every account with its domains and logins (JSON arrays, sorted), in username order. */
function exportStatement(db: Database.Database): Database.Statement<[], ExportRow> {
  return db.prepare<[], ExportRow>(`SELECT a.username AS username, a.created AS created, a.mail_server AS mailServer,
    (SELECT json_group_array(domain) FROM (SELECT domain FROM domains WHERE account_id = a.id ORDER BY domain)) AS domains,
    (SELECT json_group_array(json_object('address', address, 'login', login))
       FROM (SELECT address, login FROM mailboxes WHERE account_id = a.id ORDER BY address)) AS mailboxes
    FROM accounts a ORDER BY a.username`);
}

function toExported(row: ExportRow): ImportAccount {
  return { username: row.username, created: row.created, mailServer: row.mailServer, domains: JSON.parse(row.domains), mailboxes: JSON.parse(row.mailboxes) };
}

/** One account as an import would give it: domains and mailboxes sorted. */
function readAccount(db: Database.Database, username: string): ImportAccount | undefined {
  const a = db.prepare<[string], Account & { id: number }>('SELECT id, username, created, mail_server AS mailServer FROM accounts WHERE username = ?').get(username);
  if (!a) return undefined;
  const domains = db.prepare<[number], string>('SELECT domain FROM domains WHERE account_id = ? ORDER BY domain').pluck().all(a.id);
  const mailboxes = db.prepare<[number], { address: string; login: string }>('SELECT address, login FROM mailboxes WHERE account_id = ? ORDER BY address').all(a.id);
  return { username: a.username, created: a.created, mailServer: a.mailServer, domains, mailboxes };
}

function toHit(row: HitRow | undefined): DirectoryHit | undefined {
  if (!row) return undefined;
  const { mailboxLogin, domainHasMailboxLogins, ...account } = row;
  return Object.freeze({
    account: Object.freeze(account),
    mailboxLogin,
    domainHasMailboxLogins: domainHasMailboxLogins === null ? null : domainHasMailboxLogins !== 0,
  });
}

/** A fault of the store (damaged, missing or foreign file), not of the data asked for or written. */
function isStoreFault(err: unknown): boolean {
  return err instanceof Database.SqliteError && !/^SQLITE_(CONSTRAINT|BUSY|LOCKED)/.test(err.code);
}

/**
 * An existing file must be a regular, non-empty file: SQLite would turn an empty one into an
 * empty directory ("serving 0 accounts", every answer 404), and a device or /proc entry is
 * no database at all (reading one may never end).
 */
function checkExistingFile(path: string): void {
  if (path === ':memory:' || !existsSync(path)) return;
  const stat = statSync(path);
  if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
  if (stat.size === 0) throw new Error(`${path} is empty (0 bytes): not a mailconf directory (remove it, or import into a new path)`);
}
