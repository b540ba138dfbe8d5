// What a command is, and what it runs with: the output streams, the provider profile and
// the configuration, and the directory, opened for the command and always closed again.
import type { Readable, Writable } from 'node:stream';
import type { CliConfig } from '../config/config.js';
import { openDirectory, type WhenMissing } from '../accounts/open.js';
import type { Directory } from '../directory/directory.js';
import type { MailTarget } from '../model/address.js';
import { lookupSettings, type Resolution } from '../pipeline/lookup.js';
import type { ProviderProfile } from '../policy/provider-profile.js';
import type { Invocation, OptionName } from './args.js';
import { Failure, quote } from './errors.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Read only by config/ (cliConfig): the commands see the configuration it yields. */
  env: NodeJS.ProcessEnv;
  /**
   * Standard input, when it is a pipe or a file (not a terminal): pacc-check reads records
   * from it, `import -` accounts of any length.
   */
  stdin?: () => Readable;
  /**
   * Standard output as a stream, for output of any length (`export`), written as fast as
   * it is read (backpressure). Without it, such output goes through `stdout`.
   */
  stdoutStream?: () => Writable;
  /** Only when stderr is a terminal: shows `line` in place of the progress line before it ('' clears it). */
  progress?: (line: string) => void;
}

export interface Context {
  io: CliIo;
  profile: ProviderProfile;
  config: CliConfig;
}

/** What the parser and the help know of a command. */
export interface CommandSpec {
  name: string;
  /** The usage line, shown by usage errors and the command's help. */
  usage: string;
  /** The options it takes besides the global ones. */
  options: readonly OptionName[];
  /** How the global help lists it, and its description there (wrapped by hand). */
  synopsis: string;
  description: readonly string[];
}

export interface Command extends CommandSpec {
  /** Its positional arguments as the usage line names them: exactly these are required, but `[NAME]`s. */
  arguments: readonly string[];
  /** Runs it; returns the exit status, or throws a UsageError or a Failure. */
  run(inv: Invocation, ctx: Context): Promise<number>;
}

export async function withDirectory<T>(ctx: Context, whenMissing: WhenMissing, use: (d: Directory) => Promise<T>): Promise<T> {
  const { directory } = await openDirectory(ctx.config.directoryUrl, whenMissing, ctx.profile, { postgres: ctx.config.postgres });
  try {
    return await use(directory);
  } finally {
    await directory.close();
  }
}

/** The outcomes of a lookup that each command words in its own way. */
export type Answer = Exclude<Resolution, { kind: 'data-error' | 'unavailable' }>;

/**
 * Looks `target` up in the (existing) directory. A data error and a directory that did not
 * answer fail alike for every command; `noAnswer` ("no records for x") opens the data error's message.
 */
export async function lookupOrFail(ctx: Context, target: MailTarget, noAnswer: string): Promise<Answer> {
  const { resolution, description } = await withDirectory(ctx, 'fail', async (directory) => ({
    resolution: await lookupSettings(target, directory, ctx.profile),
    description: directory.description,
  }));
  switch (resolution.kind) {
    case 'data-error': {
      const { username, detail } = resolution.error;
      throw new Failure(`${noAnswer}: data error in account ${quote(username)}: ${detail}`);
    }
    case 'unavailable':
      throw new Failure(`directory ${description} did not answer: ${(resolution.cause as Error)?.message ?? String(resolution.cause)}`);
    default:
      return resolution;
  }
}
