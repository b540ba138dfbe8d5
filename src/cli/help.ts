// The help, built from the command list and the option table so that it lists exactly what
// the parser accepts; `mailconf COMMAND --help` and `mailconf help COMMAND` put that
// command's usage and description before it. And the version.
import { packageVersion } from '../config/version.js';
import { OPTIONS, type Invocation, type OptionSpec } from './args.js';
import { COMMANDS } from './commands/index.js';
import type { CommandSpec } from './context.js';
import { quote, UsageError } from './errors.js';

/**
 * `help` is listed and parsed like a command but is no Command object: it runs before any
 * context exists, so that a broken provider file or directory cannot hide the help.
 */
export const helpCommand: CommandSpec = {
  name: 'help',
  usage: 'mailconf help [COMMAND]',
  options: [],
  synopsis: 'help [COMMAND]',
  description: ["Show this help; with COMMAND (or COMMAND --help), that command's", 'usage and description first.'],
};

/** Every command `mailconf NAME` accepts, help included, in the order the help lists them. */
export const ALL_COMMANDS: readonly CommandSpec[] = [...COMMANDS, helpCommand];

/**
 * Two columns: the term from column 2, its first line at `column` when the term leaves at
 * least `gap` spaces before it (else on a line of its own), the other lines below it.
 */
function columns(rows: [term: string, lines: readonly string[]][], column: number, gap: number): string[] {
  const indent = ' '.repeat(column);
  return rows.flatMap(([term, [first = '', ...rest]]) => {
    const head = `  ${term}`;
    const start = head.length + gap <= column ? [head.padEnd(column) + first] : [head, indent + first];
    return [...start, ...rest.map((line) => indent + line)];
  });
}

function flag(name: string, spec: OptionSpec): string {
  return `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
}

export const HELP = [
  'Usage: mailconf <command> [options]',
  '',
  "Answers the question a mail client's auto-setup asks, from the account directory.",
  '',
  'Commands:',
  ...columns(ALL_COMMANDS.map((c) => [c.synopsis, c.description]), 27, 2),
  '',
  'Options:',
  ...columns(Object.entries(OPTIONS).map(([name, spec]: [string, OptionSpec]) => [flag(name, spec), spec.help]), 19, 1),
  '',
  'Exit status: 0 success, 1 failure, 2 usage error.',
  '',
].join('\n');

/** What `--help` or `help` asks for: the global help, or one command's help before it. */
export function helpText(inv: Invocation): string {
  let topic = inv.command;
  if (topic === helpCommand.name) {
    if (inv.positionals.length > 1) {
      throw new UsageError(`help: unexpected argument ${quote(inv.positionals[1]!)}; usage: ${helpCommand.usage}`, false);
    }
    topic = inv.positionals[0];
  }
  if (topic === undefined) return HELP;
  const command = ALL_COMMANDS.find((c) => c.name === topic);
  if (!command) throw new UsageError(`unknown command ${quote(topic)}`);
  return [`Usage: ${command.usage}`, '', ...command.description.map((line) => `  ${line}`), '', HELP].join('\n');
}

export function version(): string {
  return `mailconf ${packageVersion()}\n`;
}
