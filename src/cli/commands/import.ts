// `mailconf import FILE [--replace]`: all or nothing. The whole file is validated before the
// directory is even opened, and written in one transaction.
import { readFileSync } from 'node:fs';
import { parseImportFile } from '../../accounts/accounts-file.js';
import { ImportConflictError } from '../../directory/directory.js';
import { withDirectory, type Command } from '../context.js';
import { EXIT_OK, Failure, oneLine, plural } from '../errors.js';

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

export const importCommand: Command = {
  name: 'import',
  usage: 'mailconf import FILE [--replace]',
  arguments: ['FILE'],
  options: ['replace'],
  synopsis: 'import FILE [--replace]',
  description: [
    'Validate an accounts file (JSON) and write all of it in one',
    'transaction, or nothing when any record is invalid. Accounts are',
    'matched by username and updated; with --replace the file becomes',
    'the whole directory. A missing directory is created (empty).',
  ],

  async run(inv, ctx) {
    const file = inv.positionals[0]!;
    const parsed = parseImportFile(readText(file), ctx.profile, { allowDataErrors: true });
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
  },
};
