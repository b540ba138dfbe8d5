// Which text may reach an answer at all. Every answer but JSON is XML (autoconfig, POX,
// Apple's plist) or travels beside it, and XML 1.0 section 2.2 (the Char production)
// allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]: a
// document holding anything else (the other C0 controls, a lone surrogate, U+FFFE, U+FFFF)
// is not well-formed, and no escaping can carry it (section 4.1 forbids character
// references to them too). So such text is refused where it comes in, never repaired.

// The `u` flag reads a surrogate pair as one code point, so only a lone surrogate is left
// outside the ranges.
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** True when every character of `text` is one XML 1.0 allows (section 2.2, Char). */
export function isXmlText(text: string): boolean {
  return !NOT_XML_CHAR.test(text);
}

/** True for a code point XML 1.0 allows, the test a character reference (`&#1;`) must pass. */
export function isXmlCodePoint(code: number): boolean {
  return (
    code === 0x9 || code === 0xa || code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)
  );
}
