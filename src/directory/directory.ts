// What the rest of the service may ask of the account directory, as two interfaces: the
// reads every answer needs (DirectoryReader) and the operator's work (DirectoryAdmin).
// A cache wraps only the reader; SQLite and PostgreSQL implement both.
import type { Account, ImportAccount } from '../model/account.js';

export interface DirectoryHit {
  account: Account;
  /** The stored login of the asked-for mailbox, when the directory has one. */
  mailboxLogin: string | null;
  /**
   * Lookups by domain: whether the account stores, for some address at that domain, a login
   * other than the address itself (in any case). PACC, whose document has no login field,
   * works only where it does not. Null for lookups by username (no domain was asked).
   */
  domainHasMailboxLogins: boolean | null;
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

/** One thing wrong with an import, and where: `accounts[2].domains[0]`, `line 7`, `line 7, column 3`. */
export interface ImportProblem {
  position: string;
  reason: string;
}

/**
 * An import refused as a whole: every problem found (at most about 100), by the records'
 * reader and validator or by the directory (a domain another account owns, a username given
 * twice). Nothing was written.
 */
export class ImportRejectedError extends Error {
  constructor(readonly problems: readonly ImportProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing imported`);
  }
}

/** A validated account and where in its input it came from (for problems). */
export interface ImportRecord {
  position: string;
  account: ImportAccount;
}

export interface ImportOptions {
  /** The input becomes the whole directory: accounts it does not name are removed. */
  replace: boolean;
  /** Do everything but commit: the report says what would change, nothing is written. */
  dryRun?: boolean;
}

/** What an import changed (or, dry, would change), counted against the directory before it. */
export interface ImportReport {
  dryRun: boolean;
  accounts: { added: number; changed: number; unchanged: number; removed: number };
  /** A domain moved from one account to another counts as `moved`, not as removed and added. */
  domains: { added: number; removed: number; moved: number };
  /**
   * Stored logins, by address and account: one whose value changed counts as `changed`;
   * one that moves to another account as removed (from the one) and added (to the other).
   */
  mailboxes: { added: number; changed: number; removed: number };
  /** What the input held (the accounts, domains and logins now stored for them). */
  written: ImportSummary;
}

/** Raised when a directory URL names no usable backend, or its store cannot be opened. */
export class DirectoryError extends Error {}

/**
 * A mailbox named by the MD5 of its address instead of the address: Evolution's `emailmd5`
 * (model/address.ts `addressMd5`, `evolutionMailboxMd5`). The
 * directory keeps an index of these hashes beside the addresses it stores.
 */
export interface HashedMailbox {
  readonly md5: string;
}

/** The mailbox a lookup asks the stored login of: its address (lower-case), or its address's hash. */
export type MailboxKey = string | HashedMailbox;

export interface DirectoryReader {
  /** A human-readable name of where the data lives, for logs (never a password). */
  readonly description: string;
  /**
   * The account that owns `domain` (lower-case), with the login stored for `mailbox`: the
   * mailbox of that account whose address is `mailbox`, or whose address hashes to `mailbox.md5`.
   */
  findByDomain(domain: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined>;
  /** The account named `username` (lower-case), for account-named domains; `mailbox` as above. */
  findByUsername(username: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined>;
  /** Resolves when the directory answers queries; rejects when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DirectoryAdmin {
  readonly description: string;
  /**
   * Writes validated accounts in one transaction: upsert by username (an account's domains
   * and mailboxes become exactly those given), or with `replace` the whole directory.
   */
  importAccounts(accounts: ImportAccount[], options: { replace: boolean }): Promise<ImportSummary>;
  /**
   * The same, from a stream of any length in flat memory: one transaction, committed only
   * when the whole stream was read without an ImportRejectedError (which the source throws,
   * after its last record, when its validator found problems) and without a conflict (then
   * an ImportRejectedError naming each record's position). With `dryRun`, rolled back.
   */
  importStream(records: AsyncIterable<ImportRecord>, options: ImportOptions): Promise<ImportReport>;
  /** One account with its domains and stored logins (sorted), or undefined. */
  getAccount(username: string): Promise<ImportAccount | undefined>;
  /** Removes an account with its domains and logins; what it held, or undefined when there was none. */
  deleteAccount(username: string): Promise<ImportAccount | undefined>;
  /** Removes one domain (and its account's stored logins at it); the account that owned it, or undefined. */
  deleteDomain(domain: string): Promise<{ username: string } | undefined>;
  /** Every account in username order with its domains and logins (sorted), streamed from one snapshot. */
  exportAccounts(): AsyncIterable<ImportAccount>;
  /** Every account, in username order, for checks over the whole directory. */
  allAccounts(): AsyncIterable<Account>;
  counts(): Promise<DirectoryCounts>;
  close(): Promise<void>;
}

/** A backend: both interfaces over one store. */
export type Directory = DirectoryReader & DirectoryAdmin;
