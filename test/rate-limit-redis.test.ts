// Rate limits shared across instances through Redis (REDIS_URL): two app instances on one
// Redis share each client's budget; Redis unreachable, requests are still answered and
// counted per instance (logged once, shown on /readyz and /metrics); back, shared again.
// Needs the machine's Redis on 127.0.0.1:6379 (.ci/run starts it): it fails, never skips,
// when Redis cannot be reached. The outage is played on a private redis-server this test
// starts on a free port and ends by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { testApp, type TestApp } from './support/app.js';

const REDIS_URL = process.env.MAILCONF_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const URL = '/mail/config-v1.1.xml?emailaddress=a%40newbie.example';

/** A client address no other run uses, so counters left in Redis by earlier runs do not count. */
const freshClient = () => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`;

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ask = (ctx: TestApp, client: string) => ctx.app.inject({ url: URL, remoteAddress: client });

t.test('the machine Redis answers (the suite needs it)', async (t) => {
  const [host, port] = new globalThis.URL(REDIS_URL).host.split(':');
  const socket = net.connect(Number(port ?? 6379), host);
  const result = await Promise.race([
    once(socket, 'connect').then(() => 'up'),
    once(socket, 'error').then(([err]) => `down: ${(err as Error).message}`),
  ]);
  socket.destroy();
  t.equal(result, 'up', `Redis at ${REDIS_URL} must be running (.ci/run starts it)`);
});

t.test('two instances on one Redis share each client budget', async (t) => {
  const env = { REDIS_URL, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1 minute' };
  const a = await testApp(t, { env });
  const b = await testApp(t, { env });
  await until(() => a.app.rateLimitStore() === 'shared' && b.app.rateLimitStore() === 'shared', 'both instances to reach Redis');
  const client = freshClient();
  t.equal((await ask(a, client)).statusCode, 200, '1st request, instance A');
  t.equal((await ask(b, client)).statusCode, 200, '2nd request, instance B');
  t.equal((await ask(a, client)).statusCode, 200, '3rd request, instance A');
  const fourth = await ask(b, client);
  t.equal(fourth.statusCode, 429, '4th request, instance B: B saw A counts');
  t.ok(Number(fourth.headers['retry-after']) > 0, 'with Retry-After');
  t.equal((await ask(a, freshClient())).statusCode, 200, 'another client has its own budget');
  const ready = await a.app.inject({ url: '/readyz' });
  t.same(ready.json(), { status: 'ok', rateLimits: 'shared' });
  t.match((await a.app.inject({ url: '/metrics' })).body, /^mailconf_redis_up 1$/m);
});

t.test('RATE_LIMIT_ALLOW networks are never limited', async (t) => {
  const ctx = await testApp(t, { env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_ALLOW: '192.0.2.0/24' } });
  for (let i = 0; i < 3; i++) t.equal((await ask(ctx, '192.0.2.77')).statusCode, 200, `allowed client, request ${i + 1}`);
  t.equal((await ask(ctx, '198.51.100.1')).statusCode, 200);
  t.equal((await ask(ctx, '198.51.100.1')).statusCode, 429, 'others are limited as usual');
});

/** A private redis-server on a free port, nothing kept on disk. */
async function privateRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(true));
      s.on('error', () => resolve(false));
      s.setTimeout(200, () => resolve(false));
    }).catch(() => false);
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('the private redis-server did not start');
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

t.test('Redis down: answers go on, counted per instance, said once; Redis back: shared again', async (t) => {
  const port = await freePort();
  let redis = await privateRedis(port);
  t.teardown(() => {
    redis.kill('SIGKILL');
  });
  const ctx = await testApp(t, { env: { REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_MAX: '5' } });
  await until(() => ctx.app.rateLimitStore() === 'shared', 'the instance to reach Redis');

  redis.kill('SIGKILL');
  await once(redis, 'exit');
  const client = freshClient();
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) statuses.push((await ask(ctx, client)).statusCode);
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429], 'served, and still limited: per instance');
  t.equal(ctx.app.rateLimitStore(), 'per-instance');
  const ready = await ctx.app.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 200, 'still ready: rate limits fail open');
  t.same(ready.json(), { status: 'ok', rateLimits: 'per instance: Redis unreachable' });
  t.match((await ctx.app.inject({ url: '/metrics' })).body, /^mailconf_redis_up 0$/m);
  const warnings = ctx.logs.filter((l) => String(l.msg).startsWith('rate limits: Redis unreachable'));
  t.ok(warnings.length >= 1 && warnings.length <= 2, `the outage is logged once, not per request (${warnings.length})`);
  t.notMatch(ctx.rawLogs(), /"level":50/, 'nothing logged as an error');

  redis = await privateRedis(port);
  await until(() => ctx.app.rateLimitStore() === 'shared', 'the instance to reach Redis again', 8000);
  t.equal((await ask(ctx, freshClient())).statusCode, 200, 'answers go on');
  t.match((await ctx.app.inject({ url: '/metrics' })).body, /^mailconf_redis_up 1$/m);
  t.ok(ctx.logs.some((l) => l.msg === 'rate limits: Redis reachable again, counting across instances'), 'the recovery is logged');
});

t.test('REDIS_URL must be a redis URL', async (t) => {
  const { configFromEnv } = await import('../src/config/config.js');
  t.throws(() => configFromEnv({ REDIS_URL: 'http://cache:6379' }), /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  t.equal(configFromEnv({ REDIS_URL: 'rediss://:pw@cache:6380' }).redisUrl, 'rediss://:pw@cache:6380');
});

t.test('RATE_LIMIT_MISS_MAX: lookups of unhosted domains have their own, lower budget', async (t) => {
  const ctx = await testApp(t, { env: { RATE_LIMIT_MAX: '100', RATE_LIMIT_MISS_MAX: '2', PUBLIC_URL: 'http://mailconf.pair-test.example' } });
  const miss = (n: number) => ctx.app.inject({ url: `/mail/config-v1.1.xml?emailaddress=a%40unhosted-${n}.example`, remoteAddress: '198.51.100.9' });
  t.equal((await miss(1)).statusCode, 404);
  t.equal((await miss(2)).statusCode, 404);
  const third = await miss(3);
  t.equal(third.statusCode, 429, 'the third miss in the window is refused');
  t.ok(Number(third.headers['retry-after']) > 0, 'with Retry-After');
  t.equal((await ctx.app.inject({ url: URL, remoteAddress: '198.51.100.9' })).statusCode, 200, 'a hosted domain is still answered');
  t.equal((await ctx.app.inject({ url: '/mail/config-v1.1.xml?emailaddress=a%40unhosted-4.example', remoteAddress: '198.51.100.10' })).statusCode, 404, 'another client has its own miss budget');
  const pox = await ctx.app.inject({
    method: 'POST',
    url: '/autodiscover/autodiscover.xml',
    remoteAddress: '198.51.100.9',
    payload: '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>a@unhosted-5.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>',
  });
  t.equal(pox.statusCode, 429, 'in every dialect');
});
