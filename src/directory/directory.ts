// What the rest of the service may ask of the account directory. SQLite implements it
// today; a PostgreSQL backend implements the same interface without touching endpoints.

export interface Account {
  /** Hosting account username, lower-case. */
  username: string;
  /** Creation date as imported: `YYYY-MM-DD` or an RFC 3339 timestamp. */
  created: string;
  /** The account's mail server number (old-era accounts), or null. */
  mailServer: number | null;
}

export interface DirectoryHit {
  account: Account;
  /** The stored login of the asked-for mailbox, when the directory has one. */
  mailboxLogin: string | null;
}

export interface ImportMailbox {
  address: string;
  login: string;
}

export interface ImportAccount extends Account {
  domains: string[];
  mailboxes: ImportMailbox[];
}

export interface ImportSummary {
  accounts: number;
  domains: number;
  mailboxes: number;
}

export interface DirectoryCounts {
  accounts: number;
  domains: number;
}

/** Raised by `importAccounts` when the data conflicts with what the directory holds. */
export class ImportConflictError extends Error {}

export interface Directory {
  /** A human-readable name of where the data lives, for logs (never a password). */
  readonly description: string;
  /** The account that owns `domain` (lower-case), with the login stored for `address`. */
  findByDomain(domain: string, address?: string): Promise<DirectoryHit | undefined>;
  /** The account named `username` (lower-case), for account-named domains. */
  findByUsername(username: string, address?: string): Promise<DirectoryHit | undefined>;
  /**
   * Writes validated accounts in one transaction: upsert by username (an account's domains
   * and mailboxes become exactly those given), or with `replace` the whole directory.
   */
  importAccounts(accounts: ImportAccount[], options: { replace: boolean }): Promise<ImportSummary>;
  /** Every account, in username order, for checks over the whole directory. */
  allAccounts(): AsyncIterable<Account>;
  counts(): Promise<DirectoryCounts>;
  /** Resolves when the directory answers queries; rejects when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
