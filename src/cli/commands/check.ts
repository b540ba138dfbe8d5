// `mailconf check`: every account whose data gives no mail host, found before a client asks.
import { hostFor } from '../../policy/settings.js';
import { withDirectory, type Command } from '../context.js';
import { EXIT_OK, Failure, plural, quote } from '../errors.js';

export const checkCommand: Command = {
  name: 'check',
  usage: 'mailconf check',
  arguments: [],
  options: [],
  synopsis: 'check',
  description: [
    'Report every account whose data gives no mail host (old-era',
    'account without a mail server number, new-era username that is',
    'not a DNS label, unusable creation date).',
  ],

  async run(_inv, ctx) {
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
  },
};
