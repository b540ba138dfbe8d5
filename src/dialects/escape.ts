// Escaping for the places a dialect writes text by hand rather than through a template
// or a serialiser: XML character data (XML 1.0 section 2.4) and POSIX shell words; and the
// one check that what is about to be written as XML can be written at all.
import { isXmlText } from '../model/text.js';

/**
 * XML text escaping, `'` included, so the result never contains a single quote; a CR is
 * written as a reference, since a reader turns a literal one into a line feed (XML 1.0
 * section 2.11).
 */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#xD;');
}

/** `text` as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * True when every string in `value` (a view, a plist value: objects and arrays are walked)
 * is text XML 1.0 can hold (section 2.2). Requests and imports refuse such text where it
 * comes in; this is the last check before rendering, for values stored before those rules
 * or read from the provider profile, so that an answer is never XML that is not
 * well-formed, and the plist writer (which throws on them) never throws.
 */
export function isXmlSafe(value: unknown): boolean {
  if (typeof value === 'string') return isXmlText(value);
  if (Array.isArray(value)) return value.every(isXmlSafe);
  if (typeof value === 'object' && value !== null) return Object.entries(value).every(([k, v]) => isXmlText(k) && isXmlSafe(v));
  return true;
}
