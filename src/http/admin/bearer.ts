// Who an admin request comes from: its `Authorization: Bearer <token>` (RFC 6750 section
// 2.1) against the configured tokens. The compare takes the same time whatever the token
// given: both sides are hashed to fixed-length digests (so neither the length nor the
// first differing character shows), compared with crypto.timingSafeEqual, against every
// configured token, without stopping at a match.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminToken } from '../../config/admin-tokens.js';
import { B64TOKEN } from '../../config/admin-tokens.js';

/** What an Authorization header says, as the API reads it. */
export type Credentials =
  | { kind: 'none' }
  /** `Bearer` with something that is no b64token (RFC 6750 section 3.1: invalid_request). */
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string };

/**
 * The credentials of an Authorization header: the scheme is case-insensitive (RFC 9110
 * section 11.1), then one or more spaces and the token. Another scheme (Basic ...) is no
 * credentials for this API.
 */
export function readCredentials(header: string | undefined): Credentials {
  if (header === undefined) return { kind: 'none' };
  const match = /^bearer(?: +(.*))?$/i.exec(header.trim());
  if (!match) return { kind: 'none' };
  const token = match[1]?.trim() ?? '';
  return B64TOKEN.test(token) ? { kind: 'bearer', token } : { kind: 'malformed' };
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The compare, injectable so a test can see that every check goes through timingSafeEqual. */
export type ConstantTimeEqual = (a: Buffer, b: Buffer) => boolean;

/** The configured tokens, kept only as digests; `holderOf` names whose token a request bears. */
export class AdminTokens {
  private readonly digests: ReadonlyArray<{ name: string; digest: Buffer }>;

  constructor(tokens: readonly AdminToken[], private readonly equal: ConstantTimeEqual = timingSafeEqual) {
    this.digests = tokens.map((t) => ({ name: t.name, digest: digest(t.token) }));
  }

  /** The name of the token equal to `token`, or undefined: every configured token is compared, whatever matched. */
  holderOf(token: string): string | undefined {
    const given = digest(token);
    let holder: string | undefined;
    for (const configured of this.digests) {
      // No early exit: the time depends on the number of tokens only.
      const same = this.equal(given, configured.digest);
      if (same && holder === undefined) holder = configured.name;
    }
    return holder;
  }
}
