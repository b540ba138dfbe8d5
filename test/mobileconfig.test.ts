// Apple Mail configuration profiles, unsigned: what the endpoint answers and what Apple's
// profile reader would find in it. Every profile is read with test/support/plist-reader.ts
// (fast-xml-parser plus Apple's plist rules), not with the `plist` package that writes it.
import { execFileSync } from 'node:child_process';
import { parse as plistParse } from 'plist';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { instanceSecret } from '../src/config/secret.js';
import { configFromEnv } from '../src/config/config.js';
import type { MailSettings } from '../src/policy/settings.js';
import { MobileconfigError, mobileconfigDialect, mobileconfigIds, mobileconfigValue, renderMobileconfig, uuidFromBytes } from '../src/dialects/mobileconfig.js';
import { readPlist, type PlistData } from './support/plist-reader.js';
import { storedLoginSettings, UNWRITABLE_LOGINS } from './property/arbitraries.js';
import { DownDirectory, testApp } from './support/app.js';

const PATHS = ['/mobileconfig', '/email.mobileconfig'];
const SECRET = 'test-secret-0123456789abcdef';
const q = (address: string) => `?emailaddress=${encodeURIComponent(address)}`;
const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

type Dict = { [key: string]: PlistData };

/** The profile's top level and its one mail payload, read independently of the writer. */
function readProfile(body: string): { top: Dict; mail: Dict } {
  const top = readPlist(body) as Dict;
  const content = top.PayloadContent as Dict[];
  if (!Array.isArray(content) || content.length !== 1) throw new Error('PayloadContent must hold one payload');
  return { top, mail: content[0]! };
}

t.test('old-era and new-era addresses get their host, ports, TLS, auth and login on both paths', async (t) => {
  const { app } = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  const cases = [
    { email: 'sales@oldtimer-shop.example', host: 'mail123.pair.com', login: 'sales-oldtimer', domain: 'oldtimer-shop.example' }, // per-mailbox login
    { email: 'other@oldtimer-shop.example', host: 'mail123.pair.com', login: 'other@oldtimer-shop.example', domain: 'oldtimer-shop.example' },
    { email: 'jane@newbie.example', host: 'newbie.mail.pairserver.com', login: 'jane@newbie.example', domain: 'newbie.example' },
    { email: 'plainpair@pair.com', host: 'plainpair.mail.pairserver.com', login: 'plainpair', domain: 'pair.com' }, // <username>@pair.com
    { email: 'pairuser@pair.com', host: 'pairuser.mail.pairserver.com', login: 'pairuser-imap', domain: 'pair.com' },
  ];
  for (const path of PATHS) {
    for (const { email, host, login, domain } of cases) {
      const res = await app.inject({ url: path + q(email) });
      t.equal(res.statusCode, 200, `${path} ${email}`);
      t.equal(res.headers['content-type'], 'application/x-apple-aspen-config');
      t.equal(res.headers['content-disposition'], `attachment; filename="${domain}.mobileconfig"`);
      t.ok(res.body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"'), 'XML header and plist DOCTYPE, no BOM');
      const { top, mail } = readProfile(res.body);
      t.match(top, {
        PayloadType: 'Configuration',
        PayloadVersion: 1,
        PayloadIdentifier: /^com\.pair\.mailconf\.[0-9a-f]{32}$/,
        PayloadUUID: UUID,
        PayloadDisplayName: `pair Networks Mail: ${email}`,
        PayloadOrganization: 'pair Networks Mail',
        PayloadDescription: /pair Networks Mail/,
      });
      t.same(
        { ...mail, PayloadUUID: 'x', PayloadIdentifier: 'x' },
        {
          PayloadType: 'com.apple.mail.managed',
          PayloadVersion: 1,
          PayloadIdentifier: 'x',
          PayloadUUID: 'x',
          PayloadDisplayName: `pair Mail: ${email}`,
          PayloadDescription: `The pair Networks Mail account ${email}`,
          PayloadOrganization: 'pair Networks Mail',
          EmailAccountType: 'EmailTypeIMAP',
          EmailAccountDescription: `${email} (pair Mail)`,
          EmailAddress: email,
          IncomingMailServerHostName: host,
          IncomingMailServerPortNumber: 993,
          IncomingMailServerUseSSL: true,
          IncomingMailServerAuthentication: 'EmailAuthPassword',
          IncomingMailServerUsername: login,
          OutgoingMailServerHostName: host,
          OutgoingMailServerPortNumber: 465,
          OutgoingMailServerUseSSL: true,
          OutgoingMailServerAuthentication: 'EmailAuthPassword',
          OutgoingMailServerUsername: login,
          OutgoingPasswordSameAsIncomingPassword: true,
        },
        `${email}: the whole mail payload`,
      );
      t.equal(mail.PayloadIdentifier, `${top.PayloadIdentifier}.mail`);
      t.match(mail.PayloadUUID, UUID);
      t.not(mail.PayloadUUID, top.PayloadUUID, 'the two UUIDs differ');
      t.same(Object.keys(mail).filter((k) => /password/i.test(k)), ['OutgoingPasswordSameAsIncomingPassword'], 'never a password');
      t.notMatch(res.body, /<key>(Incoming|Outgoing)?Password<\/key>/);
      t.notMatch(String(top.PayloadIdentifier), new RegExp(`${email.split('@')[0]}|${domain.replace(/\./g, '\\.')}|pairserver`), 'the identifier names no address');
    }
  }
});

t.test('identifiers: stable for one address, different across addresses and secrets', async (t) => {
  const a = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  const again = await testApp(t, { env: { MAILCONF_SECRET: SECRET } }); // a restart
  const other = await testApp(t, { env: { MAILCONF_SECRET: 'another-secret-0123456789' } });
  const ids = async (app: typeof a.app, email: string) => {
    const res = await app.inject({ url: PATHS[0] + q(email) });
    t.equal(res.statusCode, 200, email);
    const { top, mail } = readProfile(res.body);
    return { body: res.body, ids: [top.PayloadIdentifier, top.PayloadUUID, mail.PayloadUUID] as string[] };
  };
  const jane = await ids(a.app, 'jane@newbie.example');
  t.equal((await ids(a.app, 'jane@newbie.example')).body, jane.body, 'a second download is byte for byte the same');
  t.equal((await ids(again.app, 'jane@newbie.example')).body, jane.body, 'and stays the same after a restart');
  t.same((await ids(a.app, 'Jane@NewBie.Example')).ids, jane.ids, 'letter case does not make another profile');
  t.same((await ids(a.app, 'jane@newbie-two.example')).ids.filter((id) => jane.ids.includes(id)), [], 'another address of the same account: all ids differ');
  t.same((await ids(a.app, 'john@newbie.example')).ids.filter((id) => jane.ids.includes(id)), [], 'another mailbox: all ids differ');
  t.same((await ids(other.app, 'jane@newbie.example')).ids.filter((id) => jane.ids.includes(id)), [], 'another secret: all ids differ');
});

t.test('without MAILCONF_SECRET a random secret is kept beside the directory', async (t) => {
  const dir = t.testdir();
  const url = `sqlite:${join(dir, 'directory.db')}`;
  const first = instanceSecret(undefined, url);
  t.match(first, { source: 'new-file', file: join(dir, 'directory.db.secret') });
  t.match(first.secret, /^[0-9a-f]{64}$/);
  t.equal(statSync(first.file!).mode & 0o777, 0o600, 'readable by the service only');
  t.same(instanceSecret(undefined, url), { secret: first.secret, source: 'file', file: first.file }, 'the same after a restart');
  t.not(instanceSecret(undefined, `sqlite:${join(dir, 'other.db')}`).secret, first.secret, 'another deployment, another secret');
  t.same(instanceSecret(SECRET, url), { secret: SECRET, source: 'environment' }, 'MAILCONF_SECRET wins');
  t.equal(instanceSecret(undefined, 'sqlite::memory:').source, 'process');
  t.equal(instanceSecret(undefined, `sqlite:${join(dir, 'missing-folder', 'd.db')}`).source, 'process', 'no file can be kept');
  t.equal(configFromEnv({}).secret, undefined);
  t.equal(configFromEnv({ MAILCONF_SECRET: SECRET }).secret, SECRET);
  t.throws(() => configFromEnv({ MAILCONF_SECRET: 'short' }), /MAILCONF_SECRET must be at least 16 characters/);
});

/** Python's plistlib, the reference reader shipped with the language, as JSON. */
function readWithPlistlib(body: string): unknown {
  const script = 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))';
  return JSON.parse(execFileSync('python3', ['-c', script], { input: body, encoding: 'utf8' }));
}

t.test("Python's plistlib reads exactly what our reader reads", async (t) => {
  const { app } = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  for (const email of ['sales@oldtimer-shop.example', 'plainpair@pair.com', `a&b<c>"d'e@newbie.example`, 'jörg@newbie.example']) {
    const res = await app.inject({ url: PATHS[0] + q(email) });
    t.equal(res.statusCode, 200, email);
    t.same(readWithPlistlib(res.body), readPlist(res.body), `${email}: plistlib agrees`);
    t.match(readWithPlistlib(res.body), { PayloadType: 'Configuration', PayloadContent: [{ EmailAddress: email, IncomingMailServerUseSSL: true }] });
  }
});

t.test('XML and plist metacharacters in the address: well-formed, and read back exactly', async (t) => {
  const { app } = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  for (const email of [`a&b<c>"d'e@newbie.example`, 'x]]>y@newbie.example', '<!--x-->@newbie.example', '&amp;&#60;@newbie.example', 'jörg.ßtraße@newbie.example']) {
    const res = await app.inject({ url: PATHS[0] + q(email) });
    t.equal(res.statusCode, 200, email);
    const { top, mail } = readProfile(res.body);
    t.equal(mail.EmailAddress, email, `${email}: EmailAddress read back exactly`);
    t.equal(mail.IncomingMailServerUsername, email);
    t.equal(mail.OutgoingMailServerUsername, email);
    t.equal(top.PayloadDisplayName, `pair Networks Mail: ${email}`);
    t.same(plistParse(res.body), readPlist(res.body), 'the writer library reads the same values');
    t.notMatch(res.body, /<c>|<!--x|]]>/, 'no raw markup from the address');
  }
});

t.test('no, empty or malformed address: 400; unknown domain or account: 404; plain text', async (t) => {
  const { app } = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  for (const [query, status, message] of [
    ['', 400, /emailaddress=/],
    ['?emailaddress=', 400, /emailaddress=/],
    ['?emailaddress=%20', 400, /emailaddress=/],
    ['?emailaddress=nobody', 400, /not a valid email address/],
    ['?emailaddress=a@b@newbie.example', 400, /not a valid email address/],
    ['?emailaddress=%E0%A4%A', 400, /emailaddress=/], // undecodable: dropped, so absent
    ['?emailaddress=x%40unknown.example', 404, /No mail settings/],
    ['?emailaddress=nosuchaccount%40pair.com', 404, /No mail settings/],
  ] as const) {
    for (const path of PATHS) {
      const res = await app.inject({ url: path + query, headers: { host: 'autoconfig.newbie.example' } });
      t.equal(res.statusCode, status, `${path}${query}`);
      t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      t.match(res.body, message);
      t.notOk(res.headers['content-disposition'], 'nothing to download');
      t.ok(res.body.length < 100, 'short');
    }
  }
});

t.test('data errors: 500 naming no internals; directory down: 503 with Retry-After', async (t) => {
  const ctx = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  for (const [domain, account] of [['broken-old.example', 'noserver'], ['broken-new.example', 'bad_name']] as const) {
    const res = await ctx.app.inject({ url: PATHS[0] + q(`x@${domain}`) });
    t.equal(res.statusCode, 500, domain);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    t.notMatch(res.body, new RegExp(`${account}|sqlite|mail server|label|Error`, 'i'));
    t.ok(ctx.logs.find((l) => l.level === 50 && l.account === account), `error log names ${account}`);
  }
  const down = await testApp(t, { directory: new DownDirectory() });
  const res = await down.app.inject({ url: PATHS[1] + q('jane@newbie.example') });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '30');
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  t.notMatch(res.body, /ECONNREFUSED|secret|5432/);
});

t.test('HEAD mirrors GET; other methods get 405 with Allow; paths ignore case', async (t) => {
  const { app } = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  for (const path of PATHS) {
    const url = path + q('jane@newbie.example');
    const get = await app.inject({ url });
    const head = await app.inject({ method: 'HEAD', url });
    t.equal(head.statusCode, 200);
    t.equal(head.body, '');
    for (const h of ['content-type', 'content-length', 'content-disposition']) t.equal(head.headers[h], get.headers[h], h);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
      const res = await app.inject({ method, url, payload: method === 'OPTIONS' ? undefined : 'x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      t.equal(res.statusCode, 405, `${method} ${path}`);
      t.equal(res.headers.allow, 'GET, HEAD');
    }
  }
  const upper = await app.inject({ url: '/MobileConfig' + q('jane@newbie.example') });
  t.equal(upper.statusCode, 200);
  for (const url of ['/mobileconfig/x', '/jane.mobileconfig']) t.equal((await app.inject({ url })).statusCode, 404, url);
});

t.test('the request log has the domain and an address hash, never the address', async (t) => {
  const ctx = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  await ctx.app.inject({ url: PATHS[0] + q('secret-mailbox@newbie.example') });
  t.notMatch(ctx.rawLogs(), 'secret-mailbox');
  t.match(ctx.logs.find((l) => l.msg === 'request'), { route: '/mobileconfig', status: 200, domain: 'newbie.example', address: /^[0-9a-f]{12}$/ });
});

t.test('renderer: pure, ids as given, first IMAP and first SMTP server of the policy', async (t) => {
  const settings: MailSettings = {
    provider: { id: 'example.org', displayName: 'Example & Co <Mail>', displayShortName: 'Ex', documentationUrl: 'https://example.org/' },
    domain: 'example.org',
    address: 'a@example.org',
    login: 'a-login',
    era: 'new',
    host: 'imap.example.org',
    incoming: [
      { protocol: 'pop3', host: 'pop.example.org', port: 995, security: 'tls' },
      { protocol: 'imap', host: 'imap.example.org', port: 143, security: 'starttls' },
      { protocol: 'imap', host: 'imap.example.org', port: 993, security: 'tls' },
    ],
    outgoing: [{ protocol: 'smtp', host: 'smtp.example.org', port: 587, security: 'starttls' }],
    authentication: 'password',
    maxMessageBytes: 1,
  };
  const ids = mobileconfigIds(SECRET, 'a@example.org', 'example.org');
  t.match(ids.identifier, /^org\.example\.mailconf\.[0-9a-f]{32}$/);
  const xml = renderMobileconfig(settings, ids);
  const read = readPlist(xml) as Dict;
  t.same(read, mobileconfigValue(settings, ids), 'what is read is what was built');
  t.match((read.PayloadContent as Dict[])[0], {
    IncomingMailServerHostName: 'imap.example.org',
    IncomingMailServerPortNumber: 143,
    IncomingMailServerUseSSL: false, // Apple cannot require STARTTLS; UseSSL is implicit TLS only
    OutgoingMailServerHostName: 'smtp.example.org',
    OutgoingMailServerPortNumber: 587,
    OutgoingMailServerUseSSL: false,
    PayloadOrganization: 'Example & Co <Mail>',
  });
  t.equal(read.PayloadIdentifier, ids.identifier);
  t.equal(read.PayloadUUID, ids.profileUuid);
  t.throws(() => renderMobileconfig({ ...settings, address: null, login: null }, ids), MobileconfigError);
  t.throws(() => renderMobileconfig({ ...settings, outgoing: [] }, ids), MobileconfigError);
});

t.test('UUIDs: version 8 and the RFC 4122 variant, from the first 16 bytes', async (t) => {
  t.equal(uuidFromBytes(Buffer.alloc(16, 0xff)), 'FFFFFFFF-FFFF-8FFF-BFFF-FFFFFFFFFFFF');
  t.equal(uuidFromBytes(Buffer.alloc(32, 0)), '00000000-0000-8000-8000-000000000000');
  t.throws(() => uuidFromBytes(Buffer.alloc(15)), RangeError);
  const ids = mobileconfigIds(SECRET, 'jane@newbie.example', 'pair.com');
  t.match(ids.profileUuid, UUID);
  t.match(ids.payloadUuid, UUID);
});

t.test('characters XML forbids in the address: 400 before anything is rendered, and no address in the log', async (t) => {
  const ctx = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  for (const bad of ['\uFFFE', '\uFFFF', '\u0001', '\u001F']) {
    const email = `secret${bad}mailbox@newbie.example`;
    const res = await ctx.app.inject({ url: PATHS[0] + q(email) });
    t.equal(res.statusCode, 400, JSON.stringify(bad));
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    t.match(res.body, /not a valid email address/);
  }
  const surrogate = await ctx.app.inject({ url: `${PATHS[0]}?emailaddress=secret%ED%A0%80mailbox%40newbie.example` });
  t.equal(surrogate.statusCode, 400, 'a lone surrogate (undecodable) is no address either');
  t.notOk(ctx.logs.some((l) => (l.level as number) >= 50), 'no error logged');
  t.notMatch(ctx.rawLogs(), 'secret', 'the address is never logged');
});

t.test('a stored value XML cannot hold is a data error (500), never a throw', async (t) => {
  const dialect = mobileconfigDialect(SECRET);
  for (const login of UNWRITABLE_LOGINS) {
    const settings = storedLoginSettings(login);
    const answer = await dialect.answer({ kind: 'settings', settings });
    t.equal(answer.status, 500, JSON.stringify(login));
    t.equal(answer.type, 'text/plain; charset=utf-8');
    t.notMatch(String(answer.body), /bad|login|jane/);
  }
});

t.test('headers: the profile is private, no-store and nosniff; the failures are private', async (t) => {
  const { app } = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  const res = await app.inject({ url: PATHS[0] + q('jane@newbie.example') });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'private, no-store', 'it names the address and its login');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  for (const query of ['', q('nobody'), q('x@unknown.example'), q('x@broken-old.example')]) {
    const failure = await app.inject({ url: PATHS[0] + query });
    t.equal(failure.headers['cache-control'], 'private', `${failure.statusCode}: for that address alone`);
    t.equal(failure.headers['x-content-type-options'], 'nosniff');
  }
});
