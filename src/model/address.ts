// Email addresses and host names as they arrive from clients: parsed once, strictly,
// so that everything downstream works with clean lower-case domains (RFC 5321 section
// 4.5.3.1 for the lengths, RFC 1035 section 2.3.1 for labels, RFC 5891 for Unicode names).
import { hash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { isXmlText } from './text.js';

export interface EmailAddress {
  /** `localPart@domain`, the local part as the client sent it, the domain lower-case. */
  address: string;
  localPart: string;
  domain: string;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Whitespace and control characters never belong in a mailbox name (RFC 5321 section
// 4.1.2: atext and qtextSMTP are printable; RFC 6531 section 3.3 adds only UTF-8 text);
// other characters (including & < > " ') are legal in quoted or atext local parts and are
// escaped on output. What XML cannot hold at all (model/text.ts) is refused too, so no
// answer can be broken by an address.
const BAD_LOCAL_CHAR = /[\s\p{Cc}@]/u;

/** A lower-case ASCII domain, or undefined when `raw` is not a usable domain name. */
export function normalizeDomain(raw: string): string | undefined {
  let name = raw.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '' || name.length > 253) return undefined;
  // Unicode domains become their punycode form; invalid ones come back empty.
  if (/[^\x00-\x7f]/.test(name)) name = domainToASCII(name);
  const labels = name.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return undefined;
  return name;
}

/** The address, or undefined for anything malformed (callers treat that as absent). */
export function parseAddress(raw: string | undefined): EmailAddress | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text.length === 0 || text.length > 254) return undefined;
  const at = text.indexOf('@');
  if (at <= 0 || at !== text.lastIndexOf('@')) return undefined;
  const localPart = text.slice(0, at);
  if (localPart.length > 64 || BAD_LOCAL_CHAR.test(localPart) || !isXmlText(localPart)) return undefined;
  const domain = normalizeDomain(text.slice(at + 1));
  if (!domain) return undefined;
  return { address: `${localPart}@${domain}`, localPart, domain };
}

/** A Host header's name: lower-case, without its port or a trailing dot; '' for an IPv6 literal. */
export function hostName(host: string | undefined): string {
  const name = (host ?? '').trim().toLowerCase();
  if (name.startsWith('[')) return ''; // an IPv6 literal names no domain
  const colon = name.indexOf(':');
  return (colon >= 0 ? name.slice(0, colon) : name).replace(/\.$/, '');
}

/**
 * The domain named by a Host header: without its port, lower-case, and without one
 * leading service label (`autoconfig.`, `autodiscover.`), which customers' DNS points at us.
 */
export function domainFromHost(host: string | undefined, serviceLabels: readonly string[]): string | undefined {
  let name = hostName(host);
  if (name === '') return undefined;
  for (const label of serviceLabels) {
    if (name.startsWith(`${label}.`)) {
      name = name.slice(label.length + 1);
      break;
    }
  }
  return normalizeDomain(name);
}

/** True for a valid DNS label (1-63 of a-z, 0-9 and '-', not starting or ending with '-'). */
export function isDnsLabel(text: string): boolean {
  return LABEL.test(text);
}

/** What a client asks about: a domain, and the mailbox when it named one in that domain. */
export interface MailTarget {
  /** Lower-case domain the client asks about. */
  domain: string;
  /** The mailbox, when the client named one in that domain. */
  address?: EmailAddress | undefined;
  /**
   * Only for Evolution's placeholder form (`evolutionMailboxMd5`): the mailbox, named by the
   * MD5 of its lower-cased address instead of the address (then `address` is undefined).
   * A hash anyone can compute from the address: never logged, like the address.
   */
  mailboxMd5?: string | undefined;
}

/**
 * The lower-case hex MD5 of an address's UTF-8 bytes: what the directory indexes for each
 * stored (lower-case) address, and what Evolution sends as `emailmd5`.
 */
export function addressMd5(address: string): string {
  return hash('md5', address, 'hex');
}

/** The local part Evolution sends in place of the user's (GNOME wiki, Apps/Evolution/Autoconfig). */
export const EVOLUTION_PLACEHOLDER = 'EVOLUTIONUSER';
const MD5_HEX = /^[0-9a-f]{32}$/i;

/** Whether `address` is Evolution's placeholder, `EVOLUTIONUSER@<domain>`, rather than a mailbox. */
export function isEvolutionPlaceholder(address: EmailAddress): boolean {
  return address.localPart.toUpperCase() === EVOLUTION_PLACEHOLDER;
}

/**
 * Evolution's `emailmd5`, lower-case, when the request is its placeholder form
 * (`emailaddress=EVOLUTIONUSER@<domain>&emailmd5=<hex>`); undefined for any other request
 * or a value that is not 32 hex digits (then ignored, as an unknown parameter is).
 *
 * GNOME/evolution src/mail/e-mail-autoconfig.c (`mail_autoconfig_calc_emailmd5`) computes
 * it as GLib's hex MD5 of the typed address after ASCII lower-casing: the full address,
 * local part and domain. Releases up to at least 3.40 put the placeholder in
 * `emailaddress` (GNOME wiki, Apps/Evolution/Autoconfig; seen from 3.40.0 by
 * wdes/mail-autodiscover-autoconfig); later ones send the real address beside the hash,
 * which needs nothing of this.
 */
export function evolutionMailboxMd5(address: EmailAddress | undefined, emailmd5: string | undefined): string | undefined {
  if (!address || !isEvolutionPlaceholder(address) || emailmd5 === undefined) return undefined;
  const hash = emailmd5.trim();
  return MD5_HEX.test(hash) ? hash.toLowerCase() : undefined;
}

/**
 * What a person typed (an address, or a bare domain for domain-level settings) as a
 * target; undefined when it is neither. Used where people ask: the settings page and the CLI.
 */
export function parseTypedTarget(typed: string): MailTarget | undefined {
  const text = typed.trim();
  if (text.includes('@')) {
    const address = parseAddress(text);
    return address && { domain: address.domain, address };
  }
  const domain = normalizeDomain(text);
  return domain ? { domain } : undefined;
}
