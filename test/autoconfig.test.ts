import { createHash } from 'node:crypto';
import t from 'tap';
import { SqliteDirectory } from '../src/directory/sqlite.js';
import type { ImportMailbox } from '../src/model/account.js';
import { autoconfigDialect } from '../src/dialects/autoconfig.js';
import { Templates } from '../src/templates.js';
import { storedLoginSettings, UNWRITABLE_LOGINS } from './property/arbitraries.js';
import { DownDirectory, send, testApp } from './support/app.js';

const PATHS = ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml'];
const q = (address: string) => `?emailaddress=${encodeURIComponent(address)}`;

/** The newbie account (new era) with the given stored mailboxes. */
async function directoryWith(mailboxes: ImportMailbox[]): Promise<SqliteDirectory> {
  const d = new SqliteDirectory(':memory:');
  await d.importAccounts([{ username: 'newbie', created: '2019-10-02', mailServer: null, domains: ['newbie.example'], mailboxes }], { replace: true });
  return d;
}

t.test('old-era and new-era accounts get their era host on both paths', async (t) => {
  const { app } = await testApp(t);
  const cases = [
    { email: 'jane@oldtimer-shop.example', host: 'mail123.pair.com' },
    { email: 'jane@newbie.example', host: 'newbie.mail.pairserver.com' },
  ];
  for (const path of PATHS) {
    for (const { email, host } of cases) {
      const { res, autoconfig } = await send(t, app, { url: path + q(email), headers: { host: 'autoconfig.example.net' } }, email);
      t.equal(res.statusCode, 200);
      t.equal(res.headers['content-type'], 'text/xml; charset=utf-8');
      t.ok(res.body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">'), 'no BOM, XML header first');
      t.notOk(res.headers['content-encoding'], 'identity encoding');
      for (const [client, reading] of Object.entries(autoconfig!.clients)) {
        // Thunderbird and its Android app take the first server of a type; FairEmail and
        // Evolution the last, so every listed server must work.
        const first = client === 'thunderbird' || client === 'thunderbird-android';
        t.match(reading.incoming, { type: 'imap', hostname: host, port: first ? 993 : 143, socketType: first ? 'SSL' : 'STARTTLS', username: email }, `${client} incoming`);
        t.match(reading.outgoing, { type: 'smtp', hostname: host, port: first ? 465 : 587, socketType: first ? 'SSL' : 'STARTTLS', username: email }, `${client} outgoing`);
      }
      const tb = autoconfig!.clients.thunderbird;
      t.same(
        [tb.incoming, ...tb.incomingAlternatives].map((s) => `${s!.type}:${s!.port}:${s!.socketType}`),
        ['imap:993:SSL', 'imap:143:STARTTLS', 'pop3:995:SSL', 'pop3:110:STARTTLS'],
        'incoming servers in the policy order',
      );
      t.same(
        [tb.outgoing, ...tb.outgoingAlternatives].map((s) => `${s!.port}:${s!.socketType}:${s!.hostname}`),
        [`465:SSL:${host}`, `587:STARTTLS:${host}`],
        'SMTP 465 implicit TLS first, 587 STARTTLS second, never 25',
      );
      t.match(res.body, /<emailProvider id="pair\.com">/);
      t.match(res.body, new RegExp(`<domain>${email.split('@')[1]!.replace(/\./g, '\\.')}</domain>`));
      t.equal(res.body.match(/<domain>/g)?.length, 1, 'lists no other customer domain');
      t.notMatch(res.body, /<password>|plain</);
    }
  }
});

t.test('the era boundary in the provider time zone', async (t) => {
  const { app } = await testApp(t);
  const expected: Record<string, string> = {
    'lastday.example': 'mail12.pair.com', // 2011-06-01T03:59:59Z is still May 31st in New York
    'firstday.example': 'firstday.mail.pairserver.com', // 2011-06-01T04:00:00Z is June 1st
    'datelast.example': 'mail7.pair.com',
    'datefirst.example': 'datefirst.mail.pairserver.com',
  };
  for (const [domain, host] of Object.entries(expected)) {
    const { autoconfig } = await send(t, app, { url: PATHS[0] + q(`a@${domain}`) }, `a@${domain}`);
    t.equal(autoconfig!.clients.thunderbird.incoming?.hostname, host, domain);
  }
});

t.test('without emailaddress the Host names the domain and clients fill in the address', async (t) => {
  const { app } = await testApp(t);
  for (const host of ['autoconfig.newbie.example', 'AutoConfig.NewBie.Example:80', 'newbie.example', 'newbie.example.']) {
    for (const path of PATHS) {
      const { res, autoconfig } = await send(t, app, { url: path, headers: { host } }, 'sam@newbie.example');
      t.equal(res.statusCode, 200, `${host}${path}`);
      t.match(res.body, '<username>%EMAILADDRESS%</username>');
      t.match(res.body, '<domain>newbie.example</domain>');
      t.equal(autoconfig!.clients['thunderbird-android'].incoming?.username, 'sam@newbie.example');
      t.equal(autoconfig!.clients.fairemail.outgoing?.username, 'sam@newbie.example');
    }
  }
});

t.test('the address is decoded the way each client sends it', async (t) => {
  const { app } = await testApp(t);
  const cases: Array<[string, string]> = [
    ['?emailaddress=jane%40newbie.example', 'jane@newbie.example'], // Thunderbird
    ['?emailaddress=jane@newbie.example', 'jane@newbie.example'], // FairEmail, raw
    ['?emailaddress=first%2Elast%2Dx%40newbie.example', 'first.last-x@newbie.example'], // Delta Chat
    ['?emailaddress=bob+tag@newbie.example', 'bob+tag@newbie.example'], // a raw + is not a space
    ['?emailaddress=Jane%40NewBie.Example', 'Jane@newbie.example'], // domain case ignored
    // Evolution's own form: the placeholder is no mailbox (the test below), so clients fill in the address.
    ['?emailaddress=EVOLUTIONUSER%40newbie.example&emailmd5=0123456789abcdef0123456789abcdef', '%EMAILADDRESS%'],
    ['?EmailAddress=jane%40newbie.example&unknown=1', 'jane@newbie.example'],
  ];
  for (const [query, login] of cases) {
    const { res } = await send(t, app, { url: PATHS[0] + query, headers: { host: 'autoconfig.newbie.example' } });
    t.equal(res.statusCode, 200, query);
    t.match(res.body, `<username>${login}</username>`, query);
    t.notMatch(res.body, /%[0-9A-F]{2}/i, 'no percent escapes reach the config');
  }
});

t.test("Evolution's placeholder form: the stored login of the mailbox whose hash it sends, else the placeholder", async (t) => {
  const { app } = await testApp(t);
  const md5 = (address: string) => createHash('md5').update(address.toLowerCase()).digest('hex');
  const evolution = (domain: string, emailmd5: string) => `${PATHS[0]}?emailaddress=EVOLUTIONUSER%40${domain}&emailmd5=${emailmd5}`;
  // [real address typed in Evolution, query, the login each client must end up with]
  const cases: Array<[string, string, string]> = [
    ['sales@oldtimer-shop.example', evolution('oldtimer-shop.example', md5('sales@oldtimer-shop.example')), 'sales-oldtimer'],
    ['Sales@Oldtimer-Shop.example', evolution('oldtimer-shop.example', md5('Sales@Oldtimer-Shop.example')), 'sales-oldtimer'], // Evolution lower-cases before hashing
    ['Sales@oldtimer-shop.example', evolution('oldtimer-shop.example', md5('sales@oldtimer-shop.example').toUpperCase()), 'sales-oldtimer'], // hex in capitals
    ['other@oldtimer-shop.example', evolution('oldtimer-shop.example', md5('other@oldtimer-shop.example')), 'other@oldtimer-shop.example'], // not stored
    ['Other@oldtimer-shop.example', evolution('oldtimer-shop.example', md5('sales@oldtimer-shop.example').slice(1)), 'Other@oldtimer-shop.example'], // 31 hex digits
    ['other@oldtimer-shop.example', evolution('oldtimer-shop.example', `${md5('sales@oldtimer-shop.example')}0`), 'other@oldtimer-shop.example'], // 33
    ['other@oldtimer-shop.example', evolution('oldtimer-shop.example', 'g'.repeat(32)), 'other@oldtimer-shop.example'], // not hex
    ['other@oldtimer-shop.example', evolution('oldtimer-shop.example', ''), 'other@oldtimer-shop.example'],
    ['other@oldtimer-shop.example', `${PATHS[0]}?emailaddress=EVOLUTIONUSER%40oldtimer-shop.example`, 'other@oldtimer-shop.example'], // no hash
    ['sales@oldtimer-shop.example', `${PATHS[1]}?emailaddress=evolutionuser%40oldtimer-shop.example&emailmd5=${md5('sales@oldtimer-shop.example')}`, 'sales-oldtimer'],
    // A release that sends the real address beside the hash: the address decides, the hash is not needed.
    ['sales@oldtimer-shop.example', `${PATHS[0]}?emailaddress=sales%40oldtimer-shop.example&emailmd5=${md5('sales@oldtimer-shop.example')}`, 'sales-oldtimer'],
    ['jane@oldtimer-shop.example', `${PATHS[0]}?emailaddress=jane%40oldtimer-shop.example&emailmd5=${md5('sales@oldtimer-shop.example')}`, 'jane@oldtimer-shop.example'],
  ];
  for (const [typed, url, login] of cases) {
    const { res, autoconfig } = await send(t, app, { url }, typed);
    t.equal(res.statusCode, 200, url);
    t.notMatch(res.body, /EVOLUTIONUSER/i, 'the placeholder address is never written as a login');
    t.equal(autoconfig!.clients.evolution.incoming?.username, login, `${typed}: Evolution logs in as ${login}`);
    t.equal(autoconfig!.clients.evolution.outgoing?.username, login);
    t.equal(autoconfig!.clients.evolution.incoming?.hostname, 'mail123.pair.com');
  }

  // A hash-named answer is the mailbox's, found or not: private, like an address answer.
  for (const hash of [md5('sales@oldtimer-shop.example'), md5('other@oldtimer-shop.example')]) {
    const res = await app.inject({ url: evolution('oldtimer-shop.example', hash) });
    t.equal(res.headers['cache-control'], 'private, no-store', hash);
  }
  // The placeholder names no account on an account-named domain: the address is needed.
  const named = await app.inject({ url: evolution('pair.com', md5('pairuser@pair.com')), headers: { host: 'autoconfig.pair.com' } });
  t.equal(named.statusCode, 404);
  t.match(named.body, /need the email address/);
  // A stored login that is only the address itself (any case) is no override: the placeholder, as for an unknown one.
  const { app: own } = await testApp(t, { directory: await directoryWith([{ address: 'self@newbie.example', login: 'Self@NewBie.example' }]) });
  const self = await own.inject({ url: evolution('newbie.example', md5('self@newbie.example')) });
  t.match(self.body, '<username>%EMAILADDRESS%</username>');
});

t.test('logins: per-mailbox override, bare username on account-named domains, else the address', async (t) => {
  const { app } = await testApp(t);
  const cases: Array<[string, string, string]> = [
    ['sales@oldtimer-shop.example', 'sales-oldtimer', 'mail123.pair.com'],
    ['SALES@oldtimer-shop.example', 'sales-oldtimer', 'mail123.pair.com'],
    ['other@oldtimer-shop.example', 'other@oldtimer-shop.example', 'mail123.pair.com'],
    ['plainpair@pair.com', 'plainpair', 'plainpair.mail.pairserver.com'],
    ['PlainPair@Pair.com', 'plainpair', 'plainpair.mail.pairserver.com'],
    ['pairuser@pair.com', 'pairuser-imap', 'pairuser.mail.pairserver.com'],
  ];
  for (const [email, login, host] of cases) {
    const { res, autoconfig } = await send(t, app, { url: PATHS[0] + q(email), headers: { host: 'autoconfig.pair.com' } }, email);
    t.equal(res.statusCode, 200, email);
    for (const reading of Object.values(autoconfig!.clients)) {
      t.equal(reading.incoming?.username, login, `${email} logs in as ${login}`);
      t.equal(reading.outgoing?.hostname, host);
    }
  }
});

t.test('an account-named domain needs the address', async (t) => {
  const { app } = await testApp(t);
  for (const url of [PATHS[0]!, PATHS[0] + q('nosuchaccount@pair.com')]) {
    const { res } = await send(t, app, { url, headers: { host: 'autoconfig.pair.com' } });
    t.equal(res.statusCode, 404, url);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  }
});

t.test('a mailbox missing from the directory gets the same answer (no enumeration)', async (t) => {
  const { app } = await testApp(t);
  const a = await app.inject({ url: PATHS[0] + q('exists@newbie.example') });
  const b = await app.inject({ url: PATHS[0] + q('nobody-at-all@newbie.example') });
  t.equal(a.statusCode, 200);
  t.equal(a.body.replaceAll('exists@', 'X@'), b.body.replaceAll('nobody-at-all@', 'X@'));
});

t.test('the service host answers for any hosted domain named by the address (MX lookups)', async (t) => {
  const { app } = await testApp(t);
  for (const host of ['mailconf.pair-test.example', 'autoconfig.pair.com']) {
    const { res } = await send(t, app, { url: PATHS[0] + q('bob@oldtimer-shop.example'), headers: { host } });
    t.equal(res.statusCode, 200, host);
    t.match(res.body, '<hostname>mail123.pair.com</hostname>');
    const bare = await app.inject({ url: PATHS[0], headers: { host } });
    t.equal(bare.statusCode, 404, `${host} without an address names no customer domain`);
  }
});

t.test('unknown domains and hostless requests get 404 in plain text', async (t) => {
  const { app } = await testApp(t);
  for (const opts of [
    { url: PATHS[0] + q('x@unknown.example') },
    { url: PATHS[1]!, headers: { host: 'unknown.example' } },
    { url: PATHS[0]!, headers: { host: '127.0.0.1:8080' } },
    { url: PATHS[0]!, headers: { host: '[::1]:8080' } },
  ]) {
    const res = await app.inject(opts);
    t.equal(res.statusCode, 404, opts.url);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    t.notMatch(res.body, /<\?xml|<html/i);
  }
});

t.test('absent, empty and malformed addresses count as absent', async (t) => {
  const { app } = await testApp(t);
  for (const query of ['', '?emailaddress=', '?emailaddress=nobody', '?emailaddress=a@b@newbie.example', '?emailaddress=%40newbie.example', '?emailaddress=a%20b@newbie.example', '?emailaddress=a@-bad-.example', '?emailaddress=%E0%A4%A', '?emailaddress=a@' + 'x'.repeat(300) + '.example']) {
    const { res } = await send(t, app, { url: PATHS[0] + query, headers: { host: 'autoconfig.newbie.example' } });
    t.equal(res.statusCode, 200, `${query.slice(0, 60)} falls back to the Host`);
    t.match(res.body, '<username>%EMAILADDRESS%</username>');
    const hostless = await app.inject({ url: PATHS[0] + query, headers: { host: 'autoconfig.unknown.example' } });
    t.equal(hostless.statusCode, 404);
  }
});

t.test('XML metacharacters in the address are escaped', async (t) => {
  const { app } = await testApp(t);
  const email = `a&b<c>"d'e@newbie.example`;
  const { res, autoconfig } = await send(t, app, { url: PATHS[0] + q(email) }, email);
  t.equal(res.statusCode, 200);
  t.match(res.body, '<username>a&amp;b&lt;c&gt;&quot;d&#x27;e@newbie.example</username>');
  t.equal(autoconfig!.clients.thunderbird.incoming?.username, email, 'clients read back exactly the address');
});

t.test('HEAD mirrors GET; other methods get 405', async (t) => {
  const { app } = await testApp(t);
  const url = PATHS[1] + q('jane@newbie.example');
  const get = await app.inject({ url });
  const head = await app.inject({ method: 'HEAD', url });
  t.equal(head.statusCode, 200);
  t.equal(head.body, '');
  t.equal(head.headers['content-type'], get.headers['content-type']);
  t.equal(head.headers['content-length'], get.headers['content-length']);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const res = await app.inject({ method, url, payload: method === 'OPTIONS' ? undefined : 'x' });
    t.equal(res.statusCode, 405, method);
    t.equal(res.headers.allow, 'GET, HEAD');
  }
});

t.test('paths match ignoring case; other paths are 404', async (t) => {
  const { app } = await testApp(t);
  const ok = await send(t, app, { url: '/MAIL/Config-v1.1.XML' + q('jane@newbie.example') });
  t.equal(ok.res.statusCode, 200);
  for (const url of ['/mail/config-v1.1.xml/extra', '/.well-known/mail/config-v1.1.xml', '/', '/mail/']) {
    const res = await app.inject({ url, headers: { host: 'autoconfig.newbie.example' } });
    t.equal(res.statusCode, 404, url);
  }
});

t.test('a huge query string is refused with 414, not a crash', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ url: PATHS[0] + '?emailaddress=' + 'a'.repeat(20_000) + '@newbie.example' });
  t.equal(res.statusCode, 414);
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  const many = await app.inject({ url: PATHS[0] + '?' + 'x=1&'.repeat(900) + 'emailaddress=a%40newbie.example' });
  t.equal(many.statusCode, 200, 'many short parameters are fine');
});

t.test('data errors: 500 naming no internals, and an error log naming the account', async (t) => {
  const ctx = await testApp(t);
  for (const [domain, account] of [['broken-old.example', 'noserver'], ['broken-new.example', 'bad_name']] as const) {
    const res = await ctx.app.inject({ url: PATHS[0] + q(`x@${domain}`) });
    t.equal(res.statusCode, 500, domain);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    t.notMatch(res.body, new RegExp(`${account}|sqlite|mail server|label|Error`, 'i'));
    const logged = ctx.logs.find((l) => l.level === 50 && l.account === account);
    t.ok(logged, `error log names ${account}`);
  }
});

t.test('directory down: 503 with Retry-After, nothing leaked', async (t) => {
  const { app, rawLogs } = await testApp(t, { directory: new DownDirectory() });
  const res = await app.inject({ url: PATHS[0] + q('jane@newbie.example') });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '30');
  t.notMatch(res.body, /ECONNREFUSED|secret|5432/);
  t.match(rawLogs(), 'directory unavailable');
});

t.test('characters XML forbids in the address make it malformed: absent, and the answer stays well-formed', async (t) => {
  const { app } = await testApp(t);
  // Raw U+FFFE, U+FFFF and C0 controls; a lone surrogate cannot arrive (its UTF-8 is undecodable).
  for (const bad of ['\uFFFE', '\uFFFF', '\u0001', '\u0008', '\u000B', '\u001F']) {
    const email = `ja${bad}ne@newbie.example`;
    const { res } = await send(t, app, { url: PATHS[0] + q(email), headers: { host: 'autoconfig.newbie.example' } });
    t.equal(res.statusCode, 200, `${JSON.stringify(bad)}: falls back to the Host`);
    t.match(res.body, '<username>%EMAILADDRESS%</username>');
    t.notOk(res.body.includes(bad), 'the character is not in the answer');
    const hostless = await app.inject({ url: PATHS[0] + q(email), headers: { host: 'mailconf.pair-test.example' } });
    t.equal(hostless.statusCode, 404, 'and without a Host naming a domain there is none');
  }
  const surrogate = await send(t, app, { url: `${PATHS[0]}?emailaddress=ja%ED%A0%80ne%40newbie.example`, headers: { host: 'autoconfig.newbie.example' } });
  t.match(surrogate.res.body, '<username>%EMAILADDRESS%</username>');
});

t.test('a stored value XML cannot hold is a data error (500), never XML that is not well-formed', async (t) => {
  const dialect = autoconfigDialect(new Templates());
  for (const login of UNWRITABLE_LOGINS) {
    const settings = storedLoginSettings(login);
    const answer = dialect.answer({ kind: 'settings', settings });
    t.equal(answer.status, 500, JSON.stringify(login));
    t.equal(answer.type, 'text/plain; charset=utf-8');
    t.notMatch(String(answer.body), /bad|login/);
  }
});

t.test('headers: nosniff always; an address answer is private, no-store; the domain answer is not', async (t) => {
  const { app } = await testApp(t);
  const mailbox = await app.inject({ url: PATHS[0] + q('jane@newbie.example') });
  t.equal(mailbox.statusCode, 200);
  t.equal(mailbox.headers['x-content-type-options'], 'nosniff');
  t.equal(mailbox.headers['cache-control'], 'private, no-store', 'it names the login');
  const domain = await app.inject({ url: PATHS[0], headers: { host: 'autoconfig.newbie.example' } });
  t.equal(domain.statusCode, 200);
  t.equal(domain.headers['x-content-type-options'], 'nosniff');
  t.notOk(domain.headers['cache-control'], 'the same for every mailbox of the domain');
  for (const url of [PATHS[0] + q('x@unknown.example'), PATHS[0] + q('x@broken-old.example')]) {
    const res = await app.inject({ url });
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${res.statusCode} text answer`);
  }
  const refused = await app.inject({ method: 'DELETE', url: PATHS[0] });
  t.equal(refused.statusCode, 405);
  t.equal(refused.headers['x-content-type-options'], 'nosniff');
});

t.test('a % in the address (legal: RFC 5321 atext) is answered with the placeholder, never written literally', async (t) => {
  const { app } = await testApp(t);
  for (const email of ['a%b@newbie.example', '100%@newbie.example', '%41%@newbie.example']) {
    const { res, autoconfig } = await send(t, app, { url: PATHS[0] + q(email) }, email);
    t.equal(res.statusCode, 200, email);
    t.match(res.body, '<username>%EMAILADDRESS%</username>');
    t.equal(res.body.match(/%/g)?.length, 12, 'only the placeholders carry a %');
    for (const reading of Object.values(autoconfig!.clients)) t.equal(reading.incoming?.username, email, 'each client fills in the address');
  }
  // A stored login with a % cannot be said to clients at all (and import refuses one).
  t.equal(autoconfigDialect(new Templates()).answer({ kind: 'settings', settings: storedLoginSettings('jane%imap') }).status, 500);
});
