// Outlook's HTTP redirect method: with an https:// PUBLIC_URL, autodiscover (POX) asked
// over plain HTTP gets a 302 to PUBLIC_URL's autodiscover URL; autoconfig never does.
// "Plain HTTP" is decided by one function (src/http/arrival.ts), tested here on its own too.
import t from 'tap';
import { parseTrustProxy } from '../src/config/config.js';
import { plainHttpDetector, type ArrivalRequest } from '../src/http/arrival.js';
import { proxyTrust } from '../src/http/client-ip.js';
import { publicUrlFor } from '../src/links.js';
import { poxRequest, send, testApp } from './support/app.js';

const PATH = '/autodiscover/autodiscover.xml';
const HTTPS_URL = 'https://mailconf.pair-test.example/autodiscover/autodiscover.xml';
const post = (headers: Record<string, string> = {}, payload = poxRequest('jane@newbie.example')) =>
  ({ method: 'POST' as const, url: PATH, payload, headers: { 'content-type': 'text/xml; charset=utf-8', ...headers } });

/** What Fastify hands the detector: its `protocol`, the headers, the socket's peer. */
const arrival = (protocol: string, headers: Record<string, string | string[]> = {}, remoteAddress = '127.0.0.1') =>
  ({ protocol, headers, socket: { remoteAddress } }) as unknown as ArrivalRequest;

t.test('publicUrlFor joins PUBLIC_URL and a path', async (t) => {
  t.equal(publicUrlFor(new URL('https://mailconf.pair.com'), PATH), 'https://mailconf.pair.com/autodiscover/autodiscover.xml');
  t.equal(publicUrlFor(new URL('https://mailconf.pair.com/'), PATH), 'https://mailconf.pair.com/autodiscover/autodiscover.xml');
  t.equal(publicUrlFor(new URL('https://Mail.Example:8443/base//?q=1#x'), PATH), 'https://mail.example:8443/base/autodiscover/autodiscover.xml');
  t.equal(publicUrlFor(new URL('http://localhost:8080'), PATH), 'http://localhost:8080/autodiscover/autodiscover.xml');
});

t.test('plain HTTP: the listener, or a trusted proxy, and every trusted source must agree', async (t) => {
  const untrusting = plainHttpDetector(false);
  t.equal(untrusting(arrival('http')), true, 'a plain socket, no proxy');
  t.equal(untrusting(arrival('https')), false, 'a TLS socket');
  t.equal(untrusting(arrival('HTTP')), true);
  t.equal(untrusting(arrival('http', { 'fly-forwarded-proto': 'https' })), true, 'an untrusted Fly-Forwarded-Proto is ignored');

  const local = plainHttpDetector(['127.0.0.1']);
  // `protocol` already holds a trusted X-Forwarded-Proto: Fastify reads it.
  t.equal(local(arrival('https')), false, 'X-Forwarded-Proto https from the proxy');
  t.equal(local(arrival('http', { 'fly-forwarded-proto': 'https' })), false, 'Fly-Forwarded-Proto https from the proxy');
  t.equal(local(arrival('http', { 'fly-forwarded-proto': 'HTTPS' })), false);
  t.equal(local(arrival('http', { 'fly-forwarded-proto': 'http' })), true);
  t.equal(local(arrival('http', { 'fly-forwarded-proto': 'https, http' })), true, 'the last entry: what our proxy saw');
  t.equal(local(arrival('http', { 'fly-forwarded-proto': 'http,https' })), false);
  t.equal(local(arrival('http', { 'fly-forwarded-proto': ['http', 'https'] })), false, 'a repeated header: the last one');
  t.equal(local(arrival('https', { 'fly-forwarded-proto': 'http' })), false, 'disagreement counts as HTTPS: no redirect loop');
  t.equal(local(arrival('http', { 'fly-forwarded-proto': 'quic' })), false, 'an unknown value counts as HTTPS');
  t.equal(local(arrival('http', { 'fly-forwarded-proto': '' })), true, 'an empty header says nothing');
  t.equal(local(arrival('http', { 'fly-forwarded-proto': 'https' }, '10.0.0.9')), true, 'from a peer we do not trust: ignored');
  t.equal(local(arrival('wss')), false, 'an odd X-Forwarded-Proto counts as HTTPS');
  t.equal(local({ protocol: 'http', headers: {} } as unknown as ArrivalRequest), true, 'no socket: the protocol decides');

  t.equal(plainHttpDetector(true)(arrival('http', { 'fly-forwarded-proto': 'https' }, '203.0.113.1')), false, 'TRUST_PROXY=true trusts any peer');
  t.equal(plainHttpDetector(1)(arrival('http', { 'fly-forwarded-proto': 'https' }, '172.16.0.5')), false, 'a hop count trusts the nearest hop');
  t.equal(plainHttpDetector(parseTrustProxy('0'))(arrival('http', { 'fly-forwarded-proto': 'https' })), true, '0 trusts nothing');
});

t.test('proxyTrust reads TRUST_PROXY as Fastify (proxy-addr) does, hop counts classically', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '::ffff:127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.0/255.0.0.0', '10.1.1.1', true],
    ['fdaa::/16', 'fdaa:0:1::2', true],
    ['fdaa::/16', 'fdab::2', false],
    ['loopback', '::1', true],
    ['loopback', '127.9.9.9', true],
    ['uniquelocal', '172.20.0.1', true],
    ['uniquelocal', 'fd00::1', true],
    ['uniquelocal', '8.8.8.8', false],
    ['linklocal', '169.254.1.1', true],
    ['127.0.0.1', 'garbage', false],
  ];
  for (const [list, address, trusted] of cases) {
    t.equal(proxyTrust(parseTrustProxy(list))(address, 0), trusted, `${list} ${trusted ? 'trusts' : 'does not trust'} ${address}`);
  }
  t.equal(proxyTrust(2)('203.0.113.1', 1), true, 'a hop count of 2 trusts the two nearest hops');
  t.equal(proxyTrust(2)('203.0.113.1', 2), false);
  t.equal(proxyTrust(false)('127.0.0.1', 0), false);
});

t.test('POST and GET over plain HTTP: 302 to PUBLIC_URL, before the body is read', async (t) => {
  const { app, logs } = await testApp(t);
  const cases = [
    post(),
    post({ host: 'autodiscover.newbie.example' }),
    post({ host: 'evil.example' }),
    { ...post(), url: '/Autodiscover/Autodiscover.xml' },
    { ...post(), url: '/AUTODISCOVER/AUTODISCOVER.XML' },
    post({}, 'not XML at all'),
    post({}, poxRequest('jane@newbie.example').replace('<Request>', `<Request><!--${'x'.repeat(70 * 1024)}-->`)),
    { method: 'GET' as const, url: '/Autodiscover/Autodiscover.xml', headers: { host: 'autodiscover.newbie.example' } },
    { method: 'GET' as const, url: PATH, headers: { host: 'autodiscover.unknown.example' } },
    { method: 'HEAD' as const, url: PATH, headers: { host: 'autodiscover.newbie.example' } },
  ];
  for (const req of cases) {
    const { res } = await send(t, app, req);
    t.equal(res.statusCode, 302, `${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    t.equal(res.headers.location, HTTPS_URL, 'absolute, from PUBLIC_URL, whatever the Host');
    t.equal(res.body, '');
  }
  t.notOk(logs.some((l) => l.domain !== undefined), 'nothing was looked up');
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    t.equal((await app.inject({ method, url: PATH })).statusCode, 405, `${method}: still 405`);
  }
});

t.test("the redirect's target: a GET fails (so Thunderbird POSTs again), the POST answers", async (t) => {
  // Thunderbird: POST http://autodiscover.<domain>/... -> 302; its XMLHttpRequest follows as a
  // GET without body; only a failed GET makes it ask the user and POST to the new URL.
  const { app } = await testApp(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const first = await app.inject(post({ host: 'autodiscover.newbie.example' }));
  t.equal(first.statusCode, 302);
  const target = new URL(first.headers.location as string);
  const https = { host: target.host, 'x-forwarded-proto': 'https' };
  const followed = await send(t, app, { method: 'GET', url: target.pathname, headers: https });
  t.equal(followed.res.statusCode, 400, 'not a 2xx: XMLHttpRequest reports a failure with the final URL');
  t.match(followed.autodiscover!.error, { code: 600 }, 'the body is still Exchange-shaped');
  t.equal((await app.inject({ method: 'HEAD', url: target.pathname, headers: https })).statusCode, 400);
  const again = await send(t, app, { ...post(https), url: target.pathname }, 'jane@newbie.example');
  t.equal(again.res.statusCode, 200);
  t.equal(again.autodiscover!.thunderbird.incoming?.server, 'newbie.mail.pairserver.com');
  t.equal(again.autodiscover!.thunderbird.incoming?.username, 'jane@newbie.example');
  // Customer names that are not hosted keep Exchange's answer: 200 with error 600.
  const stray = await send(t, app, { method: 'GET', url: PATH, headers: { host: 'autodiscover.unknown.example', 'x-forwarded-proto': 'https' } });
  t.equal(stray.res.statusCode, 200);
  t.match(stray.autodiscover!.error, { code: 600 });
  for (const host of ['autoconfig.pair.com', 'MailConf.Pair-Test.Example:443']) {
    t.equal((await app.inject({ url: PATH, headers: { host, 'x-forwarded-proto': 'https' } })).statusCode, 400, `${host}: one of our names`);
  }
});

t.test('redirects count against the rate limit like every mail request', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '60000' } });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await app.inject(post())).statusCode);
  t.same(statuses, [302, 302, 429]);
});

t.test('over a real plain-HTTP socket too', async (t) => {
  const { app } = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/Autodiscover/Autodiscover.xml`, {
    method: 'POST',
    body: poxRequest('jane@newbie.example'),
    headers: { 'content-type': 'text/xml' },
    redirect: 'manual',
  });
  t.equal(res.status, 302);
  t.equal(res.headers.get('location'), HTTPS_URL);
  const autoconfig = await fetch(`http://127.0.0.1:${port}/mail/config-v1.1.xml?emailaddress=jane%40newbie.example`, { redirect: 'manual' });
  t.equal(autoconfig.status, 200, 'autoconfig answers plain HTTP directly');
});

t.test('HTTPS as a trusted proxy reports it: answered directly', async (t) => {
  const viaProxy = await testApp(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const { res, autodiscover } = await send(t, viaProxy.app, post({ 'x-forwarded-proto': 'https' }), 'jane@newbie.example');
  t.equal(res.statusCode, 200);
  t.equal(autodiscover!.thunderbird.incoming?.server, 'newbie.mail.pairserver.com');
  t.equal((await viaProxy.app.inject(post({ 'fly-forwarded-proto': 'https' }))).statusCode, 200, 'Fly-Forwarded-Proto');
  t.equal((await viaProxy.app.inject(post({ 'x-forwarded-proto': 'http' }))).statusCode, 302, 'the proxy says plain HTTP');
  t.equal((await viaProxy.app.inject({ ...post({ 'x-forwarded-proto': 'https' }), remoteAddress: '198.51.100.7' })).statusCode, 302, 'a client that is not our proxy cannot say it');
  const get = await viaProxy.app.inject({ url: PATH, headers: { host: 'autodiscover.newbie.example', 'x-forwarded-proto': 'https' } });
  t.equal(get.statusCode, 200);
  t.match(get.body, '<Server>newbie.mail.pairserver.com</Server>');

  const noTrust = await testApp(t);
  for (const header of ['x-forwarded-proto', 'fly-forwarded-proto']) {
    t.equal((await noTrust.app.inject(post({ [header]: 'https' }))).statusCode, 302, `without TRUST_PROXY, ${header} is not believed`);
  }
});

t.test('Fly.io (TRUST_PROXY=1): the proxy terminates TLS and says which scheme the client used', async (t) => {
  const { app } = await testApp(t, { env: { TRUST_PROXY: '1' } });
  const fly = (proto: Record<string, string>) => app.inject({ ...post(proto), remoteAddress: '172.16.3.7' });
  t.equal((await fly({ 'x-forwarded-proto': 'https' })).statusCode, 200, 'https: answered, no redirect loop');
  t.equal((await fly({ 'fly-forwarded-proto': 'https' })).statusCode, 200);
  const plain = await fly({ 'x-forwarded-proto': 'http' });
  t.equal(plain.statusCode, 302);
  t.equal(plain.headers.location, HTTPS_URL);
  t.equal((await fly({})).statusCode, 302, 'no header: the socket, plain');
});

t.test('an http:// PUBLIC_URL (local use): POX over plain HTTP is answered directly', async (t) => {
  const { app } = await testApp(t, { env: { PUBLIC_URL: 'http://localhost:8080' } });
  const { res, autodiscover } = await send(t, app, post(), 'jane@newbie.example');
  t.equal(res.statusCode, 200);
  t.equal(res.headers.location, undefined);
  t.equal(autodiscover!.thunderbird.incoming?.server, 'newbie.mail.pairserver.com');
  const get = await app.inject({ url: PATH, headers: { host: 'autodiscover.newbie.example' } });
  t.equal(get.statusCode, 200);
});

t.test('autoconfig and the JSON pointer over plain HTTP keep answering directly', async (t) => {
  const { app } = await testApp(t);
  for (const req of [
    { url: '/mail/config-v1.1.xml?emailaddress=jane%40newbie.example' },
    { url: '/mail/config-v1.1.xml', headers: { host: 'autoconfig.newbie.example' } },
    { url: '/.well-known/autoconfig/mail/config-v1.1.xml', headers: { host: 'newbie.example' } },
  ]) {
    const { res, autoconfig } = await send(t, app, req, 'jane@newbie.example');
    t.equal(res.statusCode, 200, req.url);
    t.equal(autoconfig!.clients.thunderbird.incoming?.hostname, 'newbie.mail.pairserver.com');
  }
  const json = await app.inject({ url: '/autodiscover/autodiscover.json?Email=jane%40newbie.example&Protocol=AutodiscoverV1' });
  t.equal(json.statusCode, 200);
  t.equal(json.json().Url, HTTPS_URL);
});
