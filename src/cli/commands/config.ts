// `mailconf config`: the configuration in effect, as the service would start with it from
// this environment: every declared variable, its value (secrets and URL passwords masked)
// and whether it is set or the default, then any value start-up would refuse (exit 1).
// With --markdown, the README's table of every variable, made from the same declaration.
import { describeConfig } from '../../config/config.js';
import { configTable } from '../../config/declaration.js';
import type { Command } from '../context.js';
import { EXIT_FAILURE, EXIT_OK, plural } from '../errors.js';

export const configCommand: Command = {
  name: 'config',
  usage: 'mailconf config [--markdown]',
  arguments: [],
  options: ['markdown'],
  synopsis: 'config [--markdown]',
  description: [
    'Print the configuration in effect: every variable, its value',
    '(secrets masked) and whether it is set or the default; then the',
    'values start-up would refuse (exit 1 when there are any).',
  ],

  async run(inv, ctx) {
    if (inv.markdown) {
      ctx.io.stdout(`${configTable()}\n`);
      return EXIT_OK;
    }
    const { settings, problems } = describeConfig(ctx.io.env);
    const width = Math.max(...settings.map((s) => s.name.length));
    for (const s of settings) ctx.io.stdout(`${s.name.padEnd(width)}  ${s.value}${s.source === 'default' ? '  (default)' : ''}\n`);
    if (problems.length === 0) return EXIT_OK;
    ctx.io.stdout(`\n${plural(problems.length, 'problem')} start-up would stop on:\n`);
    for (const p of problems) ctx.io.stdout(`  - ${p}\n`);
    return EXIT_FAILURE;
  },
};
