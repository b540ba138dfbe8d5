// `mailconf export [FILE|-] [--format F]`: the whole directory, in username order, in any
// format import reads (export -> import is lossless), streamed from one snapshot at the
// pace the output takes it.
import { exportChunks } from '../../accounts/formats/index.js';
import type { ImportAccount } from '../../model/account.js';
import { formatFor, openOutput, STANDARD_STREAM, writeAll } from '../accounts-io.js';
import { withDirectory, type Command } from '../context.js';
import { accountsText, EXIT_OK } from '../errors.js';

export const exportCommand: Command = {
  name: 'export',
  usage: 'mailconf export [FILE|-] [--format F]',
  arguments: ['[FILE]'],
  options: ['format'],
  synopsis: 'export [FILE|-] [--format F]',
  description: [
    'Write every account with its domains and mailbox logins, in',
    'username order, to FILE (complete or not at all) or standard output',
    '(without FILE, or -): JSON, NDJSON or CSV, as import reads them.',
  ],

  async run(inv, ctx) {
    const file = inv.positionals[0];
    const format = formatFor('export', inv.format, file);
    const counts = { accounts: 0, domains: 0, mailboxes: 0 };
    async function* counting(accounts: AsyncIterable<ImportAccount>): AsyncGenerator<ImportAccount> {
      for await (const a of accounts) {
        counts.accounts++;
        counts.domains += a.domains.length;
        counts.mailboxes += a.mailboxes.length;
        yield a;
      }
    }
    const description = await withDirectory(ctx, 'fail', async (directory) => {
      const output = await openOutput(file, ctx.io);
      try {
        await writeAll(exportChunks(format, counting(directory.exportAccounts())), output.stream);
        await output.finish();
      } catch (err) {
        await output.abandon();
        throw err;
      }
      return directory.description;
    });
    // On standard output the accounts are all there is; a file's export is told.
    if (file !== undefined && file !== STANDARD_STREAM) {
      ctx.io.stdout(`exported ${accountsText(counts)} from ${description} to ${file}\n`);
    }
    return EXIT_OK;
  },
};
