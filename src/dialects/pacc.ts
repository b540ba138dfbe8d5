// PACC (draft-ietf-mailmaint-pacc, which carries Apple's draft-eggert-mailmaint-uaautoconf):
// GET https://ua-auto-config.<domain>/.well-known/user-agent-configuration.json, one
// document per domain, no address. A client accepts the body only when the SHA-256 of its
// exact bytes matches a `_ua-auto-config.<domain>` TXT record, so the body is byte-stable:
// keys in an order fixed here, ASCII only, no whitespace, no trailing newline, nothing of
// time or instance. The document has no login field (the client logs in with the address),
// so it is published only where that login works. Pure: a Resolution in, bytes out.
import { createHash } from 'node:crypto';
import { PACC_LABEL } from '../links.js';
import { hostName, normalizeDomain } from '../model/address.js';
import type { Resolution } from '../pipeline/lookup.js';
import type { MailSettings, Protocol, ServerSettings } from '../policy/settings.js';
import { NOSNIFF, textAnswer, textFailure, type Answer } from './answer.js';

/**
 * The revision whose document shape this follows: -03 (Sept. 2026). -04 is published, but
 * only its front page could be read here; the -03 shape (`protocols.imap/pop3/submit` each
 * `{ host }`, implicit TLS on the default port implied; `authentication.password`;
 * `info.provider.name/shortName`; `info.help.documentation`) was read from the standards
 * notes (docs of the public implementations that name -03). Revisit when -04 is readable.
 */
export const PACC_REVISION = 'draft-ietf-mailmaint-pacc-03';

/**
 * The TTL `mailconf dns` prints for the `_ua-auto-config` TXT record, and the document's
 * Cache-Control max-age: a client never keeps a body longer than the digest that vouches
 * for it. A change of body waits one TTL after the new TXT record is published.
 */
export const PACC_TTL_SECONDS = 3600;

/** No charset parameter (RFC 8259 section 11 defines none): the body is ASCII, every other character escaped. */
export const PACC_TYPE = 'application/json';

/** The integrity record's version and algorithm tags (draft-ietf-mailmaint-pacc, the TXT record). */
const TXT_VERSION = 'UAAC1';
const TXT_ALGORITHM = 'sha256';

/**
 * The implicit-TLS port each PACC protocol implies: the document names hosts only, so a
 * server is listed only when the policy's first choice for it is implicit TLS on that port.
 */
const PACC_PROTOCOLS: ReadonlyArray<{ key: 'imap' | 'pop3' | 'submit'; protocol: Protocol; port: number }> = [
  { key: 'imap', protocol: 'imap', port: 993 },
  { key: 'pop3', protocol: 'pop3', port: 995 },
  { key: 'submit', protocol: 'smtp', port: 465 },
];

/** The customer domain a request's Host names: `ua-auto-config.<domain>` only, else undefined. */
export function paccDomainOfHost(host: string | undefined): string | undefined {
  const name = hostName(host);
  if (!name.startsWith(`${PACC_LABEL}.`)) return undefined;
  return normalizeDomain(name.slice(PACC_LABEL.length + 1));
}

/** JSON.stringify, then every non-ASCII character as `\uXXXX`: the same bytes in any charset. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The document for domain-level settings, or undefined when none of its servers can be expressed. */
export function paccBody(settings: MailSettings): string | undefined {
  const all = [...settings.incoming, ...settings.outgoing];
  const protocols: Partial<Record<'imap' | 'pop3' | 'submit', { host: string }>> = {};
  for (const { key, protocol, port } of PACC_PROTOCOLS) {
    const first: ServerSettings | undefined = all.find((s) => s.protocol === protocol);
    if (first && first.security === 'tls' && first.port === port) protocols[key] = { host: first.host };
  }
  if (Object.keys(protocols).length === 0) return undefined;
  // Key order is this literal's (JSON.stringify keeps insertion order; no key comes from input).
  return asciiJson({
    protocols,
    authentication: { password: true },
    info: {
      provider: { name: settings.provider.displayName, shortName: settings.provider.displayShortName },
      help: { documentation: settings.provider.documentationUrl },
    },
  });
}

export type PaccPublication = { published: true; body: string } | { published: false; reason: string };

/** Whether a domain publishes a PACC document, and the document or why not. */
export function paccPublication(resolution: Resolution): PaccPublication {
  switch (resolution.kind) {
    case 'settings': {
      if (resolution.addressIsEveryLogin !== true) {
        return {
          published: false,
          reason:
            'some mailboxes at this domain have their own stored login, and a PACC document has no login field (the client logs in with the address): it would not work for them',
        };
      }
      const body = paccBody(resolution.settings);
      return body === undefined
        ? { published: false, reason: 'none of its servers is implicit TLS on the default port, all a PACC document can name' }
        : { published: true, body };
    }
    case 'address-required':
      return { published: false, reason: 'an account-named domain: the login is the bare username, and a PACC document has no login field' };
    case 'unknown-domain':
      return { published: false, reason: 'no account serves it' };
    case 'data-error':
      return { published: false, reason: "the account's data gives no host" };
    case 'unavailable':
      return { published: false, reason: 'the directory did not answer' };
  }
}

/** Base64 of the SHA-256 of the body's bytes: the TXT record's `d=`. */
export function paccDigest(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

/** The `_ua-auto-config` TXT record's text for a body's digest. */
export function paccTxtRecord(digest: string): string {
  return `v=${TXT_VERSION}; a=${TXT_ALGORITHM}; d=${digest}`;
}

/**
 * The digest an integrity record vouches for, or undefined when it is none (another
 * version or algorithm, a tag given twice, no digest). Tag order, spaces, a final `;` and
 * unknown tags do not matter; tag names and the v= and a= values are read in any case.
 */
export function paccRecordDigest(text: string): string | undefined {
  const tags = new Map<string, string>();
  for (const raw of text.split(';')) {
    const tag = raw.trim();
    if (tag === '') continue;
    const eq = tag.indexOf('=');
    if (eq <= 0) return undefined;
    const name = tag.slice(0, eq).trim().toLowerCase();
    if (tags.has(name)) return undefined;
    tags.set(name, tag.slice(eq + 1).trim());
  }
  if (tags.get('v')?.toUpperCase() !== TXT_VERSION || tags.get('a')?.toLowerCase() !== TXT_ALGORITHM) return undefined;
  const d = tags.get('d');
  return d ? d : undefined;
}

const NOT_PUBLISHED = textAnswer(404, 'No user-agent configuration is published for this domain');

export interface PaccDialect {
  /** The answer on a Host that is no `ua-auto-config.<domain>`. */
  readonly noDomain: Answer;
  answer(resolution: Resolution): Answer;
}

export function paccDialect(): PaccDialect {
  return {
    noDomain: NOT_PUBLISHED,
    answer(resolution) {
      if (resolution.kind === 'unavailable' || resolution.kind === 'data-error') return textFailure(resolution.kind);
      const publication = paccPublication(resolution);
      if (!publication.published) return NOT_PUBLISHED;
      // Public: one document per domain, the same for everyone; kept no longer than its TXT
      // record. As bytes: Fastify would add `; charset=utf-8` to a JSON type sent as a string.
      return {
        status: 200,
        type: PACC_TYPE,
        headers: { ...NOSNIFF, 'cache-control': `public, max-age=${PACC_TTL_SECONDS}` },
        body: Buffer.from(publication.body, 'ascii'),
      };
    },
  };
}
