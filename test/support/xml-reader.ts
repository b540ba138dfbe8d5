// A small strict XML 1.0 + namespaces reader (no DTDs), after the W3C recommendations
// "Extensible Markup Language (XML) 1.0" and "Namespaces in XML 1.0".
//
// Used instead of fast-xml-parser because its validator accepts several documents real
// clients reject (a second root element, text after the root, an unescaped `&` in an
// attribute, an undefined entity such as `&foo;`, an undeclared namespace prefix), and its
// parser does not decode numeric character references. A checker that is meant to catch
// escaping bugs cannot miss those.

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

/** Child elements with this local name, whatever their prefix or namespace. */
export function elementsByLocal(el: XmlElement, local: string): XmlElement[] {
  return el.content.filter((c): c is XmlElement => typeof c !== 'string' && c.local === local);
}

/** The element's own text (child elements' text not included). */
export function textOf(el: XmlElement): string {
  return el.content.filter((c): c is string => typeof c === 'string').join('');
}

/** Whether the element has any child elements (text-only elements have none). */
export function hasElementChildren(el: XmlElement): boolean {
  return el.content.some((c) => typeof c !== 'string');
}

/** Calls `visit` on the element and every descendant element, in document order. */
export function walk(el: XmlElement, visit: (el: XmlElement) => void): void {
  visit(el);
  for (const kid of elements(el)) walk(kid, visit);
}
