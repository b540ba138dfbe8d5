// A whole accounts file held in memory (the JSON import format: `data/demo.json`, tests),
// validated as a whole before anything is written: each record by the one validator
// (validate.ts), and here what only the whole file shows, a username or domain given twice.
// Imports of any size stream instead (records.ts, formats/), leaving those to the directory.
import type { ImportAccount } from '../model/account.js';
import type { ProviderProfile } from '../policy/provider-profile.js';
import type { ImportProblem } from '../directory/directory.js';
import { NOT_AN_ACCOUNTS_FILE, topLevelFieldProblem } from './formats/json.js';
import { MAX_PROBLEMS } from './records.js';
import { isObject, jsonFieldPositions, validateAccount, type ValidationOptions } from './validate.js';

export type { ImportProblem };

export type ImportParse = { ok: true; accounts: ImportAccount[] } | { ok: false; problems: ImportProblem[] };

export function parseImportFile(text: string, profile: ProviderProfile, options: ValidationOptions): ImportParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [{ position: '(file)', reason: `not valid JSON: ${(err as Error).message}` }] };
  }
  if (!isObject(data) || !Array.isArray(data.accounts)) {
    return { ok: false, problems: [{ position: '(file)', reason: NOT_AN_ACCOUNTS_FILE }] };
  }
  const problems: ImportProblem[] = [];
  const problem = (position: string, reason: string) => void problems.push({ position, reason });
  for (const key of Object.keys(data)) if (key !== 'accounts') problems.push(topLevelFieldProblem(key));

  const accounts: ImportAccount[] = [];
  const usernames = new Map<string, string>(); // username -> position
  const domainOwners = new Map<string, string>(); // domain -> username
  data.accounts.forEach((raw, i) => {
    const position = `accounts[${i}]`;
    const fieldPosition = jsonFieldPositions(position);
    const checked = validateAccount({ position, raw, fieldPosition }, profile, options);
    if (!checked.ok) return problems.push(...checked.problems);
    const { account } = checked;
    const first = usernames.get(account.username);
    if (first) problem(fieldPosition({ field: 'username' }), `"${account.username}" is already used by ${first}`);
    else usernames.set(account.username, position);
    account.domains.forEach((domain, index) => {
      const owner = domainOwners.get(domain);
      if (owner !== undefined) problem(fieldPosition({ field: 'domains', index }), `${domain} is claimed by both ${owner} and ${account.username}`);
      else domainOwners.set(domain, account.username);
    });
    accounts.push(account);
  });

  return problems.length > 0 ? { ok: false, problems: problems.slice(0, MAX_PROBLEMS) } : { ok: true, accounts };
}
