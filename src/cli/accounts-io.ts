// Where `import` reads accounts and `export` writes them: a file or a standard stream
// (`-`), and in which format (--format, else the file's extension, else NDJSON).
import { once } from 'node:events';
import { open, rename, rm } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { FORMAT_NAMES, STREAM_FORMAT, formatOfFile, isFormatName, type FormatName } from '../accounts/formats/index.js';
import type { CliIo } from './context.js';
import { Failure, quote, UsageError } from './errors.js';

/** Standard input or output, as FILE. */
export const STANDARD_STREAM = '-';

/** The format of `file`: --format when given, else by its extension; NDJSON for a standard stream. */
export function formatFor(command: string, given: string | undefined, file: string | undefined): FormatName {
  if (given !== undefined) {
    if (!isFormatName(given)) throw new UsageError(`${command}: unknown format ${quote(given)} (${FORMAT_NAMES.join(', ')})`);
    return given;
  }
  if (file === undefined || file === STANDARD_STREAM) return STREAM_FORMAT;
  const format = formatOfFile(file);
  if (!format) throw new UsageError(`${command}: cannot tell the format of ${file} from its name: give --format ${FORMAT_NAMES.join('|')}`);
  return format;
}

/** Why a file cannot be opened, in a few words. */
function whyNot(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file'
    : code === 'EISDIR' ? 'it is a directory'
    : code === 'EACCES' ? 'permission denied'
    : (err as Error).message;
}

export interface Input {
  /** How problems name it: the file, or `stdin`. */
  name: string;
  stream: Readable;
}

/** `file` opened for reading (before the directory is: a typo costs nothing), or standard input for `-`. */
export async function openInput(command: string, file: string, io: CliIo): Promise<Input> {
  if (file === STANDARD_STREAM) {
    if (!io.stdin) throw new UsageError(`${command}: standard input is a terminal: pipe the accounts in, or give a FILE`);
    return { name: 'stdin', stream: io.stdin() };
  }
  try {
    const handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return { name: file, stream: handle.createReadStream() };
  } catch (err) {
    throw new Failure(`cannot read ${file}: ${whyNot(err)}`);
  }
}

export interface Output {
  stream: Writable;
  /** Makes the output whole: the file appears, complete, under its name. */
  finish(): Promise<void>;
  /** After a failure: no file, not even part of one. */
  abandon(): Promise<void>;
}

/**
 * Standard output (without FILE or for `-`), or `file`, written beside it and renamed into
 * place when complete, so that a failed export never leaves half a file under its name.
 */
export async function openOutput(file: string | undefined, io: CliIo): Promise<Output> {
  if (file === undefined || file === STANDARD_STREAM) {
    const stream = io.stdoutStream?.() ?? new Writable({
        write(chunk, _encoding, done) {
          io.stdout(String(chunk));
          done();
        },
      });
    return { stream, finish: async () => undefined, abandon: async () => undefined };
  }
  const partial = `${file}.partial`;
  let stream: Writable;
  try {
    stream = (await open(partial, 'w')).createWriteStream();
  } catch (err) {
    throw new Failure(`cannot write ${file}: ${whyNot(err)}`);
  }
  return {
    stream,
    async finish() {
      stream.end();
      await finished(stream);
      await rename(partial, file);
    },
    async abandon() {
      stream.destroy();
      await rm(partial, { force: true });
    },
  };
}

/** Writes every chunk to `stream`, waiting whenever it asks to (backpressure); its errors reject. */
export async function writeAll(chunks: AsyncIterable<string>, stream: Writable): Promise<void> {
  let failed: Error | undefined;
  const onError = (err: Error) => void (failed ??= err);
  stream.on('error', onError);
  try {
    for await (const chunk of chunks) {
      if (failed) throw failed;
      if (!stream.write(chunk)) await once(stream, 'drain'); // rejects when the stream fails meanwhile
    }
    if (failed) throw failed;
  } finally {
    stream.off('error', onError);
  }
}
