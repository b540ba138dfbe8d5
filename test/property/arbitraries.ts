// What the property tests share: hostile text, the accounts and addresses made of it, the
// path every value takes into a dialect (import validation, then parseAddress, then the
// policy), and the independent readers' small helpers. Each property states what must hold
// for every input: the answer parses with a reader that shares no code with its writer and
// gives back exactly the values that went in, or the input was refused before rendering.
import fc from 'fast-check';
import type { Test } from 'tap';
import { parseImportFile } from '../../src/accounts/accounts-file.js';
import type { ImportAccount } from '../../src/model/account.js';
import { parseAddress, type EmailAddress } from '../../src/model/address.js';
import { defaultProvider } from '../../src/policy/provider-profile.js';
import { settingsFor, type DataError, type MailSettings } from '../../src/policy/settings.js';

export const profile = defaultProvider;

// ---------------------------------------------------------------------------------------
// Running properties

/**
 * Checks `property` (which throws on a counterexample), as one tap assertion. A failure
 * names fast-check's seed and path; `FC_SEED=<seed> FC_PATH=<path>` replays exactly it.
 */
export async function holds<T>(t: Test, name: string, arbitrary: fc.Arbitrary<T>, property: (value: T) => void | Promise<void>, numRuns: number): Promise<void> {
  const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
  const path = process.env.FC_PATH;
  try {
    await fc.assert(fc.asyncProperty(arbitrary, async (value) => property(value)), {
      numRuns,
      ...(seed === undefined ? {} : { seed }),
      ...(path === undefined ? {} : { path }),
    });
    t.pass(name);
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : '';
    t.fail(name, { diagnostic: true, failure: (err as Error).message, cause });
  }
}

/** A plain assertion for inside a property (tap's would count thousands of passes). */
export function check(ok: unknown, message: string, detail?: unknown): asserts ok {
  if (!ok) throw new Error(detail === undefined ? message : `${message}: ${JSON.stringify(detail)}`);
}

export function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Hostile text

/** Markup, shell, template and URL metacharacters, alone and in the sequences that matter. */
const META = ['&', '<', '>', '"', "'", '`', '$', '\\', ';', '|', '=', '%', '#', '?', '/', '+', '*', '!', '{', '}', '[', ']',
  ']]>', '<!--', '-->', '<![CDATA[', '&amp;', '&lt;', '&#1;', '&#x41;', '&#xFFFF;', '&foo;', '{{x}}', '$(id)', '%00', '%41', '\\u0000'];
/** What XML 1.0 section 2.2 forbids, and other control, format and line-breaking characters. */
const FORBIDDEN = ['\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001B', '\u001F', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFE', '\uFFFF'];
const ODD = ['\t', '\n', '\r', ' ', '\u007F', '\u0085', '\u00A0', '\u2028', '\u2029', '\u200B', '\u202E', '\uFEFF', '\uFFFD', '\u{10FFFF}', '😀', 'ß', 'ö', 'İ', 'ﬀ'];

/** One "character" of hostile text: mostly ordinary, often meta, sometimes forbidden. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_') },
  { weight: 3, arbitrary: fc.constantFrom(...META) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD) },
  { weight: 1, arbitrary: fc.constantFrom(...FORBIDDEN) },
);

/** Hostile text of up to `maxLength` units; now and then a very long run. */
export function hostile(maxLength = 24, minLength = 1): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.string({ unit: hostileUnit, minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: hostileUnit, minLength: 60, maxLength: 300 }) },
  );
}

/** A domain as a client might type it: mostly valid (ASCII or Unicode), sometimes garbage. */
export const domainText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('newbie.example', 'oldtimer-shop.example', 'NewBie.Example', 'newbie.example.', 'pair.com', 'unknown.example') },
  { weight: 3, arbitrary: fc.domain() },
  { weight: 2, arbitrary: fc.tuple(fc.string({ unit: fc.constantFrom('ä', 'ö', 'ü', 'ß', 'é', 'ж', '中', 'a', 'b', '1', '-'), minLength: 1, maxLength: 12 }), fc.constantFrom('example', 'test', 'de')).map(([l, tld]) => `${l}.${tld}`) },
  { weight: 1, arbitrary: hostile(30) },
);

/** An address as a client might send it: a hostile local part at a mostly valid domain. */
export const addressText: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(hostile(30), domainText).map(([local, domain]) => `${local}@${domain}`) },
  { weight: 1, arbitrary: fc.emailAddress() },
  { weight: 1, arbitrary: hostile(40) },
);

export const dnsLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);

// ---------------------------------------------------------------------------------------
// Accounts, through the gates every value passes before it can reach a dialect

export interface RawCase {
  username: string;
  era: 'old' | 'new';
  mailServer: number;
  domain: string;
  local: string;
  /** A stored per-mailbox login, or none. */
  login: string | null;
}

export const rawCase: fc.Arbitrary<RawCase> = fc.record({
  username: fc.oneof({ weight: 4, arbitrary: dnsLabel }, { weight: 1, arbitrary: hostile(20) }),
  era: fc.constantFrom('old' as const, 'new' as const),
  mailServer: fc.integer({ min: 1, max: 100_000 }),
  domain: domainText,
  local: hostile(30),
  login: fc.option(fc.oneof({ weight: 2, arbitrary: hostile(40) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }) }), { freq: 2 }),
});

export type Scenario =
  /** The accounts file was refused whole (`mailconf import` prints the problems). */
  | { kind: 'import-refused'; raw: RawCase; problems: string[] }
  /** The address a client sent is not one: every dialect answers its client error. */
  | { kind: 'address-refused'; raw: RawCase; address: string }
  /** The account's data gives no host: the dialects' data-error answers. */
  | { kind: 'data-error'; raw: RawCase; error: DataError }
  | { kind: 'settings'; raw: RawCase; account: ImportAccount; address: EmailAddress; settings: MailSettings };

/**
 * What becomes of `raw`: the accounts file holding it is validated as `mailconf import`
 * does; the address a client sends for it is parsed as every request reader does; the
 * policy then makes the settings every dialect renders.
 */
export function scenario(raw: RawCase): Scenario {
  const addressText = `${raw.local}@${raw.domain}`;
  const accountNamed = parseAddress(`x@${raw.domain}`)?.domain === 'pair.com';
  const file = {
    accounts: [
      {
        username: raw.username,
        created: raw.era === 'old' ? '2009-03-14' : '2019-10-02',
        mailServer: raw.era === 'old' ? raw.mailServer : null,
        domains: accountNamed ? [] : [raw.domain],
        mailboxes: raw.login === null ? [] : [{ address: accountNamed ? `${raw.username}@${raw.domain}` : addressText, login: raw.login }],
      },
    ],
  };
  const imported = parseImportFile(JSON.stringify(file), profile, { allowDataErrors: true });
  if (!imported.ok) return { kind: 'import-refused', raw, problems: imported.problems.map((p) => `${p.position}: ${p.reason}`) };
  const account = imported.accounts[0]!;
  const address = parseAddress(accountNamed ? `${raw.username}@${raw.domain}` : addressText);
  if (!address) return { kind: 'address-refused', raw, address: addressText };
  const stored = account.mailboxes.find((m) => m.address === address.address.toLowerCase());
  const result = settingsFor({ account, domain: address.domain, address: address.address, mailboxLogin: stored?.login ?? null }, profile);
  if (!result.ok) return { kind: 'data-error', raw, error: result.error };
  return { kind: 'settings', raw, account, address, settings: result.settings };
}

export const scenarios: fc.Arbitrary<Scenario> = rawCase.map(scenario);

/** Logins no answer can carry (XML 1.0 section 2.2): U+FFFF, a C0 control, lone surrogates. */
export const UNWRITABLE_LOGINS = ['bad\uFFFFlogin', 'bad\u0001login', 'bad\uD800login', 'bad\uDC00login'];

/**
 * The settings of jane@newbie.example with `login` stored for her, as a directory filled
 * before import validation refused such logins would give them: for checking that a dialect
 * answers its data error rather than rendering what it cannot.
 */
export function storedLoginSettings(login: string): MailSettings {
  const account = { username: 'newbie', created: '2019-10-02', mailServer: null };
  const result = settingsFor({ account, domain: 'newbie.example', address: 'jane@newbie.example', mailboxLogin: login }, profile);
  if (!result.ok) throw new Error(`settings expected: ${result.error.detail}`);
  return result.settings;
}

/** Settings for a mailbox (address and login known) or for a whole domain (neither). */
export function domainLevel(settings: MailSettings): MailSettings {
  return { ...settings, address: null, login: null };
}

// ---------------------------------------------------------------------------------------
// Sending text the way clients do

const LONE_SURROGATE = /\p{Cs}/u;

export const hasLoneSurrogate = (text: string) => LONE_SURROGATE.test(text);

/**
 * `text` percent-encoded byte by byte, as a client's URL would carry it. A lone surrogate
 * has no UTF-8 form: it goes as the three bytes a careless encoder (CESU-8) writes, which
 * no decoder accepts.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const ch of text) {
    const bytes = hasLoneSurrogate(ch)
      ? [0xe0 | (ch.charCodeAt(0) >> 12), 0x80 | ((ch.charCodeAt(0) >> 6) & 0x3f), 0x80 | (ch.charCodeAt(0) & 0x3f)]
      : [...Buffer.from(ch, 'utf8')];
    out += bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

/** The five XML escapes and the three more Handlebars writes (`'`, `` ` ``, `=`), undone. */
export function decodeHtmlEscapes(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, ref: string) =>
    ref.startsWith('#x') ? String.fromCodePoint(parseInt(ref.slice(2), 16))
    : ref.startsWith('#') ? String.fromCodePoint(parseInt(ref.slice(1), 10))
    : named[ref]!,
  );
}
