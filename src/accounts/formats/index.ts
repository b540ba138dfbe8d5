// The accounts formats import reads and export writes: JSON (the accounts file), NDJSON
// and CSV, each a streaming reader and writer, chosen by name or by a file's extension.
import type { ImportAccount } from '../../model/account.js';
import type { SourceItem } from '../records.js';
import { readCsvAccounts, writeCsvAccounts } from './csv.js';
import { readJsonAccounts, writeJsonAccounts } from './json.js';
import { readNdjsonAccounts, writeNdjsonAccounts } from './ndjson.js';

export interface AccountsFormat {
  extensions: readonly string[];
  read(input: AsyncIterable<Buffer | string>): AsyncIterable<SourceItem>;
  write(accounts: AsyncIterable<ImportAccount>): AsyncIterable<string>;
}

export const FORMATS = {
  json: { extensions: ['.json'], read: readJsonAccounts, write: writeJsonAccounts },
  ndjson: { extensions: ['.ndjson', '.jsonl'], read: readNdjsonAccounts, write: writeNdjsonAccounts },
  csv: { extensions: ['.csv'], read: readCsvAccounts, write: writeCsvAccounts },
} as const satisfies Record<string, AccountsFormat>;

export type FormatName = keyof typeof FORMATS;
export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

/** Standard input and output carry NDJSON unless told otherwise: one account a line pipes well. */
export const STREAM_FORMAT: FormatName = 'ndjson';

export const isFormatName = (name: string): name is FormatName => Object.hasOwn(FORMATS, name);

/** The format a file's name says (its extension, in any case), or undefined. */
export function formatOfFile(path: string): FormatName | undefined {
  const lower = path.toLowerCase();
  return FORMAT_NAMES.find((name) => FORMATS[name].extensions.some((ext) => lower.endsWith(ext)));
}

/** `format`'s export of `accounts`, in chunks of about `size` characters (fewer, larger writes). */
export async function* exportChunks(format: FormatName, accounts: AsyncIterable<ImportAccount>, size = 64 * 1024): AsyncGenerator<string> {
  let pending = '';
  for await (const piece of FORMATS[format].write(accounts)) {
    pending += piece;
    if (pending.length >= size) {
      yield pending;
      pending = '';
    }
  }
  if (pending !== '') yield pending;
}
