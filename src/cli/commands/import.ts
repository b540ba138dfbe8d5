// `mailconf import FILE|- [--replace] [--dry-run] [--allow-data-errors] [--format F]`: all
// or nothing, in flat memory. The accounts stream from the file (or standard input) through
// the validator into the directory's one transaction, committed only when no record had a
// problem and none conflicts with another or with the directory.
import { existsSync, rmSync } from 'node:fs';
import { FORMATS } from '../../accounts/formats/index.js';
import { MAX_PROBLEMS, notEmptyForReplace, readerPosition, validatedRecords } from '../../accounts/records.js';
import { ImportRejectedError, type ImportReport } from '../../directory/directory.js';
import { parseDirectoryUrl } from '../../directory/url.js';
import { formatFor, openInput } from '../accounts-io.js';
import { withDirectory, type Command } from '../context.js';
import { accountsText, EXIT_OK, Failure, oneLine, plural } from '../errors.js';
import { counted, readProgress } from '../progress.js';

/** An input without accounts, refused with --replace: a failed export must not empty the directory. */
const EMPTY_REPLACE = { position: '(input)', reason: 'no accounts: with --replace this would empty the directory' };

/** What the import changed (or would), in words. */
function reportLines(report: ImportReport, description: string, replace: boolean): string[] {
  const { written: w, accounts: a, domains: d, mailboxes: m } = report;
  const what = accountsText(w);
  const how = replace ? ' (replacing everything it held before)' : '';
  return [
    report.dryRun ? `dry run: would import ${what} into ${description}${how}; nothing written` : `imported ${what} into ${description}${how}`,
    `accounts: ${a.added} added, ${a.changed} changed, ${a.unchanged} unchanged, ${a.removed} removed`,
    `domains: ${d.added} added, ${d.removed} removed, ${d.moved} moved to another account`,
    `mailbox logins: ${m.added} added, ${m.changed} changed, ${m.removed} removed`,
  ];
}

export const importCommand: Command = {
  name: 'import',
  usage: 'mailconf import FILE|- [--replace] [--dry-run] [--allow-data-errors] [--format F]',
  arguments: ['FILE'],
  options: ['replace', 'dry-run', 'allow-data-errors', 'format'],
  synopsis: 'import FILE|- [--replace] [--dry-run] [--allow-data-errors] [--format F]',
  description: [
    'Validate accounts (JSON, NDJSON or CSV, from FILE or, for -,',
    'standard input) and write all of them in one transaction, or',
    'nothing when any record is invalid or conflicts. Accounts are',
    'matched by username and updated; with --replace the input becomes',
    'the whole directory. An account that gives no mail host is refused',
    'unless --allow-data-errors; --dry-run only reports what would',
    'change. A missing directory is created (empty). CSV has the header',
    'username,created,mailServer,domain,mailbox,login and one row per',
    "domain or mailbox login, an account's rows adjacent.",
  ],

  async run(inv, ctx) {
    const format = formatFor('import', inv.format, inv.positionals[0]);
    const input = await openInput('import', inv.positionals[0]!, ctx.io);
    // A new SQLite directory made by an import that writes nothing is not left behind.
    const location = parseDirectoryUrl(ctx.config.directoryUrl);
    const newFile = location.file !== undefined && !existsSync(location.file) ? location.file : undefined;
    const progress = readProgress(ctx.io, 'account');
    let written = false;
    try {
      const { report, description } = await withDirectory(ctx, 'create-empty', async (directory) => {
        const read = counted(FORMATS[format].read(input.stream), progress);
        const records = notEmptyForReplace(validatedRecords(read, ctx.profile, { allowDataErrors: inv.allowDataErrors }), inv.replace, EMPTY_REPLACE);
        return { report: await directory.importStream(records, { replace: inv.replace, dryRun: inv.dryRun }), description: directory.description };
      });
      written = !report.dryRun;
      progress.done();
      ctx.io.stdout(`${reportLines(report, description, inv.replace).join('\n')}\n`);
      return EXIT_OK;
    } catch (err) {
      progress.done();
      if (!(err instanceof ImportRejectedError)) throw err;
      for (const p of err.problems) ctx.io.stderr(`${input.name}: ${readerPosition(p.position)}: ${oneLine(p.reason)}\n`);
      const count = err.problems.length >= MAX_PROBLEMS ? `at least ${err.problems.length} problems` : plural(err.problems.length, 'problem');
      throw new Failure(`${input.name}: ${count}, nothing imported`);
    } finally {
      input.stream.destroy();
      if (newFile && !written) for (const file of [newFile, `${newFile}-wal`, `${newFile}-shm`]) rmSync(file, { force: true });
    }
  },
};
