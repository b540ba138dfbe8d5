// The provider's facts: everything another hosting provider would change to reuse the
// service lives here, as data, so adapting it needs a JSON file and no code change.
import { readFileSync } from 'node:fs';

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
});

export class ProviderProfileError extends Error {}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The default profile, with the fields of a JSON file laid over it when `path` is given.
 * Anything unusable stops start-up here rather than producing broken answers later.
 */
export function loadProvider(path?: string): ProviderProfile {
  if (!path) return defaultProvider;
  let overrides: unknown;
  try {
    overrides = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ProviderProfileError(`cannot read provider profile ${path}: ${(err as Error).message}`);
  }
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new ProviderProfileError(`provider profile ${path} must be a JSON object`);
  }
  for (const key of Object.keys(overrides)) {
    if (!(key in defaultProvider)) throw new ProviderProfileError(`provider profile ${path}: unknown field "${key}"`);
  }
  const profile = { ...defaultProvider, ...(overrides as Partial<ProviderProfile>) };
  const problem = checkProvider(profile);
  if (problem) throw new ProviderProfileError(`provider profile ${path}: ${problem}`);
  return profile;
}

/** Why `profile` cannot be used, or undefined when it can. */
export function checkProvider(p: ProviderProfile): string | undefined {
  const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (!isText(p.id) || !HOSTNAME.test(p.id)) return 'id must be a lower-case host name';
  if (!isText(p.displayName) || p.displayName.length > 60) return 'displayName must be 1-60 characters';
  if (!isText(p.displayShortName) || p.displayShortName.length > 20) return 'displayShortName must be 1-20 characters';
  if (!isText(p.documentationUrl) || !/^https?:\/\//.test(p.documentationUrl)) return 'documentationUrl must be an http(s) URL';
  if (!isText(p.eraCutoff) || !/^\d{4}-\d{2}-\d{2}$/.test(p.eraCutoff)) return 'eraCutoff must be YYYY-MM-DD';
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: p.timeZone });
  } catch {
    return `timeZone "${String(p.timeZone)}" is not a known time zone`;
  }
  if (!isText(p.oldEraHost) || !p.oldEraHost.includes('{mailServer}')) return 'oldEraHost must contain {mailServer}';
  if (!isText(p.newEraHost) || !p.newEraHost.includes('{username}')) return 'newEraHost must contain {username}';
  if (!Array.isArray(p.accountNamedDomains) || !p.accountNamedDomains.every((d) => isText(d) && HOSTNAME.test(d))) {
    return 'accountNamedDomains must be a list of lower-case host names';
  }
  if (!Number.isSafeInteger(p.maxMessageBytes) || p.maxMessageBytes <= 0) return 'maxMessageBytes must be a positive integer';
  return undefined;
}
