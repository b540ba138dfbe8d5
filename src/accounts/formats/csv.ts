// CSV (RFC 4180) with a header row naming its columns, one row per domain or per mailbox
// login of an account:
//
//   username,created,mailServer,domain,mailbox,login
//   oldtimer,2009-03-14,123,oldtimer-shop.example,,
//   oldtimer,2009-03-14,123,,sales@oldtimer-shop.example,sales-oldtimer
//   pairuser,2015-08-20,,,,
//
// `username` and `created` are required columns, the others optional, in any order. An
// account's rows are adjacent and agree on username, created and mailServer; a row may
// carry a domain, a mailbox with its login, both, or neither (an account with neither).
// Rows split by another account's are two records, which the directory refuses as a
// username given twice. Positions are `line N` (a quoted field may span lines: its first).
import { pipeline } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import type { ImportAccount } from '../../model/account.js';
import { ImportRejectedError, type ImportProblem } from '../../directory/directory.js';
import { unknownName } from '../near-name.js';
import type { SourceItem } from '../records.js';
import type { FieldPath } from '../validate.js';

export const CSV_COLUMNS = ['username', 'created', 'mailServer', 'domain', 'mailbox', 'login'] as const;
type Column = (typeof CSV_COLUMNS)[number];
const REQUIRED: readonly Column[] = ['username', 'created'];
/** The columns every row of one account repeats. */
const ACCOUNT_COLUMNS = ['username', 'created', 'mailServer'] as const;

/** The longest row read (it is held in memory whole). */
export const MAX_ROW_BYTES = 1024 * 1024;

/** Column positions from the header row; every problem with it. */
function readHeader(names: string[]): Map<Column, number> {
  const columns = new Map<Column, number>();
  const problems: ImportProblem[] = [];
  names.forEach((name, i) => {
    const column = CSV_COLUMNS.find((c) => c === name);
    if (!column) problems.push({ position: 'line 1', reason: unknownName(`unknown column "${name}"`, name, CSV_COLUMNS) });
    else if (columns.has(column)) problems.push({ position: 'line 1', reason: `column "${name}" given twice` });
    else columns.set(column, i);
  });
  for (const column of REQUIRED) {
    if (!columns.has(column)) problems.push({ position: 'line 1', reason: `the header has no "${column}" column (it needs ${REQUIRED.join(' and ')})` });
  }
  if (problems.length > 0) throw new ImportRejectedError(problems);
  return columns;
}

/** One account's rows, as they are read. */
class AccountRows {
  readonly domains: string[] = [];
  readonly domainLines: number[] = [];
  readonly mailboxes: { address: string; login?: string }[] = [];
  readonly mailboxLines: number[] = [];

  constructor(
    readonly line: number,
    readonly fields: Record<(typeof ACCOUNT_COLUMNS)[number], string>,
  ) {}

  /** The record to validate: the JSON shape, mailServer a number where it is one. */
  record(): SourceItem {
    const { username, created, mailServer } = this.fields;
    const raw = {
      username,
      created,
      mailServer: mailServer === '' ? null : /^\d+$/.test(mailServer) ? Number(mailServer) : mailServer,
      domains: this.domains,
      mailboxes: this.mailboxes,
    };
    const fieldPosition = ({ field, index, sub }: FieldPath): string => {
      if (field === 'domains' && index !== undefined) return `line ${this.domainLines[index]}, domain`;
      if (field === 'mailboxes' && index !== undefined) return `line ${this.mailboxLines[index]}, ${sub === 'login' ? 'login' : 'mailbox'}`;
      return `line ${this.line}, ${field}`;
    };
    return { position: `line ${this.line}`, raw, fieldPosition };
  }
}

/** csv-parse's errors, in our words (RFC 4180 section 2 is the grammar). */
function csvProblem(err: CsvError & { lines?: number }): ImportProblem {
  const position = `line ${err.lines ?? 1}`;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return { position, reason: 'a quoted field is not closed before the end of the file' };
    case 'INVALID_OPENING_QUOTE':
      return { position, reason: 'a quote inside an unquoted field (quote the whole field and double the quote)' };
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return { position, reason: 'characters after the closing quote of a field' };
    case 'CSV_MAX_RECORD_SIZE':
      return { position, reason: `a row longer than ${MAX_ROW_BYTES} bytes` };
    default:
      return { position, reason: `not valid CSV: ${err.message}` };
  }
}

export async function* readCsvAccounts(input: AsyncIterable<Buffer | string>): AsyncGenerator<SourceItem> {
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: MAX_ROW_BYTES,
    info: true,
  });
  // The input's errors (a file that cannot be read) reach the loop below through the parser.
  pipeline(input, parser, () => undefined);
  let columns: Map<Column, number> | undefined;
  let width = 0;
  let account: AccountRows | undefined;
  const previous = { lines: 0, empty: 0 };
  try {
    for await (const { record: row, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
      // info.lines counts lines to the end of the row (a quoted field may hold line breaks):
      // the row begins on the line after the previous row's and the blank lines skipped since.
      const line = previous.lines + 1 + (info.empty_lines - previous.empty);
      previous.lines = info.lines;
      previous.empty = info.empty_lines;
      if (!columns) {
        columns = readHeader(row);
        width = row.length;
        continue;
      }
      if (row.length !== width) {
        yield { position: `line ${line}`, reason: `${row.length} fields where the header has ${width}` };
        continue;
      }
      const cell = (c: Column) => (columns!.has(c) ? row[columns!.get(c)!]! : '');
      const fields = { username: cell('username'), created: cell('created'), mailServer: cell('mailServer') };
      if (account && fields.username.toLowerCase() !== account.fields.username.toLowerCase()) {
        yield account.record();
        account = undefined;
      }
      if (!account) account = new AccountRows(line, fields);
      else {
        for (const c of ACCOUNT_COLUMNS) {
          if (fields[c] !== account.fields[c]) {
            yield { position: `line ${line}, ${c}`, reason: `"${fields[c]}" where line ${account.line} of the same account has "${account.fields[c]}" (the rows of an account must agree)` };
          }
        }
      }
      const [domain, mailbox, login] = [cell('domain'), cell('mailbox'), cell('login')];
      if (domain !== '') {
        account.domains.push(domain);
        account.domainLines.push(line);
      }
      if (mailbox !== '') {
        account.mailboxes.push(login === '' ? { address: mailbox } : { address: mailbox, login });
        account.mailboxLines.push(line);
      } else if (login !== '') yield { position: `line ${line}, mailbox`, reason: 'required when a login is given' };
    }
  } catch (err) {
    if (err instanceof ImportRejectedError) throw err;
    if (err instanceof CsvError) throw new ImportRejectedError([csvProblem(err)]);
    throw err;
  } finally {
    parser.destroy(); // read no further when stopped early
  }
  if (account) yield account.record();
  if (!columns) throw new ImportRejectedError([{ position: 'line 1', reason: `no header row (expected ${CSV_COLUMNS.join(',')})` }]);
}

const CSV_OPTIONS = { record_delimiter: '\r\n' } as const;

/** The accounts as CSV: the header, then one row per domain and per mailbox login (one row for an account with neither). */
export async function* writeCsvAccounts(accounts: AsyncIterable<ImportAccount>): AsyncGenerator<string> {
  yield stringify([[...CSV_COLUMNS]], CSV_OPTIONS);
  for await (const a of accounts) {
    const fields = [a.username, a.created, a.mailServer === null ? '' : String(a.mailServer)];
    const rows = [...a.domains.map((d) => [...fields, d, '', '']), ...a.mailboxes.map((m) => [...fields, '', m.address, m.login])];
    yield stringify(rows.length > 0 ? rows : [[...fields, '', '', '']], CSV_OPTIONS);
  }
}
