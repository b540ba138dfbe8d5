// The account a PUT /admin/accounts/{username} body gives: checked by the one accounts
// validator (the same rules as an import's records), each problem at its JSON Pointer
// into the body (RFC 6901). The path names the account: a body may repeat the username,
// but not name another one.
import { isObject, validateAccount } from '../../accounts/validate.js';
import type { ImportProblem } from '../../directory/directory.js';
import type { ImportAccount } from '../../model/account.js';
import type { ProviderProfile } from '../../policy/provider-profile.js';
import { EMPTY } from './json-body.js';
import { jsonPointer, pointerFromJsonPath } from './pointer.js';
import { AdminProblem, problemAnswer, problemCount } from './problem.js';

/**
 * The account's problems, each at its JSON Pointer into the body (`` for the whole of it),
 * as a 422: the validator's positions are pointers already (the record's `fieldPosition`).
 */
export const invalidAccount = (problems: readonly ImportProblem[]) =>
  new AdminProblem(
    problemAnswer(422, `${problemCount(problems.length)} in the account, nothing written`, {
      errors: problems.map((p) => ({ pointer: p.position, detail: p.reason })),
    }),
  );

/** The validated account of `body` for the account `pathUsername` names; throws its problems. */
export function accountFromBody(body: unknown, pathUsername: string, profile: ProviderProfile, allowDataErrors: boolean): ImportAccount {
  if (body === undefined) throw EMPTY;
  const username = pathUsername.toLowerCase();
  if (isObject(body) && typeof body.username === 'string' && body.username.toLowerCase() !== username) {
    throw invalidAccount([{ position: '/username', reason: `the body names the account ${body.username.toLowerCase()}, the path ${username}` }]);
  }
  const raw = isObject(body) ? { ...body, username: pathUsername } : body;
  const checked = validateAccount({ position: '', raw, fieldPosition: jsonPointer }, profile, { allowDataErrors });
  if (!checked.ok) throw invalidAccount(checked.problems);
  return checked.account;
}

/**
 * The directory's refusal of the account (a domain another account holds) as a 422: its
 * positions are the record's (``) with a JSON path appended (`.domains[0]`).
 */
export const refusedAccount = (problems: readonly ImportProblem[]) =>
  invalidAccount(problems.map((p) => ({ position: pointerFromJsonPath(p.position), reason: p.reason })));
