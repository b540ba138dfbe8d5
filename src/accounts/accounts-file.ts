// Reads and validates an accounts file (the import format, also `data/demo.json`).
// Validation is complete before anything is written: a file is taken whole or not at all.
import type { ImportAccount, ImportMailbox } from '../model/account.js';
import { normalizeDomain, parseAddress } from '../model/address.js';
import { parseCreated } from '../model/dates.js';
import { isXmlText } from '../model/text.js';
import { isAccountNamedDomain, mailboxBelongsTo } from '../policy/account-named.js';
import type { ProviderProfile } from '../policy/provider-profile.js';

import type { ImportProblem } from '../directory/directory.js';

export type { ImportProblem };

export type ImportParse = { ok: true; accounts: ImportAccount[] } | { ok: false; problems: ImportProblem[] };

const ACCOUNT_FIELDS = new Set(['username', 'created', 'mailServer', 'domains', 'mailboxes']);
const MAILBOX_FIELDS = new Set(['address', 'login']);
// Usernames and logins reach every answer (a login names the mailbox's account in XML,
// plist, HTML and text): no whitespace, no control characters, nothing XML 1.0 cannot hold
// (section 2.2, Char: lone surrogates, U+FFFE, U+FFFF), and no `%`, which autoconfig
// clients read as the start of a placeholder (%EMAILADDRESS%); so no stored value can break
// an answer.
const isToken = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length <= max && /^[^\s\p{Cc}%]+$/u.test(v) && isXmlText(v);
const TOKEN_RULE = 'characters without spaces, control characters or "%"';
const MAX_PROBLEMS = 100;

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseImportFile(text: string, profile: ProviderProfile): ImportParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [{ position: '(file)', reason: `not valid JSON: ${(err as Error).message}` }] };
  }
  const problems: ImportProblem[] = [];
  const problem = (position: string, reason: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ position, reason });
  };
  if (!isObject(data) || !Array.isArray(data.accounts)) {
    return { ok: false, problems: [{ position: '(file)', reason: 'expected an object with an "accounts" list' }] };
  }
  for (const key of Object.keys(data)) if (key !== 'accounts') problem(key, 'unknown field');

  const accounts: ImportAccount[] = [];
  const usernames = new Map<string, string>(); // lower-case username -> position
  const domainOwners = new Map<string, string>(); // domain -> username
  const mailboxSeen = new Set<string>();

  data.accounts.forEach((raw, i) => {
    const at = `accounts[${i}]`;
    if (!isObject(raw)) return problem(at, 'expected an object');
    for (const key of Object.keys(raw)) if (!ACCOUNT_FIELDS.has(key)) problem(`${at}.${key}`, 'unknown field');

    let username = '';
    if (!isToken(raw.username, 64)) {
      problem(`${at}.username`, `required: 1-64 ${TOKEN_RULE}`);
    } else {
      username = raw.username.toLowerCase();
      const first = usernames.get(username);
      if (first) problem(`${at}.username`, `"${username}" is already used by ${first}`);
      else usernames.set(username, at);
    }

    if (typeof raw.created !== 'string') {
      problem(`${at}.created`, 'required: a YYYY-MM-DD date or an RFC 3339 timestamp');
    } else if (!parseCreated(raw.created)) {
      problem(`${at}.created`, `"${raw.created}" is not a real YYYY-MM-DD date or RFC 3339 timestamp`);
    }

    let mailServer: number | null = null;
    if (raw.mailServer !== undefined && raw.mailServer !== null) {
      if (typeof raw.mailServer !== 'number' || !Number.isSafeInteger(raw.mailServer) || raw.mailServer <= 0) {
        problem(`${at}.mailServer`, 'must be a positive integer');
      } else {
        mailServer = raw.mailServer;
      }
    }

    const domains: string[] = [];
    if (raw.domains !== undefined) {
      if (!Array.isArray(raw.domains)) problem(`${at}.domains`, 'must be a list of domain names');
      else {
        raw.domains.forEach((d, j) => {
          const pos = `${at}.domains[${j}]`;
          const domain = typeof d === 'string' ? normalizeDomain(d) : undefined;
          if (!domain) return problem(pos, 'not a valid domain name');
          if (isAccountNamedDomain(profile, domain)) {
            return problem(pos, `${domain} is an account-named domain and belongs to no single account`);
          }
          const owner = domainOwners.get(domain);
          if (owner === username && domains.includes(domain)) return problem(pos, `${domain} is listed twice`);
          if (owner !== undefined) {
            return problem(pos, `${domain} is claimed by both ${owner || '(unnamed)'} and ${username || '(unnamed)'}`);
          }
          domainOwners.set(domain, username);
          domains.push(domain);
        });
      }
    }

    const mailboxes: ImportMailbox[] = [];
    if (raw.mailboxes !== undefined) {
      if (!Array.isArray(raw.mailboxes)) problem(`${at}.mailboxes`, 'must be a list');
      else {
        raw.mailboxes.forEach((m, j) => {
          const pos = `${at}.mailboxes[${j}]`;
          if (!isObject(m)) return problem(pos, 'expected an object with "address" and "login"');
          for (const key of Object.keys(m)) if (!MAILBOX_FIELDS.has(key)) problem(`${pos}.${key}`, 'unknown field');
          const address = typeof m.address === 'string' ? parseAddress(m.address) : undefined;
          if (!address) return problem(`${pos}.address`, 'not a valid email address');
          if (!mailboxBelongsTo(address, username, domains, profile)) {
            return problem(`${pos}.address`, `${address.address} is not in one of this account's domains`);
          }
          if (!isToken(m.login, 254)) {
            return problem(`${pos}.login`, `required: 1-254 ${TOKEN_RULE}`);
          }
          const key = address.address.toLowerCase();
          if (mailboxSeen.has(key)) return problem(`${pos}.address`, `${key} is listed twice`);
          mailboxSeen.add(key);
          mailboxes.push({ address: key, login: m.login });
        });
      }
    }

    accounts.push({ username, created: String(raw.created), mailServer, domains, mailboxes });
  });

  return problems.length > 0 ? { ok: false, problems } : { ok: true, accounts };
}
