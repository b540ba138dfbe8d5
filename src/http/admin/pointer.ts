// Where in a JSON body a problem is, as a JSON Pointer (RFC 6901): what the accounts
// validator calls `domains[0]` or `mailboxes[1].login`, the admin API reports as
// `/domains/0` and `/mailboxes/1/login`, which a client can resolve in what it sent.
import type { FieldPath } from '../../accounts/validate.js';

/** One reference token: `~` and `/` escaped (RFC 6901 section 3). */
const token = (text: string) => text.replace(/~/g, '~0').replace(/\//g, '~1');

export function jsonPointer(path: FieldPath): string {
  return [path.field, ...(path.index === undefined ? [] : [String(path.index)]), ...(path.sub === undefined ? [] : [path.sub])].map((t) => `/${token(t)}`).join('');
}
