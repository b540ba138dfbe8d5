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
import { isXmlCodePoint, isXmlText } from '../model/text.js';
import type { Resolution } from '../pipeline/lookup.js';
import type { MailSettings, Protocol, Security, ServerSettings } from '../policy/settings.js';
import { SegmentedLru } from '../support/segmented-lru.js';
import { MAILBOX_PRIVATE, PER_ADDRESS, unavailable, xmlAnswer, type Answer } from './answer.js';
import { escapeXml, isXmlSafe } from './escape.js';
import { SAMPLE_DOMAIN_SETTINGS, SAMPLE_MAILBOX_SETTINGS } from './sample.js';
import { provenTemplate, wellFormedXml, type TemplateSource } from './template.js';

export const OUTLOOK_REQUEST_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
export const OUTLOOK_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
export const MOBILESYNC_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';
/** The namespace Exchange puts its generic errors in. */
export const ERROR_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

/**
 * The largest request body read; larger ones get 413 before parsing. A real request
 * (MS-OXDSCLI's: Autodiscover, Request, EMailAddress, AcceptableResponseSchema, perhaps
 * LegacyDN) is a few hundred bytes; the http layer reads this.
 */
export const MAX_AUTODISCOVER_BODY = 4 * 1024;
/**
 * The most elements (start tags, comments and processing instructions: every `<` that
 * does not close one) a body may hold before it is parsed. A real one has five or six;
 * parsing costs per element, so a body of thousands of tiny siblings is refused unread.
 */
export const MAX_AUTODISCOVER_ELEMENTS = 32;

/** Readable request bodies whose parse is kept (at most 4 KiB each: 4 MiB in all). */
const PARSES_KEPT = 1000;

// ---------------------------------------------------------------------------------------
// The request

export interface AutodiscoverRequest {
  emailAddress?: string;
  acceptableResponseSchema?: string;
}

/**
 * `reason` says which kind of problem it was, for the log, in our words only: it never
 * quotes the body (an entity name, a tag, a parser message may be anything a client sent).
 */
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
const REFERENCE = /&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g;

const codeOf = (ref: string) => (ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));

/**
 * Undoes XML's own escapes (the five predefined entities and character references) and
 * nothing else; undefined when `text` holds an `&` that starts none of them, or a reference
 * to a character XML does not allow (XML 1.0 section 4.1, "Legal Character"): neither may be
 * passed on as text.
 */
export function unescapeXmlText(text: string): string | undefined {
  let bad = false;
  const out = text.replace(/&([^;&]*);?/g, (whole) => {
    const m = /^&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);$/.exec(whole);
    if (!m) {
      bad = true;
      return '';
    }
    const ref = m[1]!;
    if (!ref.startsWith('#')) return PREDEFINED[ref]!;
    const code = codeOf(ref);
    if (!isXmlCodePoint(code)) {
      bad = true;
      return '';
    }
    return String.fromCodePoint(code);
  });
  return bad ? undefined : out;
}

/** A field's text: absent when empty; undefined as a whole (`false`) when it cannot be read. */
function text(value: unknown): string | undefined | false {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string' || first === '') return undefined;
  return unescapeXmlText(first) ?? false;
}

/** How many elements, comments and PIs `body` opens, counting no further than `limit + 1`. */
function markupCount(body: string, limit: number): number {
  let count = 0;
  for (let at = body.indexOf('<'); at >= 0 && count <= limit; at = body.indexOf('<', at + 1)) {
    if (body[at + 1] !== '/') count++;
  }
  return count;
}

/** The fields we use of an `Autodiscover/Request` body, or why it cannot be read. */
export function parseAutodiscoverRequest(body: string): AutodiscoverRequestParse {
  if (body.trim() === '') return { ok: false, reason: 'empty body' };
  if (markupCount(body, MAX_AUTODISCOVER_ELEMENTS) > MAX_AUTODISCOVER_ELEMENTS) {
    return { ok: false, reason: `more than ${MAX_AUTODISCOVER_ELEMENTS} elements` };
  }
  // XML 1.0 section 2.2: a document holding a character outside Char is not well-formed,
  // and section 4.1 says the same of a character reference to one (`&#1;`, `&#xFFFF;`).
  if (!isXmlText(body)) return { ok: false, reason: 'a character XML does not allow' };
  for (const [, ref] of body.matchAll(REFERENCE)) {
    if (ref!.startsWith('#') && !isXmlCodePoint(codeOf(ref!))) {
      return { ok: false, reason: 'a character reference to a character XML does not allow' };
    }
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) return { ok: false, reason: 'DOCTYPE and entity declarations are not accepted' };
  for (const [, name] of body.matchAll(/&([A-Za-z_][\w.-]*);/g)) {
    if (!Object.hasOwn(PREDEFINED, name!)) return { ok: false, reason: 'a reference to an undeclared entity' };
  }
  const valid = XMLValidator.validate(body);
  if (valid !== true) return { ok: false, reason: `not well-formed XML (line ${valid.err.line})` };
  let doc: Record<string, unknown>;
  try {
    // The validator accepts a few documents the parser refuses (`__proto__` element
    // names): those are as unreadable as malformed XML. The parser's message may quote
    // the body, so it is not passed on.
    doc = parser.parse(body) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'XML the parser refuses' };
  }
  const root = doc.Autodiscover as Record<string, unknown> | undefined;
  const request = typeof root === 'object' && root !== null ? (root.Request as Record<string, unknown> | undefined) : undefined;
  if (typeof request !== 'object' || request === null) return { ok: false, reason: 'no Autodiscover/Request element' };
  const emailAddress = text(request.EMailAddress);
  const acceptableResponseSchema = text(request.AcceptableResponseSchema);
  if (emailAddress === false || acceptableResponseSchema === false) return { ok: false, reason: 'text with an unreadable reference' };
  return { ok: true, request: { emailAddress, acceptableResponseSchema } };
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
/**
 * A namespace name we are willing to echo: an absolute URI (Namespaces in XML 1.0 section
 * 2.2; RFC 3986 section 3: a scheme, then only URI characters) of at most 256 characters.
 * Anything else (spaces, markup, non-ASCII, controls) is no namespace a client asked for.
 */
const ECHOABLE_NAMESPACE = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

/** The namespace to refuse a requested response schema in, or undefined when we serve it. */
export function unsupportedSchema(schema: string | undefined): string | undefined {
  if (schema === undefined || OUTLOOK_SCHEMA.test(schema)) return undefined;
  if (schema.toLowerCase().includes('/mobilesync/responseschema/')) return MOBILESYNC_RESPONSE_SCHEMA;
  return schema.length <= 256 && ECHOABLE_NAMESPACE.test(schema) ? schema : ERROR_RESPONSE_SCHEMA;
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
  const settingsTemplate = provenTemplate(
    'autodiscover.xml',
    templates.get<AutodiscoverView>('autodiscover.xml'),
    [SAMPLE_MAILBOX_SETTINGS, SAMPLE_DOMAIN_SETTINGS].map(autodiscoverView),
    wellFormedXml,
  );
  const errorTemplate = provenTemplate(
    'autodiscover-error.xml',
    templates.get<ErrorView>('autodiscover-error.xml'),
    [errorView({ code: 601, message: 'Provider is not available', namespace: MOBILESYNC_RESPONSE_SCHEMA })],
    wellFormedXml,
  );
  const render = (settings: MailSettings) => settingsTemplate(autodiscoverView(settings));
  // Outlook and Thunderbird send the same bytes for the same mailbox every time: the XML
  // is parsed once per body (the parse is a quarter of a POX answer's work). Only readable
  // bodies are kept, so a flood of junk cannot push out the real ones; bounded.
  const readable = new SegmentedLru<AutodiscoverRequestParse>(PARSES_KEPT, () => {});
  const readBody = (body: string): AutodiscoverRequestParse => {
    const kept = readable.get(body);
    if (kept) {
      readable.touch(body);
      return kept;
    }
    const parsed = parseAutodiscoverRequest(body);
    if (parsed.ok) readable.set(body, Object.freeze(parsed));
    return parsed;
  };
  const renderError = (error: AutodiscoverError) => errorTemplate(errorView(error));
  // A POST names a mailbox: its errors are for that address alone; a GET's are the domain's.
  const error = (e: AutodiscoverError, status = 200, headers?: Readonly<Record<string, string>>) => xmlAnswer(status, renderError(e), headers);
  const refused = (e: AutodiscoverError, reason?: string, status = 200, headers = PER_ADDRESS): PoxRead => ({
    ok: false,
    answer: error(e, status, headers),
    reason,
  });

  return {
    render,
    renderError,
    readPost(body) {
      const parsed = readBody(body);
      if (!parsed.ok) return refused(POX_ERRORS.invalidRequest, parsed.reason);
      const namespace = unsupportedSchema(parsed.request.acceptableResponseSchema);
      if (namespace) return refused({ code: 601, message: 'Provider is not available', namespace });
      // A LegacyDN names an Exchange mailbox; with no address there is nothing to look up.
      // An address with characters XML cannot hold is no address (model/address.ts).
      const address = parseAddress(parsed.request.emailAddress);
      return address ? { ok: true, target: { domain: address.domain, address } } : refused(POX_ERRORS.invalidRequest);
    },
    readGet(host, onServiceHost) {
      if (onServiceHost) return refused(POX_ERRORS.invalidRequest, undefined, 400, {});
      const domain = domainFromHost(host, [AUTODISCOVER_LABEL]);
      return domain ? { ok: true, target: { domain } } : refused(POX_ERRORS.invalidRequest, undefined, 200, {});
    },
    answer(resolution, method = 'post') {
      const headers = method === 'post' ? PER_ADDRESS : undefined;
      switch (resolution.kind) {
        case 'settings': {
          const view = autodiscoverView(resolution.settings);
          // Stored data XML cannot hold (escape.ts isXmlSafe) is data no host can be read from.
          if (!isXmlSafe(view)) return error(POX_ERRORS.dataError, 200, headers);
          return xmlAnswer(200, settingsTemplate(view), resolution.settings.address === null ? undefined : MAILBOX_PRIVATE);
        }
        case 'unknown-domain':
          return error(method === 'get' ? POX_ERRORS.invalidRequest : POX_ERRORS.unknownAddress, 200, headers);
        case 'address-required':
          return error(POX_ERRORS.invalidRequest, 200, headers);
        case 'data-error':
          return error(POX_ERRORS.dataError, 200, headers);
        case 'unavailable':
          return unavailable(error(POX_ERRORS.unavailable, 200, headers));
      }
    },
  };
}
