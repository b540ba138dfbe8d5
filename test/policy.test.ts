import t from 'tap';
import type { Account } from '../src/model/account.js';
import { addressMd5 } from '../src/model/address.js';
import { calendarDate, parseCreated } from '../src/model/dates.js';
import { eraOf } from '../src/policy/era.js';
import { hostFor, loginFor, settingsFor } from '../src/policy/settings.js';
import { checkProvider, defaultProvider as pair, mxLookupDomains } from '../src/policy/provider-profile.js';

const account = (over: Partial<Account> = {}): Account => ({ username: 'acct', created: '2009-01-01', mailServer: 12, ...over });
const era = (created: string) => eraOf(created, pair.eraCutoff, pair.timeZone);

t.test('the era cut-off is 2011-06-01 in New York', async (t) => {
  t.equal(era('2011-05-31'), 'old', 'a plain date is compared as a date');
  t.equal(era('2011-06-01'), 'new');
  t.equal(era('2011-06-01T03:59:59Z'), 'old', 'still May 31st in New York (UTC-4 in June)');
  t.equal(era('2011-06-01T04:00:00Z'), 'new');
  t.equal(era('2011-06-01T00:30:00+02:00'), 'old', 'an offset is honoured: 2011-05-31 18:30 in New York');
  t.equal(era('2011-05-31T23:30:00-05:00'), 'new', '2011-06-01 00:30 in New York');
  t.equal(era('2011-06-01t04:00:00.123z'), 'new', 'lower-case t and z, fractions');
  t.equal(era('1999-12-31'), 'old');
  t.equal(era('2026-01-01T00:00:00Z'), 'new');
  // In winter New York is UTC-5: the zone's own rules apply, not a fixed offset.
  t.equal(calendarDate(new Date('2011-01-01T04:59:59Z'), pair.timeZone), '2010-12-31');
  t.equal(calendarDate(new Date('2011-01-01T05:00:00Z'), pair.timeZone), '2011-01-01');
  t.equal(eraOf('2011-06-01T03:00:00Z', '2011-06-01', 'UTC'), 'new', 'the zone is configurable');
});

t.test('created dates that are not dates', async (t) => {
  for (const bad of ['', 'yesterday', '2011-02-30', '2011-13-01', '2011-6-1', '2011-06-01T25:00:00Z', '2011-06-01T10:60:00Z', '2011-06-01T10:00:00', '2011-06-01T10:00:00+24:00', '2011-06-01T10:00:61Z']) {
    t.equal(parseCreated(bad), undefined, JSON.stringify(bad));
    t.equal(era(bad), undefined);
  }
  t.same(parseCreated('2012-02-29'), { date: '2012-02-29' }, 'leap day');
});

t.test('hosts by era', async (t) => {
  t.same(hostFor(account({ mailServer: 12 }), pair), { era: 'old', host: 'mail12.pair.com' });
  t.same(hostFor(account({ mailServer: 123 }), pair), { era: 'old', host: 'mail123.pair.com' });
  t.same(hostFor(account({ username: 'shop-4u', created: '2015-01-01', mailServer: null }), pair), {
    era: 'new',
    host: 'shop-4u.mail.pairserver.com',
  });
  t.same(hostFor(account({ username: 'shop', created: '2015-01-01', mailServer: 99 }), pair), {
    era: 'new',
    host: 'shop.mail.pairserver.com',
  }, 'a new-era account ignores a stored mail server number');
});

t.test('every data error comes back typed, never a guessed host', async (t) => {
  t.match(hostFor(account({ mailServer: null }), pair), { kind: 'missing-mail-server', username: 'acct' });
  t.match(hostFor(account({ mailServer: 0 }), pair), { kind: 'invalid-mail-server' });
  t.match(hostFor(account({ mailServer: 1.5 }), pair), { kind: 'invalid-mail-server' });
  t.match(hostFor(account({ created: 'soon' }), pair), { kind: 'invalid-created' });
  for (const username of ['bad_name', '-lead', 'trail-', 'x'.repeat(64), 'UPPER', 'dot.ted', '']) {
    t.match(hostFor(account({ username, created: '2015-01-01' }), pair), { kind: 'invalid-username', username }, username);
  }
  t.same(hostFor(account({ username: 'x'.repeat(63), created: '2015-01-01' }), pair), {
    era: 'new',
    host: `${'x'.repeat(63)}.mail.pairserver.com`,
  });
  const result = settingsFor({ account: account({ mailServer: null }), domain: 'd.example' }, pair);
  t.match(result, { ok: false, error: { kind: 'missing-mail-server' } });
});

t.test('login rules', async (t) => {
  const a = account();
  t.equal(loginFor({ account: a, domain: 'shop.example', address: 'jane@shop.example' }, pair), 'jane@shop.example');
  t.equal(loginFor({ account: a, domain: 'shop.example', address: 'jane@shop.example', mailboxLogin: 'jane-x' }, pair), 'jane-x');
  t.equal(loginFor({ account: a, domain: 'pair.com', address: 'acct@pair.com' }, pair), 'acct', 'bare username on pair.com');
  t.equal(loginFor({ account: a, domain: 'pair.com', address: 'acct@pair.com', mailboxLogin: 'other' }, pair), 'other');
  t.equal(loginFor({ account: a, domain: 'shop.example' }, pair), null, 'unknown without an address');
  // A stored login equal to the rule's (any case) is no override: the answer must not tell
  // a stored mailbox from an unknown one by letter case.
  t.equal(loginFor({ account: a, domain: 'shop.example', address: 'JANE@shop.example', mailboxLogin: 'jane@shop.example' }, pair), 'JANE@shop.example');
  t.equal(loginFor({ account: a, domain: 'shop.example', address: 'jane@shop.example', mailboxLogin: 'Jane@Shop.Example' }, pair), 'jane@shop.example');
  t.equal(loginFor({ account: a, domain: 'pair.com', address: 'ACCT@pair.com', mailboxLogin: 'ACCT' }, pair), 'acct');
  t.equal(loginFor({ account: a, domain: 'shop.example', address: 'JANE@shop.example', mailboxLogin: 'jane' }, pair), 'jane', 'a real override still wins');
});

t.test("login rules for a mailbox named by its hash (Evolution's emailmd5)", async (t) => {
  const a = account({ created: '2015-01-01' });
  const jane = addressMd5('jane@shop.example');
  const byHash = (mailboxLogin: string | null) => loginFor({ account: a, domain: 'shop.example', address: null, mailboxLogin, mailboxMd5: jane }, pair);
  t.equal(byHash('jane-x'), 'jane-x', 'a stored login wins');
  t.equal(byHash(null), null, 'none stored: the client fills in the address');
  t.equal(byHash('Jane@Shop.Example'), null, 'a stored login that is only the address itself is no override');
  t.equal(byHash('other@shop.example'), 'other@shop.example', "another address is an override");
  const settings = settingsFor({ account: a, domain: 'shop.example', mailboxLogin: 'jane-x', mailboxMd5: jane }, pair);
  t.match(settings, { ok: true, settings: { address: null, login: 'jane-x', namedByHash: true } });
  const plain = settingsFor({ account: a, domain: 'shop.example' }, pair);
  t.notOk(plain.ok && 'namedByHash' in plain.settings, 'no hash: not marked');
});

t.test('settings: server order, ports, security and limits', async (t) => {
  const result = settingsFor({ account: account(), domain: 'shop.example', address: 'jane@shop.example' }, pair);
  if (!result.ok) throw new Error('expected settings');
  const s = result.settings;
  t.same(
    s.incoming.map((x) => `${x.protocol} ${x.port} ${x.security}`),
    ['imap 993 tls', 'imap 143 starttls', 'pop3 995 tls', 'pop3 110 starttls'],
  );
  t.same(s.outgoing.map((x) => `${x.protocol} ${x.port} ${x.security}`), ['smtp 465 tls', 'smtp 587 starttls']);
  t.ok([...s.incoming, ...s.outgoing].every((x) => x.host === 'mail12.pair.com'), 'one host for everything');
  t.notOk([...s.incoming, ...s.outgoing].some((x) => x.port === 25), 'never port 25');
  t.equal(s.maxMessageBytes, 40 * 1024 * 1024);
  t.equal(s.authentication, 'password');
  t.match(s, { domain: 'shop.example', address: 'jane@shop.example', login: 'jane@shop.example', era: 'old', provider: { id: 'pair.com' } });
});

t.test('another provider adapts by configuration alone', async (t) => {
  const other = { ...pair, id: 'example.net', oldEraHost: 'legacy{mailServer}.example.net', newEraHost: 'm.{username}.example.net', eraCutoff: '2020-01-01', timeZone: 'UTC', accountNamedDomains: ['example.net'] };
  const r = settingsFor({ account: account({ created: '2019-12-31T23:59:59Z', mailServer: 4 }), domain: 'example.net', address: 'acct@example.net' }, other);
  t.match(r, { ok: true, settings: { host: 'legacy4.example.net', login: 'acct', provider: { id: 'example.net' } } });
  const n = settingsFor({ account: account({ created: '2020-01-01T00:00:00Z' }), domain: 'c.example' }, other);
  t.match(n, { ok: true, settings: { host: 'm.acct.example.net', login: null } });
});

t.test('the provider profile refuses host patterns that give no host name', async (t) => {
  t.equal(checkProvider(pair), undefined, 'the built-in profile is usable');
  for (const [field, value] of [
    ['oldEraHost', 'mail {mailServer}.pair.com'],
    ['oldEraHost', 'Mail{mailServer}.pair.com'],
    ['oldEraHost', 'mail{mailServer}'],
    ['oldEraHost', 'mail{mailServer}.pair.com/'],
    ['newEraHost', '{username}_x.pairserver.com'],
    ['newEraHost', '{username}..pairserver.com'],
    ['newEraHost', 'https://{username}.pairserver.com'],
  ] as const) {
    t.match(checkProvider({ ...pair, [field]: value }), new RegExp(`^${field} ".*" must be a lower-case host name`), `${field}: ${value}`);
  }
  t.equal(checkProvider({ ...pair, oldEraHost: 'imap{mailServer}.mail.example.net', newEraHost: 'u-{username}.example.net' }), undefined);
  for (const [field, value] of [['displayName', 'pair\u0007Mail'], ['displayShortName', 'pair\uFFFF'], ['displayName', 'pair\nMail'], ['documentationUrl', 'https://x.example/\u0000']] as const) {
    t.match(checkProvider({ ...pair, [field]: value }), new RegExp(`^${field} must not contain control characters`), `${field}: ${JSON.stringify(value)}`);
  }
  t.equal(checkProvider({ ...pair, displayName: 'pair Networks — Mail <&> "ü"' }), undefined, 'metacharacters and Unicode are fine: they are escaped');
});

t.test('the provider profile refuses wording for people that a page or a line of text cannot show', async (t) => {
  for (const usageRules of [[], [''], ['ok', 'two\nlines'], ['bell\u0007'], ['x'.repeat(501)], 'No spam.'] as unknown[]) {
    t.match(checkProvider({ ...pair, usageRules: usageRules as string[] }), /^usageRules must be a non-empty list of lines/, JSON.stringify(usageRules));
  }
  for (const unknownAccountText of ['', 'a\rb', 'No {user} here.', 'No {username} at {Domain}.']) {
    t.match(checkProvider({ ...pair, unknownAccountText }), /^unknownAccountText/, JSON.stringify(unknownAccountText));
  }
  t.equal(checkProvider({ ...pair, usageRules: ['Only <nice> mail & no spam.'], unknownAccountText: 'No {username}, {username} or {domain} here.' }), undefined);
});

t.test('MX-based lookup domains: the base domain of each MX host, and the full domain where clients try it first', async (t) => {
  // provider.md's hosts: mail<N>.pair.com gives pair.com; <username>.mail.pairserver.com
  // gives pairserver.com, and no full domain (autoconfig.mail.pairserver.com would be the
  // host of an account named "autoconfig").
  t.same(mxLookupDomains(pair), { base: ['pair.com', 'pairserver.com'], full: [] });
  t.equal(mxLookupDomains(pair), mxLookupDomains(pair), 'derived once per profile');
  // draft-06 4.3's examples: mx.example.com gives example.com twice; mx.premium.europe.example.com
  // gives MXFULLDOMAIN premium.europe.example.com and MXBASEDOMAIN example.com.
  t.same(mxLookupDomains({ ...pair, mxHosts: ['mx.example.com'] }), { base: ['example.com'], full: [] });
  t.same(mxLookupDomains({ ...pair, mxHosts: ['mx.premium.europe.example.com', 'mx2.premium.europe.example.com'] }), {
    base: ['example.com'],
    full: ['premium.europe.example.com'],
  });
  t.same(mxLookupDomains({ ...pair, mxHosts: [] }), { base: [], full: [] });
  t.equal(checkProvider({ ...pair, mxHosts: [] }), undefined, 'no MX hosts: no MX-based names');
  t.equal(checkProvider({ ...pair, mxHosts: ['mx{mailServer}.hoster.example', 'in.{username}.hoster.example'] }), undefined);
  for (const bad of ['MX.pair.com', 'mx pair.com', 'localhost', '{username}.com', 'mx.{username}', '']) {
    t.match(checkProvider({ ...pair, mxHosts: [bad] }), /^mxHosts: ".*" must be a lower-case host name/, JSON.stringify(bad));
  }
  t.match(checkProvider({ ...pair, mxHosts: 'mx.pair.com' as unknown as string[] }), /^mxHosts must be a list/);
});
