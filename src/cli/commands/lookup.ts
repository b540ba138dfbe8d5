// `mailconf lookup ADDRESS|DOMAIN [--json]`: the settings a mail client would get, as text
// for people or as JSON.
import { parseTypedTarget, type MailTarget } from '../../model/address.js';
import { renderSettingsText } from '../../dialects/settings-text.js';
import { accountNameOf, isAccountNamedDomain } from '../../policy/account-named.js';
import { lookupOrFail, type Command } from '../context.js';
import { EXIT_OK, Failure, quote, UsageError } from '../errors.js';

function targetOf(arg: string): MailTarget {
  const target = parseTypedTarget(arg);
  if (!target) {
    throw new UsageError(`${quote(arg)} is not a valid ${arg.includes('@') ? 'email address' : 'email address or domain name'}`);
  }
  return target;
}

export const lookupCommand: Command = {
  name: 'lookup',
  usage: 'mailconf lookup ADDRESS|DOMAIN [--json]',
  arguments: ['ADDRESS'],
  options: ['json'],
  synopsis: 'lookup ADDRESS [--json]',
  description: ['Show the mail settings for ADDRESS (user@domain), or for a bare', 'DOMAIN (login unknown).'],

  async run(inv, ctx) {
    const target = targetOf(inv.positionals[0]!);
    const noSettings = `no mail settings for ${target.domain}`;
    const answer = await lookupOrFail(ctx, target, noSettings);
    switch (answer.kind) {
      case 'settings':
        ctx.io.stdout(inv.json ? `${JSON.stringify(answer.settings, null, 2)}\n` : renderSettingsText(answer.settings, ctx.profile));
        return EXIT_OK;
      case 'unknown-domain':
        // On an account-named domain the local part names the account: say which was not found.
        throw new Failure(
          target.address && isAccountNamedDomain(ctx.profile, target.domain)
            ? `${noSettings}: no account named ${quote(accountNameOf(target.address))}`
            : noSettings,
        );
      case 'address-required':
        // The person asked the wrong question (a bare account-named domain): a usage error.
        throw new UsageError(`${answer.domain} is an account-named domain: look up a full address (USERNAME@${answer.domain})`);
    }
  },
};
