// Where in a JSON body a problem is, as a JSON Pointer (RFC 6901): what the accounts
// validator calls `domains[0]` or `mailboxes[1].login` (a FieldPath), and the directory
// appends to a record's position as a JSON path (`.domains[0]`), the admin API reports
// as `/domains/0` and `/mailboxes/1/login`, which a client can resolve in what it sent.
import type { FieldPath } from '../../accounts/validate.js';

/** One reference token: `~` and `/` escaped (RFC 6901 section 3). */
const token = (text: string) => text.replace(/~/g, '~0').replace(/\//g, '~1');

export function jsonPointer(path: FieldPath): string {
  return [path.field, ...(path.index === undefined ? [] : [String(path.index)]), ...(path.sub === undefined ? [] : [path.sub])].map((t) => `/${token(t)}`).join('');
}

/**
 * The pointer of a JSON path the directory appended to a record's position (`.domains[0]`,
 * `.mailboxes[1].login`); `` (the whole body) for anything else.
 */
export function pointerFromJsonPath(path: string): string {
  if (!/^(?:\.[A-Za-z_$][\w$]*|\[\d+\])+$/.test(path)) return '';
  return [...path.matchAll(/\.([A-Za-z_$][\w$]*)|\[(\d+)\]/g)].map((m) => `/${token(m[1] ?? m[2]!)}`).join('');
}
