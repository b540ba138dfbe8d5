// Apple Mail (iOS, iPadOS, macOS) configuration profiles: one `Configuration` profile
// holding one `com.apple.mail.managed` payload (Apple's Configuration Profile Reference,
// "Mail"): the request reader, the identifiers, the profile, and the answer for every
// Resolution. The `plist` library writes the XML, so every value is escaped by
// construction; signing is injected (src/signing/), so this file reads no key.
import { createHmac } from 'node:crypto';
import { build, type PlistValue } from 'plist';
import { parseAddress, type MailTarget } from '../model/address.js';
import type { Resolution } from '../pipeline/lookup.js';
import type { MailSettings, ServerSettings } from '../policy/settings.js';
import { MAILBOX_PRIVATE, NOSNIFF, PER_ADDRESS, textAnswer, textFailure, withHeaders, type Answer } from './answer.js';
import { isXmlSafe } from './escape.js';

export const MOBILECONFIG_CONTENT_TYPE = 'application/x-apple-aspen-config';

/** What makes a profile replace the one installed before it: stable per address, unguessable. */
export interface MobileconfigIds {
  /** Top-level `PayloadIdentifier`, e.g. `com.pair.mailconf.<hash>`; names no address. */
  identifier: string;
  /** Top-level `PayloadUUID`. */
  profileUuid: string;
  /** The mail payload's `PayloadUUID`. */
  payloadUuid: string;
}

/** Formats 16 bytes as an RFC 9562 (RFC 4122 layout) version-8 UUID: custom, hash-derived. */
export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length < 16) throw new RangeError('a UUID needs 16 bytes');
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10xx
  const hex = b.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The identifiers of `address`'s profile: HMAC-SHA256 under `secret` of the lower-cased
 * address, one label per identifier. The same address always gets the same ones (so a
 * re-download replaces the installed profile); without the secret they cannot be derived,
 * and the identifier does not reveal the address.
 */
export function mobileconfigIds(secret: string, address: string, providerId: string): MobileconfigIds {
  const mac = (label: string) =>
    createHmac('sha256', secret).update(`mailconf mobileconfig ${label}\0${address.toLowerCase()}`).digest();
  // `pair.com` -> `com.pair`: the reverse-DNS prefix Apple's identifiers use.
  const prefix = providerId.split('.').reverse().join('.');
  return {
    identifier: `${prefix}.mailconf.${mac('identifier').subarray(0, 16).toString('hex')}`,
    profileUuid: uuidFromBytes(mac('profile-uuid')),
    payloadUuid: uuidFromBytes(mac('payload-uuid')),
  };
}

export class MobileconfigError extends Error {
  override name = 'MobileconfigError';
}

/** The settings' address and login, and the policy's first IMAP and first SMTP server. */
function accountOf(settings: MailSettings): { address: string; login: string; imap: ServerSettings; smtp: ServerSettings } {
  const imap = settings.incoming.find((s) => s.protocol === 'imap');
  const smtp = settings.outgoing.find((s) => s.protocol === 'smtp');
  if (settings.address === null || settings.login === null) throw new MobileconfigError('a mail profile needs the address');
  if (!imap || !smtp) throw new MobileconfigError('a mail profile needs an IMAP and an SMTP server');
  return { address: settings.address, login: settings.login, imap, smtp };
}

/** The profile as a plist value, before serialisation (tests read it too). */
export function mobileconfigValue(settings: MailSettings, ids: MobileconfigIds): { [key: string]: PlistValue } {
  const { address, login, imap, smtp } = accountOf(settings);
  const { displayName, displayShortName } = settings.provider;
  const mail: { [key: string]: PlistValue } = {
    PayloadType: 'com.apple.mail.managed',
    PayloadVersion: 1,
    PayloadIdentifier: `${ids.identifier}.mail`,
    PayloadUUID: ids.payloadUuid,
    PayloadDisplayName: `${displayShortName}: ${address}`,
    PayloadDescription: `The ${displayName} account ${address}`,
    PayloadOrganization: displayName,
    EmailAccountType: 'EmailTypeIMAP',
    EmailAccountDescription: `${address} (${displayShortName})`,
    EmailAddress: address,
    IncomingMailServerHostName: imap.host,
    IncomingMailServerPortNumber: imap.port,
    // Apple has no STARTTLS switch: UseSSL means TLS from the first byte, which is what
    // the policy's first choices (993, 465) are.
    IncomingMailServerUseSSL: imap.security === 'tls',
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerUsername: login,
    OutgoingMailServerHostName: smtp.host,
    OutgoingMailServerPortNumber: smtp.port,
    OutgoingMailServerUseSSL: smtp.security === 'tls',
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerUsername: login,
    // The password is asked for once, at installation; it is never part of the profile.
    OutgoingPasswordSameAsIncomingPassword: true,
  };
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: ids.identifier,
    PayloadUUID: ids.profileUuid,
    PayloadDisplayName: `${displayName}: ${address}`,
    PayloadDescription:
      `Sets up ${address} in Apple Mail with the ${displayName} servers. ` +
      'Your password is asked for during installation; it is not part of this profile.',
    PayloadOrganization: displayName,
    PayloadContent: [mail],
  };
}

const serialise = (value: PlistValue) => `${build(value)}\n`;

/** The profile as an XML property list (UTF-8 text; sign it or send it as is). */
export function renderMobileconfig(settings: MailSettings, ids: MobileconfigIds): string {
  return serialise(mobileconfigValue(settings, ids));
}

export type MobileconfigRead = { ok: true; target: MailTarget } | { ok: false; answer: Answer };

/**
 * A profile sets up one mailbox: unlike autoconfig, the Host cannot stand in for the
 * address. An address with characters XML cannot hold is not valid (model/address.ts), so
 * it gets the 400 before anything is rendered.
 */
export function readMobileconfigRequest(emailaddress: string | undefined): MobileconfigRead {
  if (emailaddress === undefined || emailaddress.trim() === '') {
    return { ok: false, answer: withHeaders(textAnswer(400, 'Add your email address: /mobileconfig?emailaddress=you@example.com'), PER_ADDRESS) };
  }
  const address = parseAddress(emailaddress);
  if (!address) return { ok: false, answer: withHeaders(textAnswer(400, 'That is not a valid email address'), PER_ADDRESS) };
  return { ok: true, target: { domain: address.domain, address } };
}

/** Wraps a profile in a signature (CMS SignedData, DER); absent: profiles go unsigned. */
export type ProfileSign = (profile: string) => Promise<Buffer>;

export interface MobileconfigDialect {
  answer(resolution: Resolution): Promise<Answer>;
}

/** `secret` keys the identifiers (config/secret.ts); `sign` signs when a certificate is configured. */
export function mobileconfigDialect(secret: string, sign?: ProfileSign): MobileconfigDialect {
  return {
    async answer(resolution) {
      if (resolution.kind !== 'settings') {
        return withHeaders(textFailure(resolution.kind, 'No mail settings are published for this address'), PER_ADDRESS);
      }
      const { settings } = resolution;
      const ids = mobileconfigIds(secret, settings.address ?? '', settings.provider.id);
      const value = mobileconfigValue(settings, ids);
      // The plist writer throws on text XML cannot hold (Apple's profiles are XML property
      // lists); stored data like that is data no profile can be made from, never a throw.
      if (!isXmlSafe(value)) return withHeaders(textFailure('data-error'), PER_ADDRESS);
      const unsigned = serialise(value);
      return {
        status: 200,
        type: MOBILECONFIG_CONTENT_TYPE,
        headers: {
          ...NOSNIFF,
          'content-disposition': `attachment; filename="${settings.domain}.mobileconfig"`,
          // The profile names the address and its login.
          ...MAILBOX_PRIVATE,
        },
        body: sign ? await sign(unsigned) : unsigned,
      };
    },
  };
}
