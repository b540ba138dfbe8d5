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
  /** Every account, in username order, for checks over the whole directory. */
  allAccounts(): AsyncIterable<Account>;
  counts(): Promise<DirectoryCounts>;
  close(): Promise<void>;
}

/** A backend: both interfaces over one store. */
export type Directory = DirectoryReader & DirectoryAdmin;
