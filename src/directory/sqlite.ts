// The embedded directory: one SQLite file, indexed so that a lookup is a primary-key
// probe however many domains are stored.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Account, ImportAccount } from '../model/account.js';
import { ImportConflictError, type Directory, type DirectoryCounts, type DirectoryHit, type ImportSummary } from './directory.js';

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
  login TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mailboxes_by_account ON mailboxes(account_id);
`;

const ACCOUNT_COLUMNS = `a.username AS username, a.created AS created, a.mail_server AS mailServer,
  (SELECT m.login FROM mailboxes m WHERE m.address = @address AND m.account_id = a.id) AS mailboxLogin`;

interface HitRow extends Account {
  mailboxLogin: string | null;
}

export class SqliteDirectory implements Directory {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly byDomain: Database.Statement<{ domain: string; address: string | null }, HitRow>;
  private readonly byUsername: Database.Statement<{ username: string; address: string | null }, HitRow>;

  /** Opens (creating when needed) the directory at `path`; `:memory:` for a throw-away one. */
  constructor(path: string, options: { mustExist?: boolean } = {}) {
    if (path !== ':memory:' && !options.mustExist) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { fileMustExist: options.mustExist ?? false });
    this.description = `sqlite:${path}`;
    try {
      // WAL lets `mailconf import` write while the service keeps reading.
      if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      this.db.close(); // e.g. the file is not a SQLite database
      throw err;
    }
    this.byDomain = this.db.prepare(
      `SELECT ${ACCOUNT_COLUMNS} FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = @domain`,
    );
    this.byUsername = this.db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.username = @username`);
  }

  /** True when a directory file already exists at `path`. */
  static exists(path: string): boolean {
    return path === ':memory:' ? false : existsSync(path);
  }

  async findByDomain(domain: string, address?: string): Promise<DirectoryHit | undefined> {
    return toHit(this.byDomain.get({ domain, address: address ?? null }));
  }

  async findByUsername(username: string, address?: string): Promise<DirectoryHit | undefined> {
    return toHit(this.byUsername.get({ username, address: address ?? null }));
  }

  async importAccounts(accounts: ImportAccount[], options: { replace: boolean }): Promise<ImportSummary> {
    const db = this.db;
    const upsert = db.prepare<[string, string, number | null], { id: number }>(
      `INSERT INTO accounts (username, created, mail_server) VALUES (?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET created = excluded.created, mail_server = excluded.mail_server
       RETURNING id`,
    );
    const clearDomains = db.prepare('DELETE FROM domains WHERE account_id = ?');
    const clearMailboxes = db.prepare('DELETE FROM mailboxes WHERE account_id = ?');
    const owner = db.prepare<[string], { username: string }>(
      'SELECT a.username FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.domain = ?',
    );
    const addDomain = db.prepare('INSERT INTO domains (domain, account_id) VALUES (?, ?)');
    const addMailbox = db.prepare('INSERT INTO mailboxes (address, account_id, login) VALUES (?, ?, ?)');

    const write = db.transaction(() => {
      if (options.replace) db.exec('DELETE FROM mailboxes; DELETE FROM domains; DELETE FROM accounts;');
      const ids = accounts.map((a) => {
        const id = upsert.get(a.username, a.created, a.mailServer)!.id;
        clearDomains.run(id);
        clearMailboxes.run(id);
        return id;
      });
      const summary: ImportSummary = { accounts: accounts.length, domains: 0, mailboxes: 0 };
      accounts.forEach((a, i) => {
        for (const domain of a.domains) {
          const other = owner.get(domain);
          if (other) {
            throw new ImportConflictError(
              `domain ${domain} of account ${a.username} already belongs to account ${other.username}`,
            );
          }
          addDomain.run(domain, ids[i]);
          summary.domains++;
        }
        for (const m of a.mailboxes) {
          addMailbox.run(m.address, ids[i], m.login);
          summary.mailboxes++;
        }
      });
      return summary;
    });
    return write.immediate();
  }

  async *allAccounts(): AsyncIterable<Account> {
    // Streams rows: a million accounts never sit in memory at once.
    yield* this.db
      .prepare<[], Account>('SELECT username, created, mail_server AS mailServer FROM accounts ORDER BY username')
      .iterate();
  }

  async counts(): Promise<DirectoryCounts> {
    const row = this.db
      .prepare<[], DirectoryCounts>(
        'SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM domains) AS domains',
      )
      .get()!;
    return row;
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toHit(row: HitRow | undefined): DirectoryHit | undefined {
  if (!row) return undefined;
  const { mailboxLogin, ...account } = row;
  return { account, mailboxLogin };
}
