// The JSON accounts file (RFC 8259), `{"accounts": [ {...}, ... ]}`: read as a stream, one
// account at a time, so that a file of any size is read in flat memory; written the same
// way, in the shape it reads (key order fixed, one account a line).
import type { ImportAccount } from '../../model/account.js';
import { ImportRejectedError, type ImportProblem } from '../../directory/directory.js';
import { unknownName } from '../near-name.js';
import { jsonFieldPositions } from '../validate.js';
import type { SourceItem } from '../records.js';
import { JsonTokens, TokenType, type TokenInfo } from './json-syntax.js';

export const NOT_AN_ACCOUNTS_FILE = 'expected an object with an "accounts" list';
const TOP_LEVEL_FIELDS = ['accounts'];

/** A top-level field other than `accounts`. */
export const topLevelFieldProblem = (key: string): ImportProblem => ({ position: key, reason: unknownName('unknown field', key, TOP_LEVEL_FIELDS) });

/** The largest single value (an account, or another top-level field's value) read: it is held in memory whole. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

const notAnAccountsFile = () => new ImportRejectedError([{ position: '(file)', reason: NOT_AN_ACCOUNTS_FILE }]);

/**
 * The top-level object, followed token by token: which key each value belongs to, and the
 * last token between values (a value is held in memory whole until it ends: its size is
 * bounded from there).
 */
class TopLevel {
  private depth = 0;
  private expect: 'key' | 'colon' | 'value' | 'comma' = 'key';
  private key = '';
  private inAccounts = false;
  sawAccounts = false;
  /** Byte offset of the last token between two values (of the accounts list, or of the top-level object). */
  boundary = 0;
  /** The value being read, for a problem with it: `accounts[3]`, or a top-level field's name. */
  current = '(file)';
  private accountsRead = 0;

  constructor(private readonly onUnknownField: (key: string) => void) {}

  token({ token, value, offset }: TokenInfo): void {
    if (this.depth === 0 && token !== TokenType.LEFT_BRACE) throw notAnAccountsFile();
    if (this.depth === 1) this.topLevelToken(token, value);
    else if (this.depth === 2 && this.inAccounts && token !== TokenType.COMMA && token !== TokenType.RIGHT_BRACKET) {
      this.current = `accounts[${this.accountsRead++}]`;
    }
    if (this.depth <= (this.inAccounts ? 2 : 1)) this.boundary = offset;
    if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) this.depth++;
    if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) this.depth--;
  }

  private topLevelToken(token: TokenType, value: unknown): void {
    switch (this.expect) {
      case 'key':
        this.key = String(value);
        this.expect = 'colon';
        return;
      case 'colon':
        this.expect = 'value';
        return;
      case 'value':
        this.expect = 'comma';
        this.current = this.key;
        if (this.key !== 'accounts') return this.onUnknownField(this.key);
        if (token !== TokenType.LEFT_BRACKET) throw notAnAccountsFile();
        if (this.sawAccounts) throw new ImportRejectedError([{ position: 'accounts', reason: 'given twice' }]);
        this.sawAccounts = true;
        this.inAccounts = true;
        return;
      case 'comma': // or the closing brace
        this.expect = 'key';
        this.inAccounts = false;
        return;
    }
  }
}

/** The accounts of a JSON accounts file, positions `accounts[i]`; syntax errors at `line L, column C`. */
export async function* readJsonAccounts(input: AsyncIterable<Buffer | string>): AsyncGenerator<SourceItem> {
  const batch: SourceItem[] = [];
  const top = new TopLevel((key) => batch.push(topLevelFieldProblem(key)));
  const parser = new JsonTokens(
    ['$.accounts.*'],
    ({ value, key }) => {
      const position = `accounts[${String(key)}]`;
      batch.push({ position, raw: value, fieldPosition: jsonFieldPositions(position) });
    },
    (info) => top.token(info),
  );
  for await (const chunk of input) {
    parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (parser.bytes - top.boundary > MAX_VALUE_BYTES) {
      throw new ImportRejectedError([{ position: top.current, reason: `larger than ${MAX_VALUE_BYTES / 1024 / 1024} MiB (a value is held in memory whole)` }]);
    }
    yield* batch.splice(0);
  }
  parser.end();
  yield* batch.splice(0);
  if (!top.sawAccounts) throw notAnAccountsFile();
}

/** One account as the JSON and NDJSON formats write it: every field, in a fixed order. */
export function accountJson(a: ImportAccount): string {
  return JSON.stringify({
    username: a.username,
    created: a.created,
    mailServer: a.mailServer,
    domains: a.domains,
    mailboxes: a.mailboxes.map((m) => ({ address: m.address, login: m.login })),
  });
}

/** A JSON accounts file: `{"accounts":[` and one account a line. */
export async function* writeJsonAccounts(accounts: AsyncIterable<ImportAccount>): AsyncGenerator<string> {
  yield '{"accounts":[';
  let first = true;
  for await (const account of accounts) {
    yield `${first ? '' : ','}\n${accountJson(account)}`;
    first = false;
  }
  yield '\n]}\n';
}
