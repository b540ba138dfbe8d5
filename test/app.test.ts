import t from 'tap';
import { addressHash } from '../src/http/plugins/access-log.js';
import { DownDirectory, testApp } from './support/app.js';

t.test('healthz: 200 when the directory answers, 503 when it does not', async (t) => {
  const up = await testApp(t);
  const ok = await up.app.inject({ url: '/healthz' });
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { status: 'ok' });
  const down = await testApp(t, { directory: new DownDirectory() });
  const bad = await down.app.inject({ url: '/healthz' });
  t.equal(bad.statusCode, 503);
  t.equal(bad.json().status, 'unavailable');
  t.notMatch(bad.body, /ECONNREFUSED|secret/);
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
