// The lines of a UTF-8 byte stream (split at LF, a CR before it dropped), numbered from 1,
// in flat memory: a line longer than MAX_LINE_BYTES, or one that is not UTF-8, is refused
// with its number rather than read on.
import { ImportRejectedError } from '../../directory/directory.js';

export const MAX_LINE_BYTES = 1024 * 1024;

export interface Line {
  number: number;
  text: string;
}

const refused = (number: number, reason: string) => new ImportRejectedError([{ position: `line ${number}`, reason }]);

export async function* linesOf(input: AsyncIterable<Buffer | string>, maxBytes = MAX_LINE_BYTES): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let number = 0;
  const line = (bytes: Buffer): Line => {
    number++;
    if (bytes.length > maxBytes) throw refused(number, `longer than ${maxBytes} bytes`);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw refused(number, 'not valid UTF-8');
    }
    return { number, text: text.endsWith('\r') ? text.slice(0, -1) : text };
  };
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let end = bytes.indexOf(0x0a); end !== -1; end = bytes.indexOf(0x0a, start)) {
      const piece = bytes.subarray(start, end);
      yield line(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
      pending = [];
      pendingBytes = 0;
      start = end + 1;
    }
    if (start < bytes.length) {
      pending.push(bytes.subarray(start));
      pendingBytes += bytes.length - start;
      if (pendingBytes > maxBytes) throw refused(number + 1, `longer than ${maxBytes} bytes`);
    }
  }
  if (pendingBytes > 0) yield line(Buffer.concat(pending));
}
