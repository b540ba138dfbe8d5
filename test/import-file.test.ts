// The accounts-file validator (`mailconf import`, demo data): every rule, with the position
// an operator is pointed at. Pure: no directory involved.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import type { ImportAccount } from '../src/model/account.js';
import { parseImportFile, type ImportParse, type ImportProblem } from '../src/accounts/accounts-file.js';
import { DEMO_FILE } from '../src/accounts/open.js';
import { defaultProvider } from '../src/policy/provider-profile.js';

/** The example from the issue: an old-era account with a mailbox login, two new-era accounts. */
const EXAMPLE_FILE = {
  accounts: [
    {
      username: 'oldtimer',
      created: '2009-03-14',
      mailServer: 123,
      domains: ['oldtimer-shop.example'],
      mailboxes: [{ address: 'sales@oldtimer-shop.example', login: 'sales-oldtimer' }],
    },
    { username: 'newbie', created: '2019-10-02T15:04:05Z', domains: ['newbie.example'] },
    { username: 'hershop', created: '2021-04-19', domains: ['her-shop.example', 'her-shop.test'] },
  ],
};

// The format's rules alone: accounts that would answer a data error are accepted here, and
// refused only when the caller asks (the data-error test below).
const FORMAT_ONLY = { allowDataErrors: true };
const parse = (data: unknown, options = FORMAT_ONLY): ImportParse => parseImportFile(JSON.stringify(data), defaultProvider, options);
const file = (...accounts: unknown[]) => ({ accounts });
const good = (extra: Record<string, unknown> = {}) => ({ username: 'shop', created: '2020-01-01', ...extra });

function accepted(t: Test, data: unknown): ImportAccount[] {
  const r = parse(data);
  if (!r.ok) {
    t.fail(`expected the file to be accepted, got ${JSON.stringify(r.problems)}`);
    return [];
  }
  return r.accounts;
}

function problems(t: Test, data: unknown): ImportProblem[] {
  const r = parse(data);
  if (r.ok) {
    t.fail('expected the file to be rejected');
    return [];
  }
  return r.problems;
}

const positions = (ps: ImportProblem[]) => ps.map((p) => p.position);

t.test("the issue's example file is accepted and normalised", async (t) => {
  t.same(accepted(t, EXAMPLE_FILE), [
    {
      username: 'oldtimer',
      created: '2009-03-14',
      mailServer: 123,
      domains: ['oldtimer-shop.example'],
      mailboxes: [{ address: 'sales@oldtimer-shop.example', login: 'sales-oldtimer' }],
    },
    { username: 'newbie', created: '2019-10-02T15:04:05Z', mailServer: null, domains: ['newbie.example'], mailboxes: [] },
    { username: 'hershop', created: '2021-04-19', mailServer: null, domains: ['her-shop.example', 'her-shop.test'], mailboxes: [] },
  ]);
});

t.test('the shipped demo data is accepted', async (t) => {
  const r = parseImportFile(readFileSync(DEMO_FILE, 'utf8'), defaultProvider, { allowDataErrors: false });
  t.ok(r.ok, r.ok ? 'valid' : JSON.stringify(r.problems));
});

t.test('an empty accounts list is a valid (empty) file', async (t) => {
  t.same(accepted(t, { accounts: [] }), []);
});

t.test('invalid JSON and a wrong shape are reported for the whole file', async (t) => {
  const broken = parseImportFile('{"accounts": [ {"username": "a", }', defaultProvider, FORMAT_ONLY);
  t.notOk(broken.ok);
  if (!broken.ok) {
    t.equal(broken.problems.length, 1);
    t.equal(broken.problems[0]!.position, '(file)');
    t.match(broken.problems[0]!.reason, /not valid JSON/);
  }
  for (const data of [[], { accounts: {} }, { users: [] }, 'accounts', null]) {
    t.same(positions(problems(t, data)), ['(file)'], `rejects ${JSON.stringify(data)}`);
  }
});

t.test('unknown fields are rejected at every level', async (t) => {
  t.same(positions(problems(t, { accounts: [good()], version: 2 })), ['version'], 'top level');
  t.same(positions(problems(t, file(good({ mailserver: 12 })))), ['accounts[0].mailserver'], 'account (misspelt field)');
  t.same(
    positions(
      problems(t, file(good({ domains: ['shop.example'], mailboxes: [{ address: 'a@shop.example', login: 'a', password: 'x' }] }))),
    ),
    ['accounts[0].mailboxes[0].password'],
    'mailbox',
  );
});

t.test('username: required, without spaces, unique ignoring case, stored lower-case', async (t) => {
  t.same(positions(problems(t, file({ created: '2020-01-01' }))), ['accounts[0].username'], 'missing');
  t.same(positions(problems(t, file(good({ username: '' })))), ['accounts[0].username'], 'empty');
  t.same(positions(problems(t, file(good({ username: 'two words' })))), ['accounts[0].username'], 'space');
  t.same(positions(problems(t, file(good({ username: 42 })))), ['accounts[0].username'], 'not a string');
  t.same(positions(problems(t, file(good({ username: 'x'.repeat(65) })))), ['accounts[0].username'], 'too long');

  const dup = problems(t, file(good({ username: 'Shop' }), good({ username: 'other' }), good({ username: 'SHOP' })));
  t.same(positions(dup), ['accounts[2].username'], 'a duplicate in another case');
  t.match(dup[0]!.reason, /"shop" is already used by accounts\[0\]/);

  t.equal(accepted(t, file(good({ username: 'MixedCase' })))[0]?.username, 'mixedcase');
});

t.test('created: a real YYYY-MM-DD date or an RFC 3339 timestamp', async (t) => {
  for (const created of [
    '2011-05-31',
    '2011-06-01',
    '2012-02-29',
    '2011-06-01T03:59:59Z',
    '2011-06-01T00:00:00-04:00',
    '2011-06-01t12:30:00.123+02:00',
  ]) {
    t.equal(accepted(t, file(good({ created })))[0]?.created, created, `accepts ${created}`);
  }
  for (const created of [
    '2011-02-30',
    '2011-13-01',
    '2011-02-29',
    '2011-06-01T25:00:00Z',
    '2011-06-01T12:60:00Z',
    '2011-06-01T12:00:00',
    '2011-06-01T12:00:00+24:00',
    '2011-6-1',
    '01/06/2011',
    'yesterday',
    '',
  ]) {
    // The bad record is the second one, so the position must name it, not the first.
    const ps = problems(t, file(good({ username: 'first' }), good({ username: 'second', created })));
    t.same(positions(ps), ['accounts[1].created'], `rejects ${JSON.stringify(created)}`);
  }
  t.same(positions(problems(t, file({ username: 'nodate' }))), ['accounts[0].created'], 'missing');
  t.same(positions(problems(t, file(good({ created: 20110601 })))), ['accounts[0].created'], 'a number');
});

t.test('mailServer: optional, else a positive integer', async (t) => {
  t.equal(accepted(t, file(good({ mailServer: 123 })))[0]?.mailServer, 123);
  t.equal(accepted(t, file(good()))[0]?.mailServer, null, 'absent');
  t.equal(accepted(t, file(good({ mailServer: null })))[0]?.mailServer, null, 'null');
  for (const mailServer of [0, -1, 1.5, '123', true, 2 ** 60]) {
    t.same(positions(problems(t, file(good({ mailServer })))), ['accounts[0].mailServer'], `rejects ${JSON.stringify(mailServer)}`);
  }
});

t.test('domains: valid names, normalised to lower case', async (t) => {
  t.same(accepted(t, file(good({ domains: ['Her-Shop.EXAMPLE', 'shop.example.'] })))[0]?.domains, [
    'her-shop.example',
    'shop.example',
  ]);
  const ps = problems(t, file(good({ domains: ['shop.example', 'not a domain', 'localhost', 7, '-bad.example'] })));
  t.same(positions(ps), ['accounts[0].domains[1]', 'accounts[0].domains[2]', 'accounts[0].domains[3]', 'accounts[0].domains[4]']);
  t.same(positions(problems(t, file(good({ domains: 'shop.example' })))), ['accounts[0].domains'], 'not a list');
});

t.test('a domain claimed by two accounts is an error naming both', async (t) => {
  const ps = problems(
    t,
    file(good({ username: 'alice', domains: ['shared.example'] }), good({ username: 'bob', domains: ['SHARED.example'] })),
  );
  t.same(positions(ps), ['accounts[1].domains[0]'], 'caught even in another case');
  t.match(ps[0]!.reason, /shared\.example/);
  t.match(ps[0]!.reason, /\balice\b/);
  t.match(ps[0]!.reason, /\bbob\b/);
});

t.test('an account-named domain (pair.com) is not allowed in domains', async (t) => {
  for (const domain of ['pair.com', 'PAIR.COM']) {
    const ps = problems(t, file(good({ domains: ['shop.example', domain] })));
    t.same(positions(ps), ['accounts[0].domains[1]'], domain);
    t.match(ps[0]!.reason, /account-named/);
  }
});

t.test('mailboxes: in one of the account\'s domains, or <username>@pair.com', async (t) => {
  const [shop] = accepted(
    t,
    file(
      good({
        username: 'Shop',
        domains: ['shop.example'],
        mailboxes: [
          { address: 'Sales@SHOP.example', login: 'sales-shop' },
          { address: 'SHOP@pair.com', login: 'shop' },
        ],
      }),
    ),
  );
  t.same(shop?.mailboxes, [
    { address: 'sales@shop.example', login: 'sales-shop' },
    { address: 'shop@pair.com', login: 'shop' },
  ]);

  const ps = problems(
    t,
    file(
      good({ username: 'alice', domains: ['alice.example'] }),
      good({
        username: 'shop',
        domains: ['shop.example'],
        mailboxes: [
          { address: 'someone@alice.example', login: 'x' }, // another account's domain
          { address: 'alice@pair.com', login: 'x' }, // another account's pair.com mailbox
          { address: 'not-an-address', login: 'x' },
          { address: 'ok@shop.example' }, // no login
          { address: 'ok2@shop.example', login: 'has space' },
          'ok3@shop.example',
        ],
      }),
    ),
  );
  t.same(positions(ps), [
    'accounts[1].mailboxes[0].address',
    'accounts[1].mailboxes[1].address',
    'accounts[1].mailboxes[2].address',
    'accounts[1].mailboxes[3].login',
    'accounts[1].mailboxes[4].login',
    'accounts[1].mailboxes[5]',
  ]);
  t.match(ps[0]!.reason, /someone@alice\.example is not in one of this account's domains/);
  t.same(positions(problems(t, file(good({ mailboxes: {} })))), ['accounts[0].mailboxes'], 'not a list');
});

t.test('a mailbox listed twice (in any case) is an error', async (t) => {
  const ps = problems(
    t,
    file(
      good({
        domains: ['shop.example'],
        mailboxes: [
          { address: 'sales@shop.example', login: 'a' },
          { address: 'SALES@shop.example', login: 'b' },
        ],
      }),
    ),
  );
  t.same(positions(ps), ['accounts[0].mailboxes[1].address']);
  t.match(ps[0]!.reason, /sales@shop\.example is listed twice/);
});

t.test('every problem in the file is reported, not just the first', async (t) => {
  const ps = problems(t, {
    accounts: [
      good({ username: 'ok', domains: ['ok.example'] }),
      { username: 'bad one', created: 'yesterday', mailServer: 0, domains: ['pair.com'] },
      'not an object',
      good({ username: 'OK', domains: ['ok.example'] }),
    ],
    comment: 'x',
  });
  t.same(positions(ps).sort(), [
    'accounts[1].created',
    'accounts[1].domains[0]',
    'accounts[1].mailServer',
    'accounts[1].username',
    'accounts[2]',
    'accounts[3].domains[0]',
    'accounts[3].username',
    'comment',
  ]);
});

t.test('the validator respects the provider profile', async (t) => {
  const profile = { ...defaultProvider, accountNamedDomains: ['mail.example'] };
  const r = parseImportFile(JSON.stringify(file(good({ domains: ['pair.com', 'mail.example'] }))), profile, FORMAT_ONLY);
  t.notOk(r.ok);
  if (!r.ok) t.same(positions(r.problems), ['accounts[0].domains[1]'], 'pair.com is an ordinary domain there');
});

t.test('usernames, logins and mailbox addresses with characters XML forbids or control characters are refused', async (t) => {
  // JSON can carry all of these (as \uXXXX escapes); none can reach an answer. A `%`
  // is refused in usernames and logins only: autoconfig clients would read it as a
  // placeholder, while an address with one is answered with the placeholder itself.
  const bad = ['\u0001', '\u001f', '\u007f', '\u0085', '\ud800', '\udfff', '\ufffe', '\uffff', '%'];
  for (const c of bad) {
    const name = JSON.stringify(c);
    const user = problems(t, file(good({ username: `sh${c}op` })));
    t.same(positions(user), ['accounts[0].username'], `username with ${name}`);
    t.match(user[0]!.reason, /without spaces, control characters or "%"/);
    const login = problems(t, file(good({ domains: ['shop.example'], mailboxes: [{ address: 'a@shop.example', login: `lo${c}gin` }] })));
    t.same(positions(login), ['accounts[0].mailboxes[0].login'], `login with ${name}`);
    if (c === '%') continue;
    const address = problems(t, file(good({ domains: ['shop.example'], mailboxes: [{ address: `a${c}b@shop.example`, login: 'x' }] })));
    t.same(positions(address), ['accounts[0].mailboxes[0].address'], `address with ${name}`);
  }
  // Any other Unicode is fine, astral characters (surrogate pairs) included.
  const ok = accepted(t, file(good({ username: 'jörg😀', domains: ['shop.example'], mailboxes: [{ address: 'jörg%😀@shop.example', login: 'jörg😀-imap' }] })));
  t.match(ok[0], { username: 'jörg😀', mailboxes: [{ address: 'jörg%😀@shop.example', login: 'jörg😀-imap' }] });
});

t.test('an account that would answer a data error is refused unless allowed, at the field to fix', async (t) => {
  const refused = { allowDataErrors: false };
  const cases = [
    { account: good({ username: 'noserver', created: '2005-01-01' }), position: 'accounts[0].mailServer', reason: /^old-era account has no mail server number: a data error, clients would get no settings for this account$/ },
    { account: good({ username: 'bad_name', created: '2015-01-01' }), position: 'accounts[0].username', reason: /^username "bad_name" is not a valid DNS label: a data error/ },
  ];
  for (const c of cases) {
    const ps = parse(file(c.account), refused);
    t.notOk(ps.ok, `${c.position} refused`);
    if (!ps.ok) {
      t.same(positions(ps.problems), [c.position]);
      t.match(ps.problems[0]!.reason, c.reason);
    }
    t.ok(parse(file(c.account)).ok, 'accepted when data errors are allowed');
  }
  t.ok(parse(file(good({ created: '2005-01-01', mailServer: 4 })), refused).ok, 'an old-era account with its server is fine');
  t.ok(parse(EXAMPLE_FILE, refused).ok, "the issue's example has no data errors");
});

t.test('unknown fields name the field they were probably meant to be', async (t) => {
  const reasons = (data: unknown) => Object.fromEntries(problems(t, data).map((p) => [p.position, p.reason]));
  t.same(reasons(file(good({ mailserver: 12, domain: 'shop.example', Created: 'x', colour: 'red' }))), {
    'accounts[0].mailserver': 'unknown field (did you mean "mailServer"?)',
    'accounts[0].domain': 'unknown field (did you mean "domains"?)',
    'accounts[0].Created': 'unknown field (did you mean "created"?)',
    'accounts[0].colour': 'unknown field',
  });
  t.same(reasons(file(good({ domains: ['shop.example'], mailboxes: [{ adress: 'a@shop.example', login: 'a' }] })))['accounts[0].mailboxes[0].adress'], 'unknown field (did you mean "address"?)');
  t.same(reasons({ account: [] }), { '(file)': 'expected an object with an "accounts" list' }, 'the shape comes first');
  t.same(reasons({ accounts: [], acounts: [] }), { acounts: 'unknown field (did you mean "accounts"?)' });
});
