// `mailconf`: the operator's command line. Imports an accounts file into the directory,
// shows the settings a mail client would get for an address, checks the directory for
// accounts whose data gives no mail host, and prints the DNS records a customer domain
// publishes. `main` is exported for tests; `bin/mailconf.js` runs it.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { normalizeDomain } from '../address.js';
import { DEFAULT_DIRECTORY } from '../config.js';
import { ImportConflictError, type Directory } from '../directory/directory.js';
import { parseImportFile } from '../directory/import-file.js';
import { DirectoryError, openDirectory, type WhenMissing } from '../directory/open.js';
import { hostFor } from '../policy/settings.js';
import { loadProvider, ProviderProfileError, type ProviderProfile } from '../provider.js';
import { renderDnsZone } from '../render/dns-zone.js';
import { renderSettingsText } from '../render/text.js';
import { parseMailQuery, resolveSettings, type MailQuery } from '../resolve.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong: exit 2. */
class UsageError extends Error {
  constructor(
    message: string,
    /** Whether to point at --help (not when the message already shows the usage). */
    readonly hint = true,
  ) {
    super(message);
  }
}
/** The command ran and failed: exit 1. */
class Failure extends Error {}

const HELP = `Usage: mailconf <command> [options]

Answers the question a mail client's auto-setup asks, from the account directory.

Commands:
  import FILE [--replace]  Validate an accounts file (JSON) and write all of it in one
                           transaction, or nothing when any record is invalid. Accounts are
                           matched by username and updated; with --replace the file becomes
                           the whole directory. A missing directory is created (empty).
  lookup ADDRESS [--json]  Show the mail settings for ADDRESS (user@domain), or for a bare
                           DOMAIN (login unknown).
  check                    Report every account whose data gives no mail host (old-era
                           account without a mail server number, new-era username that is
                           not a DNS label, unusable creation date).
  dns DOMAIN [--public-url URL]
                           Print the DNS records the customer domain DOMAIN should publish,
                           as zone-file lines: autoconfig and autodiscover CNAMEs and the
                           _autodiscover._tcp SRV record (port 443) to this service, and the
                           RFC 6186/8314 SRV records (_submissions, _submission, _imaps,
                           _imap, _pop3s, _pop3) to the account's mail host, their
                           priorities in order of preference.
  help                     Show this help.

Options:
  --directory URL  The account directory, sqlite:PATH
                   (default: $MAILCONF_DIRECTORY, else ${DEFAULT_DIRECTORY}).
  --provider FILE  Provider profile (JSON) laid over the built-in defaults
                   (default: $MAILCONF_PROVIDER, else the built-in profile).
  --replace        import: replace the whole directory instead of updating accounts.
  --json           lookup: print the settings as JSON.
  --public-url URL dns: where clients reach this service; its host name is the target of
                   the CNAMEs and the _autodiscover SRV record (default: $PUBLIC_URL;
                   one of the two is required).
  -h, --help       Show this help.
  --version        Show the version.

Exit status: 0 success, 1 failure, 2 usage error.
`;

const OPTIONS = {
  directory: { type: 'string' },
  provider: { type: 'string' },
  replace: { type: 'boolean' },
  json: { type: 'boolean' },
  'public-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL_OPTIONS: ReadonlySet<string> = new Set<OptionName>(['directory', 'provider', 'help', 'version']);
const COMMAND_OPTIONS: Record<string, ReadonlySet<string>> = {
  import: new Set<OptionName>(['replace']),
  lookup: new Set<OptionName>(['json']),
  check: new Set<OptionName>(),
  dns: new Set<OptionName>(['public-url']),
  help: new Set<OptionName>(),
};

interface Invocation {
  command: string | undefined;
  positionals: string[];
  directory?: string;
  provider?: string;
  publicUrl?: string;
  replace: boolean;
  json: boolean;
  help: boolean;
  version: boolean;
}

/** One line, whatever the text holds (error messages can carry newlines). */
const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
const quote = (text: string) => JSON.stringify(text);
const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

function parseCommandLine(argv: string[]): Invocation {
  // Not strict: unknown options and missing values are reported here, in our own words.
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const inv: Invocation = { command: undefined, positionals: [], replace: false, json: false, help: false, version: false };
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
      else inv[name as 'directory' | 'provider'] = token.value;
    } else {
      if (token.value !== undefined) throw new UsageError(`option ${token.rawName} takes no value`);
      inv[name as 'replace' | 'json' | 'help' | 'version'] = true;
    }
    seen.push({ name, rawName: token.rawName });
  }
  if (inv.help || inv.version || inv.command === undefined) return inv;
  const allowed = COMMAND_OPTIONS[inv.command];
  if (!allowed) throw new UsageError(`unknown command ${quote(inv.command)}`);
  for (const { name, rawName } of seen) {
    if (!GLOBAL_OPTIONS.has(name) && !allowed.has(name)) {
      throw new UsageError(`option ${rawName} does not apply to ${inv.command}`);
    }
  }
  return inv;
}

const USAGE: Record<string, string> = {
  import: 'mailconf import FILE [--replace]',
  lookup: 'mailconf lookup ADDRESS|DOMAIN [--json]',
  check: 'mailconf check',
  dns: 'mailconf dns DOMAIN [--public-url URL]',
};

function expectArguments(inv: Invocation, names: string[]): void {
  const usage = `usage: ${USAGE[inv.command!]}`;
  if (inv.positionals.length < names.length) {
    throw new UsageError(`${inv.command}: missing ${names[inv.positionals.length]}; ${usage}`, false);
  }
  if (inv.positionals.length > names.length) {
    throw new UsageError(`${inv.command}: unexpected argument ${quote(inv.positionals[names.length]!)}; ${usage}`, false);
  }
}

function version(): string {
  // src/cli and dist/cli are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return `mailconf ${pkg.version ?? 'unknown'}\n`;
}

interface Context {
  io: CliIo;
  profile: ProviderProfile;
  directoryUrl: string;
}

async function withDirectory<T>(ctx: Context, whenMissing: WhenMissing, use: (d: Directory) => Promise<T>): Promise<T> {
  const { directory } = await openDirectory(ctx.directoryUrl, whenMissing, ctx.profile);
  try {
    return await use(directory);
  } finally {
    await directory.close();
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file'
      : code === 'EISDIR' ? 'it is a directory'
      : code === 'EACCES' ? 'permission denied'
      : (err as Error).message;
    throw new Failure(`cannot read ${file}: ${why}`);
  }
}

async function importCommand(inv: Invocation, ctx: Context): Promise<number> {
  expectArguments(inv, ['FILE']);
  const file = inv.positionals[0]!;
  // The whole file is validated before the directory is even opened: all or nothing.
  const parsed = parseImportFile(readText(file), ctx.profile);
  if (!parsed.ok) {
    for (const p of parsed.problems) ctx.io.stderr(`${file}: ${p.position}: ${oneLine(p.reason)}\n`);
    const count = parsed.problems.length >= 100 ? `at least ${parsed.problems.length} problems` : plural(parsed.problems.length, 'problem');
    throw new Failure(`${file}: ${count}, nothing imported`);
  }
  const { summary, description } = await withDirectory(ctx, 'create-empty', async (directory) => {
    try {
      return { summary: await directory.importAccounts(parsed.accounts, { replace: inv.replace }), description: directory.description };
    } catch (err) {
      if (err instanceof ImportConflictError) throw new Failure(`${file}: ${err.message}; nothing imported`);
      throw err;
    }
  });
  ctx.io.stdout(
    `imported ${plural(summary.accounts, 'account')}, ${plural(summary.domains, 'domain')}, ` +
      `${plural(summary.mailboxes, 'mailbox login')} into ${description}` +
      `${inv.replace ? ' (replacing everything it held before)' : ''}\n`,
  );
  return EXIT_OK;
}

function lookupQuery(arg: string): MailQuery {
  const query = parseMailQuery(arg);
  if (!query) {
    throw new UsageError(`${quote(arg)} is not a valid ${arg.includes('@') ? 'email address' : 'email address or domain name'}`);
  }
  return query;
}

async function lookupCommand(inv: Invocation, ctx: Context): Promise<number> {
  expectArguments(inv, ['ADDRESS']);
  const query = lookupQuery(inv.positionals[0]!);
  const { resolution, description } = await withDirectory(ctx, 'fail', async (directory) => ({
    resolution: await resolveSettings(query, directory, ctx.profile),
    description: directory.description,
  }));
  switch (resolution.kind) {
    case 'settings':
      ctx.io.stdout(inv.json ? `${JSON.stringify(resolution.settings, null, 2)}\n` : renderSettingsText(resolution.settings));
      return EXIT_OK;
    case 'unknown-domain':
      throw new Failure(
        query.address && ctx.profile.accountNamedDomains.includes(query.domain)
          ? `no mail settings for ${query.domain}: no account named ${quote(query.address.localPart.toLowerCase())}`
          : `no mail settings for ${query.domain}`,
      );
    case 'address-required':
      throw new UsageError(
        `${resolution.domain} is an account-named domain: look up a full address (USERNAME@${resolution.domain})`,
      );
    case 'data-error': {
      const { username, detail } = resolution.error;
      throw new Failure(`no mail settings for ${query.domain}: data error in account ${quote(username)}: ${detail}`);
    }
    case 'unavailable':
      throw new Failure(`directory ${description} did not answer: ${(resolution.cause as Error)?.message ?? String(resolution.cause)}`);
  }
}

async function checkCommand(inv: Invocation, ctx: Context): Promise<number> {
  expectArguments(inv, []);
  const { checked, problems } = await withDirectory(ctx, 'fail', async (directory) => {
    let checked = 0;
    let problems = 0;
    for await (const account of directory.allAccounts()) {
      checked++;
      const host = hostFor(account, ctx.profile);
      if ('kind' in host) {
        problems++;
        ctx.io.stdout(`account ${quote(account.username)}: ${host.detail} (${host.kind})\n`);
      }
    }
    return { checked, problems };
  });
  ctx.io.stdout(`checked ${plural(checked, 'account')}: ${problems} with problems\n`);
  if (problems > 0) throw new Failure(`${plural(problems, 'account has', 'accounts have')} data errors: clients get no settings for them`);
  return EXIT_OK;
}

/** The host name clients reach the service at: PUBLIC_URL's, which must be a DNS name. */
function serviceHostOf(publicUrl: string | undefined): string {
  if (publicUrl === undefined || publicUrl.trim() === '') {
    throw new UsageError("dns: the service's public URL is unknown: pass --public-url URL or set PUBLIC_URL");
  }
  let url: URL;
  try {
    url = new URL(publicUrl.trim());
  } catch {
    throw new UsageError(`dns: ${quote(publicUrl)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`dns: ${quote(publicUrl)} is not an http(s) URL`);
  const host = normalizeDomain(url.hostname);
  // A record can only point at a DNS name: not an IP address, not a one-label name (localhost).
  if (!host || /^[0-9.]+$/.test(host) || /\.\d+$/.test(host)) {
    throw new UsageError(`dns: the public URL's host ${quote(url.hostname)} is not a DNS name records can point at`);
  }
  return host;
}

async function dnsCommand(inv: Invocation, ctx: Context): Promise<number> {
  expectArguments(inv, ['DOMAIN']);
  const arg = inv.positionals[0]!;
  const domain = arg.includes('@') ? undefined : normalizeDomain(arg);
  if (!domain) throw new UsageError(`${quote(arg)} is not a domain name (give the customer's domain, e.g. her-shop.example)`);
  const serviceHost = serviceHostOf(inv.publicUrl ?? ctx.io.env.PUBLIC_URL);
  const { resolution, description } = await withDirectory(ctx, 'fail', async (directory) => ({
    resolution: await resolveSettings({ domain }, directory, ctx.profile),
    description: directory.description,
  }));
  switch (resolution.kind) {
    case 'settings':
      ctx.io.stdout(renderDnsZone({ domain, serviceHost, settings: resolution.settings }));
      return EXIT_OK;
    case 'unknown-domain':
      throw new Failure(`no account serves ${domain}: it has no records to publish`);
    case 'address-required':
      throw new Failure(`${domain} is an account-named domain, not a customer domain: it has no per-customer records`);
    case 'data-error': {
      const { username, detail } = resolution.error;
      throw new Failure(`no records for ${domain}: data error in account ${quote(username)}: ${detail}`);
    }
    case 'unavailable':
      throw new Failure(`directory ${description} did not answer: ${(resolution.cause as Error)?.message ?? String(resolution.cause)}`);
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const inv = parseCommandLine(argv);
  if (inv.help || inv.command === 'help') {
    io.stdout(HELP);
    return EXIT_OK;
  }
  if (inv.version) {
    io.stdout(version());
    return EXIT_OK;
  }
  if (inv.command === undefined) {
    io.stderr(HELP);
    return EXIT_USAGE;
  }
  const ctx: Context = {
    io,
    profile: loadProvider(inv.provider ?? (io.env.MAILCONF_PROVIDER || undefined)),
    directoryUrl: inv.directory ?? (io.env.MAILCONF_DIRECTORY || DEFAULT_DIRECTORY),
  };
  switch (inv.command) {
    case 'import':
      return importCommand(inv, ctx);
    case 'lookup':
      return lookupCommand(inv, ctx);
    case 'dns':
      return dnsCommand(inv, ctx);
    default:
      return checkCommand(inv, ctx);
  }
}

/** Runs one command line; never throws. Returns the exit status. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`mailconf: ${oneLine(err.message)}${err.hint ? ' (see "mailconf --help")' : ''}\n`);
      return EXIT_USAGE;
    }
    const known =
      err instanceof Failure ||
      err instanceof DirectoryError ||
      err instanceof ProviderProfileError ||
      err instanceof ImportConflictError;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`mailconf: ${oneLine(known ? message : `unexpected error: ${message}`)}\n`);
    return EXIT_FAILURE;
  }
}
