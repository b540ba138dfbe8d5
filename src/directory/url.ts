// MAILCONF_DIRECTORY / --directory: the one place a directory URL is read. Each backend
// says here what its URL looks like, which local file (if any) holds its data, and whether
// several instances may serve from it; `maskDirectoryUrl` is how any URL is shown.
import { DirectoryError } from './directory.js';

export type DirectoryLocation =
  | {
      backend: 'sqlite';
      /** The database file, or `:memory:` for a throw-away one. */
      path: string;
      /** The local file that holds the data, when there is one (not for `:memory:`). */
      file: string | undefined;
      /** Whether several instances can serve from one store (then they must share the instance secret). */
      shared: false;
    }
  | {
      backend: 'postgres';
      /** The connection URL as given, password included: only for the driver, never shown. */
      url: string;
      file: undefined;
      shared: true;
    };

const SQLITE = 'sqlite:';
const POSTGRES = /^postgres(?:ql)?:\/\//i;

/** What a directory URL names; a DirectoryError when it names no supported backend. */
export function parseDirectoryUrl(url: string): DirectoryLocation {
  if (POSTGRES.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DirectoryError(`directory "${maskDirectoryUrl(url)}" is not a valid URL (expected postgres://USER@HOST/DATABASE)`);
    }
    // A URL without a database would connect to the database named like the user: say so rather than guess.
    if (parsed.pathname.length <= 1) {
      throw new DirectoryError(`directory "${maskDirectoryUrl(url)}" names no database (expected postgres://USER@HOST/DATABASE)`);
    }
    return { backend: 'postgres', url, file: undefined, shared: true };
  }
  if (!url.startsWith(SQLITE) || url.length === SQLITE.length) {
    throw new DirectoryError(`unsupported directory "${maskDirectoryUrl(url)}": expected sqlite:PATH or postgres://USER@HOST/DATABASE`);
  }
  const path = url.slice(SQLITE.length);
  return { backend: 'sqlite', path, file: path === ':memory:' ? undefined : path, shared: false };
}

/** Query parameters the PostgreSQL driver takes a password or key passphrase from. */
const SECRET_PARAMS = /([?&](?:password|sslpassword)=)[^&#]*/gi;

/**
 * A directory URL as it may be shown in messages, logs and descriptions: the password of
 * `scheme://user:password@host/...` (and of a `password=` parameter) becomes `***`. Any
 * scheme, valid or not, so that a mistyped URL in an error message is masked too. The
 * user information runs to the last `@` (a password may hold an unencoded `@`): masking
 * too much is harmless, too little is not.
 */
export function maskDirectoryUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  let masked = url;
  if (scheme) {
    const rest = url.slice(scheme.length);
    const at = rest.lastIndexOf('@');
    const colon = rest.indexOf(':');
    if (at > 0 && colon >= 0 && colon < at - 1) masked = `${scheme}${rest.slice(0, colon)}:***${rest.slice(at)}`;
  }
  return masked.replace(SECRET_PARAMS, '$1***');
}

/** `text` (say, a driver's error message) with any copy of the URL or its password masked. */
export function redactDirectoryUrl(text: string, url: string): string {
  let out = text.replaceAll(url, maskDirectoryUrl(url));
  for (const secret of passwordsIn(url)) out = out.replaceAll(secret, '***');
  return out;
}

/** The passwords a URL carries, as written and decoded; too short ones are left (they would mask ordinary words). */
function passwordsIn(url: string): string[] {
  const found: string[] = [];
  try {
    const parsed = new URL(url);
    for (const raw of [parsed.password, parsed.searchParams.get('password') ?? '', parsed.searchParams.get('sslpassword') ?? '']) {
      if (raw === '') continue;
      found.push(raw);
      try {
        found.push(decodeURIComponent(raw));
      } catch {
        // not percent-encoded
      }
    }
  } catch {
    // not a URL: only the whole text is masked
  }
  return [...new Set(found)].filter((p) => p.length >= 4);
}
