// Query strings as mail clients send them. Unlike form decoding, a raw '+' stays '+'
// (FairEmail sends `bob+tag@example.com` unencoded); names are compared ignoring case.

/** Decoded parameters by lower-case name; the first occurrence wins, undecodable ones are dropped. */
export function parseQuery(query: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq))?.toLowerCase();
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    if (name === undefined || value === undefined || name in params) continue;
    params[name] = value;
  }
  return params;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
