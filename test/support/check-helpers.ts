// Helpers the autoconfig and autodiscover client models share, specific to neither.

import { parseXml, XmlSyntaxError, type XmlElement } from './xml-reader.js';

/** A value as it is quoted in problem messages. */
export const quote = (s: string): string => JSON.stringify(s);

/** Host name by letter-digit-hyphen rules (any case), or a dotted IPv4 address. */
export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.split('.').every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

/** The parsed document, or null with the reason it is not well-formed added to `problems`. */
export function parseOrReport(source: string, problems: string[]): XmlElement | null {
  try {
    return parseXml(source);
  } catch (err) {
    if (!(err instanceof XmlSyntaxError)) throw err;
    problems.push(`not well-formed XML: ${err.message}`);
    return null;
  }
}
