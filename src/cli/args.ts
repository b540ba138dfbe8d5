// The command line as data: the one option table (its help text included, so that the
// help cannot drift from what is parsed), and the parser that checks it in our own words.
import { parseArgs } from 'node:util';
import { DEFAULT_DIRECTORY } from '../config/config.js';
import { quote, UsageError } from './errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help. */
  value?: string;
  /** Accepted by every command; the others only by the commands that list them. */
  global?: boolean;
  /** Its lines in the global help, wrapped by hand. */
  help: readonly string[];
}

export const OPTIONS = {
  directory: {
    type: 'string',
    value: 'URL',
    global: true,
    help: [
      'The account directory, sqlite:PATH or',
      'postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE',
      `(default: $MAILCONF_DIRECTORY, else ${DEFAULT_DIRECTORY}).`,
    ],
  },
  provider: {
    type: 'string',
    value: 'FILE',
    global: true,
    help: ['Provider profile (JSON) laid over the built-in defaults', '(default: $MAILCONF_PROVIDER, else the built-in profile).'],
  },
  replace: { type: 'boolean', help: ['import: replace the whole directory instead of updating accounts.'] },
  'dry-run': { type: 'boolean', help: ['import: check everything and report what would change; write nothing.'] },
  'allow-data-errors': {
    type: 'boolean',
    help: ['import: accept accounts that give no mail host (what check reports);', 'clients get no settings for them.'],
  },
  format: {
    type: 'string',
    value: 'F',
    help: [
      'import, export: json, ndjson or csv (default: from the file name',
      '.json, .ndjson or .jsonl, .csv; ndjson on standard input and output).',
    ],
  },
  account: { type: 'boolean', help: ['delete: NAME is an account (when it is also a domain).'] },
  domain: { type: 'boolean', help: ['delete: NAME is a domain (when it is also an account).'] },
  json: { type: 'boolean', help: ['lookup: print the settings as JSON.'] },
  markdown: { type: 'boolean', help: ["config: print the README's table of every variable instead."] },
  'fly-certs': { type: 'boolean', help: ['dns: print the `fly certs add` commands for the domain instead.'] },
  'public-url': {
    type: 'string',
    value: 'URL',
    help: [
      'dns: where clients reach this service; its host name is the target of',
      'the CNAMEs and the _autodiscover SRV record (default: $PUBLIC_URL;',
      'one of the two is required).',
    ],
  },
  txt: {
    type: 'string',
    value: 'RECORD',
    help: [
      'pacc-check: a _ua-auto-config TXT record as the resolver returns',
      'it (repeat for several; default: read them from stdin, one a line,',
      'as `dig +short TXT` prints them).',
    ],
  },
  help: { type: 'boolean', short: 'h', global: true, help: ['Show this help.'] },
  version: { type: 'boolean', global: true, help: ['Show the version.'] },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface Invocation {
  command: string | undefined;
  positionals: string[];
  directory?: string;
  provider?: string;
  publicUrl?: string;
  /** pacc-check: the TXT records given with --txt, in order. */
  txt: string[];
  /** import, export: the --format given, unchecked. */
  format?: string;
  replace: boolean;
  dryRun: boolean;
  allowDataErrors: boolean;
  /** delete: which kind of name was meant. */
  account: boolean;
  domain: boolean;
  json: boolean;
  markdown: boolean;
  flyCerts: boolean;
  help: boolean;
  version: boolean;
}

/**
 * Parses `argv` against the option table; `commands` are the names `mailconf NAME` accepts
 * and the options each takes beyond the global ones. With --help or --version the command
 * is not checked here: the help names its own unknown topics.
 */
export function parseCommandLine(argv: string[], commands: readonly { name: string; options: readonly OptionName[] }[]): Invocation {
  // Not strict: unknown options and missing values are reported here, in our own words.
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const inv: Invocation = {
    command: undefined,
    positionals: [],
    txt: [],
    replace: false,
    dryRun: false,
    allowDataErrors: false,
    account: false,
    domain: false,
    json: false,
    markdown: false,
    flyCerts: false,
    help: false,
    version: false,
  };
  const seen: { name: OptionName; rawName: string }[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (inv.command === undefined) inv.command = token.value;
      else inv.positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    if (!Object.hasOwn(OPTIONS, token.name)) throw new UsageError(`unknown option ${token.rawName}`);
    const name = token.name as OptionName;
    if (OPTIONS[name].type === 'string') {
      // parseArgs takes the next argument as the value even when it is another option.
      if (token.value === undefined || token.value === '' || (!token.inlineValue && token.value.startsWith('-'))) {
        throw new UsageError(`option ${token.rawName} needs a value`);
      }
      if (name === 'public-url') inv.publicUrl = token.value;
      else if (name === 'txt') inv.txt.push(token.value);
      else inv[name as 'directory' | 'provider' | 'format'] = token.value;
    } else {
      if (token.value !== undefined) throw new UsageError(`option ${token.rawName} takes no value`);
      if (name === 'fly-certs') inv.flyCerts = true;
      else if (name === 'dry-run') inv.dryRun = true;
      else if (name === 'allow-data-errors') inv.allowDataErrors = true;
      else inv[name as 'replace' | 'account' | 'domain' | 'json' | 'markdown' | 'help' | 'version'] = true;
    }
    seen.push({ name, rawName: token.rawName });
  }
  if (inv.help || inv.version || inv.command === undefined) return inv;
  const command = commands.find((c) => c.name === inv.command);
  if (!command) throw new UsageError(`unknown command ${quote(inv.command)}`);
  for (const { name, rawName } of seen) {
    const spec: OptionSpec = OPTIONS[name];
    if (!spec.global && !command.options.includes(name)) {
      throw new UsageError(`option ${rawName} does not apply to ${inv.command}`);
    }
  }
  return inv;
}

/**
 * Exactly the positional arguments `names` (as `usage` calls them; a name in brackets,
 * `[FILE]`, may be left out), else a usage error showing `usage`.
 */
export function expectArguments(inv: Invocation, usage: string, names: readonly string[]): void {
  const shown = `usage: ${usage}`;
  const required = names.filter((name) => !name.startsWith('['));
  if (inv.positionals.length < required.length) {
    throw new UsageError(`${inv.command}: missing ${names[inv.positionals.length]}; ${shown}`, false);
  }
  if (inv.positionals.length > names.length) {
    throw new UsageError(`${inv.command}: unexpected argument ${quote(inv.positionals[names.length]!)}; ${shown}`, false);
  }
}
