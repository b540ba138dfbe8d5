// GET /tls-allowed?domain=<name>: Caddy's on-demand TLS `ask`. 200 only for names we
// answer on: autoconfig./autodiscover. of a hosted domain, and the service's own names.
import t from 'tap';
import { DownDirectory, testApp } from './support/app.js';

const ask = (name: string) => `/tls-allowed?domain=${encodeURIComponent(name)}`;

t.test('200 for autoconfig. and autodiscover. of hosted domains and for the service names', async (t) => {
  const { app } = await testApp(t);
  const allowed = [
    'autoconfig.newbie.example',
    'autodiscover.newbie.example',
    'autoconfig.newbie-two.example',
    'autodiscover.oldtimer-shop.example',
    'AutoConfig.OldTimer-Shop.EXAMPLE',
    'autodiscover.oldtimer-shop.example.',
    'autoconfig.broken-old.example', // hosted, though its account data gives no host
    'autodiscover.pair.com', // the provider's account-named domain
    'mailconf.pair-test.example', // PUBLIC_URL's host
    'autoconfig.pair.com', // SERVICE_HOSTS
    'MailConf.Pair-Test.Example',
  ];
  for (const name of allowed) {
    const res = await app.inject({ url: ask(name) });
    t.equal(res.statusCode, 200, name);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  }
  t.equal((await app.inject({ method: 'HEAD', url: ask('autoconfig.newbie.example') })).statusCode, 200, 'HEAD');
  t.equal((await app.inject({ url: '/TLS-Allowed?Domain=autoconfig.newbie.example' })).statusCode, 200, 'path and name in any case');
});

t.test('ua-auto-config. (PACC): 200 only where a document is published for the domain', async (t) => {
  const { app } = await testApp(t);
  for (const name of ['ua-auto-config.newbie.example', 'UA-Auto-Config.Newbie-Two.Example', 'ua-auto-config.lastday.example']) {
    t.equal((await app.inject({ url: ask(name) })).statusCode, 200, name);
  }
  for (const name of [
    'ua-auto-config.unknown.example', // not hosted
    'ua-auto-config.oldtimer-shop.example', // hosted, but a mailbox there has its own stored login
    'ua-auto-config.pair.com', // account-named: the login is the bare username
    'ua-auto-config.broken-old.example', // hosted, but no host to name
    'ua-auto-config.example',
    'ua-auto-config.autoconfig.newbie.example',
    '_ua-auto-config.newbie.example',
  ]) {
    t.equal((await app.inject({ url: ask(name) })).statusCode, 404, name);
  }
  // The same domain answers by its label: the answer cache keeps them apart.
  t.equal((await app.inject({ url: ask('autoconfig.oldtimer-shop.example') })).statusCode, 200);
  t.equal((await app.inject({ url: ask('ua-auto-config.oldtimer-shop.example') })).statusCode, 404);
});

t.test('404 for everything else: bare customer domains, other names, garbage, nothing', async (t) => {
  const { app, logs } = await testApp(t);
  const refused = [
    ask('newbie.example'), // a bare customer domain: its web site is not ours
    ask('www.newbie.example'),
    ask('mail.newbie.example'),
    ask('autoconfig.unknown.example'),
    ask('autodiscover.unknown.example'),
    ask('autoconfig.autoconfig.newbie.example'),
    ask('autoconfig.autodiscover.newbie.example'),
    ask('x.autoconfig.newbie.example'),
    ask('autoconfig.example'),
    ask('autoconfig'),
    ask('autoconfig.'),
    ask('pair.com'),
    ask('evil.mailconf.pair-test.example'),
    ask('mailconf.pair-test.example.evil.example'),
    ask('localhost'),
    ask('127.0.0.1'),
    ask('[::1]'),
    ask('autoconfig.newbie.example:443'),
    ask('autoconfig.newbie.example/x'),
    ask('autoconfig.newbie.example\u0000'),
    ask('autoconfig.new bie.example'),
    ask('<script>alert(1)</script>'),
    ask(`autoconfig.${'a'.repeat(64)}.example`),
    ask(`autoconfig.${'a.'.repeat(130)}example`),
    ask('*.newbie.example'),
    ask('autoconfig.*.example'),
    ask(''),
    '/tls-allowed',
    '/tls-allowed?domain',
    '/tls-allowed?name=autoconfig.newbie.example',
    '/tls-allowed?domain=%E0%A4%A',
  ];
  for (const url of refused) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 404, url);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    t.notMatch(res.body, /script|newbie|unknown/, 'nothing echoed');
  }
  t.equal(logs.filter((l) => (l.level as number) >= 50).length, 0, 'no error logged for refusals');
});

t.test('Unicode names are asked in their ASCII form', async (t) => {
  const { app } = await testApp(t);
  t.equal((await app.inject({ url: ask('autoconfig.bücher.example') })).statusCode, 404, 'not hosted either way');
  t.equal((await app.inject({ url: ask('autoconfig.xn--bcher-kva.example') })).statusCode, 404);
});

t.test('directory down: 503 with Retry-After (the terminator asks again), service names still 200', async (t) => {
  const { app } = await testApp(t, { directory: new DownDirectory() });
  const res = await app.inject({ url: ask('autoconfig.newbie.example') });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '30');
  t.notMatch(res.body, /ECONNREFUSED|secret/);
  t.equal((await app.inject({ url: ask('mailconf.pair-test.example') })).statusCode, 200, 'no lookup needed');
  t.equal((await app.inject({ url: ask('www.newbie.example') })).statusCode, 404, 'no lookup needed');
});

t.test("a loopback terminator's asks are exempt from rate limiting; anyone else is limited", async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '60000' } });
  for (let i = 0; i < 10; i++) {
    t.equal((await app.inject({ url: ask('autoconfig.newbie.example'), remoteAddress: '127.0.0.1' })).statusCode, 200, `ask ${i + 1}`);
  }
  const mail: number[] = [];
  for (let i = 0; i < 3; i++) mail.push((await app.inject({ url: '/mail/config-v1.1.xml?emailaddress=a%40newbie.example' })).statusCode);
  t.same(mail, [200, 200, 429], 'the asks used none of the budget; the mail endpoints are still limited');
  const stranger: number[] = [];
  for (let i = 0; i < 3; i++) stranger.push((await app.inject({ url: ask('autoconfig.newbie.example'), remoteAddress: '198.51.100.4' })).statusCode);
  t.same(stranger, [200, 200, 429], 'a remote caller cannot probe domains without limit');
});

t.test("behind Caddy (README): only the terminator's own asks are exempt; forwarded clients are limited by their own address", async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '60000', TRUST_PROXY: '127.0.0.1' } });
  // What Caddy's reverse_proxy adds to every request it forwards from the Internet.
  const forwarded = (client: string) => ({ 'x-forwarded-for': client, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'autoconfig.newbie.example', via: '1.1 Caddy' });
  const probe = (client: string, headers: Record<string, string> = forwarded(client)) =>
    app.inject({ url: ask('autoconfig.newbie.example'), remoteAddress: '127.0.0.1', headers });
  const prober: number[] = [];
  for (let i = 0; i < 3; i++) prober.push((await probe('203.0.113.5')).statusCode);
  t.same(prober, [200, 200, 429], 'a client Caddy forwards cannot probe which domains are hosted without limit');
  t.equal((await probe('203.0.113.6')).statusCode, 200, 'each forwarded client has its own budget');
  // Any one forwarding header makes a request forwarded, so counted: with X-Forwarded-For
  // against that client (spent above), with the others against the loopback peer (two).
  const one: Record<string, string> = { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=203.0.113.5', via: '1.1 Caddy', 'x-real-ip': '203.0.113.5', 'x-forwarded-host': 'x', 'x-forwarded-proto': 'https' };
  const counted: number[] = [];
  for (const [name, value] of Object.entries(one)) counted.push((await probe('', { [name]: value })).statusCode);
  t.same(counted, [429, 200, 200, 429, 429, 429], 'each forwarding header alone makes the request counted');
  // Caddy's `ask` itself: a plain GET from loopback with no forwarding headers.
  for (let i = 0; i < 10; i++) t.equal((await probe('', {})).statusCode, 200, `ask ${i + 1}`);
});

t.test('without TRUST_PROXY a loopback peer that forwards for someone is counted as loopback, not exempt', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '60000' } });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ url: ask('autoconfig.newbie.example'), remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `203.0.113.${i}` } });
    statuses.push(res.statusCode);
  }
  t.same(statuses, [200, 200, 429]);
});

t.test('other methods get 405 with Allow', async (t) => {
  const { app } = await testApp(t);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const res = await app.inject({ method, url: ask('autoconfig.newbie.example') });
    t.equal(res.statusCode, 405, method);
    t.equal(res.headers.allow, 'GET, HEAD');
  }
});
