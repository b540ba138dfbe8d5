// `mailconf`: the operator's command line. Imports accounts into the directory, exports
// and deletes them, shows the settings a mail client would get for an address, checks the
// directory for accounts whose data gives no mail host, prints the DNS records a customer
// domain publishes, and creates or upgrades a PostgreSQL directory's schema (one module each
// under commands/). `main` is exported for tests;
// `bin/mailconf.js` runs it.
import { cliConfig, ConfigError } from '../config/config.js';
import { loadProvider, ProviderProfileError } from '../config/provider-file.js';
import { DirectoryError, ImportConflictError } from '../directory/directory.js';
import { expectArguments, parseCommandLine } from './args.js';
import { COMMANDS } from './commands/index.js';
import type { CliIo, Context } from './context.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, oneLine, UsageError } from './errors.js';
import { ALL_COMMANDS, HELP, helpCommand, helpText, version } from './help.js';

export type { CliIo } from './context.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';

async function run(argv: string[], io: CliIo): Promise<number> {
  const inv = parseCommandLine(argv, ALL_COMMANDS);
  if (inv.help || inv.command === helpCommand.name) {
    io.stdout(helpText(inv));
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
  // parseCommandLine accepted the name, and `help` is answered above.
  const command = COMMANDS.find((c) => c.name === inv.command)!;
  const config = cliConfig(io.env, inv);
  const ctx: Context = { io, config, profile: loadProvider(config.providerFile) };
  expectArguments(inv, command.usage, command.arguments);
  return command.run(inv, ctx);
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
      err instanceof ConfigError ||
      err instanceof ImportConflictError;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`mailconf: ${oneLine(known ? message : `unexpected error: ${message}`)}\n`);
    return EXIT_FAILURE;
  }
}
