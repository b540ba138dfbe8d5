// One account record, as any reader found it (JSON, NDJSON, CSV, the admin API), checked
// against the import rules and normalised: the one code path for what may enter the
// directory. Rules that need other records (a username or domain given twice) are the
// caller's: the in-memory file checks them itself, a stream leaves them to the directory.
import type { ImportAccount, ImportMailbox } from '../model/account.js';
import { normalizeDomain, parseAddress } from '../model/address.js';
import { parseCreated } from '../model/dates.js';
import { isXmlText } from '../model/text.js';
import { isAccountNamedDomain, mailboxBelongsTo } from '../policy/account-named.js';
import type { ProviderProfile } from '../policy/provider-profile.js';
import { hostFor, type DataErrorKind } from '../policy/settings.js';
import type { ImportProblem } from '../directory/directory.js';
import { unknownName } from './near-name.js';

export const ACCOUNT_FIELDS = ['username', 'created', 'mailServer', 'domains', 'mailboxes'] as const;
export const MAILBOX_FIELDS = ['address', 'login'] as const;

/** A field inside a record: `mailServer`, `domains[2]`, `mailboxes[0].login`. */
export interface FieldPath {
  field: string;
  index?: number;
  sub?: string;
}

export const fieldPathText = (p: FieldPath): string =>
  `${p.field}${p.index === undefined ? '' : `[${p.index}]`}${p.sub === undefined ? '' : `.${p.sub}`}`;

/** One record before validation: where it is, what it holds, and how to name a field of it. */
export interface RawRecord {
  position: string;
  raw: unknown;
  /** The position of one of its fields: `accounts[3].domains[0]`, `line 4, domains[0]`, a CSV row. */
  fieldPosition: (path: FieldPath) => string;
}

/** A record's fields named as JSON paths below it: `accounts[3]` -> `accounts[3].domains[0]`. */
export const jsonFieldPositions =
  (position: string) =>
  (path: FieldPath): string =>
    `${position}.${fieldPathText(path)}`;

export interface ValidationOptions {
  /**
   * Accept an account that would answer a data error (no mail host can be derived: the
   * cases `mailconf check` reports). Off, such an account is a problem at its field.
   */
  allowDataErrors: boolean;
}

export type AccountCheck = { ok: true; account: ImportAccount } | { ok: false; problems: ImportProblem[] };

// Usernames and logins reach every answer (a login names the mailbox's account in XML,
// plist, HTML and text): no whitespace, no control characters, nothing XML 1.0 cannot hold
// (section 2.2, Char: lone surrogates, U+FFFE, U+FFFF), and no `%`, which autoconfig
// clients read as the start of a placeholder (%EMAILADDRESS%); so no stored value can break
// an answer.
const isToken = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length <= max && /^[^\s\p{Cc}%]+$/u.test(v) && isXmlText(v);
const TOKEN_RULE = 'characters without spaces, control characters or "%"';

type JsonObject = Record<string, unknown>;
export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The field a data error is about, where it is reported. */
const DATA_ERROR_FIELD: Record<DataErrorKind, keyof ImportAccount> = {
  'invalid-created': 'created',
  'missing-mail-server': 'mailServer',
  'invalid-mail-server': 'mailServer',
  'invalid-username': 'username',
};

/** Checks one record; the normalised account (lower-case names), or every problem found in it. */
export function validateAccount(record: RawRecord, profile: ProviderProfile, options: ValidationOptions): AccountCheck {
  const problems: ImportProblem[] = [];
  const at = (path: FieldPath) => record.fieldPosition(path);
  const problem = (position: string, reason: string) => void problems.push({ position, reason });
  const raw = record.raw;
  if (!isObject(raw)) return { ok: false, problems: [{ position: record.position, reason: 'expected an object' }] };
  for (const key of Object.keys(raw)) {
    if (!(ACCOUNT_FIELDS as readonly string[]).includes(key)) problem(at({ field: key }), unknownName('unknown field', key, ACCOUNT_FIELDS));
  }

  let username = '';
  if (!isToken(raw.username, 64)) problem(at({ field: 'username' }), `required: 1-64 ${TOKEN_RULE}`);
  else username = raw.username.toLowerCase();

  if (typeof raw.created !== 'string') {
    problem(at({ field: 'created' }), 'required: a YYYY-MM-DD date or an RFC 3339 timestamp');
  } else if (!parseCreated(raw.created)) {
    problem(at({ field: 'created' }), `"${raw.created}" is not a real YYYY-MM-DD date or RFC 3339 timestamp`);
  }

  let mailServer: number | null = null;
  if (raw.mailServer !== undefined && raw.mailServer !== null) {
    if (typeof raw.mailServer !== 'number' || !Number.isSafeInteger(raw.mailServer) || raw.mailServer <= 0) {
      problem(at({ field: 'mailServer' }), 'must be a positive integer');
    } else {
      mailServer = raw.mailServer;
    }
  }

  const domains: string[] = [];
  if (raw.domains !== undefined) {
    if (!Array.isArray(raw.domains)) problem(at({ field: 'domains' }), 'must be a list of domain names');
    else {
      raw.domains.forEach((d, index) => {
        const pos = at({ field: 'domains', index });
        const domain = typeof d === 'string' ? normalizeDomain(d) : undefined;
        if (!domain) return problem(pos, 'not a valid domain name');
        if (isAccountNamedDomain(profile, domain)) {
          return problem(pos, `${domain} is an account-named domain and belongs to no single account`);
        }
        if (domains.includes(domain)) return problem(pos, `${domain} is listed twice`);
        domains.push(domain);
      });
    }
  }

  const mailboxes: ImportMailbox[] = [];
  if (raw.mailboxes !== undefined) {
    if (!Array.isArray(raw.mailboxes)) problem(at({ field: 'mailboxes' }), 'must be a list');
    else {
      const seen = new Set<string>();
      raw.mailboxes.forEach((m, index) => {
        const field = (sub?: string) => at({ field: 'mailboxes', index, ...(sub === undefined ? {} : { sub }) });
        if (!isObject(m)) return problem(field(), 'expected an object with "address" and "login"');
        for (const key of Object.keys(m)) {
          if (!(MAILBOX_FIELDS as readonly string[]).includes(key)) problem(field(key), unknownName('unknown field', key, MAILBOX_FIELDS));
        }
        const address = typeof m.address === 'string' ? parseAddress(m.address) : undefined;
        if (!address) return problem(field('address'), 'not a valid email address');
        if (!mailboxBelongsTo(address, username, domains, profile)) {
          return problem(field('address'), `${address.address} is not in one of this account's domains`);
        }
        if (!isToken(m.login, 254)) return problem(field('login'), `required: 1-254 ${TOKEN_RULE}`);
        const key = address.address.toLowerCase();
        if (seen.has(key)) return problem(field('address'), `${key} is listed twice`);
        seen.add(key);
        mailboxes.push({ address: key, login: m.login });
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const account: ImportAccount = { username, created: raw.created as string, mailServer, domains, mailboxes };
  if (!options.allowDataErrors) {
    const host = hostFor(account, profile);
    if ('kind' in host) {
      const reason = `${host.detail}: a data error, clients would get no settings for this account`;
      return { ok: false, problems: [{ position: at({ field: DATA_ERROR_FIELD[host.kind] }), reason }] };
    }
  }
  return { ok: true, account };
}
