import type { InjectOptions } from 'fastify';
import t from 'tap';
import { clientKey } from '../src/http/client-ip.js';
import { addressHash } from '../src/http/plugins/access-log.js';
import { DownDirectory, testApp } from './support/app.js';

t.test('healthz: 200 while the process runs; readyz: 200 when the directory answers, 503 when it does not', async (t) => {
  const up = await testApp(t);
  const ok = await up.app.inject({ url: '/readyz' });
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { status: 'ok' });
  t.equal(ok.headers['x-content-type-options'], 'nosniff');
  const down = await testApp(t, { directory: new DownDirectory() });
  const bad = await down.app.inject({ url: '/readyz' });
  t.equal(bad.statusCode, 503);
  t.equal(bad.json().status, 'unavailable');
  t.notMatch(bad.body, /ECONNREFUSED|secret/);
  t.equal(bad.headers['x-content-type-options'], 'nosniff');
  for (const app of [up.app, down.app]) {
    const alive = await app.inject({ url: '/healthz' });
    t.equal(alive.statusCode, 200, 'liveness does not depend on the directory');
    t.same(alive.json(), { status: 'ok' });
    t.equal(alive.headers['x-content-type-options'], 'nosniff');
  }
});

t.test('rate limiting per client IP: 429 with Retry-After, health checks exempt', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '60000' } });
  const url = '/mail/config-v1.1.xml?emailaddress=jane%40newbie.example';
  const from = (ip: string) => ({ url, remoteAddress: ip });
  for (let i = 0; i < 3; i++) t.equal((await app.inject(from('192.0.2.10'))).statusCode, 200, `request ${i + 1}`);
  const limited = await app.inject(from('192.0.2.10'));
  t.equal(limited.statusCode, 429);
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when');
  t.equal(limited.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal((await app.inject(from('192.0.2.11'))).statusCode, 200, 'another client is not affected');
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: '/healthz', remoteAddress: '192.0.2.10' })).statusCode, 200);
  // Without TRUST_PROXY a forged X-Forwarded-For does not buy a fresh budget.
  const forged = await app.inject({ ...from('192.0.2.10'), headers: { 'x-forwarded-for': '198.51.100.7' } });
  t.equal(forged.statusCode, 429);
});

t.test('with TRUST_PROXY the client IP comes from X-Forwarded-For', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.1' } });
  const url = '/healthz?x=1';
  const req = (client: string) =>
    app.inject({ url: '/mail/config-v1.1.xml?emailaddress=a%40newbie.example', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client } });
  t.equal((await req('198.51.100.1')).statusCode, 200);
  t.equal((await req('198.51.100.1')).statusCode, 200);
  t.equal((await req('198.51.100.1')).statusCode, 429);
  t.equal((await req('198.51.100.2')).statusCode, 200, 'each forwarded client has its own budget');
  t.equal((await app.inject({ url })).statusCode, 200);
});

t.test('one log line per request, with what operators need and no address', async (t) => {
  const ctx = await testApp(t);
  await ctx.app.inject({
    url: '/mail/config-v1.1.xml?emailaddress=Jane.Doe%40newbie.example',
    headers: { authorization: 'Basic c2VjcmV0OnNlY3JldA==' },
  });
  const lines = ctx.logs.filter((l) => l.msg === 'request');
  t.equal(lines.length, 1);
  t.match(lines[0], {
    reqId: /^[0-9a-f-]{36}$/,
    method: 'GET',
    route: '/mail/config-v1.1.xml',
    status: 200,
    ms: Number,
    domain: 'newbie.example',
    address: addressHash('jane.doe@newbie.example', 'test-instance-secret-0123456789'),
  });
  t.equal(ctx.logs.length, 1, 'nothing else logged for a good request');
  t.notMatch(ctx.rawLogs(), /jane|Jane|c2VjcmV0|authorization/i);
  t.equal(addressHash('Jane.Doe@newbie.example', 's'), addressHash('jane.doe@newbie.example', 's'));
  t.not(addressHash('jane.doe@newbie.example', 's'), addressHash('jane.doe@newbie.example', 't'), 'keyed by the secret');
  t.equal(addressHash('a@newbie.example', 's').length, 12);
});

t.test('unknown paths get a plain 404; unexpected faults a 500 that leaks nothing', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ url: '/nothing-here' });
  t.equal(res.statusCode, 404);
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  // A directory that returns something impossible makes the pipeline throw.
  const broken = new DownDirectory();
  broken.findByDomain = (async () => ({ account: null, mailboxLogin: null })) as unknown as DownDirectory['findByDomain'];
  const faulty = await testApp(t, { directory: broken });
  const boom = await faulty.app.inject({ url: '/mail/config-v1.1.xml?emailaddress=a%40newbie.example' });
  t.equal(boom.statusCode, 500);
  t.match(faulty.rawLogs(), 'unexpected error');
  t.equal(boom.body, 'Internal error\n');
});

t.test('TRUST_PROXY=1 (Fly.io): the right-most X-Forwarded-For entry is the client', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: '1' } });
  const req = (xff: string) =>
    app.inject({ url: '/mail/config-v1.1.xml?emailaddress=a%40newbie.example', remoteAddress: '172.16.0.5', headers: { 'x-forwarded-for': xff } });
  t.equal((await req('203.0.113.9')).statusCode, 200);
  t.equal((await req('198.51.100.1, 203.0.113.9')).statusCode, 429, 'a client-written entry does not change the bucket');
  t.equal((await req('203.0.113.10')).statusCode, 200);
});

t.test('every answer counts against the budget: 404, 405, 414 and undecodable URLs too', async (t) => {
  const lookup = { url: '/mail/config-v1.1.xml?emailaddress=a%40newbie.example' };
  const kinds: Array<[string, InjectOptions, number]> = [
    ['404', { url: '/nothing-here' }, 404],
    ['405', { method: 'DELETE', url: '/mail/config-v1.1.xml' }, 405],
    ['414', { url: `/mail/config-v1.1.xml?x=${'a'.repeat(5000)}` }, 414],
    ['undecodable URL', { url: '/%E0%A4%A' }, 400],
    ['bad Host', { url: '/mail/config-v1.1.xml', headers: { host: 'autoconfig.newbie.example:abc' } }, 400],
  ];
  for (const [kind, opts, status] of kinds) {
    const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '60000' } });
    const inject = (o: InjectOptions) => app.inject({ remoteAddress: '192.0.2.20', ...o });
    t.equal((await inject(opts)).statusCode, status, `${kind} answered`);
    t.equal((await inject(opts)).statusCode, status, `${kind} answered again`);
    t.equal((await inject(opts)).statusCode, 429, `a third ${kind} is over the limit`);
    t.equal((await inject(lookup)).statusCode, 429, `two ${kind} answers spent the budget of lookups`);
  }
});

t.test('IPv6 clients are counted by /64, IPv4 by address (IPv4-mapped IPv6 as IPv4)', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '60000' } });
  const from = async (remoteAddress: string) => (await app.inject({ url: '/mail/config-v1.1.xml?emailaddress=a%40newbie.example', remoteAddress })).statusCode;
  t.equal(await from('2001:db8:1:2::1'), 200);
  t.equal(await from('2001:db8:1:2:ffff:ffff:ffff:fffe'), 200);
  t.equal(await from('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'), 429, 'another address of the same /64 shares its budget');
  t.equal(await from('2001:db8:1:3::1'), 200, 'the next /64 is another client');
  t.equal(await from('192.0.2.30'), 200);
  t.equal(await from('::ffff:192.0.2.30'), 200, 'the IPv4-mapped form is the same client');
  t.equal(await from('192.0.2.30'), 429);
  t.equal(await from('192.0.2.31'), 200, 'IPv4 neighbours are other clients');
});

t.test('clientKey: the one notion of a client for the rate limit and the connection cap', async (t) => {
  t.equal(clientKey('192.0.2.1'), '192.0.2.1');
  t.equal(clientKey('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(clientKey('::FFFF:192.0.2.1'), '192.0.2.1');
  t.equal(clientKey('::ffff:c000:201'), '192.0.2.1', 'the hex spelling of the same');
  t.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(clientKey('2001:DB8:0:0:1:2:3:4'), '2001:db8:0:0::/64');
  t.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.equal(clientKey('::1'), '0:0:0:0::/64');
  t.equal(clientKey('2001:db8:1:2:3:4:192.0.2.1'), '2001:db8:1:2::/64');
  t.equal(clientKey('::'), '0:0:0:0::/64');
});
