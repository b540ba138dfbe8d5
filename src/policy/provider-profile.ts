// The provider's facts: everything another hosting provider would change to reuse the
// service lives here, as data, so adapting it needs a JSON file (config/provider-file.ts)
// and no code change; and the provider's wording for people, beside the facts it explains.
import { isXmlText } from '../model/text.js';

export interface ProviderProfile {
  /** `emailProvider@id` in autoconfig; must be a valid host name (Thunderbird checks). */
  id: string;
  /** Shown by clients; the autoconfig draft allows at most 60 characters. */
  displayName: string;
  /** At most 20 characters (autoconfig draft). */
  displayShortName: string;
  /** Help page for customers, linked from every answer. */
  documentationUrl: string;
  /** First calendar day of the new era (`YYYY-MM-DD`), compared in `timeZone`. */
  eraCutoff: string;
  /** IANA zone in which account creation timestamps become calendar dates. */
  timeZone: string;
  /** Mail host of an old-era account; `{mailServer}` is the account's mail server number. */
  oldEraHost: string;
  /** Mail host of a new-era account; `{username}` is the account's username. */
  newEraHost: string;
  /** Domains whose local part names the account (`<username>@pair.com`). */
  accountNamedDomains: string[];
  /** Largest message accepted, in bytes, counted after encoding. */
  maxMessageBytes: number;
  /** The rules for the SMTP service, shown to people (settings page, its text, `mailconf lookup`), never to mail clients. */
  usageRules: string[];
  /**
   * Told to a person whose address on an account-named domain names no known account
   * (`nobody@pair.com`): `{username}` is the account name they typed, `{domain}` the domain.
   */
  unknownAccountText: string;
  /**
   * The host names customer domains' MX records point at (a `{mailServer}` or `{username}`
   * placeholder as in the era hosts). Clients that find no `autoconfig.<customer domain>`
   * look up the domain's MX and try `autoconfig.<MX base domain>` (draft-ietf-mailmaint-
   * autoconfig-06 section 4.3): `mxLookupDomains` derives those names from this list, the
   * service owns them (SERVICE_HOSTS) and the autoconfig answer lists the base domains as
   * `<domain purpose="mx">`. An empty list: no MX-based names.
   */
  mxHosts: string[];
}

export const defaultProvider: ProviderProfile = Object.freeze({
  id: 'pair.com',
  displayName: 'pair Networks Mail',
  displayShortName: 'pair Mail',
  documentationUrl: 'https://www.pair.com/support/kb/',
  eraCutoff: '2011-06-01',
  timeZone: 'America/New_York',
  oldEraHost: 'mail{mailServer}.pair.com',
  newEraHost: '{username}.mail.pairserver.com',
  accountNamedDomains: Object.freeze(['pair.com']) as string[],
  maxMessageBytes: 40 * 1024 * 1024,
  usageRules: Object.freeze([
    'For customers only, sending from the addresses of their own hosting accounts.',
    'No mailing lists: the provider offers a mailing list service for those.',
    'No large attachments.',
    'No mail from unaffiliated addresses (addresses that are not yours).',
    'No spam.',
  ]) as string[],
  unknownAccountText:
    'No account named "{username}" is known. At {domain}, the part before the @ is the username of your hosting account: check it in your control panel or welcome email.',
  // provider.md names no MX hosts. The hosts it documents are the era hosts above, which it
  // says also receive the account's mail ("the same host name is used for incoming mail"),
  // so these are taken as the MX hosts: base domains pair.com and pairserver.com.
  // Assumption to confirm with the provider (a separate MX farm, e.g. mx1.pair.com, would
  // keep the same base domains only if it stays under pair.com or pairserver.com).
  mxHosts: Object.freeze(['mail{mailServer}.pair.com', '{username}.mail.pairserver.com']) as string[],
});

/** What the profile says to people, as the settings page and its text need it. */
export type ProviderWording = Pick<ProviderProfile, 'usageRules' | 'unknownAccountText'>;

/** The message for an unknown account on an account-named domain, in the profile's words. */
export function unknownAccountMessage(p: Pick<ProviderProfile, 'unknownAccountText'>, username: string, domain: string): string {
  // One pass, so a placeholder inside what was typed is never filled in again.
  return p.unknownAccountText.replace(/\{(username|domain)\}/g, (_, name: string) => (name === 'username' ? username : domain));
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Whether a host pattern gives a host name once its placeholder is filled in, so that a
 * pattern such as `mail {mailServer}` or `{username}_x.example` is refused at start-up
 * instead of giving clients a host that does not exist.
 */
function isHostPattern(pattern: string, placeholder: string, sample: string): boolean {
  return HOSTNAME.test(pattern.replaceAll(placeholder, sample));
}

/** Why `profile` cannot be used, or undefined when it can. */
export function checkProvider(p: ProviderProfile): string | undefined {
  const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (!isText(p.id) || !HOSTNAME.test(p.id)) return 'id must be a lower-case host name';
  if (!isText(p.displayName) || p.displayName.length > 60) return 'displayName must be 1-60 characters';
  if (!isText(p.displayShortName) || p.displayShortName.length > 20) return 'displayShortName must be 1-20 characters';
  // Shown in every answer: a control character or one XML cannot carry would make each of
  // them a data error (or, in the plain-text answers, a line break the client never wrote).
  for (const field of ['displayName', 'displayShortName', 'documentationUrl'] as const) {
    if (!isXmlText(p[field]) || /\p{Cc}/u.test(p[field])) return `${field} must not contain control characters or characters XML forbids`;
  }
  if (!isText(p.documentationUrl) || !/^https?:\/\//.test(p.documentationUrl)) return 'documentationUrl must be an http(s) URL';
  if (!isText(p.eraCutoff) || !/^\d{4}-\d{2}-\d{2}$/.test(p.eraCutoff)) return 'eraCutoff must be YYYY-MM-DD';
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: p.timeZone });
  } catch {
    return `timeZone "${String(p.timeZone)}" is not a known time zone`;
  }
  if (!isText(p.oldEraHost) || !p.oldEraHost.includes('{mailServer}')) return 'oldEraHost must contain {mailServer}';
  if (!isHostPattern(p.oldEraHost, '{mailServer}', '1')) {
    return `oldEraHost "${p.oldEraHost}" must be a lower-case host name with {mailServer} in it (e.g. mail{mailServer}.example.com)`;
  }
  if (!isText(p.newEraHost) || !p.newEraHost.includes('{username}')) return 'newEraHost must contain {username}';
  if (!isHostPattern(p.newEraHost, '{username}', 'a')) {
    return `newEraHost "${p.newEraHost}" must be a lower-case host name with {username} in it (e.g. {username}.mail.example.com)`;
  }
  if (!Array.isArray(p.accountNamedDomains) || !p.accountNamedDomains.every((d) => isText(d) && HOSTNAME.test(d))) {
    return 'accountNamedDomains must be a list of lower-case host names';
  }
  if (!Number.isSafeInteger(p.maxMessageBytes) || p.maxMessageBytes <= 0) return 'maxMessageBytes must be a positive integer';
  // Shown to people, one line each (a list item, a line of text): no line breaks.
  const isLine = (v: unknown): v is string => isText(v) && v.length <= 500 && isXmlText(v) && !/\p{Cc}|[\u2028\u2029]/u.test(v);
  if (!Array.isArray(p.usageRules) || p.usageRules.length === 0 || !p.usageRules.every(isLine)) {
    return 'usageRules must be a non-empty list of lines of text (1-500 characters, no control characters)';
  }
  if (!isLine(p.unknownAccountText)) return 'unknownAccountText must be a line of text (1-500 characters, no control characters)';
  const unknownPlaceholder = /\{(?!(?:username|domain)\})[^}]*\}/.exec(p.unknownAccountText);
  if (unknownPlaceholder) return `unknownAccountText: unknown placeholder ${unknownPlaceholder[0]} (only {username} and {domain})`;
  if (!Array.isArray(p.mxHosts)) return 'mxHosts must be a list of host names';
  for (const mx of p.mxHosts) {
    const filled = isText(mx) ? mx.replaceAll('{mailServer}', '1').replaceAll('{username}', 'a') : '';
    if (!HOSTNAME.test(filled) || baseDomainOf(mx).includes('{')) {
      return `mxHosts: "${String(mx)}" must be a lower-case host name (mx.example.com), with {mailServer} or {username} only below its base domain`;
    }
  }
  return undefined;
}

/** What a client derives from an MX host name (draft-ietf-mailmaint-autoconfig-06 section 4.3). */
export interface MxLookupDomains {
  /**
   * `%MXBASEDOMAIN%` of each MX host: its registrable domain (`pairserver.com` for
   * `alice.mail.pairserver.com`), where clients try `autoconfig.<base>` (Thunderbird,
   * Thunderbird for Android) and that the autoconfig answer names as `<domain purpose="mx">`.
   */
  base: string[];
  /**
   * `%MXFULLDOMAIN%` where it is longer than the base domain and the same for every
   * account: the MX host without its first label, when that label is not a placeholder.
   * (`{username}.mail.pairserver.com` gives none: `autoconfig.mail.pairserver.com` would
   * be the mail host of an account named `autoconfig`, not a name of the service.)
   */
  full: string[];
}

/**
 * The registrable domain of a host under a one-label public suffix: its last two labels.
 * Clients use the Public Suffix List (Thunderbird `Services.eTLD.getBaseDomainFromHost`,
 * Thunderbird for Android OkHttp's PublicSuffixDatabase); mailconf carries no copy of it,
 * so this is right for `.com`, `.net`, `.org` and other one-label suffixes, and wrong under
 * a two-label suffix such as `.co.uk` (docs/autoconfig-draft.md, gaps).
 */
function baseDomainOf(host: string): string {
  return host.split('.').slice(-2).join('.');
}

const unique = (list: string[]): string[] => list.filter((v, i) => list.indexOf(v) === i);

const MX_CACHE = new WeakMap<ProviderProfile, MxLookupDomains>();

/** The MX-based lookup domains of `profile`, derived once per profile. */
export function mxLookupDomains(profile: ProviderProfile): MxLookupDomains {
  const known = MX_CACHE.get(profile);
  if (known) return known;
  const base: string[] = [];
  const full: string[] = [];
  for (const mx of profile.mxHosts) {
    const labels = mx.split('.');
    const b = baseDomainOf(mx);
    base.push(b);
    const parent = labels.slice(1).join('.');
    if (!labels[0]!.includes('{') && !parent.includes('{') && parent.endsWith(`.${b}`)) full.push(parent);
  }
  const derived: MxLookupDomains = Object.freeze({ base: unique(base), full: unique(full).filter((f) => !base.includes(f)) });
  MX_CACHE.set(profile, derived);
  return derived;
}

/**
 * The message size limit in whole megabytes, and the attachments that fit once encoded:
 * base64 (RFC 2045 section 6.8) turns 3 bytes into 4, plus line breaks, so 7/8 of the limit
 * gives the provider's own "40 MB, about 35 MB of attachments".
 */
export function messageLimits(maxMessageBytes: number): { megabytes: number; attachmentMegabytes: number } {
  const megabytes = Math.round(maxMessageBytes / (1024 * 1024));
  return { megabytes, attachmentMegabytes: Math.floor(megabytes * 0.875) };
}

/** Why port 25 is not offered, in the words shown to people (settings page and text). */
export const PORT_25_REASON =
  'Port 25 is not offered: many internet providers block it, so a mail program set to it often cannot send. ' +
  'Ports 465 and 587 are rarely blocked and always encrypted. Unencrypted connections are never offered.';

