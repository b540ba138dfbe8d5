// The streaming import both backends run: the records are staged, a batch at a time, in
// temporary tables of the import's own transaction (so memory stays flat however long the
// stream), then judged, counted and written by set statements over those tables. The
// statements are the same text on SQLite and PostgreSQL; a backend supplies only the
// staging (ImportSession) and the transaction around runImport.
//
// Staging tables (made by the backend, gone with its transaction or connection):
//   import_accounts (ord integer PRIMARY KEY, username text UNIQUE, position text,
//                    created text, mail_server integer, account_id integer/bigint NULL)
//   import_domains  (ord, idx, domain; PRIMARY KEY (ord, idx); index on (domain, ord, idx))
//   import_mailboxes(ord, idx, address, login; PRIMARY KEY (ord, idx); index on (address, ord, idx))
import type { ImportAccount } from '../model/account.js';
import { ChangeNames, type DirectoryChange } from './changes.js';
import {
  ImportConflictError,
  ImportRejectedError,
  type ImportOptions,
  type ImportProblem,
  type ImportRecord,
  type ImportReport,
  type ImportSummary,
} from './directory.js';
import { claimProblem, FIELD_ORDER, MAX_PROBLEMS, ProblemList, repeatedUsernameProblem, type ClaimKind } from './import-rules.js';

/** Records staged per round trip. */
export const STAGE_BATCH = 2000;

/** A record as staged: `ord` is its place in the input (0, 1, ...). */
export interface StagedRecord {
  ord: number;
  position: string;
  account: ImportAccount;
}

/** A record whose username an earlier record gave: not staged. */
export interface RepeatedUsername {
  ord: number;
  position: string;
  username: string;
  firstPosition: string;
}

/** What a backend does inside the import's transaction, its staging tables already made. */
export interface ImportSession {
  /**
   * Stages the records (in ord order): each account, and its domains and mailboxes, unless
   * its username is already staged (by an earlier batch or earlier in this one): those come
   * back, with the position that gave the username first.
   */
  stage(records: readonly StagedRecord[]): Promise<RepeatedUsername[]>;
  /** Runs one statement of this file (no parameters); its rows. */
  query<R extends object>(sql: string): Promise<R[]>;
  /** Refreshes the planner's statistics of the staging tables (PostgreSQL; SQLite needs none). */
  analyze(): Promise<void>;
  /** Announces the change to every instance at commit (PostgreSQL); SQLite has no feed: its readers see the file. */
  announce(change: DirectoryChange): Promise<void>;
  /** How the backend stores a mailbox's address hash: written by the import (SQLite) or computed by the database. */
  readonly writesAddressMd5: boolean;
}

/**
 * Reads the stream into the staging tables, judges it, counts the report, and writes the
 * directory; the caller commits (or, dry, rolls back) when this resolves and rolls back when
 * it throws. Throws what the source throws, except its ImportRejectedError, whose problems
 * join the directory's own in one ImportRejectedError after the whole stream was read.
 */
export async function runImport(records: AsyncIterable<ImportRecord>, options: ImportOptions, session: ImportSession): Promise<ImportReport> {
  const problems = new ProblemList();
  const names = new ChangeNames(options.replace);
  const written: ImportSummary = { accounts: 0, domains: 0, mailboxes: 0 };
  let sourceProblems: readonly ImportProblem[] = [];
  let batch: StagedRecord[] = [];
  let ord = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const repeated = await session.stage(batch);
    const skipped = new Set(repeated.map((r) => r.ord));
    for (const r of repeated) problems.add([r.ord, FIELD_ORDER.username, 0], repeatedUsernameProblem(r.position, r.username, r.firstPosition));
    for (const r of batch) {
      if (skipped.has(r.ord)) continue;
      written.accounts++;
      written.domains += r.account.domains.length;
      written.mailboxes += r.account.mailboxes.length;
      names.add(r.account.username, r.account.domains);
    }
    batch = [];
  };
  try {
    for await (const r of records) {
      batch.push({ ord: ord++, position: r.position, account: r.account });
      if (batch.length >= STAGE_BATCH) await flush();
    }
  } catch (err) {
    if (!(err instanceof ImportRejectedError)) throw err;
    sourceProblems = err.problems;
  }
  await flush();
  await session.analyze();

  for (const kind of ['domain', 'mailbox'] as const) {
    for (const c of await session.query<ConflictRow>(conflictsSql(kind, options.replace))) {
      problems.add([Number(c.ord), FIELD_ORDER[kind], Number(c.idx)], claimProblem(kind, c.position, Number(c.idx), c.key, c.username, c.owner));
    }
  }
  if (sourceProblems.length > 0 || problems.size > 0) {
    throw new ImportRejectedError([...sourceProblems, ...problems.list()].slice(0, MAX_PROBLEMS));
  }

  const report = await countReport(session, options, written);
  // Every instance's cache hears of the change at COMMIT, and only if it commits; sent
  // before the rows, so nothing written can be committed unannounced.
  if (!report.dryRun) await session.announce(names.change());
  const { accounts, keys } = writeStatements(options.replace, session.writesAddressMd5);
  for (const sql of accounts) await session.query(sql);
  await session.analyze(); // the ids are in
  for (const sql of keys) await session.query(sql);
  return report;
}

interface ConflictRow {
  ord: number | string;
  idx: number | string;
  position: string;
  key: string;
  username: string;
  owner: string;
}

const TABLES = {
  domain: { staged: 'import_domains', stored: 'domains', key: 'domain' },
  mailbox: { staged: 'import_mailboxes', stored: 'mailboxes', key: 'address' },
} as const;

/**
 * Every staged key claimed before (by an earlier entry: the first claimant is the owner),
 * and, without `replace`, every first claim of a key stored for an account outside the
 * import; in input order, at most one more than MAX_PROBLEMS.
 */
function conflictsSql(kind: ClaimKind, replace: boolean): string {
  const { staged, stored, key } = TABLES[kind];
  return `WITH claims AS (
  SELECT s.ord, s.idx, s.${key} AS key, sa.username, sa.position,
    first_value(sa.username) OVER (PARTITION BY s.${key} ORDER BY s.ord, s.idx) AS first_user,
    row_number() OVER (PARTITION BY s.${key} ORDER BY s.ord, s.idx) AS n
  FROM ${staged} s JOIN import_accounts sa ON sa.ord = s.ord
)
SELECT c.ord, c.idx, c.position, c.key, c.username, CASE WHEN c.n > 1 THEN c.first_user ELSE a.username END AS owner
FROM claims c LEFT JOIN ${stored} t ON c.n = 1 AND t.${key} = c.key LEFT JOIN accounts a ON a.id = t.account_id
WHERE c.n > 1${replace ? '' : ' OR (a.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM import_accounts o WHERE o.username = a.username))'}
ORDER BY c.ord, c.idx LIMIT ${MAX_PROBLEMS + 1}`;
}

/** `count(*)` as a number on both backends (PostgreSQL's bigint would arrive as text). */
const COUNT = 'CAST(count(*) AS integer)';
/** Accounts whose stored rows the import rewrites: those it names, or with `replace` all. */
const TOUCHED = (replace: boolean, alias: string) =>
  replace ? 'TRUE' : `EXISTS (SELECT 1 FROM import_accounts sa WHERE sa.username = ${alias}.username)`;
/** A staged mailbox and the stored one of the same address and account. */
const SAME_MAILBOX = 'm.address = sm.address AND a.username = sa.username';

/** The report, counted before anything is written: the staged input against the directory. */
async function countReport(session: ImportSession, options: ImportOptions, written: ImportSummary): Promise<ImportReport> {
  const one = async (sql: string) => Number((await session.query<{ n: number | string }>(sql))[0]?.n ?? 0);
  const differs = `a.created IS DISTINCT FROM sa.created OR a.mail_server IS DISTINCT FROM sa.mail_server
    OR EXISTS (SELECT 1 FROM import_domains sd WHERE sd.ord = sa.ord
      AND NOT EXISTS (SELECT 1 FROM domains d WHERE d.domain = sd.domain AND d.account_id = a.id))
    OR EXISTS (SELECT 1 FROM domains d WHERE d.account_id = a.id
      AND NOT EXISTS (SELECT 1 FROM import_domains sd WHERE sd.ord = sa.ord AND sd.domain = d.domain))
    OR EXISTS (SELECT 1 FROM import_mailboxes sm WHERE sm.ord = sa.ord
      AND NOT EXISTS (SELECT 1 FROM mailboxes m WHERE m.address = sm.address AND m.account_id = a.id AND m.login = sm.login))
    OR EXISTS (SELECT 1 FROM mailboxes m WHERE m.account_id = a.id
      AND NOT EXISTS (SELECT 1 FROM import_mailboxes sm WHERE sm.ord = sa.ord AND sm.address = m.address))`;
  const existing = await one(`SELECT ${COUNT} AS n FROM import_accounts sa JOIN accounts a ON a.username = sa.username`);
  const changed = await one(`SELECT ${COUNT} AS n FROM import_accounts sa JOIN accounts a ON a.username = sa.username WHERE ${differs}`);
  const storedMailbox = 'SELECT 1 FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE ' + SAME_MAILBOX;
  return {
    dryRun: options.dryRun ?? false,
    accounts: {
      added: written.accounts - existing,
      changed,
      unchanged: existing - changed,
      removed: options.replace ? await one(`SELECT ${COUNT} AS n FROM accounts a WHERE NOT ${TOUCHED(false, 'a')}`) : 0,
    },
    domains: {
      added: await one(`SELECT ${COUNT} AS n FROM import_domains sd WHERE NOT EXISTS (SELECT 1 FROM domains d WHERE d.domain = sd.domain)`),
      removed: await one(
        `SELECT ${COUNT} AS n FROM domains d JOIN accounts a ON a.id = d.account_id
         WHERE ${TOUCHED(options.replace, 'a')} AND NOT EXISTS (SELECT 1 FROM import_domains sd WHERE sd.domain = d.domain)`,
      ),
      moved: await one(
        `SELECT ${COUNT} AS n FROM import_domains sd JOIN import_accounts sa ON sa.ord = sd.ord
         JOIN domains d ON d.domain = sd.domain JOIN accounts a ON a.id = d.account_id WHERE a.username <> sa.username`,
      ),
    },
    mailboxes: {
      added: await one(`SELECT ${COUNT} AS n FROM import_mailboxes sm JOIN import_accounts sa ON sa.ord = sm.ord WHERE NOT EXISTS (${storedMailbox})`),
      changed: await one(
        `SELECT ${COUNT} AS n FROM import_mailboxes sm JOIN import_accounts sa ON sa.ord = sm.ord
         JOIN mailboxes m ON m.address = sm.address JOIN accounts a ON a.id = m.account_id AND a.username = sa.username WHERE m.login <> sm.login`,
      ),
      removed: await one(
        `SELECT ${COUNT} AS n FROM mailboxes m JOIN accounts a ON a.id = m.account_id
         WHERE ${TOUCHED(options.replace, 'a')}
           AND NOT EXISTS (SELECT 1 FROM import_mailboxes sm JOIN import_accounts sa ON sa.ord = sm.ord WHERE ${SAME_MAILBOX})`,
      ),
    },
    written,
  };
}

/**
 * The writes, in order: the accounts (unchanged rows untouched, ids kept) and their ids
 * into the staging table; then with `replace` the accounts not named (their domains and logins go by
 * cascade), the keys the named accounts lost, changed logins, then the new keys. No
 * statement takes more than ROW EXCLUSIVE (see postgres.ts importStream).
 */
function writeStatements(replace: boolean, writesAddressMd5: boolean): { accounts: string[]; keys: string[] } {
  const stagedOfAccount = (staged: string, alias: string, key: string, stored: string) =>
    `SELECT 1 FROM ${staged} ${alias} JOIN import_accounts sa ON sa.ord = ${alias}.ord WHERE ${alias}.${key} = ${stored}.${key} AND sa.account_id = ${stored}.account_id`;
  const accounts = [
    `INSERT INTO accounts (username, created, mail_server)
     SELECT username, created, mail_server FROM import_accounts WHERE TRUE ORDER BY ord
     ON CONFLICT (username) DO UPDATE SET created = excluded.created, mail_server = excluded.mail_server
     WHERE accounts.created IS DISTINCT FROM excluded.created OR accounts.mail_server IS DISTINCT FROM excluded.mail_server`,
    'UPDATE import_accounts SET account_id = (SELECT a.id FROM accounts a WHERE a.username = import_accounts.username)',
    'CREATE INDEX import_accounts_by_id ON import_accounts (account_id)',
  ];
  const keys = [
    ...(replace ? ['DELETE FROM accounts WHERE NOT EXISTS (SELECT 1 FROM import_accounts sa WHERE sa.account_id = accounts.id)'] : []),
    `DELETE FROM domains WHERE account_id IN (SELECT account_id FROM import_accounts)
       AND NOT EXISTS (${stagedOfAccount('import_domains', 'sd', 'domain', 'domains')})`,
    `DELETE FROM mailboxes WHERE account_id IN (SELECT account_id FROM import_accounts)
       AND NOT EXISTS (${stagedOfAccount('import_mailboxes', 'sm', 'address', 'mailboxes')})`,
    `UPDATE mailboxes SET login = (${stagedOfAccount('import_mailboxes', 'sm', 'address', 'mailboxes').replace('SELECT 1', 'SELECT sm.login')})
     WHERE account_id IN (SELECT account_id FROM import_accounts)
       AND NOT EXISTS (${stagedOfAccount('import_mailboxes', 'sm', 'address', 'mailboxes')} AND sm.login = mailboxes.login)`,
    `INSERT INTO domains (domain, account_id)
     SELECT sd.domain, sa.account_id FROM import_domains sd JOIN import_accounts sa ON sa.ord = sd.ord
     WHERE NOT EXISTS (SELECT 1 FROM domains d WHERE d.domain = sd.domain) ORDER BY sd.ord, sd.idx`,
    `INSERT INTO mailboxes (address, account_id, login${writesAddressMd5 ? ', address_md5' : ''})
     SELECT sm.address, sa.account_id, sm.login${writesAddressMd5 ? ', mailconf_address_md5(sm.address)' : ''}
     FROM import_mailboxes sm JOIN import_accounts sa ON sa.ord = sm.ord
     WHERE NOT EXISTS (SELECT 1 FROM mailboxes m WHERE m.address = sm.address) ORDER BY sm.ord, sm.idx`,
  ];
  return { accounts, keys };
}

/** The records of `accounts`, positioned as a JSON file's: `accounts[i]`. */
export async function* recordsOf(accounts: readonly ImportAccount[]): AsyncIterable<ImportRecord> {
  for (const [i, account] of accounts.entries()) yield { position: `accounts[${i}]`, account };
}

/**
 * importAccounts over importStream: the summary of what was written, and the first
 * conflict in import order as an ImportConflictError (worded as before the stream).
 */
export async function importAccountsVia(
  directory: { importStream(records: AsyncIterable<ImportRecord>, options: ImportOptions): Promise<ImportReport> },
  accounts: readonly ImportAccount[],
  options: { replace: boolean },
): Promise<ImportSummary> {
  try {
    return (await directory.importStream(recordsOf(accounts), { replace: options.replace })).written;
  } catch (err) {
    if (err instanceof ImportRejectedError && err.problems[0]) throw new ImportConflictError(err.problems[0].reason);
    throw err;
  }
}

/**
 * The whole source read first, then replayed (what it threw after its last record is
 * thrown again after the replay). For a backend that must write without awaiting anything
 * else between its statements (SQLite ':memory:', tests only): memory grows with the input.
 */
export async function buffered(records: AsyncIterable<ImportRecord>): Promise<AsyncIterable<ImportRecord>> {
  const read: ImportRecord[] = [];
  let failure: { err: unknown } | undefined;
  try {
    for await (const r of records) read.push(r);
  } catch (err) {
    failure = { err };
  }
  return (async function* () {
    yield* read;
    if (failure) throw failure.err;
  })();
}
