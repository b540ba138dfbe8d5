// NDJSON (newline-delimited JSON, https://github.com/ndjson/ndjson-spec): one account
// object a line, position `line N`; blank lines are skipped. Each line is read and checked
// apart, so a bad line is reported and the next ones are still read.
import type { ImportAccount } from '../../model/account.js';
import type { SourceItem } from '../records.js';
import { fieldPathText } from '../validate.js';
import { accountJson } from './json.js';
import { syntaxErrorIn } from './json-syntax.js';
import { linesOf } from './lines.js';

export async function* readNdjsonAccounts(input: AsyncIterable<Buffer | string>): AsyncGenerator<SourceItem> {
  for await (const { number, text } of linesOf(input)) {
    if (text.trim() === '') continue;
    const position = `line ${number}`;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      // The streaming parser says where (JSON.parse does not always), in the file's lines.
      const found = syntaxErrorIn(text) ?? { position: 'line 1, column 1', reason: `not valid JSON: ${(err as Error).message}` };
      yield { position: found.position.replace(/^line 1,/, `${position},`), reason: found.reason };
      continue;
    }
    yield { position, raw, fieldPosition: (path) => `${position}, ${fieldPathText(path)}` };
  }
}

export async function* writeNdjsonAccounts(accounts: AsyncIterable<ImportAccount>): AsyncGenerator<string> {
  for await (const account of accounts) yield `${accountJson(account)}\n`;
}
