// Outlook autodiscover, Plain Old XML (MS-OXDSCLI; Outlook response schema 2006a), as
// Outlook, Thunderbird's ExchangeAutoDiscover and Delta Chat read it: the request reader,
// the error-code table, the views for templates/autodiscover*.xml.hbs, the answer for every
// Resolution, and the one writer of a POX request (the settings page's curl line, tests,
// benchmarks). DOCTYPEs are refused outright and entities are never expanded, so no
// request can make us read files or blow up memory.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AUTODISCOVER_LABEL } from '../links.js';
import { domainFromHost, parseAddress, type MailTarget } from '../model/address.js';
import type { Resolution } from '../pipeline.js';
import type { MailSettings, Protocol, Security, ServerSettings } from '../policy/settings.js';
import { unavailable, XML, type Answer } from './answer.js';
import { escapeXml } from './escape.js';
import type { TemplateSource } from './template.js';

export const OUTLOOK_REQUEST_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
export const OUTLOOK_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
export const MOBILESYNC_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';
/** The namespace Exchange puts its generic errors in. */
export const ERROR_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

/** The largest request body read; larger ones get 413 before parsing. */
export const MAX_AUTODISCOVER_BODY = 64 * 1024;

// ---------------------------------------------------------------------------------------
// The request

export interface AutodiscoverRequest {
  emailAddress?: string;
  acceptableResponseSchema?: string;
}

export type AutodiscoverRequestParse = { ok: true; request: AutodiscoverRequest } | { ok: false; reason: string };

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: true,
});

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Undoes XML's own escapes (the five predefined ones and character references); nothing else. */
export function unescapeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      // Only characters XML allows: no NUL, no lone surrogates, no U+FFFE/U+FFFF.
      const allowed = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) && code !== 0xfffe && code !== 0xffff;
      return allowed ? String.fromCodePoint(code) : whole;
    }
    return PREDEFINED[ref]!;
  });
}

function text(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? unescapeXmlText(first) : undefined;
}

/** The fields we use of an `Autodiscover/Request` body, or why it cannot be read. */
export function parseAutodiscoverRequest(body: string): AutodiscoverRequestParse {
  if (body.trim() === '') return { ok: false, reason: 'empty body' };
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) return { ok: false, reason: 'DOCTYPE and entity declarations are not accepted' };
  const named = /&([A-Za-z_][\w.-]*);/g;
  for (const [, name] of body.matchAll(named)) {
    if (!Object.hasOwn(PREDEFINED, name!)) return { ok: false, reason: `undeclared entity &${name};` };
  }
  const valid = XMLValidator.validate(body);
  if (valid !== true) return { ok: false, reason: `not well-formed XML (line ${valid.err.line})` };
  let doc: Record<string, unknown>;
  try {
    // The validator accepts a few documents the parser refuses (very deep nesting,
    // `__proto__` element names): those are as unreadable as malformed XML.
    doc = parser.parse(body) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, reason: `unparsable XML: ${(err as Error).message}` };
  }
  const root = doc.Autodiscover as Record<string, unknown> | undefined;
  const request = typeof root === 'object' && root !== null ? (root.Request as Record<string, unknown> | undefined) : undefined;
  if (typeof request !== 'object' || request === null) return { ok: false, reason: 'no Autodiscover/Request element' };
  return {
    ok: true,
    request: {
      emailAddress: text(request.EMailAddress),
      acceptableResponseSchema: text(request.AcceptableResponseSchema),
    },
  };
}

/** The Outlook POX request for `address` in `schema` (every value escaped): what Outlook POSTs. */
export function poxRequestBody(address: string | null, schema: string = OUTLOOK_RESPONSE_SCHEMA): string {
  return (
    `<Autodiscover xmlns="${OUTLOOK_REQUEST_SCHEMA}"><Request>` +
    (address === null ? '' : `<EMailAddress>${escapeXml(address)}</EMailAddress>`) +
    `<AcceptableResponseSchema>${escapeXml(schema)}</AcceptableResponseSchema></Request></Autodiscover>`
  );
}

const OUTLOOK_SCHEMA = /^https?:\/\/schemas\.microsoft\.com\/exchange\/autodiscover\/outlook\/responseschema\/2006a$/i;

/** The namespace to refuse a requested response schema in, or undefined when we serve it. */
export function unsupportedSchema(schema: string | undefined): string | undefined {
  if (schema === undefined || OUTLOOK_SCHEMA.test(schema)) return undefined;
  if (schema.toLowerCase().includes('/mobilesync/responseschema/')) return MOBILESYNC_RESPONSE_SCHEMA;
  // Echo a plausible namespace name; anything long or with spaces is no namespace at all.
  return /^\S{1,256}$/.test(schema) ? schema : ERROR_RESPONSE_SCHEMA;
}

// ---------------------------------------------------------------------------------------
// The answer

interface ProtocolView {
  type: string;
  server: string;
  port: number;
  loginName: string | null;
  encryption: string;
  smtp: boolean;
}

export interface AutodiscoverView {
  protocols: ProtocolView[];
}

/** MS-OXDSCLI error codes we use. */
export type AutodiscoverErrorCode = 500 | 600 | 601 | 602 | 603;

export interface AutodiscoverError {
  code: AutodiscoverErrorCode;
  message: string;
  /** The Response namespace: the requested one for 601, Exchange's generic one otherwise. */
  namespace?: string;
}

interface ErrorView {
  namespace: string;
  time: string;
  id: string;
  code: number;
  message: string;
}

// Outlook's words: "SSL" is TLS from the first byte, "TLS" is STARTTLS. Sending TLS for
// 993/995/465 makes Outlook wait for a plaintext greeting that never comes.
const ENCRYPTION: Record<Security, string> = { tls: 'SSL', starttls: 'TLS' };
const TYPE: Record<Protocol, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' };

/** One Protocol per type, the policy's first choice of each: IMAP, then POP3, then SMTP. */
export function autodiscoverView(settings: MailSettings): AutodiscoverView {
  const firstOf = (list: ServerSettings[]) =>
    list.filter((s, i) => list.findIndex((o) => o.protocol === s.protocol) === i);
  const protocols = [...firstOf(settings.incoming), ...firstOf(settings.outgoing)].map((s) => ({
    type: TYPE[s.protocol],
    server: s.host,
    port: s.port,
    loginName: settings.login,
    encryption: ENCRYPTION[s.security],
    smtp: s.protocol === 'smtp',
  }));
  return { protocols };
}

// Exchange identifies the answering server with an unsigned integer; ours is stable per host.
const SERVER_ID = String(createHash('sha256').update(hostname()).digest().readUInt32BE(0));

export function errorView(error: AutodiscoverError, now: Date = new Date()): ErrorView {
  return {
    namespace: error.namespace ?? ERROR_RESPONSE_SCHEMA,
    time: `${now.toISOString().slice(11, 23)}`,
    id: SERVER_ID,
    code: error.code,
    message: error.message,
  };
}

/** MS-OXDSCLI's codes, in Exchange's words, for each way a request can fail. */
export const POX_ERRORS = {
  invalidRequest: { code: 600, message: 'Invalid Request' },
  unknownAddress: { code: 500, message: 'The email address cannot be found.' },
  dataError: { code: 602, message: 'The configuration for this address is unavailable.' },
  unavailable: { code: 603, message: 'The server is temporarily unable to answer.' },
} as const satisfies Record<string, AutodiscoverError>;

/** A POX request read: the target to look up, or the answer already decided (and why, for the log). */
export type PoxRead = { ok: true; target: MailTarget } | { ok: false; answer: Answer; reason?: string };

export interface AutodiscoverPoxDialect {
  render(settings: MailSettings): string;
  renderError(error: AutodiscoverError): string;
  /** A POST body, as Outlook and Thunderbird send it. */
  readPost(body: string): PoxRead;
  /**
   * A body-less GET (Delta Chat): the Host names the domain. On the service's own name it
   * is Thunderbird following the HTTP redirect as a GET: that GET must fail (400), since
   * Thunderbird POSTs again (after asking the user) only then; a 200 would end its search.
   */
  readGet(host: string | undefined, onServiceHost: boolean): PoxRead;
  /** The answer for a POST's lookup, or (`get`) for a GET's, where an unknown Host is a request we cannot read (600). */
  answer(resolution: Resolution, method?: 'post' | 'get'): Answer;
}

export function autodiscoverPoxDialect(templates: TemplateSource): AutodiscoverPoxDialect {
  const settingsTemplate = templates.get<AutodiscoverView>('autodiscover.xml');
  const errorTemplate = templates.get<ErrorView>('autodiscover-error.xml');
  const render = (settings: MailSettings) => settingsTemplate(autodiscoverView(settings));
  const renderError = (error: AutodiscoverError) => errorTemplate(errorView(error));
  const xml = (body: string, status = 200): Answer => ({ status, type: XML, body });
  const error = (e: AutodiscoverError, status = 200) => xml(renderError(e), status);
  const refused = (e: AutodiscoverError, reason?: string, status = 200): PoxRead => ({ ok: false, answer: error(e, status), reason });

  return {
    render,
    renderError,
    readPost(body) {
      const parsed = parseAutodiscoverRequest(body);
      if (!parsed.ok) return refused(POX_ERRORS.invalidRequest, parsed.reason);
      const namespace = unsupportedSchema(parsed.request.acceptableResponseSchema);
      if (namespace) return refused({ code: 601, message: 'Provider is not available', namespace });
      // A LegacyDN names an Exchange mailbox; with no address there is nothing to look up.
      const address = parseAddress(parsed.request.emailAddress);
      return address ? { ok: true, target: { domain: address.domain, address } } : refused(POX_ERRORS.invalidRequest);
    },
    readGet(host, onServiceHost) {
      if (onServiceHost) return refused(POX_ERRORS.invalidRequest, undefined, 400);
      const domain = domainFromHost(host, [AUTODISCOVER_LABEL]);
      return domain ? { ok: true, target: { domain } } : refused(POX_ERRORS.invalidRequest);
    },
    answer(resolution, method = 'post') {
      switch (resolution.kind) {
        case 'settings':
          return xml(render(resolution.settings));
        case 'unknown-domain':
          return error(method === 'get' ? POX_ERRORS.invalidRequest : POX_ERRORS.unknownAddress);
        case 'address-required':
          return error(POX_ERRORS.invalidRequest);
        case 'data-error':
          return error(POX_ERRORS.dataError);
        case 'unavailable':
          return unavailable(error(POX_ERRORS.unavailable));
      }
    },
  };
}
