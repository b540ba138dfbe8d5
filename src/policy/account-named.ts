// Account-named domains (`<username>@pair.com`): the local part, not the domain, names the
// hosting account. Every place that must know this asks here.
import type { EmailAddress, MailTarget } from '../model/address.js';
import type { ProviderProfile } from './provider-profile.js';

type Named = Pick<ProviderProfile, 'accountNamedDomains'>;

export function isAccountNamedDomain(profile: Named, domain: string): boolean {
  return profile.accountNamedDomains.includes(domain);
}

/** The username an address on an account-named domain names (its local part, lower-case). */
export function accountNameOf(address: EmailAddress): string {
  return address.localPart.toLowerCase();
}

/** How the directory finds the account for a target, or why it cannot be found without an address. */
export type AccountKey =
  | { by: 'domain'; domain: string }
  | { by: 'username'; username: string }
  /** An account-named domain asked about without an address: no single account owns it. */
  | { by: 'address-required' };

export function accountKeyFor(target: MailTarget, profile: Named): AccountKey {
  if (!isAccountNamedDomain(profile, target.domain)) return { by: 'domain', domain: target.domain };
  return target.address ? { by: 'username', username: accountNameOf(target.address) } : { by: 'address-required' };
}

/** Whether a stored mailbox address may belong to `username`, which owns `domains`. */
export function mailboxBelongsTo(address: EmailAddress, username: string, domains: readonly string[], profile: Named): boolean {
  if (domains.includes(address.domain)) return true;
  return isAccountNamedDomain(profile, address.domain) && accountNameOf(address) === username;
}
