// A hosting account as the directory stores it and the import format carries it.

export interface Account {
  /** Hosting account username, lower-case. */
  username: string;
  /** Creation date as imported: `YYYY-MM-DD` or an RFC 3339 timestamp. */
  created: string;
  /** The account's mail server number (old-era accounts), or null. */
  mailServer: number | null;
}

/** A mailbox whose login is stored rather than derived (address lower-case). */
export interface ImportMailbox {
  address: string;
  login: string;
}

/** An account with its domains and stored mailbox logins: the unit an import writes. */
export interface ImportAccount extends Account {
  domains: string[];
  mailboxes: ImportMailbox[];
}
