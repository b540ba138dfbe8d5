// The pipeline's middle: (address, domain) -> directory lookup -> provider policy ->
// one Resolution. Endpoints and CLI commands call this and hand the Resolution to a dialect.
// It runs in two steps, `findAccount` (the directory, the only I/O) and `decide` (the
// policy, pure), so the answer cache (answer-cache.ts) can sit between them.
import type { MailTarget } from '../model/address.js';
import type { DirectoryHit, DirectoryReader, MailboxKey } from '../directory/directory.js';
import { accountKeyFor } from '../policy/account-named.js';
import type { ProviderProfile } from '../policy/provider-profile.js';
import { addressIsEveryLogin, settingsFor, type DataError, type MailSettings } from '../policy/settings.js';

/** Every outcome of a lookup: a closed union, so a dialect that forgets one does not compile. */
export type Resolution =
  | {
      kind: 'settings';
      settings: MailSettings;
      /**
       * Every mailbox at the domain logs in with its address (policy/settings.ts
       * addressIsEveryLogin): a document without a login (PACC) is published only then.
       * Absent: not known, so not published.
       */
      addressIsEveryLogin?: boolean;
    }
  /** No account serves this domain (or, on an account-named domain, this local part). */
  | { kind: 'unknown-domain'; domain: string }
  /** An account-named domain, where only the address can name the account. */
  | { kind: 'address-required'; domain: string }
  | { kind: 'data-error'; error: DataError }
  /** The directory did not answer: a degraded, never a wrong, answer follows. */
  | { kind: 'unavailable'; cause: unknown };

export type ResolutionKind = Resolution['kind'];

/** What the directory step gives: the account found, or an outcome that needs no policy. */
export type Found =
  | { kind: 'found'; hit: DirectoryHit }
  | Extract<Resolution, { kind: 'unknown-domain' | 'address-required' | 'unavailable' }>;

/** The directory step: which account serves `target`, with the login stored for its mailbox. */
export async function findAccount(target: MailTarget, directory: DirectoryReader, profile: ProviderProfile): Promise<Found> {
  const { domain, address } = target;
  const key = accountKeyFor(target, profile);
  if (key.by === 'address-required') return { kind: 'address-required', domain };
  // Evolution's placeholder form names the mailbox by its hash only (model/address.ts).
  const mailboxKey: MailboxKey | undefined = target.mailboxMd5 ? { md5: target.mailboxMd5 } : address?.address.toLowerCase();
  let hit;
  try {
    hit =
      key.by === 'username'
        ? await directory.findByUsername(key.username, mailboxKey)
        : await directory.findByDomain(key.domain, mailboxKey);
  } catch (cause) {
    return { kind: 'unavailable', cause };
  }
  return hit ? { kind: 'found', hit } : { kind: 'unknown-domain', domain };
}

/** The policy step: the settings for the account found (pure). */
export function decide(target: MailTarget, hit: DirectoryHit, profile: ProviderProfile): Resolution {
  const result = settingsFor(
    {
      account: hit.account,
      domain: target.domain,
      address: target.address?.address ?? null,
      mailboxLogin: hit.mailboxLogin,
      mailboxMd5: target.mailboxMd5 ?? null,
    },
    profile,
  );
  if (!result.ok) return { kind: 'data-error', error: result.error };
  return { kind: 'settings', settings: result.settings, addressIsEveryLogin: addressIsEveryLogin(target.domain, hit.domainHasMailboxLogins, profile) };
}

export async function lookupSettings(
  target: MailTarget,
  directory: DirectoryReader,
  profile: ProviderProfile,
): Promise<Resolution> {
  const found = await findAccount(target, directory, profile);
  return found.kind === 'found' ? decide(target, found.hit, profile) : found;
}
