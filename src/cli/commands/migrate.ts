// `mailconf migrate`: creates or upgrades the directory's schema. PostgreSQL keeps its
// schema as numbered migrations (directory/migrations.ts); the embedded SQLite directory
// makes its own tables when it is first opened, so there it has nothing to do.
import { migrateBackend } from '../../directory/open.js';
import type { Command } from '../context.js';
import { EXIT_OK, plural } from '../errors.js';

export const migrateCommand: Command = {
  name: 'migrate',
  usage: 'mailconf migrate',
  arguments: [],
  options: [],
  synopsis: 'migrate',
  description: [
    "Create or upgrade a PostgreSQL directory's schema (the server and",
    'the other commands refuse one that is older than they need). Safe',
    'to run again, and from several machines at once. A SQLite',
    'directory makes its schema when first opened: nothing to migrate.',
  ],

  async run(_inv, ctx) {
    const outcome = await migrateBackend(ctx.config.directoryUrl, { postgres: ctx.config.postgres });
    if (outcome.backend === 'sqlite') {
      ctx.io.stdout(`${outcome.description}: SQLite makes its schema when the directory is first opened: nothing to migrate\n`);
      return EXIT_OK;
    }
    const { description, from, to, applied } = outcome;
    ctx.io.stdout(
      applied.length === 0
        ? `${description}: schema version ${to} is current: nothing to migrate\n`
        : `${description}: migrated from schema version ${from} to ${to} (${plural(applied.length, 'migration')}: ` +
            `${applied.map((m) => `${m.version} ${m.name}`).join(', ')})\n`,
    );
    return EXIT_OK;
  },
};
