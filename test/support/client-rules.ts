// Reads OUR autoconfig (`config-v1.1.xml`) and Outlook autodiscover (POX) answers the way
// real mail clients do, and lists every format problem a client would trip over.
//
// Rules come from the shared research notes: autoconfig-thunderbird.md sections 2, 4 and 6
// (test cases 20-35) and autodiscover-outlook-apple-dns.md sections 2.1-2.3. The client
// models are our own code written from those rules; they are deliberately small and only
// cover what our answers can contain.
//
// XML is read by a small strict reader below rather than fast-xml-parser: its validator
// accepts several documents real clients reject (a second root element, text after the
// root, an unescaped `&` in an attribute, an undefined entity such as `&foo;`, an
// undeclared namespace prefix), and its parser does not decode numeric character
// references. A checker that is meant to catch escaping bugs cannot miss those.

// ---------------------------------------------------------------------------------------
// A small strict XML 1.0 + namespaces reader (no DTDs).

export interface XmlElement {
  /** Qualified name as written, e.g. `clientConfig` or `a:Autodiscover`. */
  name: string;
  prefix: string;
  local: string;
  /** Resolved namespace URI; '' when none. */
  ns: string;
  /** Qualified attribute name -> value (references decoded, whitespace normalised). */
  attrs: Map<string, string>;
  /** Child elements and text runs in document order (comments and PIs dropped). */
  content: Array<XmlElement | string>;
  parent: XmlElement | null;
  /** XPath-like location, e.g. `/clientConfig/emailProvider/incomingServer[2]/port`. */
  path: string;
}

export class XmlSyntaxError extends Error {
  override name = 'XmlSyntaxError';

  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME_START = 'A-Za-z_:\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_RE = new RegExp(`[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, 'y');
const REF_RE = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z_][A-Za-z0-9_.-]*));/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };
const MAX_DEPTH = 256;

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

class XmlReader {
  private pos = 0;
  private readonly s: string;

  constructor(source: string) {
    this.s = source.replace(/\r\n?/g, '\n');
  }

  private fail(reason: string, at: number = this.pos): never {
    const before = this.s.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw new XmlSyntaxError(reason, line, column);
  }

  private at(str: string): boolean {
    return this.s.startsWith(str, this.pos);
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.s.length && ' \t\n'.includes(this.s[this.pos] ?? '')) this.pos++;
    return this.pos > start;
  }

  private name(what: string): string {
    NAME_RE.lastIndex = this.pos;
    const m = NAME_RE.exec(this.s);
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  private checkChars(): void {
    for (let i = 0; i < this.s.length; ) {
      const cp = this.s.codePointAt(i) ?? 0;
      const surrogate = cp >= 0xd800 && cp <= 0xdfff;
      if (!isXmlChar(cp) || surrogate) this.fail(`character U+${cp.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, i);
      i += cp > 0xffff ? 2 : 1;
    }
  }

  /** Decodes references in `raw` (which started at source offset `start`). */
  private decode(raw: string, start: number): string {
    let out = '';
    let i = 0;
    while (i < raw.length) {
      const amp = raw.indexOf('&', i);
      if (amp < 0) {
        out += raw.slice(i);
        break;
      }
      out += raw.slice(i, amp);
      REF_RE.lastIndex = amp;
      const m = REF_RE.exec(raw);
      if (!m) this.fail('"&" must be escaped as &amp;', start + amp);
      if (m[3] !== undefined) {
        const value = PREDEFINED[m[3]];
        if (value === undefined) this.fail(`undefined entity &${m[3]};`, start + amp);
        out += value;
      } else {
        const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2] ?? '', 10);
        if (!isXmlChar(cp)) this.fail(`character reference ${m[0]} is not an XML character`, start + amp);
        out += String.fromCodePoint(cp);
      }
      i = amp + m[0].length;
    }
    return out;
  }

  private comment(): void {
    const end = this.s.indexOf('-->', this.pos + 4);
    if (end < 0) this.fail('unterminated comment');
    const body = this.s.slice(this.pos + 4, end);
    if (body.includes('--') || body.endsWith('-')) this.fail('"--" is not allowed inside a comment');
    this.pos = end + 3;
  }

  private pi(): void {
    this.pos += 2;
    const target = this.name('a processing instruction target');
    if (target.toLowerCase() === 'xml') this.fail('the XML declaration is allowed only at the very start of the document', this.pos - target.length - 2);
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) this.fail('unterminated processing instruction');
    this.pos = end + 2;
  }

  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.at('<!--')) this.comment();
      else if (this.at('<?')) this.pi();
      else if (this.at('<!DOCTYPE')) this.fail('DOCTYPE declarations are not accepted');
      else return;
    }
  }

  read(): XmlElement {
    this.checkChars();
    if (/^<\?xml[\s?]/.test(this.s)) {
      const decl = /^<\?xml\s+version\s*=\s*(["'])1\.[0-9]+\1(\s+encoding\s*=\s*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>/.exec(this.s);
      if (!decl) this.fail('malformed XML declaration');
      this.pos = decl[0].length;
    }
    this.misc();
    if (this.pos >= this.s.length) this.fail('no root element');
    if (!this.at('<')) this.fail('text before the root element');
    const root = this.element(null, new Map([['xml', XML_NS]]), 0);
    this.misc();
    if (this.pos < this.s.length) this.fail('content after the root element');
    assignPaths(root, `/${root.name}`);
    return root;
  }

  private element(parent: XmlElement | null, scope: Map<string, string>, depth: number): XmlElement {
    if (depth > MAX_DEPTH) this.fail('elements nested too deeply');
    const start = this.pos;
    this.pos++; // '<'
    const name = this.name('an element name');
    const attrs = new Map<string, string>();
    const attrStarts = new Map<string, number>();
    for (;;) {
      const spaced = this.skipSpace();
      if (this.at('/>') || this.at('>')) break;
      if (!spaced) this.fail('expected whitespace, ">" or "/>"');
      const attrStart = this.pos;
      const attr = this.name('an attribute name');
      this.skipSpace();
      if (!this.at('=')) this.fail(`attribute ${attr} has no value`);
      this.pos++;
      this.skipSpace();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`value of attribute ${attr} must be quoted`);
      const end = this.s.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`unterminated value of attribute ${attr}`);
      const raw = this.s.slice(this.pos + 1, end);
      const lt = raw.indexOf('<');
      if (lt >= 0) this.fail('"<" is not allowed in an attribute value', this.pos + 1 + lt);
      if (attrs.has(attr)) this.fail(`attribute ${attr} is repeated`, attrStart);
      attrs.set(attr, this.decode(raw.replace(/[\t\n]/g, ' '), this.pos + 1));
      attrStarts.set(attr, attrStart);
      this.pos = end + 1;
    }

    // Namespaces.
    let inner = scope;
    for (const [attr, value] of attrs) {
      if (attr === 'xmlns' || attr.startsWith('xmlns:')) {
        if (inner === scope) inner = new Map(scope);
        const prefix = attr === 'xmlns' ? '' : attr.slice(6);
        if (prefix !== '' && value === '') this.fail(`namespace prefix ${prefix} cannot be undeclared`, attrStarts.get(attr));
        inner.set(prefix, value);
      }
    }
    const split = (qname: string, at: number, isAttr: boolean): { prefix: string; local: string; ns: string } => {
      const parts = qname.split(':');
      if (parts.length > 2 || parts.some((p) => p === '')) this.fail(`"${qname}" is not a valid namespaced name`, at);
      if (parts.length === 1) return { prefix: '', local: qname, ns: isAttr ? '' : (inner.get('') ?? '') };
      const [prefix = '', local = ''] = parts;
      const ns = inner.get(prefix);
      if (ns === undefined) this.fail(`namespace prefix ${prefix} is not declared`, at);
      return { prefix, local, ns };
    };
    const { prefix, local, ns } = split(name, start + 1, false);
    for (const [attr, at] of attrStarts) if (attr !== 'xmlns' && !attr.startsWith('xmlns:')) split(attr, at, true);

    const el: XmlElement = { name, prefix, local, ns, attrs, content: [], parent, path: '' };
    if (this.at('/>')) {
      this.pos += 2;
      return el;
    }
    this.pos++; // '>'
    const pushText = (text: string): void => {
      const last = el.content.length - 1;
      const prev = el.content[last];
      if (typeof prev === 'string') el.content[last] = prev + text;
      else el.content.push(text);
    };
    for (;;) {
      if (this.pos >= this.s.length) this.fail(`<${name}> is never closed`, start);
      if (this.at('</')) {
        const closeAt = this.pos;
        this.pos += 2;
        const closing = this.name('a closing tag name');
        this.skipSpace();
        if (!this.at('>')) this.fail('expected ">"');
        this.pos++;
        if (closing !== name) this.fail(`expected </${name}>, found </${closing}>`, closeAt);
        return el;
      }
      if (this.at('<!--')) this.comment();
      else if (this.at('<![CDATA[')) {
        const end = this.s.indexOf(']]>', this.pos + 9);
        if (end < 0) this.fail('unterminated CDATA section');
        pushText(this.s.slice(this.pos + 9, end));
        this.pos = end + 3;
      } else if (this.at('<?')) this.pi();
      else if (this.at('<!')) this.fail('unexpected markup declaration');
      else if (this.at('<')) {
        NAME_RE.lastIndex = this.pos + 1;
        if (!NAME_RE.test(this.s)) this.fail('"<" must be escaped as &lt;');
        el.content.push(this.element(el, inner, depth + 1));
      } else {
        let end = this.s.indexOf('<', this.pos);
        if (end < 0) end = this.s.length;
        const raw = this.s.slice(this.pos, end);
        const cdataEnd = raw.indexOf(']]>');
        if (cdataEnd >= 0) this.fail('"]]>" is not allowed in text', this.pos + cdataEnd);
        pushText(this.decode(raw, this.pos));
        this.pos = end;
      }
    }
  }
}

function assignPaths(el: XmlElement, path: string): void {
  el.path = path;
  const kids = elements(el);
  for (const kid of kids) {
    const same = kids.filter((k) => k.name === kid.name);
    assignPaths(kid, `${path}/${kid.name}${same.length > 1 ? `[${same.indexOf(kid) + 1}]` : ''}`);
  }
}

/** Parses a whole document; throws XmlSyntaxError when it is not well-formed. */
export function parseXml(source: string): XmlElement {
  return new XmlReader(source).read();
}

/** Child elements, optionally only those with this qualified name. */
export function elements(el: XmlElement, name?: string): XmlElement[] {
  return el.content.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));
}

function elementsByLocal(el: XmlElement, local: string): XmlElement[] {
  return el.content.filter((c): c is XmlElement => typeof c !== 'string' && c.local === local);
}

/** The element's own text (child elements' text not included). */
export function textOf(el: XmlElement): string {
  return el.content.filter((c): c is string => typeof c === 'string').join('');
}

function hasElementChildren(el: XmlElement): boolean {
  return el.content.some((c) => typeof c !== 'string');
}

function walk(el: XmlElement, visit: (el: XmlElement) => void): void {
  visit(el);
  for (const kid of elements(el)) walk(kid, visit);
}

// ---------------------------------------------------------------------------------------
// Shared helpers.

const BOM = '\uFEFF';
/** A UTF-8 BOM decoded as Latin-1 / Windows-1252, in case a caller decoded bytes wrongly. */
const BOM_AS_LATIN1 = '\u00EF\u00BB\u00BF';

const quote = (s: string): string => JSON.stringify(s);

/** Host name by letter-digit-hyphen rules (any case), or a dotted IPv4 address. */
export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.split('.').every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

const isLowerHostName = (s: string): boolean => isHostName(s) && s === s.toLowerCase();

function splitAddress(email: string): { local: string; domain: string } {
  const at = email.lastIndexOf('@');
  return at < 0 ? { local: email, domain: '' } : { local: email.slice(0, at), domain: email.slice(at + 1) };
}

/** %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% replaced; unchanged without an address. */
function substitute(value: string, email: string | undefined): string {
  if (email === undefined) return value;
  const { local, domain } = splitAddress(email);
  return value.replaceAll('%EMAILADDRESS%', email).replaceAll('%EMAILLOCALPART%', local).replaceAll('%EMAILDOMAIN%', domain);
}

/** For validity checks a client makes after substituting: a stand-in address when none was given. */
const STAND_IN_ADDRESS = 'user@example.com';

// ---------------------------------------------------------------------------------------
// Autoconfig (config-v1.1.xml).

export type ClientName = 'thunderbird' | 'thunderbird-android' | 'fairemail' | 'evolution';
export const CLIENT_NAMES: readonly ClientName[] = ['thunderbird', 'thunderbird-android', 'fairemail', 'evolution'];

export interface ClientServer {
  type: string;
  hostname: string;
  port: number;
  socketType: string;
  username: string;
  /** The authentication the client picks ('' for FairEmail, which does not read it). */
  authentication: string;
}

export interface ClientReading {
  incoming: ClientServer | null;
  outgoing: ClientServer | null;
  incomingAlternatives: ClientServer[];
  outgoingAlternatives: ClientServer[];
  /** This client's problems, each prefixed with the client name (also listed in AutoconfigReading.problems). */
  problems: string[];
}

export interface AutoconfigReading {
  /** Format problems any of the clients (or the 1.1 format / draft) would hit; empty when the document is good. */
  problems: string[];
  /** What each client takes from the document, after its own placeholder substitution for `email`. */
  clients: Record<ClientName, ClientReading>;
}

interface AutoconfigDoc {
  hasBom: boolean;
  root: XmlElement | null;
}

const SERVER_FIELDS = ['hostname', 'port', 'socketType', 'username', 'authentication'] as const;
const GOOD_AUTH = new Set(['password-cleartext', 'password-encrypted', 'OAuth2']);
const PLACEHOLDER = /%[A-Za-z]+%/;

function serverLabel(server: XmlElement): string {
  const parent = server.parent;
  const index = parent ? elements(parent, server.name).indexOf(server) + 1 : 1;
  return `${server.name}[${index}] (${server.attrs.get('type') ?? 'no type'})`;
}

/** The servers our checks cover: imap/pop3 incoming and smtp outgoing, in document order. */
function mailServers(provider: XmlElement): XmlElement[] {
  return elements(provider).filter((el) => {
    const type = el.attrs.get('type');
    return (el.name === 'incomingServer' && (type === 'imap' || type === 'pop3')) || (el.name === 'outgoingServer' && type === 'smtp');
  });
}

export function readAutoconfig(body: string, email?: string): AutoconfigReading {
  const problems: string[] = [];
  let source = body;
  let hasBom = false;
  if (source.startsWith(BOM) || source.startsWith(BOM_AS_LATIN1)) {
    hasBom = true;
    source = source.slice(source.startsWith(BOM) ? 1 : 3);
    problems.push('document starts with a UTF-8 byte order mark (BOM)');
  }
  if (!source.startsWith('<?xml') && !source.startsWith('<clientConfig')) {
    problems.push(`document must start with "<?xml" or "<clientConfig", found ${quote(source.slice(0, 16))}`);
  }
  let root: XmlElement | null = null;
  try {
    root = parseXml(source);
  } catch (err) {
    if (!(err instanceof XmlSyntaxError)) throw err;
    problems.push(`not well-formed XML: ${err.message}`);
  }
  if (root) problems.push(...autoconfigFormatProblems(root));

  const doc: AutoconfigDoc = { hasBom, root };
  const clients: Record<ClientName, ClientReading> = {
    thunderbird: readThunderbird(doc, email),
    'thunderbird-android': readThunderbirdAndroid(doc, email),
    fairemail: readFairEmail(doc, email),
    evolution: readEvolution(doc, email),
  };
  for (const name of CLIENT_NAMES) problems.push(...clients[name].problems);
  return { problems, clients };
}

function autoconfigFormatProblems(root: XmlElement): string[] {
  const p: string[] = [];
  if (root.name !== 'clientConfig') p.push(`root element is <${root.name}>, expected <clientConfig>`);
  else if (root.ns !== '') p.push(`<clientConfig> must not be in a namespace (found ${quote(root.ns)})`);
  if (root.name === 'clientConfig') {
    const version = root.attrs.get('version');
    if (version === undefined) p.push('<clientConfig> has no version attribute, expected "1.1"');
    else if (version.trim() !== '1.1') p.push(`<clientConfig> version is ${quote(version)}, expected "1.1"`);
  }

  const providers = elements(root, 'emailProvider');
  if (providers.length === 0) p.push('no <emailProvider> element');
  else if (providers.length > 1) p.push(`${providers.length} <emailProvider> elements, expected exactly one`);
  const provider = providers[0];
  if (provider) {
    const id = provider.attrs.get('id');
    if (id === undefined) p.push('<emailProvider> has no id attribute');
    else if (!isLowerHostName(id.trim())) p.push(`<emailProvider> id ${quote(id)} is not a valid lower-case host name`);

    const domains = elements(provider, 'domain');
    if (domains.length === 0) p.push('no <domain> element');
    for (const d of domains) {
      if (!isLowerHostName(textOf(d).trim())) p.push(`<domain> ${quote(textOf(d))} is not a valid lower-case host name`);
    }
    for (const [name, max] of [['displayName', 60], ['displayShortName', 20]] as const) {
      for (const el of elements(provider, name)) {
        const length = [...textOf(el).trim()].length;
        if (length > max) p.push(`<${name}> is ${length} characters long, at most ${max} allowed`);
      }
    }

    const incoming = elements(provider, 'incomingServer');
    const firstIncoming = incoming[0];
    if (!incoming.some((s) => s.attrs.get('type') === 'imap')) p.push('no incomingServer with type="imap"');
    else if (firstIncoming && firstIncoming.attrs.get('type') !== 'imap') {
      p.push(`first incomingServer has type=${quote(firstIncoming.attrs.get('type') ?? '')}, expected type="imap"`);
    }
    if (!elements(provider, 'outgoingServer').some((s) => s.attrs.get('type') === 'smtp')) p.push('no outgoingServer with type="smtp"');

    for (const server of mailServers(provider)) p.push(...serverFormatProblems(server));
  }

  walk(root, (el) => {
    if (el.name === 'password') p.push(`${el.path}: <password> must never be sent`);
    for (const [attr, value] of el.attrs) {
      if (value !== value.trim()) p.push(`${el.path}/@${attr}: value ${quote(value)} has leading or trailing whitespace`);
    }
    if (!hasElementChildren(el)) {
      const text = textOf(el);
      if (text !== text.trim()) p.push(`${el.path}: text ${quote(text)} has leading or trailing whitespace`);
    }
  });
  return p;
}

function serverFormatProblems(server: XmlElement): string[] {
  const label = serverLabel(server);
  const p: string[] = [];
  const say = (msg: string): void => void p.push(`${label}: ${msg}`);
  const fields = elements(server).filter((el) => (SERVER_FIELDS as readonly string[]).includes(el.name));

  for (const field of SERVER_FIELDS) {
    const count = fields.filter((el) => el.name === field).length;
    if (count === 0) say(`missing <${field}>`);
    else if (count > 1 && field !== 'authentication') say(`more than one <${field}>`);
  }
  const ranks = fields.map((el) => (SERVER_FIELDS as readonly string[]).indexOf(el.name));
  if (ranks.some((rank, i) => i > 0 && rank < (ranks[i - 1] ?? 0))) {
    say(`children out of order (${fields.map((el) => el.name).join(', ')}); expected ${SERVER_FIELDS.join(', ')}`);
  }

  const auths: string[] = [];
  for (const el of fields) {
    if (hasElementChildren(el)) {
      say(`<${el.name}> contains elements where text is expected`);
      continue;
    }
    // Surrounding whitespace is reported once, by the whitespace rule; judge the rest here.
    const value = textOf(el).trim();
    switch (el.name) {
      case 'hostname':
        if (value === '') say('<hostname> is empty');
        else if (PLACEHOLDER.test(value) || value.includes('%')) say(`hostname ${quote(value)} contains a placeholder`);
        else if (!isHostName(value)) say(`hostname ${quote(value)} is not a valid host name`);
        break;
      case 'port': {
        const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
        if (!(port >= 1 && port <= 65535)) say(`port ${quote(value)} is not a number in 1-65535`);
        else if (port === 25 && server.attrs.get('type') === 'smtp') say('SMTP on port 25 (blocked for clients on many networks; use 465 or 587)');
        break;
      }
      case 'socketType':
        if (value !== 'SSL' && value !== 'STARTTLS') say(`socketType ${quote(value)} must be exactly SSL or STARTTLS`);
        break;
      case 'username':
        if (value === '') say('<username> is empty');
        else if (value.includes('%') && value !== '%EMAILADDRESS%' && value !== '%EMAILLOCALPART%') {
          say(`username ${quote(value)} must be exactly %EMAILADDRESS% or %EMAILLOCALPART%, or a literal without "%"`);
        }
        break;
      case 'authentication':
        auths.push(value);
        if (!GOOD_AUTH.has(value)) say(`authentication ${quote(value)} is not password-cleartext, password-encrypted or OAuth2`);
        break;
    }
  }
  const oauth = auths.indexOf('OAuth2');
  if (oauth >= 0 && !auths.slice(oauth + 1).includes('password-cleartext')) say('authentication OAuth2 is not followed by password-cleartext');
  return p;
}

function emptyReading(): ClientReading {
  return { incoming: null, outgoing: null, incomingAlternatives: [], outgoingAlternatives: [], problems: [] };
}

function lastText(server: XmlElement, name: string): string | undefined {
  const all = elements(server, name);
  const last = all[all.length - 1];
  return last ? textOf(last) : undefined;
}

// --- Thunderbird desktop (readFromXML + AccountConfig.replaceVariables) ---

const TB_INCOMING_AUTH: Record<string, string> = {
  'password-cleartext': 'password-cleartext',
  plain: 'password-cleartext',
  'password-encrypted': 'password-encrypted',
  secure: 'password-encrypted',
  GSSAPI: 'GSSAPI',
  NTLM: 'NTLM',
  'TLS-client-cert': 'TLS-client-cert',
  // OAuth2 counts only for hosts in Thunderbird's built-in OAuth2 provider list; ours are not.
};
const TB_OUTGOING_AUTH: Record<string, string> = {
  ...TB_INCOMING_AUTH,
  none: 'none',
  'client-IP-address': 'client-IP-address',
  'smtp-after-pop': 'smtp-after-pop',
};

/** Thunderbird's host name sanitising: trimmed; placeholder forms pass as they are, else lower-cased. */
function tbHostname(raw: string): string | null {
  const value = raw.trim();
  if (/^[A-Za-z0-9.-]*(%[A-Z0-9]+%[A-Za-z0-9.-]*)+$/.test(value)) return value;
  return isHostName(value) ? value.toLowerCase() : null;
}

function tbServer(el: XmlElement, auth: Record<string, string>): ClientServer | null {
  const first = (name: string): string | undefined => {
    const found = elements(el, name)[0];
    return found ? textOf(found) : undefined;
  };
  const hostname = tbHostname(first('hostname') ?? '');
  const portText = first('port') ?? '';
  const port = /^\s*\d+\s*$/.test(portText) ? Number(portText) : NaN;
  const socketType = elements(el, 'socketType')
    .map(textOf)
    .find((v) => v === 'plain' || v === 'SSL' || v === 'STARTTLS');
  const authentication = elements(el, 'authentication')
    .map((a) => auth[textOf(a)])
    .find((v) => v !== undefined);
  if (hostname === null || !(port >= 1 && port <= 65535) || socketType === undefined || authentication === undefined) return null;
  // A missing <username> becomes the string "undefined" in Thunderbird.
  return { type: el.attrs.get('type') ?? '', hostname, port, socketType, username: first('username') ?? 'undefined', authentication };
}

function readThunderbird(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  const reject = (why: string): ClientReading => {
    r.problems.push(`thunderbird: rejects the document: ${why}`);
    return r;
  };
  if (!doc.root) return reject('not well-formed XML');
  const provider = doc.root.name === 'clientConfig' ? elements(doc.root, 'emailProvider')[0] : undefined;
  if (!provider) return reject('no clientConfig > emailProvider');
  const id = provider.attrs.get('id');
  if (id === undefined) return reject('emailProvider has no id');
  if (tbHostname(id) === null) return reject(`emailProvider id ${quote(id)} is not a valid host name`);
  if (!elements(provider, 'domain').some((d) => tbHostname(textOf(d)) !== null)) return reject('no valid <domain>');

  const incoming: ClientServer[] = [];
  const outgoing: ClientServer[] = [];
  for (const el of mailServers(provider)) {
    const server = tbServer(el, el.name === 'incomingServer' ? TB_INCOMING_AUTH : TB_OUTGOING_AUTH);
    if (server) (el.name === 'incomingServer' ? incoming : outgoing).push(server);
  }
  if (incoming.length === 0) r.problems.push('thunderbird: rejects the document: no usable incoming server');
  if (outgoing.length === 0) r.problems.push('thunderbird: rejects the document: no usable outgoing server');
  if (incoming.length === 0 || outgoing.length === 0) return r;

  const replaced = (s: ClientServer): ClientServer => ({ ...s, hostname: substitute(s.hostname, email), username: substitute(s.username, email) });
  const [firstIn, ...restIn] = incoming;
  const [firstOut, ...restOut] = outgoing;
  r.incoming = firstIn ? replaced(firstIn) : null;
  r.incomingAlternatives = restIn.map(replaced);
  r.outgoing = firstOut ? replaced(firstOut) : null;
  r.outgoingAlternatives = restOut; // Thunderbird does not substitute these.
  return r;
}

// --- Thunderbird for Android / K-9 (RealAutoconfigParser) ---

const TFA_AUTH = new Set(['OAuth2', 'password-cleartext', 'password-encrypted']);

function readThunderbirdAndroid(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  const reject = (why: string): ClientReading => {
    r.problems.push(`thunderbird-android: rejects the document: ${why}`);
    return r;
  };
  if (doc.hasBom) return reject('UTF-8 byte order mark');
  if (!doc.root) return reject('not well-formed XML');
  if (doc.root.name !== 'clientConfig') return reject(`root element is <${doc.root.name}>, not <clientConfig>`);
  const provider = elements(doc.root, 'emailProvider')[0];
  if (!provider) return reject('no <emailProvider>');
  const id = provider.attrs.get('id');
  if (id === undefined) return reject('emailProvider has no id');
  if (!isHostName(id)) return reject(`emailProvider id ${quote(id)} is not a valid host name`);
  const checkValue = (v: string): string => substitute(v, email ?? STAND_IN_ADDRESS);
  if (!elements(provider, 'domain').some((d) => !hasElementChildren(d) && isHostName(checkValue(textOf(d))))) return reject('no valid <domain>');

  const incoming: ClientServer[] = [];
  const outgoing: ClientServer[] = [];
  for (const el of mailServers(provider)) {
    const type = el.attrs.get('type') ?? '';
    if (type === 'pop3') continue; // only imap and smtp are parsed at all
    const label = serverLabel(el);
    for (const field of SERVER_FIELDS) {
      const bad = elements(el, field).find(hasElementChildren);
      if (bad) return reject(`${label}: <${field}> contains elements where text is expected`);
    }
    const hostname = lastText(el, 'hostname');
    const portText = lastText(el, 'port');
    const socketType = lastText(el, 'socketType');
    const username = lastText(el, 'username');
    if (hostname === undefined) return reject(`${label}: missing <hostname>`);
    if (portText === undefined) return reject(`${label}: missing <port>`);
    if (socketType === undefined) return reject(`${label}: missing <socketType>`);
    if (username === undefined) return reject(`${label}: missing <username>`);
    if (!isHostName(checkValue(hostname))) return reject(`${label}: hostname ${quote(hostname)} is not a valid host name`);
    const port = /^[+-]?\d+$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 0 && port <= 65535)) return reject(`${label}: port ${quote(portText)} is not a number in 0-65535`);
    if (socketType !== 'SSL' && socketType !== 'STARTTLS') return reject(`${label}: socketType ${quote(socketType)} is not SSL or STARTTLS`);
    const authentication = elements(el, 'authentication')
      .map(textOf)
      .find((a) => TFA_AUTH.has(a));
    if (authentication === undefined) return reject(`${label}: no recognised <authentication>`);
    const server = { type, hostname: substitute(hostname, email), port, socketType, username: substitute(username, email), authentication };
    (type === 'imap' ? incoming : outgoing).push(server);
  }
  if (incoming.length === 0) r.problems.push('thunderbird-android: no usable incoming server');
  if (outgoing.length === 0) r.problems.push('thunderbird-android: no usable outgoing server');
  if (incoming.length === 0 || outgoing.length === 0) return r;
  r.incoming = incoming[0] ?? null;
  r.incomingAlternatives = incoming.slice(1);
  r.outgoing = outgoing[0] ?? null;
  r.outgoingAlternatives = outgoing.slice(1);
  return r;
}

// --- FairEmail (EmailProvider.getISPDB: a pull parser over the whole document) ---

interface FairEmailServer {
  type: 'imap' | 'smtp';
  host: string;
  port: number;
  starttls: boolean;
  username: string;
}

function readFairEmail(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  if (!doc.root) {
    r.problems.push('fairemail: rejects the document: not well-formed XML');
    return r;
  }
  let current: FairEmailServer | null = null;
  let imap: FairEmailServer | null = null;
  let smtp: FairEmailServer | null = null;
  let failure: string | null = null;

  const visit = (el: XmlElement): void => {
    if (failure !== null) return;
    const type = el.attrs.get('type');
    if ((el.name === 'incomingServer' && type === 'imap') || (el.name === 'outgoingServer' && type === 'smtp')) {
      const server: FairEmailServer = { type: type, host: '', port: 0, starttls: false, username: '' };
      current = server;
      for (const kid of elements(el)) visit(kid);
      if (type === 'imap') imap = server;
      else smtp = server;
      current = null;
      return;
    }
    const server: FairEmailServer | null = current;
    if (server !== null) {
      const text = textOf(el);
      switch (el.name) {
        case 'hostname':
          server.host = text;
          break;
        case 'port': {
          if (!/^[+-]?\d+$/.test(text)) {
            failure = `${el.path}: port ${quote(text)} is not a number`;
            return;
          }
          server.port = Number(text);
          // The port alone decides STARTTLS until a later <socketType> says otherwise.
          server.starttls = server.type === 'imap' ? server.port === 143 : server.port === 587;
          break;
        }
        case 'socketType':
          if (text === 'SSL') server.starttls = false;
          else if (text === 'STARTTLS') server.starttls = true;
          // anything else (plain included) is only logged
          break;
        case 'username':
          server.username = text;
          break;
      }
    }
    for (const kid of elements(el)) visit(kid);
  };
  visit(doc.root);
  if (failure !== null) {
    r.problems.push(`fairemail: rejects the document: ${failure}`);
    return r;
  }
  const { local } = splitAddress(email ?? '');
  const toClient = (s: FairEmailServer): ClientServer => {
    let username = s.username;
    if (email !== undefined && username === '%EMAILADDRESS%') username = email;
    else if (email !== undefined && username === '%EMAILLOCALPART%') username = local;
    return { type: s.type, hostname: s.host, port: s.port, socketType: s.starttls ? 'STARTTLS' : 'SSL', username, authentication: '' };
  };
  const usable = (s: FairEmailServer | null): s is FairEmailServer => s !== null && s.host !== '' && s.port > 0;
  const lastImap = imap as FairEmailServer | null;
  const lastSmtp = smtp as FairEmailServer | null;
  if (usable(lastImap)) r.incoming = toClient(lastImap);
  else r.problems.push('fairemail: no usable incoming server');
  if (usable(lastSmtp)) r.outgoing = toClient(lastSmtp);
  else r.problems.push('fairemail: no usable outgoing server');
  return r;
}

// --- Evolution (e-mail-autoconfig.c: GMarkup, one slot per protocol) ---

interface EvolutionSlot {
  hostname: string;
  port: number;
  socketType: string;
  username: string;
  authentication: string;
}

function readEvolution(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  if (doc.hasBom) {
    r.problems.push('evolution: rejects the document: UTF-8 byte order mark');
    return r;
  }
  if (!doc.root) {
    r.problems.push('evolution: rejects the document: not well-formed XML');
    return r;
  }
  const slots: Record<'imap' | 'pop3' | 'smtp', EvolutionSlot> = {
    imap: { hostname: '', port: 0, socketType: '', username: '', authentication: '' },
    pop3: { hostname: '', port: 0, socketType: '', username: '', authentication: '' },
    smtp: { hostname: '', port: 0, socketType: '', username: '', authentication: '' },
  };
  const visit = (el: XmlElement, slot: EvolutionSlot | null): void => {
    const type = el.attrs.get('type');
    if (el.name === 'incomingServer' && (type === 'imap' || type === 'pop3')) slot = slots[type];
    else if (el.name === 'outgoingServer' && type === 'smtp') slot = slots.smtp;
    else if (slot !== null) {
      // Every text node overwrites the slot's field; an empty element sends no text at all.
      const text = substitute(textOf(el), email);
      if (text !== '') {
        switch (el.name) {
          case 'hostname':
            slot.hostname = text;
            break;
          case 'username':
            slot.username = text;
            break;
          case 'port': {
            const port = /^\d+$/.test(text) ? Number(text) : NaN;
            if (port >= 1 && port <= 65535) slot.port = port;
            break;
          }
          case 'socketType':
            if (text === 'plain' || text === 'SSL' || text === 'STARTTLS') slot.socketType = text;
            break;
          case 'authentication':
            if (text === 'password-cleartext' || text === 'plain') slot.authentication = 'password-cleartext';
            else if (text === 'password-encrypted') slot.authentication = 'password-encrypted';
            break;
        }
      }
    }
    for (const kid of elements(el)) visit(kid, slot);
  };
  visit(doc.root, null);
  const usable = (type: 'imap' | 'pop3' | 'smtp'): ClientServer | null => {
    const s = slots[type];
    return s.hostname !== '' && s.port > 0 ? { type, ...s } : null;
  };
  const imap = usable('imap');
  const pop3 = usable('pop3');
  r.incoming = imap ?? pop3;
  if (imap && pop3) r.incomingAlternatives = [pop3];
  r.outgoing = usable('smtp');
  if (!r.incoming) r.problems.push('evolution: no usable incoming server');
  if (!r.outgoing) r.problems.push('evolution: no usable outgoing server');
  return r;
}

// ---------------------------------------------------------------------------------------
// Outlook autodiscover (POX).

export const AUTODISCOVER_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
export const OUTLOOK_RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
export const MOBILESYNC_RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';

export interface PoxServer {
  type: 'IMAP' | 'POP3' | 'SMTP';
  server: string;
  port: number;
  socketType: 'SSL' | 'STARTTLS' | 'plain';
  auth: 'password-cleartext' | 'secure';
  username: string;
}

export interface DeltaChatServer {
  server: string;
  port: number;
  security: 'automatic' | 'plain';
}

export interface AutodiscoverReading {
  problems: string[];
  /** Present when the document is an Exchange-style error: Response/Error with ErrorCode. */
  error: { code: number; message: string; responseNamespace: string; time: string; id: string } | null;
  /** Thunderbird's ExchangeAutoDiscover reading: first IMAP/POP3 = incoming, others alternatives; first SMTP = outgoing. Username = LoginName or, when absent, `email`. */
  thunderbird: { incoming: PoxServer | null; outgoing: PoxServer | null; incomingAlternatives: PoxServer[]; outgoingAlternatives: PoxServer[] };
  /** Delta Chat's reading: IMAP and SMTP Protocols in order, Type/Server/Port/SSL only (SSL on -> 'automatic', off -> 'plain'). */
  deltaChat: { imap: DeltaChatServer[]; smtp: DeltaChatServer[] };
}

const IMPLICIT_TLS_PORTS = new Set([993, 995, 465]);
const STARTTLS_PORTS = new Set([143, 110, 587]);
/** Ports Thunderbird assumes STARTTLS for when reading POX. */
const TB_STARTTLS_PORTS = new Set([143, 110, 25, 587]);

function child(el: XmlElement | undefined, local: string): XmlElement | undefined {
  return el ? elementsByLocal(el, local)[0] : undefined;
}

export function readAutodiscover(body: string, email?: string): AutodiscoverReading {
  const reading: AutodiscoverReading = {
    problems: [],
    error: null,
    thunderbird: { incoming: null, outgoing: null, incomingAlternatives: [], outgoingAlternatives: [] },
    deltaChat: { imap: [], smtp: [] },
  };
  const p = reading.problems;
  let root: XmlElement | null = null;
  try {
    root = parseXml(body);
  } catch (err) {
    if (!(err instanceof XmlSyntaxError)) throw err;
    p.push(`not well-formed XML: ${err.message}`);
  }

  const response = root ? elementsByLocal(root, 'Response') : [];
  const errorEl = child(response[0], 'Error');
  if (root) {
    if (root.local !== 'Autodiscover') p.push(`root element is <${root.name}>, expected <Autodiscover>`);
    else if (root.ns !== AUTODISCOVER_NS) p.push(`<Autodiscover> is in namespace ${quote(root.ns)}, expected ${quote(AUTODISCOVER_NS)}`);
    if (response.length === 0) p.push('no <Response> element');
    else if (response.length > 1) p.push(`${response.length} <Response> elements, expected one`);
  }
  const first = response[0];
  if (first && errorEl) {
    p.push(...errorProblems(errorEl));
    const codeEl = child(errorEl, 'ErrorCode');
    if (codeEl) {
      const codeText = textOf(codeEl).trim();
      const messageEl = child(errorEl, 'Message');
      reading.error = {
        code: /^\d+$/.test(codeText) ? Number(codeText) : NaN,
        message: messageEl ? textOf(messageEl) : '',
        responseNamespace: first.ns,
        time: errorEl.attrs.get('Time') ?? '',
        id: errorEl.attrs.get('Id') ?? '',
      };
    }
  } else if (first) {
    p.push(...settingsProblems(first));
  }
  if (root) {
    walk(root, (el) => {
      if (!hasElementChildren(el)) {
        const text = textOf(el);
        if (text !== text.trim()) p.push(`${el.path}: text ${quote(text)} has leading or trailing whitespace`);
      }
    });
  }

  // Client readings: element local names, Autodiscover/Response/Account/Protocol.
  const account = root?.local === 'Autodiscover' ? child(first, 'Account') : undefined;
  const protocols = account ? elementsByLocal(account, 'Protocol') : [];
  readThunderbirdPox(protocols, email, reading);
  readDeltaChatPox(protocols, reading);
  // An error document is a legitimate answer: its own rules are checked above.
  if (!errorEl) {
    if (protocols.length === 0) p.push('thunderbird: no_autodiscover');
    else {
      if (!reading.thunderbird.incoming) p.push('thunderbird: no usable incoming server');
      if (!reading.thunderbird.outgoing) p.push('thunderbird: no usable outgoing server');
    }
    if (reading.deltaChat.imap.length === 0) p.push('deltachat: no IMAP Protocol');
    if (reading.deltaChat.smtp.length === 0) p.push('deltachat: no SMTP Protocol');
  }
  return reading;
}

// An error Response may be in any namespace: Exchange's generic one, the Outlook or
// mobilesync schema, or the (unknown) schema the client asked for with a 601.
function errorProblems(error: XmlElement): string[] {
  const p: string[] = [];
  const time = error.attrs.get('Time');
  if (time === undefined) p.push('<Error> has no Time attribute');
  else if (!/^\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(time)) p.push(`<Error> Time ${quote(time)} is not HH:MM:SS[.fraction]`);
  const id = error.attrs.get('Id');
  if (id === undefined) p.push('<Error> has no Id attribute');
  else if (!/^\d+$/.test(id)) p.push(`<Error> Id ${quote(id)} is not an unsigned integer`);
  const code = child(error, 'ErrorCode');
  if (!code) p.push('<Error> has no <ErrorCode>');
  else if (!/^\d+$/.test(textOf(code).trim())) p.push(`<ErrorCode> ${quote(textOf(code))} is not an integer`);
  if (!child(error, 'Message')) p.push('<Error> has no <Message>');
  if (!child(error, 'DebugData')) p.push('<Error> has no <DebugData>');
  return p;
}

function settingsProblems(response: XmlElement): string[] {
  const p: string[] = [];
  if (response.ns !== OUTLOOK_RESPONSE_NS) p.push(`<Response> is in namespace ${quote(response.ns)}, expected ${quote(OUTLOOK_RESPONSE_NS)}`);
  const account = child(response, 'Account');
  if (!account) {
    p.push('<Response> has neither <Account> nor <Error>');
    return p;
  }
  const expect = (parent: XmlElement, name: string, wanted: string, label = ''): void => {
    const el = child(parent, name);
    if (!el) p.push(`${label}missing <${name}>`);
    else if (textOf(el).trim() !== wanted) p.push(`${label}<${name}> is ${quote(textOf(el))}, expected ${quote(wanted)}`);
  };
  expect(account, 'AccountType', 'email');
  expect(account, 'Action', 'settings');
  const protocols = elementsByLocal(account, 'Protocol');
  if (protocols.length === 0) p.push('<Account> has no <Protocol>');

  protocols.forEach((protocol, i) => {
    const typeEl = child(protocol, 'Type');
    const type = typeEl ? textOf(typeEl).trim() : '';
    const label = `Protocol[${i + 1}] (${type || 'no Type'}): `;
    if (!typeEl) p.push(`${label}missing <Type>`);
    else if (type !== 'IMAP' && type !== 'POP3' && type !== 'SMTP') p.push(`${label}<Type> ${quote(type)} is not IMAP, POP3 or SMTP`);
    const serverEl = child(protocol, 'Server');
    if (!serverEl) p.push(`${label}missing <Server>`);
    else if (!isHostName(textOf(serverEl).trim())) p.push(`${label}<Server> ${quote(textOf(serverEl))} is not a valid host name`);
    const portEl = child(protocol, 'Port');
    const portText = portEl ? textOf(portEl).trim() : '';
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!portEl) p.push(`${label}missing <Port>`);
    else if (!(port >= 1 && port <= 65535)) p.push(`${label}<Port> ${quote(portText)} is not a number in 1-65535`);
    expect(protocol, 'DomainRequired', 'off', label);
    expect(protocol, 'SPA', 'off', label);
    expect(protocol, 'SSL', 'on', label);
    const encEl = child(protocol, 'Encryption');
    const enc = encEl ? textOf(encEl).trim() : '';
    if (!encEl) p.push(`${label}missing <Encryption>`);
    else if (enc !== 'SSL' && enc !== 'TLS') p.push(`${label}<Encryption> ${quote(enc)} is not SSL or TLS`);
    else if (!Number.isNaN(port)) {
      if (enc === 'TLS' && IMPLICIT_TLS_PORTS.has(port)) p.push(`${label}<Encryption> TLS on implicit-TLS port ${port} (Outlook would try STARTTLS)`);
      else if (enc === 'TLS' && !STARTTLS_PORTS.has(port)) p.push(`${label}<Encryption> TLS on port ${port} (Thunderbird guesses implicit TLS from the port)`);
      else if (enc === 'SSL' && TB_STARTTLS_PORTS.has(port)) p.push(`${label}<Encryption> SSL on port ${port} (Thunderbird guesses STARTTLS from the port)`);
    }
    expect(protocol, 'AuthRequired', 'on', label);
    if (type === 'SMTP') {
      expect(protocol, 'UsePOPAuth', 'on', label);
      expect(protocol, 'SMTPLast', 'off', label);
    }
    const login = child(protocol, 'LoginName');
    if (login && textOf(login).trim() === '') p.push(`${label}<LoginName> is empty`);
  });
  const types = protocols.map((pr) => textOf(child(pr, 'Type') ?? pr).trim());
  const firstIncoming = types.find((t) => t === 'IMAP' || t === 'POP3');
  if (firstIncoming === undefined) p.push('no IMAP or POP3 Protocol');
  else if (firstIncoming !== 'IMAP') p.push(`first incoming Protocol is ${firstIncoming}, expected IMAP`);
  return p;
}

function readThunderbirdPox(protocols: XmlElement[], email: string | undefined, reading: AutodiscoverReading): void {
  const incoming: PoxServer[] = [];
  const outgoing: PoxServer[] = [];
  for (const protocol of protocols) {
    const value = (name: string): string | undefined => {
      const el = child(protocol, name);
      return el ? textOf(el) : undefined;
    };
    const type = value('Type');
    if (type !== 'IMAP' && type !== 'POP3' && type !== 'SMTP') continue;
    const server = (value('Server') ?? '').trim();
    if (!isHostName(server)) continue;
    const portText = (value('Port') ?? '').trim();
    const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) continue;
    const socketType: PoxServer['socketType'] =
      value('SSL') === 'off' || value('Encryption') === 'None' ? 'plain' : TB_STARTTLS_PORTS.has(port) ? 'STARTTLS' : 'SSL';
    // SPA defaults to "on" when absent, and Thunderbird maps it to secure (NTLM/GSSAPI) auth.
    const spa = value('SPA') ?? 'on';
    const login = value('LoginName');
    const entry: PoxServer = {
      type,
      server: server.toLowerCase(),
      port,
      socketType,
      auth: spa === 'on' ? 'secure' : 'password-cleartext',
      username: login !== undefined && login !== '' ? login : (email ?? '%EMAILADDRESS%'),
    };
    (type === 'SMTP' ? outgoing : incoming).push(entry);
  }
  const tb = reading.thunderbird;
  tb.incoming = incoming[0] ?? null;
  tb.incomingAlternatives = incoming.slice(1);
  tb.outgoing = outgoing[0] ?? null;
  tb.outgoingAlternatives = outgoing.slice(1);
}

function readDeltaChatPox(protocols: XmlElement[], reading: AutodiscoverReading): void {
  for (const protocol of protocols) {
    const value = (name: string): string => {
      const el = child(protocol, name);
      return el ? textOf(el).trim() : '';
    };
    const type = value('Type').toLowerCase();
    if (type !== 'imap' && type !== 'smtp') continue;
    const server = value('Server');
    if (server === '') continue;
    const port = /^\d+$/.test(value('Port')) ? Number(value('Port')) : 0;
    const security = value('SSL').toLowerCase() === 'off' ? 'plain' : 'automatic';
    reading.deltaChat[type].push({ server, port, security });
  }
}
