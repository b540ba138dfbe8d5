import t, { type Test } from 'tap';
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
  const odd = 'urn:example:other&"<schema>';
  const other = await send(t, app, post(poxRequest('jane@newbie.example', odd)));
  t.match(other.autodiscover!.error, { code: 601, responseNamespace: odd });
  t.match(other.res.body, 'xmlns="urn:example:other&amp;&quot;&lt;schema&gt;"');
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
  const deep = `<Autodiscover><Request>${'<a>'.repeat(7000)}${'</a>'.repeat(7000)}</Request></Autodiscover>`;
  for (const body of [
    deep,
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

t.test('a body over 64 KiB gets 413', async (t) => {
  const { app } = await testApp(t);
  const big = poxRequest('jane@newbie.example').replace('<Request>', `<Request><!--${'x'.repeat(70 * 1024)}-->`);
  const res = await app.inject(post(big));
  t.equal(res.statusCode, 413);
  const fits = poxRequest('jane@newbie.example').replace('<Request>', `<Request><!--${'x'.repeat(60 * 1024)}-->`);
  t.equal((await app.inject(post(fits))).statusCode, 200);
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
