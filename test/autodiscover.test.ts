import t, { type Test } from 'tap';
import { autodiscoverPoxDialect, MAX_AUTODISCOVER_BODY, MAX_AUTODISCOVER_ELEMENTS } from '../src/dialects/autodiscover-pox.js';
import { Templates } from '../src/templates.js';
import { readAutodiscover } from './support/autodiscover-clients.js';
import { storedLoginSettings, UNWRITABLE_LOGINS } from './property/arbitraries.js';
import { DownDirectory, poxRequest, send, testApp as plainTestApp } from './support/app.js';

const PATH = '/autodiscover/autodiscover.xml';
const OUTLOOK_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
const MOBILESYNC_NS = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';
const ERROR_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
// These tests are about the answers clients get over HTTPS (PUBLIC_URL is https://): every
// request comes through a trusted TLS terminator on 127.0.0.1 (inject's peer) that says
// X-Forwarded-Proto https. Over plain HTTP they would get a 302: autodiscover-redirect.test.ts.
const HTTPS = { 'x-forwarded-proto': 'https' };
const testApp = (t: Test, options: Parameters<typeof plainTestApp>[1] = {}) =>
  plainTestApp(t, { ...options, env: { TRUST_PROXY: '127.0.0.1', ...options.env } });
const post = (payload: string, headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8' }) =>
  ({ method: 'POST' as const, url: PATH, payload, headers: { ...HTTPS, ...headers } });

t.test('Outlook gets the era host with implicit TLS on 993, 995 and 465', async (t) => {
  const { app } = await testApp(t);
  const cases = [
    { email: 'jane@oldtimer-shop.example', host: 'mail123.pair.com', login: 'jane@oldtimer-shop.example' },
    { email: 'jane@newbie.example', host: 'newbie.mail.pairserver.com', login: 'jane@newbie.example' },
    { email: 'sales@oldtimer-shop.example', host: 'mail123.pair.com', login: 'sales-oldtimer' },
    { email: 'plainpair@pair.com', host: 'plainpair.mail.pairserver.com', login: 'plainpair' },
  ];
  for (const { email, host, login } of cases) {
    const { res, autodiscover } = await send(t, app, post(poxRequest(email)), email);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'text/xml; charset=utf-8');
    t.match(res.body, `<Response xmlns="${OUTLOOK_NS}">`);
    t.match(res.body, '<AccountType>email</AccountType>');
    t.match(res.body, '<Action>settings</Action>');
    const types = [...res.body.matchAll(/<Type>(\w+)<\/Type>\s*<Server>([^<]+)<\/Server>\s*<Port>(\d+)<\/Port>/g)].map((m) => m.slice(1).join(' '));
    t.same(types, [`IMAP ${host} 993`, `POP3 ${host} 995`, `SMTP ${host} 465`], email);
    t.equal(res.body.match(/<Encryption>SSL<\/Encryption>/g)?.length, 3);
    t.equal(res.body.match(/<SPA>off<\/SPA>/g)?.length, 3, 'SPA off: its default is on');
    t.equal(res.body.match(/<LoginName>([^<]+)<\/LoginName>/g)?.length, 3);
    t.match(res.body, /<UsePOPAuth>on<\/UsePOPAuth>\s*<SMTPLast>off<\/SMTPLast>/);
    const tb = autodiscover!.thunderbird;
    t.match(tb.incoming, { type: 'IMAP', server: host, port: 993, socketType: 'SSL', auth: 'password-cleartext', username: login });
    t.match(tb.outgoing, { type: 'SMTP', server: host, port: 465, socketType: 'SSL', username: login });
    t.same(autodiscover!.deltaChat.imap, [{ server: host, port: 993, security: 'automatic' }]);
    t.same(autodiscover!.deltaChat.smtp, [{ server: host, port: 465, security: 'automatic' }]);
  }
});

t.test('the path in any case, any Content-Type or none, and credentials are ignored', async (t) => {
  const { app, rawLogs } = await testApp(t);
  const body = poxRequest('jane@newbie.example');
  const reference = await app.inject(post(body));
  for (const url of ['/Autodiscover/Autodiscover.xml', '/AutoDiscover/AutoDiscover.xml', '/AUTODISCOVER/AUTODISCOVER.XML']) {
    const { res } = await send(t, app, { ...post(body), url });
    t.equal(res.body, reference.body, url);
  }
  for (const headers of <Array<Record<string, string>>>[{}, { 'content-type': 'text/xml' }, { 'content-type': 'application/xml' }, { 'content-type': 'application/json' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'text/plain' }]) {
    const { res } = await send(t, app, post(body, headers));
    t.equal(res.statusCode, 200, JSON.stringify(headers));
    t.equal(res.body, reference.body);
  }
  const withAuth = await send(t, app, post(body, { authorization: 'Basic amFuZUBuZXdiaWUuZXhhbXBsZTpodW50ZXIy' }));
  t.equal(withAuth.res.body, reference.body);
  t.notMatch(rawLogs(), /amFuZU|hunter2|jane@newbie\.example/, 'no credentials or address in the logs');
});

t.test('the https:// spelling of the response schema is served too', async (t) => {
  const { app } = await testApp(t);
  const { res } = await send(t, app, post(poxRequest('jane@newbie.example', OUTLOOK_NS.replace('http:', 'https:'))));
  t.match(res.body, `<Response xmlns="${OUTLOOK_NS}">`);
  t.match(res.body, '<Server>newbie.mail.pairserver.com</Server>');
});

t.test('error 601 in the requested namespace for schemas we do not serve', async (t) => {
  const { app } = await testApp(t);
  const mobile = await send(t, app, post(poxRequest('jane@newbie.example', MOBILESYNC_NS)));
  t.equal(mobile.res.statusCode, 200);
  t.match(mobile.autodiscover!.error, { code: 601, responseNamespace: MOBILESYNC_NS });
  const odd = "urn:example:other&'schema?x=1#y";
  const other = await send(t, app, post(poxRequest('jane@newbie.example', odd)));
  t.match(other.autodiscover!.error, { code: 601, responseNamespace: odd });
  t.match(other.res.body, 'xmlns="urn:example:other&amp;&#x27;schema?x&#x3D;1#y"');
});

t.test('error 601 echoes only a namespace that is a URI: never markup, controls or references', async (t) => {
  const { app } = await testApp(t);
  // Not URIs (RFC 3986): answered in Exchange's generic namespace.
  for (const schema of ['urn:example:other&"<schema>', 'example/other', 'urn:exämple:other', 'urn:a b']) {
    const { res, autodiscover } = await send(t, app, post(poxRequest('jane@newbie.example', schema)));
    t.match(autodiscover!.error, { code: 601, responseNamespace: ERROR_NS }, schema);
    t.notMatch(res.body, /&lt;schema|example\/other|exämple|urn:a/, `${schema}: not echoed`);
  }
  // Characters XML forbids, raw or as references, make the request itself not well-formed.
  const raw = ['\u0001', '\u001F', '\uFFFE', '\uFFFF'];
  const refs = ['&#1;', '&#x1;', '&#xFFFF;', '&#xFFFE;', '&#xD800;', '&#0;', '&#x110000;', '&#99999999999;'];
  for (const bad of [...raw, ...refs]) {
    const body = poxRequest('jane@newbie.example', 'urn:x').replace('urn:x', `urn:x${bad}y`);
    const { res, autodiscover } = await send(t, app, post(body));
    t.match(autodiscover!.error, { code: 600, responseNamespace: ERROR_NS }, JSON.stringify(bad));
    t.notMatch(res.body, /urn:x|&amp;#/, `${JSON.stringify(bad)}: nothing of it echoed`);
  }
});

t.test('characters XML forbids in the address, raw or as references: error 600, well-formed, nothing echoed', async (t) => {
  const { app, rawLogs } = await testApp(t);
  const raw = ['\u0001', '\u0008', '\u001F', '\uFFFE', '\uFFFF'];
  const refs = ['&#1;', '&#x1F;', '&#xFFFE;', '&#xFFFF;', '&#xD800;', '&#xDFFF;', '&#0;', '&#x110000;'];
  for (const bad of [...raw, ...refs]) {
    const { res, autodiscover } = await send(t, app, post(poxRequest('x@newbie.example').replace('x@', `ja${bad}ne@`)));
    t.equal(res.statusCode, 200, JSON.stringify(bad));
    t.match(autodiscover!.error, { code: 600, message: 'Invalid Request' }, JSON.stringify(bad));
    t.notMatch(res.body, /ne@|&amp;#|<LoginName>/, 'no address, no reference in the answer');
  }
  // An `&` that starts no reference is not text (XML 1.0 section 2.4), nor is a
  // reference to a forbidden character inside CDATA turned into that character.
  for (const cdata of ['ja&#xFFFF;ne@', 'ja&ne@']) {
    const body = poxRequest('x@newbie.example').replace('<EMailAddress>x@', `<EMailAddress><![CDATA[${cdata}]]>`);
    t.match((await send(t, app, post(body))).autodiscover!.error, { code: 600 }, cdata);
  }
  t.notMatch(rawLogs(), /ja.?ne|&#x?[0-9A-F]+;/i, 'the log names neither the address nor the reference');
});

t.test('the log says what kind of problem a body had, never what it said', async (t) => {
  const ctx = await testApp(t);
  const bodies = [
    poxRequest('jane@newbie.example').replace('jane@', '&secret-entity-name;jane@'),
    poxRequest('jane@newbie.example').replace('<Request>', '<Request><__proto__>secret-proto-text</__proto__>'),
    '<Autodiscover><Request><secret-tag-name></Request></Autodiscover>',
    poxRequest('jane@newbie.example').replace('jane@', 'secret\u0001jane@'),
    poxRequest('jane@newbie.example').replace('jane@', 'secret&#1;jane@'),
  ];
  for (const body of bodies) await send(t, ctx.app, post(body));
  const reasons = ctx.logs.filter((l) => l.msg === 'invalid autodiscover request').map((l) => l.reason);
  t.same(reasons, [
    'a reference to an undeclared entity',
    'XML the parser refuses',
    'not well-formed XML (line 1)',
    'a character XML does not allow',
    'a character reference to a character XML does not allow',
  ]);
  t.notMatch(ctx.rawLogs(), /secret|jane/, 'nothing from the body is logged');
});
t.test('error 600 for malformed, empty, address-less and LegacyDN-only requests', async (t) => {
  const { app } = await testApp(t);
  const bodies: Record<string, string> = {
    'malformed XML': '<Autodiscover><Request><EMailAddress>jane@newbie.example</Request>',
    'not XML': 'hello',
    'empty body': '',
    'blank body': '  \n ',
    'no address': poxRequest(null),
    'empty address': poxRequest(''),
    'malformed address': poxRequest('jane'),
    'LegacyDN only': poxRequest(null, undefined, '<LegacyDN>/o=First Organization/ou=Exchange/cn=Recipients/cn=jane</LegacyDN>'),
    'other root': '<Other><Request><EMailAddress>jane@newbie.example</EMailAddress></Request></Other>',
  };
  for (const [name, body] of Object.entries(bodies)) {
    const { res, autodiscover } = await send(t, app, post(body));
    t.equal(res.statusCode, 200, name);
    t.match(autodiscover!.error, { code: 600, message: 'Invalid Request', responseNamespace: ERROR_NS }, name);
    t.match(res.body, /<Error Time="\d\d:\d\d:\d\d\.\d+" Id="\d+">/);
  }
});

t.test('DOCTYPEs and entities are refused: no expansion, no file read', async (t) => {
  const { app } = await testApp(t);
  const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` +
    `<Autodiscover><Request><EMailAddress>&x;@newbie.example</EMailAddress></Request></Autodiscover>`;
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
    `<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Autodiscover><Request><EMailAddress>&lol3;@newbie.example</EMailAddress></Request></Autodiscover>`;
  const undeclared = poxRequest('jane@newbie.example').replace('jane@', '&custom;jane@');
  for (const body of [xxe, laughs, undeclared]) {
    const { res, autodiscover } = await send(t, app, post(body));
    t.equal(autodiscover!.error?.code, 600);
    t.notMatch(res.body, /root:|lollol/);
  }
});

t.test('XML the parser cannot take is error 600, never a 500', async (t) => {
  const { app } = await testApp(t);
  for (const body of [
    poxRequest('jane@newbie.example').replace('<Request>', '<Request><__proto__>x</__proto__>'),
    poxRequest('jane@newbie.example').replace('<Request>', '<Request><constructor>x</constructor>'),
  ]) {
    const { res, autodiscover } = await send(t, app, post(body));
    t.equal(res.statusCode, 200);
    t.equal(autodiscover!.error?.code, 600);
  }
  const surrogate = await send(t, app, post(poxRequest('x@newbie.example').replace('x@', 'ja&#xD800;ne@')));
  t.notMatch(surrogate.res.body, /\uFFFD|\uD800/, 'no broken characters in the answer');
});
t.test('an unknown schema is echoed only when it can be a namespace name', async (t) => {
  const { app } = await testApp(t);
  for (const schema of ['has spaces in it', 'x'.repeat(300)]) {
    const { autodiscover } = await send(t, app, post(poxRequest('jane@newbie.example', schema)));
    t.match(autodiscover!.error, { code: 601, responseNamespace: ERROR_NS });
  }
});

t.test('bodies are small: over 4 KiB 413, more than 32 elements 600 before parsing', async (t) => {
  const ctx = await testApp(t);
  const { app } = ctx;
  t.equal(MAX_AUTODISCOVER_BODY, 4096);
  t.equal(MAX_AUTODISCOVER_ELEMENTS, 32);
  const request = poxRequest('jane@newbie.example');
  const padded = (n: number) => request.replace('<Request>', `<Request><!--${'x'.repeat(n)}-->`);
  const exact = padded(MAX_AUTODISCOVER_BODY - request.length - '<!---->'.length);
  t.equal(Buffer.byteLength(exact), MAX_AUTODISCOVER_BODY);
  t.equal((await app.inject(post(exact))).statusCode, 200, 'a body of exactly the limit is read');
  t.equal((await app.inject(post(`${exact} `))).statusCode, 413, 'one byte more is not');
  t.equal((await app.inject(post(padded(70 * 1024)))).statusCode, 413);
  // What a real client sends fits with room to spare: Outlook's request with a LegacyDN.
  const outlook = poxRequest('jane@newbie.example', undefined, '<LegacyDN>/o=First Organization/ou=Exchange/cn=Recipients/cn=jane</LegacyDN>');
  t.match((await send(t, app, post(outlook))).res.body, '<Server>newbie.mail.pairserver.com</Server>');

  // Tens of thousands of siblings no longer fit; what fits is counted before parsing.
  const siblings = (n: number) => request.replace('<Request>', `<Request>${'<a/>'.repeat(n)}`);
  const many = await send(t, app, post(siblings(MAX_AUTODISCOVER_ELEMENTS)));
  t.equal(many.autodiscover!.error?.code, 600);
  t.match(ctx.logs.filter((l) => l.msg === 'invalid autodiscover request').at(-1), { reason: `more than ${MAX_AUTODISCOVER_ELEMENTS} elements` });
  const few = await send(t, app, post(siblings(MAX_AUTODISCOVER_ELEMENTS - 6)));
  t.match(few.res.body, '<Server>newbie.mail.pairserver.com</Server>', 'a few unknown elements are read past');
  const deep = `<Autodiscover><Request>${'<a>'.repeat(300)}${'</a>'.repeat(300)}</Request></Autodiscover>`;
  t.ok(deep.length < MAX_AUTODISCOVER_BODY);
  t.equal((await send(t, app, post(deep))).autodiscover!.error?.code, 600, 'deep nesting: refused by the count too');
});
t.test('XML metacharacters in the address come back escaped', async (t) => {
  const { app } = await testApp(t);
  const email = `a&b<c>"d'e@newbie.example`;
  const { res, autodiscover } = await send(t, app, post(poxRequest(email)), email);
  t.match(res.body, '<LoginName>a&amp;b&lt;c&gt;&quot;d&#x27;e@newbie.example</LoginName>');
  t.equal(autodiscover!.thunderbird.incoming?.username, email);
});

t.test('unknown domain 500, data error 602, directory down 603', async (t) => {
  const ctx = await testApp(t);
  const { app } = ctx;
  const unknown = await send(t, app, post(poxRequest('jane@unknown.example')));
  t.match(unknown.autodiscover!.error, { code: 500 });
  const broken = await send(t, app, post(poxRequest('jane@broken-old.example')));
  t.match(broken.autodiscover!.error, { code: 602 });
  t.notMatch(broken.res.body, /noserver|mail server/);
  t.ok(ctx.logs.some((l) => l.level === 50 && l.account === 'noserver'));

  const down = await testApp(t, { directory: new DownDirectory() });
  const res = await send(t, down.app, post(poxRequest('jane@newbie.example')));
  t.equal(res.res.statusCode, 503);
  t.equal(res.res.headers['retry-after'], '30');
  t.match(res.autodiscover!.error, { code: 603 });
  t.notMatch(res.res.body, /ECONNREFUSED|secret/);
});

t.test('GET (Delta Chat) answers domain-level settings for the Host', async (t) => {
  const { app } = await testApp(t);
  for (const host of ['autodiscover.oldtimer-shop.example', 'oldtimer-shop.example', 'AutoDiscover.OldTimer-Shop.example:443']) {
    const { res, autodiscover } = await send(t, app, { url: '/Autodiscover/Autodiscover.xml', headers: { host, ...HTTPS } }, 'x@oldtimer-shop.example');
    t.equal(res.statusCode, 200, host);
    t.notMatch(res.body, '<LoginName>', 'no login without an address');
    t.same(autodiscover!.deltaChat.imap, [{ server: 'mail123.pair.com', port: 993, security: 'automatic' }]);
    t.equal(autodiscover!.thunderbird.incoming?.username, 'x@oldtimer-shop.example', 'Thunderbird falls back to the address');
  }
  const head = await app.inject({ method: 'HEAD', url: PATH, headers: { host: 'autodiscover.newbie.example', ...HTTPS } });
  t.equal(head.statusCode, 200);
  for (const host of ['autodiscover.unknown.example', 'mailconf.pair-test.example', 'autodiscover.pair.com', '127.0.0.1']) {
    const { autodiscover } = await send(t, app, { url: PATH, headers: { host, ...HTTPS } });
    t.match(autodiscover!.error, { code: 600 }, host);
  }
});

t.test('other methods get 405', async (t) => {
  const { app } = await testApp(t);
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const res = await app.inject({ method, url: PATH });
    t.equal(res.statusCode, 405, method);
    t.equal(res.headers.allow, 'GET, HEAD, POST');
  }
});

t.test('a stored value XML cannot hold is error 602, never XML that is not well-formed', async (t) => {
  const dialect = autodiscoverPoxDialect(new Templates());
  for (const login of UNWRITABLE_LOGINS) {
    const settings = storedLoginSettings(login);
    const answer = dialect.answer({ kind: 'settings', settings });
    const reading = readAutodiscover(String(answer.body));
    t.same(reading.problems, [], 'well-formed, and every client reads it');
    t.match(reading.error, { code: 602 }, JSON.stringify(login));
    t.notMatch(String(answer.body), /bad|login/);
  }
});

t.test('headers: nosniff always; a mailbox answer private, no-store; POST errors private; GET answers neither', async (t) => {
  const { app } = await testApp(t);
  const settings = await app.inject(post(poxRequest('jane@newbie.example')));
  t.match(settings.body, '<LoginName>');
  t.equal(settings.headers['x-content-type-options'], 'nosniff');
  t.equal(settings.headers['cache-control'], 'private, no-store', 'it names the login');
  for (const body of [poxRequest('x@unknown.example'), poxRequest('jane'), 'not XML', poxRequest('jane@newbie.example', MOBILESYNC_NS), poxRequest('x@broken-old.example')]) {
    const res = await app.inject(post(body));
    t.equal(res.headers['x-content-type-options'], 'nosniff');
    t.equal(res.headers['cache-control'], 'private', `${res.body.match(/<ErrorCode>(\d+)/)?.[1]}: for that request alone`);
  }
  for (const host of ['autodiscover.newbie.example', 'autodiscover.unknown.example']) {
    const res = await app.inject({ url: PATH, headers: { host, ...HTTPS } });
    t.equal(res.headers['x-content-type-options'], 'nosniff', host);
    t.notOk(res.headers['cache-control'], `${host}: the domain's answer`);
  }
});
