// The pipeline's middle: (address, domain) -> directory lookup -> provider policy.
// Endpoints call this and only choose how to render the outcome.
import { normalizeDomain, parseAddress, type EmailAddress } from './address.js';
import type { Directory } from './directory/directory.js';
import { settingsFor, type DataError, type MailSettings } from './policy/settings.js';
import type { ProviderProfile } from './provider.js';

export interface MailQuery {
  /** Lower-case domain the client asks about. */
  domain: string;
  /** The mailbox, when the client named one in that domain. */
  address?: EmailAddress | undefined;
}

/**
 * What a person typed (an address, or a bare domain for domain-level settings) as a query;
 * undefined when it is neither. Used where people ask: the settings page and the CLI.
 */
export function parseMailQuery(typed: string): MailQuery | undefined {
  const text = typed.trim();
  if (text.includes('@')) {
    const address = parseAddress(text);
    return address && { domain: address.domain, address };
  }
  const domain = normalizeDomain(text);
  return domain ? { domain } : undefined;
}

export type Resolution =
  | { kind: 'settings'; settings: MailSettings }
  /** No account serves this domain (or, on an account-named domain, this local part). */
  | { kind: 'unknown-domain'; domain: string }
  /** An account-named domain, where only the address can name the account. */
  | { kind: 'address-required'; domain: string }
  | { kind: 'data-error'; error: DataError }
  /** The directory did not answer: a degraded, never a wrong, answer follows. */
  | { kind: 'unavailable'; cause: unknown };

export async function resolveSettings(
  query: MailQuery,
  directory: Directory,
  profile: ProviderProfile,
): Promise<Resolution> {
  const { domain, address } = query;
  const accountNamed = profile.accountNamedDomains.includes(domain);
  if (accountNamed && !address) return { kind: 'address-required', domain };
  const mailboxKey = address?.address.toLowerCase();
  let hit;
  try {
    hit = accountNamed
      ? await directory.findByUsername(address!.localPart.toLowerCase(), mailboxKey)
      : await directory.findByDomain(domain, mailboxKey);
  } catch (cause) {
    return { kind: 'unavailable', cause };
  }
  if (!hit) return { kind: 'unknown-domain', domain };
  const result = settingsFor(
    { account: hit.account, domain, address: address?.address ?? null, mailboxLogin: hit.mailboxLogin },
    profile,
  );
  return result.ok ? { kind: 'settings', settings: result.settings } : { kind: 'data-error', error: result.error };
}
