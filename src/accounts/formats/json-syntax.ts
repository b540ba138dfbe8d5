// A JSON text (RFC 8259) read as a stream of tokens by @streamparser/json, with its syntax
// errors told as a person reads the text: `line L, column C` (columns count characters,
// not bytes) and what was found there. The JSON format reads a whole file this way; NDJSON
// asks it only to explain a line JSON.parse refused.
import { Tokenizer, TokenizerError, TokenParser, TokenType, type ParsedElementInfo } from '@streamparser/json';
import { ImportRejectedError } from '../../directory/directory.js';

/** Line and column of byte offsets in a UTF-8 text fed chunk by chunk. */
export class TextPosition {
  private line = 1;
  /** Characters since the last line feed, before the current chunk. */
  private column = 0;
  /** Offset of the current chunk's first byte. */
  private chunkStart = 0;
  private chunk: Uint8Array = new Uint8Array(0);

  /** The next chunk: what came before it is counted. */
  next(chunk: Uint8Array): void {
    this.count(this.chunk, this.chunk.length);
    this.chunkStart += this.chunk.length;
    this.chunk = chunk;
  }

  /** `line L, column C` of `offset`: in the current chunk, or at its start when it lies before it. */
  at(offset: number): string {
    const saved = { line: this.line, column: this.column };
    this.count(this.chunk, Math.min(Math.max(offset - this.chunkStart, 0), this.chunk.length));
    const where = `line ${this.line}, column ${this.column + 1}`;
    Object.assign(this, saved);
    return where;
  }

  private count(bytes: Uint8Array, end: number): void {
    for (let i = 0; i < end; i++) {
      const b = bytes[i]!;
      if (b === 0x0a) {
        this.line++;
        this.column = 0;
      } else if ((b & 0xc0) !== 0x80) this.column++; // not a UTF-8 continuation byte
    }
  }
}

export interface TokenInfo {
  token: TokenType;
  value: unknown;
  offset: number;
}

/**
 * A streaming parser of one JSON document that emits the values at `paths` (keeping no
 * other part of the document) and reports every token to `onToken` once it is accepted.
 * Its syntax errors are ImportRejectedErrors at `line L, column C`.
 */
export class JsonTokens {
  private readonly tokenizer = new Tokenizer();
  private readonly parser: TokenParser;
  private readonly position = new TextPosition();
  private lastOffset = 0;
  private fed = 0;

  constructor(paths: string[], onValue: (info: ParsedElementInfo) => void, onToken: (info: TokenInfo) => void = () => undefined) {
    this.parser = new TokenParser({ paths, keepStack: false });
    this.parser.onValue = onValue;
    this.tokenizer.onToken = (info) => {
      this.lastOffset = info.offset;
      this.parser.write(info);
      onToken(info);
    };
    // The document ends with its top-level value: what follows it, but blanks, is an error.
    this.tokenizer.onEnd = () => {
      if (!this.parser.isEnded) this.parser.end();
    };
    this.parser.onEnd = () => {
      if (!this.tokenizer.isEnded) this.tokenizer.end();
    };
  }

  /** Bytes fed so far. */
  get bytes(): number {
    return this.fed;
  }

  write(chunk: Uint8Array): void {
    this.position.next(chunk);
    this.fed += chunk.length;
    this.guard(() => this.tokenizer.write(chunk));
  }

  end(): void {
    this.lastOffset = this.fed;
    this.guard(() => {
      if (!this.tokenizer.isEnded) this.tokenizer.end();
    });
  }

  /** `line L, column C` of a byte offset in the current chunk. */
  at(offset: number): string {
    return this.position.at(offset);
  }

  private guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      if (err instanceof ImportRejectedError) throw err;
      const { offset, reason } = describeSyntaxError(err as Error, this.lastOffset, this.fed);
      throw new ImportRejectedError([{ position: this.at(offset), reason }]);
    }
  }
}

/** Where (byte offset) and what a parser error says, in our words. */
function describeSyntaxError(err: Error, tokenOffset: number, end: number): { offset: number; reason: string } {
  const message = err.message;
  // Tokenizer: `Unexpected "x" at chunk position "3" (absolute position "17") in state ...`
  const char = /^Unexpected "([\s\S]*)" at chunk position "\d+" \(absolute position "(\d+)"\)/.exec(message);
  if (err instanceof TokenizerError && char) {
    return { offset: Number(char[2]), reason: `not valid JSON: unexpected ${JSON.stringify(char[1])}` };
  }
  // Token parser: `Unexpected RIGHT_BRACE ("}") in state VALUE`
  const token = /^Unexpected \w+ \(([\s\S]*)\) in state/.exec(message);
  if (token) return { offset: tokenOffset, reason: `not valid JSON: unexpected ${token[1]}` };
  if (/ended in (the middle of a token|mid-parsing)/.test(message)) {
    return { offset: end, reason: 'not valid JSON: the text ends before the JSON value does' };
  }
  return { offset: tokenOffset, reason: `not valid JSON: ${message}` };
}

/** The `line L, column C` and reason of the first syntax error in `text` (one JSON value); undefined when there is none. */
export function syntaxErrorIn(text: string): { position: string; reason: string } | undefined {
  const tokens = new JsonTokens([], () => undefined);
  try {
    tokens.write(Buffer.from(text));
    tokens.end();
  } catch (err) {
    if (err instanceof ImportRejectedError) return err.problems[0];
    throw err;
  }
  return undefined;
}

export { TokenType };
