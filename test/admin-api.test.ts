// The admin API's boundaries: it does not exist without a token, nor on a customer's
// names; it answers only over HTTPS or on loopback; a missing, wrong or malformed token is
// refused as RFC 6750 says, in problem+json (RFC 9457); its own rate limit; its OpenAPI
// description; its metrics; and never a token in the log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ADMIN_ENV, ADMIN_TOKEN, adminInject, bearer } from './support/admin.js';
import { DownDirectory, testApp } from './support/app.js';

const NEWBIE = {
  username: 'newbie',
  created: '2019-10-02T15:04:05Z',
  mailServer: null,
  domains: ['newbie-two.example', 'newbie.example'],
  mailboxes: [],
};

const PROBLEM = 'application/problem+json; charset=utf-8';
const problem = (status: number, title: string, detail: string) => ({ type: 'about:blank', title, status, detail });

t.test('without ADMIN_TOKEN or ADMIN_TOKENS_FILE nothing answers under /admin/: the 404 of any unknown path', async (t) => {
  const { app } = await testApp(t);
  const unknown = await app.inject({ url: '/no-such-path' });
  for (const [method, url] of [
    ['GET', '/admin/accounts/newbie'],
    ['PUT', '/admin/accounts/newbie'],
    ['DELETE', '/admin/accounts/newbie'],
    ['DELETE', '/admin/domains/newbie.example'],
    ['POST', '/admin/import'],
    ['GET', '/admin/export'],
    ['GET', '/admin/openapi.json'],
  ] as const) {
    const res = await app.inject({ method, url, headers: bearer() });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.equal(res.body, unknown.body);
    t.equal(res.headers['content-type'], unknown.headers['content-type']);
  }
});

t.test('the bearer token: missing, wrong, malformed and right (RFC 6750)', async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV });
  const ask = (headers: Record<string, string>) => app.inject({ url: '/admin/accounts/newbie', headers });

  const none = await ask({});
  t.equal(none.statusCode, 401);
  t.equal(none.headers['content-type'], PROBLEM);
  t.equal(none.headers['www-authenticate'], 'Bearer realm="mailconf-admin"', 'no error code without credentials (section 3.1)');
  t.equal(none.headers['cache-control'], 'no-store');
  t.same(none.json(), problem(401, 'Unauthorized', 'This API needs a bearer token: send "Authorization: Bearer <token>"'));
  t.same((await ask({ authorization: 'Basic dXNlcjpwYXNz' })).json(), none.json(), 'another scheme is no token');

  const lastCharacter = await ask(bearer(`${ADMIN_TOKEN.slice(0, -1)}m`));
  t.equal(lastCharacter.statusCode, 401);
  t.equal(lastCharacter.headers['www-authenticate'], 'Bearer realm="mailconf-admin", error="invalid_token"');
  t.same(lastCharacter.json(), problem(401, 'Unauthorized', "The bearer token is not one of this service's admin tokens"));
  for (const other of [ADMIN_TOKEN.slice(0, 20), `${ADMIN_TOKEN}x`, 'x'.repeat(4000)]) {
    const res = await ask(bearer(other));
    t.equal(res.statusCode, 401, `a token of ${other.length} characters`);
    t.equal(res.body, lastCharacter.body, 'the same answer, whatever the length');
    t.equal(res.headers['www-authenticate'], lastCharacter.headers['www-authenticate']);
  }

  const malformed = await ask({ authorization: 'Bearer two words' });
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.headers['www-authenticate'], 'Bearer realm="mailconf-admin", error="invalid_request"');
  t.same(malformed.json(), problem(400, 'Bad Request', 'The Authorization header is not "Bearer <token>" (RFC 6750 section 2.1)'));

  const right = await ask(bearer());
  t.equal(right.statusCode, 200);
  t.equal(right.headers['content-type'], 'application/json; charset=utf-8');
  t.same(right.json(), NEWBIE);
  t.equal((await ask({ authorization: `bearer ${ADMIN_TOKEN}` })).statusCode, 200, 'the scheme in any case');
});

t.test('named tokens from ADMIN_TOKENS_FILE each work, and the log names who changed what, never a token', async (t) => {
  const file = join(t.testdir(), 'tokens');
  const sync = 'nightly-sync-token-aaaaaaaaaaaaaaaaaaaaaaaa';
  const centre = 'control-centre-token-bbbbbbbbbbbbbbbbbbbbbb';
  writeFileSync(file, `# provider systems\nnightly ${sync}\ncontrol-centre ${centre}\n`);
  const served = await testApp(t, { env: { ADMIN_TOKENS_FILE: file } });
  const { app, rawLogs } = served;
  t.equal((await adminInject(app, { url: '/admin/accounts/newbie', token: sync })).statusCode, 200);
  t.equal((await adminInject(app, { url: '/admin/accounts/newbie', token: ADMIN_TOKEN })).statusCode, 401, 'ADMIN_TOKEN is not set here');
  const deleted = await adminInject(app, { method: 'DELETE', url: '/admin/accounts/lastday', token: centre });
  t.equal(deleted.statusCode, 200);
  const changes = served.logs.filter((l) => l.operation !== undefined);
  t.same(
    changes.map((l) => ({ level: l.level, admin: l.admin, operation: l.operation, username: l.username, msg: l.msg })),
    [{ level: 30, admin: 'control-centre', operation: 'delete-account', username: 'lastday', msg: 'admin API: control-centre deleted account lastday' }],
  );
  const requests = served.logs.filter((l) => l.msg === 'request' && String(l.route).startsWith('/admin/'));
  t.same(
    requests.map((l) => [l.method, l.status, l.admin]),
    [
      ['GET', 200, 'nightly'],
      ['GET', 401, undefined],
      ['DELETE', 200, 'control-centre'],
    ],
    "each request's line names whose token it bore",
  );
  for (const secret of [sync, centre, 'Bearer', 'authorization']) t.notOk(rawLogs().includes(secret), `the log never holds ${secret.slice(0, 8)}...`);
});

t.test("never on a customer's names: there the API does not exist, token or not", async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV });
  const unknown = await app.inject({ url: '/no-such-path', headers: { host: 'autoconfig.newbie.example' } });
  for (const host of [
    'autoconfig.newbie.example',
    'autodiscover.newbie.example',
    'ua-auto-config.newbie.example',
    'newbie.example',
    'AUTOCONFIG.Newbie.Example:443',
    'autoconfig.pair.com', // the MX-based name clients reach us at
    'autoconfig.mailconf.pair-test.example',
  ]) {
    for (const [method, url] of [
      ['GET', '/admin/accounts/newbie'],
      ['PATCH', '/admin/accounts/newbie'],
      ['GET', '/admin/openapi.json'],
    ] as const) {
      const res = await adminInject(app, { method, url, headers: { host } });
      t.equal(res.statusCode, 404, `${method} ${url} on ${host}`);
      t.equal(res.body, unknown.body);
      t.equal(res.headers['content-type'], unknown.headers['content-type']);
    }
  }
  for (const host of ['mailconf.pair-test.example', 'MAILCONF.pair-test.example:8443', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', '10.0.0.5']) {
    t.equal((await adminInject(app, { url: '/admin/accounts/newbie', headers: { host } })).statusCode, 200, `answers on ${host}`);
  }
});

t.test('only over HTTPS or from this machine', async (t) => {
  const { app } = await testApp(t, { env: { ...ADMIN_ENV, TRUST_PROXY: '127.0.0.1' } });
  const refused = await adminInject(app, { url: '/admin/accounts/newbie', remoteAddress: '203.0.113.9' });
  t.equal(refused.statusCode, 403);
  t.same(refused.json(), problem(403, 'Forbidden', 'The admin API answers only over HTTPS, or to a client on this machine'));
  const viaProxy = (proto: string) =>
    adminInject(app, { url: '/admin/accounts/newbie', headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': proto } });
  t.equal((await viaProxy('https')).statusCode, 200, 'HTTPS, as our proxy says');
  t.equal((await viaProxy('http')).statusCode, 403, 'plain HTTP through our proxy from another machine');
  t.equal((await adminInject(app, { url: '/admin/accounts/newbie' })).statusCode, 200, 'plain HTTP on loopback');

  const untrusting = await testApp(t, { env: ADMIN_ENV });
  const forwarded = await adminInject(untrusting.app, { url: '/admin/accounts/newbie', headers: { 'x-forwarded-for': '203.0.113.9' } });
  t.equal(forwarded.statusCode, 403, 'a loopback peer forwarding for someone else (a proxy TRUST_PROXY does not name) is not this machine');
});

t.test("its own rate limit: refused tokens count, and the customers' budget is not touched", async (t) => {
  const { app } = await testApp(t, { env: { ...ADMIN_ENV, ADMIN_RATE_LIMIT_MAX: '3', RATE_LIMIT_MAX: '2' } });
  const client = { remoteAddress: '127.0.0.9' };
  for (let i = 0; i < 3; i++) t.equal((await adminInject(app, { url: '/admin/accounts/newbie', token: 'w'.repeat(40), ...client })).statusCode, 401);
  const limited = await adminInject(app, { url: '/admin/accounts/newbie', ...client });
  t.equal(limited.statusCode, 429, 'the fourth, even with the right token');
  t.equal(limited.headers['content-type'], PROBLEM);
  t.match(limited.headers['retry-after'], /^\d+$/);
  t.same(limited.json(), problem(429, 'Too Many Requests', `Too many admin requests: retry in ${limited.headers['retry-after']} seconds`));
  t.equal((await adminInject(app, { url: '/admin/accounts/newbie', remoteAddress: '127.0.0.10' })).statusCode, 200, 'another client has its own budget');
  const lookup = { url: '/mail/config-v1.1.xml?emailaddress=jane%40newbie.example', ...client };
  t.equal((await app.inject(lookup)).statusCode, 200, "the customers' limit did not count the admin requests");
  t.equal((await app.inject(lookup)).statusCode, 200);
  t.equal((await app.inject(lookup)).statusCode, 429, 'and is its own');
});

t.test('wrong methods are 405 problems with Allow, after authentication', async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV });
  for (const [url, allow] of [
    ['/admin/accounts/newbie', 'GET, HEAD, PUT, DELETE'],
    ['/admin/domains/newbie.example', 'DELETE'],
    ['/admin/import', 'POST'],
    ['/admin/export', 'GET, HEAD'],
    ['/admin/openapi.json', 'GET, HEAD'],
  ] as const) {
    const res = await adminInject(app, { method: 'PATCH', url });
    t.equal(res.statusCode, 405, url);
    t.equal(res.headers.allow, allow);
    t.same(res.json(), problem(405, 'Method Not Allowed', `This path answers ${allow} only`));
    t.equal((await app.inject({ method: 'PATCH', url })).statusCode, 401, 'without a token: 401 first');
  }
});

t.test('any other path under /admin/ is a problem 404 past the gate, the plain 404 before it', async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV });
  for (const [method, url] of [
    ['GET', '/admin/'],
    ['GET', '/admin/accounts'],
    ['POST', '/admin/nothing-here'],
    ['GET', '/admin/accounts/newbie/domains'],
  ] as const) {
    const res = await adminInject(app, { method, url, headers: { 'content-type': 'text/plain' }, payload: method === 'POST' ? 'x' : undefined });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.same(res.json(), problem(404, 'Not Found', 'There is no such admin path: /admin/openapi.json lists them'));
    t.equal((await app.inject({ method, url })).statusCode, 401, 'without a token: 401 first');
    const customer = await adminInject(app, { method, url, headers: { host: 'autoconfig.newbie.example' } });
    t.equal(customer.body, 'Not found\n', "on a customer's name: the plain 404");
  }
});

t.test('/admin/openapi.json: an OpenAPI 3 description of every admin route, behind the same gate', async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV });
  t.equal((await app.inject({ url: '/admin/openapi.json' })).statusCode, 401);
  const res = await adminInject(app, { url: '/admin/openapi.json' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  const doc = JSON.parse(res.body) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: Record<string, Record<string, unknown>> };
  t.match(doc.openapi, /^3\.\d+\.\d+$/);
  const methods = Object.fromEntries(Object.entries(doc.paths).map(([path, ops]) => [path, Object.keys(ops).sort()]));
  t.same(methods, {
    '/admin/accounts/{username}': ['delete', 'get', 'put'],
    '/admin/domains/{domain}': ['delete'],
    '/admin/import': ['post'],
    '/admin/export': ['get'],
    '/admin/openapi.json': ['get'],
  });
  t.same(doc.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, or a token of ADMIN_TOKENS_FILE (RFC 6750)' } });
  t.same(Object.keys(doc.paths['/admin/accounts/{username}']!.put!.responses).sort(), ['200', '201', '400', '401', '403', '413', '415', '422', '429']);
  t.same(Object.keys(doc.components.schemas!), ['Problem'], 'the problem schema, shared by name');
  const body = (path: string, method: string) => Object.keys((doc.paths[path]![method] as unknown as { requestBody: { content: object } }).requestBody.content);
  t.same(body('/admin/import', 'post'), ['application/x-ndjson', 'application/ndjson']);
  t.same(body('/admin/accounts/{username}', 'put'), ['application/json']);
});

t.test('metrics: admin requests by outcome and changes by operation', async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV });
  await app.inject({ url: '/admin/accounts/newbie' });
  await adminInject(app, { url: '/admin/accounts/newbie', token: 'z'.repeat(40) });
  await adminInject(app, { url: '/admin/accounts/newbie' });
  await adminInject(app, { url: '/admin/accounts/nobody' });
  await adminInject(app, { method: 'DELETE', url: '/admin/accounts/lastday' });
  await adminInject(app, { method: 'DELETE', url: '/admin/domains/newbie-two.example' });
  await adminInject(app, { url: '/admin/accounts/newbie', remoteAddress: '198.51.100.1' });
  const m = (await app.inject({ url: '/metrics' })).body;
  for (const line of [
    'mailconf_admin_requests_total{outcome="unauthenticated"} 2',
    'mailconf_admin_requests_total{outcome="ok"} 3',
    'mailconf_admin_requests_total{outcome="not-found"} 1',
    'mailconf_admin_requests_total{outcome="forbidden"} 1',
    'mailconf_admin_changes_total{operation="delete-account"} 1',
    'mailconf_admin_changes_total{operation="delete-domain"} 1',
  ]) {
    t.ok(m.split('\n').includes(line), line);
  }
  t.notOk(m.includes('operation="put-account"'), 'nothing counted that did not happen');
});

t.test('the directory down: 503 problems with Retry-After, naming no internals', async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV, directory: new DownDirectory() });
  const unavailable = problem(503, 'Service Unavailable', 'The directory did not answer: nothing was changed; try again shortly');
  for (const opts of [
    { url: '/admin/accounts/newbie' },
    { method: 'DELETE' as const, url: '/admin/accounts/newbie' },
    { method: 'PUT' as const, url: '/admin/accounts/newbie', payload: { created: '2019-10-02', domains: ['newbie.example'] } },
    { method: 'POST' as const, url: '/admin/import', headers: { 'content-type': 'application/x-ndjson' }, payload: '{"username":"a","created":"2020-01-01"}\n' },
    { url: '/admin/export' },
  ]) {
    const res = await adminInject(app, opts);
    t.equal(res.statusCode, 503, `${opts.method ?? 'GET'} ${opts.url}`);
    t.equal(res.headers['retry-after'], '30');
    t.equal(res.headers['content-type'], PROBLEM);
    t.same(res.json(), unavailable);
  }
});

t.test('hostile bodies: no prototype pollution, no 5xx', async (t) => {
  const { app } = await testApp(t, { env: ADMIN_ENV });
  const res = await adminInject(app, {
    method: 'PUT',
    url: '/admin/accounts/proto',
    headers: { 'content-type': 'application/json' },
    payload: '{"created":"2020-01-01","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
  });
  t.equal(res.statusCode, 422);
  t.same(res.json().errors.map((e: { pointer: string }) => e.pointer), ['/__proto__', '/constructor']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  const deep = await adminInject(app, { method: 'PUT', url: '/admin/accounts/deep', headers: { 'content-type': 'application/json' }, payload: `${'['.repeat(5000)}${']'.repeat(5000)}` });
  t.equal(deep.statusCode, 422, 'deeply nested: not an object');
  const odd = await adminInject(app, { method: 'PUT', url: `/admin/accounts/${encodeURIComponent('per%cent')}`, payload: { created: '2020-01-01' } });
  t.equal(odd.statusCode, 422);
  t.same(odd.json().errors, [{ pointer: '/username', detail: 'required: 1-64 characters without spaces, control characters or "%"' }]);
});
