// Escaping for the places a dialect writes text by hand rather than through a template
// or a serialiser: XML character data (XML 1.0 section 2.4) and POSIX shell words.

/** XML text escaping, `'` included, so the result never contains a single quote. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `text` as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
