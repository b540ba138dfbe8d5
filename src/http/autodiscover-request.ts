// Reads an Outlook autodiscover (POX) request body. DOCTYPEs are refused outright and
// entities are never expanded, so no request can make us read files or blow up memory.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

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
