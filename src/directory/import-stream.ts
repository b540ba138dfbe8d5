// What every backend's importStream does the same way around its writes: reading the
// source, the problems the source and the directory found, and the report. FIRST VERSION:
// the records are buffered; the streaming engine replaces this.
import type { ImportAccount } from '../model/account.js';
import { ImportConflictError, ImportRejectedError, type ImportOptions, type ImportProblem, type ImportRecord, type ImportReport, type ImportSummary } from './directory.js';

/** Problems kept at most: the first ones in input order. */
export const MAX_PROBLEMS = 100;

/** Thrown inside a dry run's transaction to roll it back. */
export class DryRunRollback extends Error {}

/** Reads every record; a source that throws an ImportRejectedError has its problems kept, any other error is rethrown. */
export async function bufferRecords(records: AsyncIterable<ImportRecord>): Promise<{ records: ImportRecord[]; problems: ImportProblem[] }> {
  const out: ImportRecord[] = [];
  const problems: ImportProblem[] = [];
  const first = new Map<string, string>();
  try {
    for await (const r of records) {
      const earlier = first.get(r.account.username);
      if (earlier !== undefined) {
        problems.push({ position: `${r.position}.username`, reason: `username ${r.account.username} is already given at ${earlier}` });
        continue;
      }
      first.set(r.account.username, r.position);
      out.push(r);
    }
  } catch (err) {
    if (!(err instanceof ImportRejectedError)) throw err;
    problems.unshift(...err.problems);
  }
  return { records: out, problems };
}

/** A rough report (first version): what the input held. */
export function roughReport(summary: ImportSummary, dryRun: boolean): ImportReport {
  return {
    dryRun,
    accounts: { added: 0, changed: summary.accounts, unchanged: 0, removed: 0 },
    domains: { added: summary.domains, removed: 0, moved: 0 },
    mailboxes: { added: summary.mailboxes, changed: 0, removed: 0 },
    written: summary,
  };
}

/**
 * importStream over a backend's buffered write (`write`, which throws DryRunRollback from
 * inside its transaction when asked to roll back).
 */
export async function bufferedImport(
  records: AsyncIterable<ImportRecord>,
  options: ImportOptions,
  write: (accounts: ImportAccount[], options: { replace: boolean; dryRun: boolean }) => Promise<ImportSummary>,
): Promise<ImportReport> {
  const { records: read, problems } = await bufferRecords(records);
  if (problems.length > 0) throw new ImportRejectedError(problems.slice(0, MAX_PROBLEMS));
  const accounts = read.map((r) => r.account);
  const dryRun = options.dryRun ?? false;
  try {
    return roughReport(await write(accounts, { replace: options.replace, dryRun }), dryRun);
  } catch (err) {
    if (err instanceof DryRunRollback) return roughReport(summaryOf(accounts), true);
    if (err instanceof ImportConflictError) {
      const username = /of account (\S+)/.exec(err.message)?.[1];
      const at = read.find((r) => r.account.username === username)?.position ?? 'input';
      throw new ImportRejectedError([{ position: at, reason: err.message }]);
    }
    throw err;
  }
}

function summaryOf(accounts: readonly ImportAccount[]): ImportSummary {
  let domains = 0;
  let mailboxes = 0;
  for (const a of accounts) {
    domains += a.domains.length;
    mailboxes += a.mailboxes.length;
  }
  return { accounts: accounts.length, domains, mailboxes };
}
