// An XML property-list reader that shares no code with the `plist` package that writes
// our profiles: fast-xml-parser reads the XML, and this file applies Apple's plist rules
// strictly (a dict alternates <key> and one value, no duplicate keys, known elements only),
// so a profile that only our own writer could read back fails the tests.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type PlistData = string | number | boolean | Date | Buffer | PlistData[] | { [key: string]: PlistData };

type Node = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  processEntities: true,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: false,
});

export class PlistReadError extends Error {}

function tagOf(node: Node): string {
  const tag = Object.keys(node).find((k) => k !== ':@');
  if (tag === undefined) throw new PlistReadError('empty node');
  return tag;
}

/** Child elements, after dropping whitespace between them; any other text is an error. */
function elements(children: Node[], where: string): Node[] {
  return children.filter((child) => {
    if ('#text' in child) {
      if (String(child['#text']).trim() !== '') throw new PlistReadError(`text ${JSON.stringify(child['#text'])} inside <${where}>`);
      return false;
    }
    return true;
  });
}

function textOf(children: Node[], tag: string): string {
  if (children.some((c) => !('#text' in c))) throw new PlistReadError(`<${tag}> holds elements`);
  return children.map((c) => String(c['#text'])).join('');
}

function value(node: Node): PlistData {
  const tag = tagOf(node);
  const children = node[tag] as Node[];
  switch (tag) {
    case 'dict': {
      const items = elements(children, 'dict');
      if (items.length % 2 !== 0) throw new PlistReadError('<dict> with an odd number of children');
      const dict: { [key: string]: PlistData } = Object.create(null);
      for (let i = 0; i < items.length; i += 2) {
        const keyNode = items[i]!;
        if (tagOf(keyNode) !== 'key') throw new PlistReadError(`<dict> child ${i} is <${tagOf(keyNode)}>, not <key>`);
        const key = textOf(keyNode.key as Node[], 'key');
        if (Object.hasOwn(dict, key)) throw new PlistReadError(`duplicate key ${key}`);
        const valueNode = items[i + 1]!;
        if (tagOf(valueNode) === 'key') throw new PlistReadError(`key ${key} has no value`);
        dict[key] = value(valueNode);
      }
      return dict;
    }
    case 'array':
      return elements(children, 'array').map(value);
    case 'string':
      return textOf(children, tag);
    case 'integer': {
      const text = textOf(children, tag).trim();
      if (!/^[+-]?\d+$/.test(text)) throw new PlistReadError(`<integer>${text}</integer>`);
      return Number(text);
    }
    case 'real':
      return Number(textOf(children, tag));
    case 'true':
    case 'false':
      if (children.length > 0) throw new PlistReadError(`<${tag}/> must be empty`);
      return tag === 'true';
    case 'date':
      return new Date(textOf(children, tag));
    case 'data':
      return Buffer.from(textOf(children, tag).replace(/\s+/g, ''), 'base64');
    default:
      throw new PlistReadError(`<${tag}> is not a property-list element`);
  }
}

/** The one value of an XML plist; throws a PlistReadError (or parse error) on anything else. */
export function readPlist(xml: string): PlistData {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new PlistReadError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = elements((parser.parse(xml) as Node[]).filter((n) => !('?xml' in n)), 'document');
  if (doc.length !== 1 || tagOf(doc[0]!) !== 'plist') throw new PlistReadError('the document element is not <plist>');
  const root = doc[0]!;
  if ((root[':@'] as Record<string, string> | undefined)?.['@_version'] !== '1.0') throw new PlistReadError('<plist> without version="1.0"');
  const items = elements(root.plist as Node[], 'plist');
  if (items.length !== 1) throw new PlistReadError(`<plist> holds ${items.length} values, not one`);
  return value(items[0]!);
}
