// Autodiscover v2 (autodiscover.json): new Outlook and Outlook mobile ask where the POX
// endpoint is; we point at ours (PUBLIC_URL), for hosted domains only.
import t from 'tap';
import { DownDirectory, testApp } from './support/app.js';

const BASE = '/autodiscover/autodiscover.json';
const POINTER = { Protocol: 'AutodiscoverV1', Url: 'https://mailconf.pair-test.example/autodiscover/autodiscover.xml' };
const invalidProtocol = (given: string) => ({
  ErrorCode: 'InvalidProtocol',
  ErrorMessage: `The given protocol value '${given}' is invalid. Supported values are 'AutodiscoverV1'`,
});

t.test('both URL forms, Protocol in any case, other parameters ignored: 200 with the POX URL', async (t) => {
  const { app } = await testApp(t);
  const urls = [
    `${BASE}?Email=jane%40newbie.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=jane@newbie.example&Protocol=Autodiscoverv1&RedirectCount=1`,
    `${BASE}?email=jane%40newbie.example&protocol=autodiscoverv1`,
    `${BASE}?EMAIL=Jane.Doe%40NEWBIE.example&PROTOCOL=AUTODISCOVERV1&Other=x`,
    `${BASE}/v1.0/jane@newbie.example?Protocol=AutodiscoverV1`,
    `${BASE}/v1.0/jane%40newbie.example?Protocol=Autodiscoverv1&RedirectCount=1`,
    '/AutoDiscover/AutoDiscover.json/V1.0/jane@newbie.example?Protocol=AutodiscoverV1',
    '/AUTODISCOVER/AUTODISCOVER.JSON?EMAIL=jane@newbie.example&PROTOCOL=AutodiscoverV1',
    `${BASE}?Email=bob+tag@newbie.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=sales%40oldtimer-shop.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=plainpair%40pair.com&Protocol=AutodiscoverV1`,
  ];
  for (const url of urls) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 200, url);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    t.equal(res.body, JSON.stringify(POINTER), 'exactly Protocol then Url');
  }
  const head = await app.inject({ method: 'HEAD', url: urls[0]! });
  t.equal(head.statusCode, 200);
  t.equal(head.body, '');
});

t.test('the Url comes from PUBLIC_URL, never from the Host header', async (t) => {
  const { app } = await testApp(t, { env: { PUBLIC_URL: 'https://Auto.Example.net:8443/mailconf/' } });
  for (const headers of [{}, { host: 'evil.example' }, { host: 'autodiscover.newbie.example', 'x-forwarded-host': 'evil.example' }]) {
    const res = await app.inject({ url: `${BASE}?Email=jane%40newbie.example&Protocol=AutodiscoverV1`, headers });
    t.same(res.json(), { Protocol: 'AutodiscoverV1', Url: 'https://auto.example.net:8443/mailconf/autodiscover/autodiscover.xml' });
  }
});

t.test('any other protocol, or none: 400 InvalidProtocol naming it', async (t) => {
  const { app } = await testApp(t);
  const cases: Array<[string, string]> = [
    [`${BASE}?Email=jane%40newbie.example&Protocol=ActiveSync&RedirectCount=1`, 'ActiveSync'],
    [`${BASE}?Email=jane%40newbie.example&Protocol=Ews`, 'Ews'],
    [`${BASE}?Email=jane%40newbie.example&Protocol=Rest`, 'Rest'],
    [`${BASE}?Email=jane%40newbie.example&Protocol=AutodiscoverV2`, 'AutodiscoverV2'],
    [`${BASE}?Email=jane%40newbie.example&Protocol=`, ''],
    [`${BASE}?Email=jane%40newbie.example`, ''],
    [`${BASE}/v1.0/jane@newbie.example`, ''],
    [`${BASE}/v1.0/jane@newbie.example?Protocol=%20AutodiscoverV1`, ' AutodiscoverV1'],
  ];
  for (const [url, given] of cases) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 400, url);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    t.same(res.json(), invalidProtocol(given), url);
  }
});

t.test('metacharacters in an echoed protocol stay JSON text; long values are cut', async (t) => {
  const { app } = await testApp(t);
  const nasty = `<script>alert("x")</script>'\\\u0001`;
  const res = await app.inject({ url: `${BASE}?Email=jane%40newbie.example&Protocol=${encodeURIComponent(nasty)}` });
  t.equal(res.statusCode, 400);
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.json().ErrorMessage, invalidProtocol(nasty).ErrorMessage, 'the value survives a JSON round trip');
  t.notMatch(res.body, /[\u0000-\u001f]/, 'no raw control character');
  const long = await app.inject({ url: `${BASE}?Email=jane%40newbie.example&Protocol=${'A'.repeat(3000)}` });
  t.equal(long.statusCode, 400);
  t.ok(long.body.length < 300, `short answer (${long.body.length} bytes)`);
});

t.test('missing or malformed address: 400 JSON', async (t) => {
  const { app } = await testApp(t);
  const urls = [
    `${BASE}?Protocol=AutodiscoverV1`,
    `${BASE}?Email=&Protocol=AutodiscoverV1`,
    `${BASE}?Email=%20&Protocol=AutodiscoverV1`,
    `${BASE}?Email=jane&Protocol=AutodiscoverV1`,
    `${BASE}?Email=jane%40&Protocol=AutodiscoverV1`,
    `${BASE}?Email=%40newbie.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=a%40b%40newbie.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=jane%40localhost&Protocol=AutodiscoverV1`,
    `${BASE}?Email=jane%40-bad-.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=ja%20ne%40newbie.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&Protocol=AutodiscoverV1`,
    `${BASE}?Email=jane%40%3Cnewbie%3E.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=%E0%A4%A&Protocol=AutodiscoverV1`,
    `${BASE}/v1.0/?Protocol=AutodiscoverV1`,
    `${BASE}/v1.0/jane?Protocol=AutodiscoverV1`,
    `${BASE}/v1.0/jane%2540newbie.example?Protocol=AutodiscoverV1`,
    `${BASE}/v2.0/jane@newbie.example?Protocol=AutodiscoverV1`,
    `${BASE}/jane@newbie.example?Protocol=AutodiscoverV1`,
    `${BASE}/?Protocol=AutodiscoverV1`,
  ];
  for (const url of urls) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 400, url);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8', url);
    t.match(res.json(), { ErrorCode: 'InvalidRequest', ErrorMessage: String }, url);
  }
});

t.test('XML and HTML metacharacters in the address: JSON stays JSON, nothing is echoed', async (t) => {
  const { app } = await testApp(t);
  const email = `a&b<c>"d'e@newbie.example`;
  const ok = await app.inject({ url: `${BASE}?Email=${encodeURIComponent(email)}&Protocol=AutodiscoverV1` });
  t.equal(ok.statusCode, 200, 'a legal (if odd) local part in a hosted domain');
  t.same(ok.json(), POINTER);
  const unknown = await app.inject({ url: `${BASE}?Email=${encodeURIComponent(`<b>&"x'@unknown.example`)}&Protocol=AutodiscoverV1` });
  t.equal(unknown.statusCode, 404);
  t.notMatch(unknown.body, /<b>|unknown\.example/, 'the address is not echoed');
  const path = await app.inject({ url: `${BASE}/v1.0/${encodeURIComponent(email)}?Protocol=AutodiscoverV1` });
  t.same(path.json(), POINTER, 'the path form decodes the address once');
});

t.test('ProxyShell-style probes: 400, no redirect, no lookup', async (t) => {
  const { app, logs } = await testApp(t);
  const probes = [
    '/autodiscover/autodiscover.json?@x/owa/?&Email=autodiscover/autodiscover.json%3F@foo.com',
    '/autodiscover/autodiscover.json?@foo.com/owa/?&Email=autodiscover/autodiscover.json%3F@foo.com&Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json?@newbie.example/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@newbie.example&Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json?@evil.com/powershell/?X-Rps-CAT=x&Email=autodiscover/autodiscover.json%3F@evil.com',
    '/autodiscover/autodiscover.json?a..foo.var/owa/&Email=autodiscover/autodiscover.json?a..foo.var&Protocol=XYZ&FooProtocol=Powershell',
    '/autodiscover/autodiscover.json?Email=autodiscover/autodiscover.json%3F@newbie.example&Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json?Email=x%5C@newbie.example&Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json?Email=x%23y@newbie.example&Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json/v1.0/x@newbie.example/owa?Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json/v1.0/x@newbie.example/owa/?&Email=autodiscover/autodiscover.json%3F@foo.com',
    '/autodiscover/autodiscover.json/v1.0/x%2Fy@newbie.example?Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json/v1.0/jane@newbie.example?@foo.com/owa/&Protocol=AutodiscoverV1',
    '/autodiscover/autodiscover.json/owa/?&Email=autodiscover/autodiscover.json%3F@foo.com',
    '/autodiscover/autodiscover.json/..%2F..%2Fowa?Protocol=AutodiscoverV1',
  ];
  for (const url of probes) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 400, url);
    t.equal(res.headers.location, undefined, 'no redirect');
    t.match(res.headers['content-type'], /^application\/json/);
    t.match(res.json(), { ErrorCode: /^Invalid(Request|Protocol)$/ });
  }
  const asked = logs.filter((l) => l.msg === 'request' && l.domain !== undefined);
  t.same(asked, [], 'no probe reached the directory');
});

t.test('unknown domain or account: 404 JSON', async (t) => {
  const { app } = await testApp(t);
  for (const email of ['jane@unknown.example', 'nobody-here@pair.com', 'jane@autodiscover.newbie.example']) {
    const res = await app.inject({ url: `${BASE}?Email=${encodeURIComponent(email)}&Protocol=AutodiscoverV1` });
    t.equal(res.statusCode, 404, email);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    t.match(res.json(), { ErrorCode: 'NotFound', ErrorMessage: String });
  }
});

t.test('a mailbox that does not exist in a hosted domain gets the same answer as one that does', async (t) => {
  const { app } = await testApp(t);
  const known = await app.inject({ url: `${BASE}?Email=sales%40oldtimer-shop.example&Protocol=AutodiscoverV1` });
  const unknown = await app.inject({ url: `${BASE}?Email=nobody%40oldtimer-shop.example&Protocol=AutodiscoverV1` });
  t.equal(known.body, unknown.body);
});

t.test('data error 500 and directory down 503: JSON naming no internals', async (t) => {
  const ctx = await testApp(t);
  const broken = await ctx.app.inject({ url: `${BASE}?Email=jane%40broken-old.example&Protocol=AutodiscoverV1` });
  t.equal(broken.statusCode, 500);
  t.equal(broken.headers['content-type'], 'application/json; charset=utf-8');
  t.match(broken.json(), { ErrorCode: 'InternalServerError', ErrorMessage: String });
  t.notMatch(broken.body, /noserver|mail server|broken-old/);
  t.ok(ctx.logs.some((l) => l.level === 50 && l.account === 'noserver'), 'the operator is told which account');

  const down = await testApp(t, { directory: new DownDirectory() });
  const res = await down.app.inject({ url: `${BASE}/v1.0/jane@newbie.example?Protocol=AutodiscoverV1` });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '30');
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  t.match(res.json(), { ErrorCode: 'ServiceUnavailable', ErrorMessage: String });
  t.notMatch(res.body, /ECONNREFUSED|secret|5432/);
});

t.test('the request log line names the domain, never the address', async (t) => {
  const ctx = await testApp(t);
  await ctx.app.inject({ url: `${BASE}?Email=Jane.Doe%40newbie.example&Protocol=AutodiscoverV1` });
  const line = ctx.logs.find((l) => l.msg === 'request');
  t.match(line, { route: BASE, status: 200, domain: 'newbie.example', address: /^[0-9a-f]{12}$/ });
  t.notMatch(ctx.rawLogs(), /jane/i);
});

t.test('other methods get 405 with Allow, on both forms', async (t) => {
  const { app } = await testApp(t);
  for (const url of [`${BASE}?Email=jane%40newbie.example&Protocol=AutodiscoverV1`, `${BASE}/v1.0/jane@newbie.example?Protocol=AutodiscoverV1`]) {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
      const res = await app.inject({ method, url, payload: method === 'POST' ? '{"x":1}' : undefined, headers: { 'content-type': 'application/json' } });
      t.equal(res.statusCode, 405, `${method} ${url}`);
      t.equal(res.headers.allow, 'GET, HEAD');
    }
  }
});

t.test('characters XML forbids in the address: 400 InvalidRequest, like any malformed address', async (t) => {
  const { app } = await testApp(t);
  for (const bad of ['%EF%BF%BE', '%EF%BF%BF', '%01', '%1F']) {
    for (const url of [`${BASE}?Email=ja${bad}ne%40newbie.example&Protocol=AutodiscoverV1`, `${BASE}/v1.0/ja${bad}ne@newbie.example?Protocol=AutodiscoverV1`]) {
      const res = await app.inject({ url });
      t.equal(res.statusCode, 400, url);
      t.same(JSON.parse(res.body), { ErrorCode: 'InvalidRequest', ErrorMessage: 'The email address is not valid.' });
    }
  }
});

t.test('headers: every answer is nosniff and private (each is for one address)', async (t) => {
  const { app } = await testApp(t);
  for (const url of [
    `${BASE}?Email=jane%40newbie.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=x%40unknown.example&Protocol=AutodiscoverV1`,
    `${BASE}?Email=nobody&Protocol=AutodiscoverV1`,
    `${BASE}?Email=jane%40newbie.example&Protocol=Other`,
  ]) {
    const res = await app.inject({ url });
    t.equal(res.headers['x-content-type-options'], 'nosniff', url);
    t.equal(res.headers['cache-control'], 'private', `${res.statusCode}: never kept by a shared cache`);
  }
});
