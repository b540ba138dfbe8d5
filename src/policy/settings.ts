// The provider policy: an account (and the address, when known) in, the settings a mail
// client needs out. Pure: no I/O, no HTTP, no XML, so every rule is tested directly.
import type { Account } from '../model/account.js';
import { addressMd5, isDnsLabel } from '../model/address.js';
import { isAccountNamedDomain } from './account-named.js';
import { eraOf, type Era } from './era.js';
import type { ProviderProfile } from './provider-profile.js';

export type Protocol = 'imap' | 'pop3' | 'smtp';
/** `tls`: TLS from the first byte (implicit, "SSL"); `starttls`: upgrade before login. */
export type Security = 'tls' | 'starttls';

export interface ServerSettings {
  protocol: Protocol;
  host: string;
  port: number;
  security: Security;
}

export interface MailSettings {
  provider: Pick<ProviderProfile, 'id' | 'displayName' | 'displayShortName' | 'documentationUrl'>;
  /** The domain asked about. */
  domain: string;
  /** The mailbox asked about, when the client said. */
  address: string | null;
  /** The login for SMTP AUTH, IMAP and POP3; null when no address is known (clients fill it in). */
  login: string | null;
  /**
   * The mailbox was named only by the hash of its address (Evolution's `emailmd5`):
   * `address` is null, yet this answer is a mailbox's (`login` is its stored one, or null).
   */
  namedByHash?: true;
  era: Era;
  /** The one host for IMAP, POP3 and SMTP: the name on its TLS certificate. */
  host: string;
  /** In order of preference: IMAP before POP3, implicit TLS before STARTTLS. */
  incoming: ServerSettings[];
  /** In order of preference; never port 25, never a plain connection. */
  outgoing: ServerSettings[];
  /** Password authentication, always required. */
  authentication: 'password';
  maxMessageBytes: number;
}

export type DataErrorKind = 'invalid-created' | 'missing-mail-server' | 'invalid-mail-server' | 'invalid-username';

/** Account data from which no correct host can be derived: we never guess one. */
export interface DataError {
  kind: DataErrorKind;
  username: string;
  detail: string;
}

export type SettingsResult = { ok: true; settings: MailSettings } | { ok: false; error: DataError };

/** What the policy decides from: the account the directory found, and what was asked. */
export interface SettingsInput {
  account: Account;
  /** The domain asked about, lower-case. */
  domain: string;
  /** The full address, when known (`localPart@domain`). */
  address?: string | null;
  /** A login stored for this mailbox; it wins over every other rule. */
  mailboxLogin?: string | null;
  /** When the mailbox was named by the MD5 of its address instead (`address` is then null). */
  mailboxMd5?: string | null;
}

const PORTS: ReadonlyArray<Omit<ServerSettings, 'host'>> = [
  { protocol: 'imap', port: 993, security: 'tls' },
  { protocol: 'imap', port: 143, security: 'starttls' },
  { protocol: 'pop3', port: 995, security: 'tls' },
  { protocol: 'pop3', port: 110, security: 'starttls' },
  { protocol: 'smtp', port: 465, security: 'tls' },
  { protocol: 'smtp', port: 587, security: 'starttls' },
];

/** The mail host of an account, or the data error that prevents knowing it. */
export function hostFor(account: Account, profile: ProviderProfile): { era: Era; host: string } | DataError {
  const fail = (kind: DataErrorKind, detail: string): DataError => ({ kind, username: account.username, detail });
  const era = eraOf(account.created, profile.eraCutoff, profile.timeZone);
  if (!era) return fail('invalid-created', `creation date "${account.created}" is not a date`);
  if (era === 'old') {
    if (account.mailServer === null) return fail('missing-mail-server', 'old-era account has no mail server number');
    if (!Number.isSafeInteger(account.mailServer) || account.mailServer <= 0) {
      return fail('invalid-mail-server', `mail server number ${account.mailServer} is not a positive integer`);
    }
    return { era, host: profile.oldEraHost.replaceAll('{mailServer}', String(account.mailServer)) };
  }
  if (!isDnsLabel(account.username)) {
    return fail('invalid-username', `username "${account.username}" is not a valid DNS label`);
  }
  return { era, host: profile.newEraHost.replaceAll('{username}', account.username) };
}

/** The login by rule: the bare username on account-named domains, else the address as typed. */
function ruleLogin(input: SettingsInput, profile: ProviderProfile): string | null {
  if (!input.address) return null;
  if (isAccountNamedDomain(profile, input.domain)) return input.account.username;
  return input.address;
}

/**
 * The login: a stored per-mailbox login, else the rule's. A stored login that is only the
 * rule's own login in other letters' case is no override: answering it would tell a stored
 * mailbox from an unknown one by the case of the answer alone (`KNOWN@` vs `XNOWN@`).
 */
export function loginFor(input: SettingsInput, profile: ProviderProfile): string | null {
  const stored = input.mailboxLogin;
  if (input.mailboxMd5 && !input.address) {
    // Named by its hash: the rule's login (the address) is unknown here, and clients fill it
    // in. A stored login that is only that address, in any case, hashes to the same: no
    // override either, so it answers as an unknown mailbox does.
    return stored && addressMd5(stored.toLowerCase()) !== input.mailboxMd5 ? stored : null;
  }
  const rule = ruleLogin(input, profile);
  if (stored && stored.toLowerCase() !== rule?.toLowerCase()) return stored;
  return rule;
}

/**
 * Whether every mailbox at `domain` logs in with its full address: no stored per-mailbox
 * login there (`domainHasMailboxLogins`, from the directory's domain lookup), and not an
 * account-named domain (there the login is the bare username). A document that names no
 * login (PACC: the client logs in with the address) works only then.
 */
export function addressIsEveryLogin(domain: string, domainHasMailboxLogins: boolean | null, profile: ProviderProfile): boolean {
  return domainHasMailboxLogins === false && !isAccountNamedDomain(profile, domain);
}

export function settingsFor(input: SettingsInput, profile: ProviderProfile): SettingsResult {
  const host = hostFor(input.account, profile);
  if ('kind' in host) return { ok: false, error: host };
  const servers = PORTS.map((p) => ({ ...p, host: host.host }));
  return {
    ok: true,
    settings: {
      provider: {
        id: profile.id,
        displayName: profile.displayName,
        displayShortName: profile.displayShortName,
        documentationUrl: profile.documentationUrl,
      },
      domain: input.domain,
      address: input.address ?? null,
      login: loginFor(input, profile),
      ...(input.mailboxMd5 && !input.address ? { namedByHash: true as const } : {}),
      era: host.era,
      host: host.host,
      incoming: servers.filter((s) => s.protocol !== 'smtp'),
      outgoing: servers.filter((s) => s.protocol === 'smtp'),
      authentication: 'password',
      maxMessageBytes: profile.maxMessageBytes,
    },
  };
}
