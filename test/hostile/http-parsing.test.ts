// HTTP as attackers write it, over real sockets: the request's host is read in one place
// and by the RFC (one Host field, a valid one, the absolute-form target's host first),
// pipelined bursts are rate-limited request by request in arrival order, and the router's
// answer for an undecodable URL names nothing.
import t from 'tap';
import { exchange, listeningApp, request } from './raw-client.js';

const once = async (port: number, bytes: string) => (await exchange({ port, pieces: [bytes], responses: 1, timeoutMs: 2000 })).responses[0];

const AUTOCONFIG_PATH = '/mail/config-v1.1.xml';

t.test('one Host field line, and a valid one: 400 otherwise (RFC 9112 section 3.2)', async (t) => {
  const { port } = await listeningApp(t);
  const twice = await once(port, `GET ${AUTOCONFIG_PATH} HTTP/1.1\r\nHost: autoconfig.oldtimer-shop.example\r\nHost: autoconfig.newbie.example\r\n\r\n`);
  t.equal(twice?.status, 400, 'two Host headers');
  t.equal(twice?.body, 'Bad request\n', 'names neither');
  t.equal(twice?.headers['x-content-type-options'], 'nosniff');
  const twiceSame = await once(port, `GET ${AUTOCONFIG_PATH} HTTP/1.1\r\nHost: autoconfig.newbie.example\r\nhost: autoconfig.newbie.example\r\n\r\n`);
  t.equal(twiceSame?.status, 400, 'even when they agree, in any case');
  for (const host of [
    'autoconfig.newbie.example:abc',
    'autoconfig.newbie.example:80x',
    'autoconfig.newbie.example:-1',
    'autoconfig.newbie.example:80:80',
    'user@autoconfig.newbie.example',
    'autoconfig.newbie.example/x',
    'autoconfig.newbie.example x',
    '[not-ipv6]',
    'autoconfig.newbie.example%zz',
  ]) {
    t.equal((await once(port, `GET ${AUTOCONFIG_PATH} HTTP/1.1\r\nHost: ${host}\r\n\r\n`))?.status, 400, `Host: ${host}`);
  }
  for (const host of ['autoconfig.newbie.example', 'autoconfig.newbie.example:8080', 'AutoConfig.Newbie.Example.', '127.0.0.1:80', '[::1]:8080', 'autoconfig.newbie.example:']) {
    t.not((await once(port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`))?.status, 400, `Host: ${host} is valid`);
  }
  const answered = await once(port, `GET ${AUTOCONFIG_PATH} HTTP/1.1\r\nHost: autoconfig.newbie.example:8080\r\n\r\n`);
  t.match(answered?.body, '<domain>newbie.example</domain>', 'a port is not part of the domain');
});

t.test("an absolute-form target's host wins over the Host header (RFC 9112 section 3.2.2)", async (t) => {
  const { port } = await listeningApp(t);
  const absolute = await once(port, `GET http://autoconfig.newbie.example${AUTOCONFIG_PATH} HTTP/1.1\r\nHost: autoconfig.oldtimer-shop.example\r\n\r\n`);
  t.equal(absolute?.status, 200);
  t.match(absolute?.body, '<domain>newbie.example</domain>', 'the domain of the target');
  t.notMatch(absolute?.body, 'oldtimer', 'not the Host header');
  const page = await once(port, `GET HTTP://mailconf.pair-test.example/ HTTP/1.1\r\nHost: autoconfig.newbie.example\r\nAccept: text/html\r\n\r\n`);
  t.equal(page?.status, 200, 'the settings page follows the target too (it is not served on autoconfig. names)');
  for (const target of [`ftp://autoconfig.newbie.example${AUTOCONFIG_PATH}`, `http://user@autoconfig.newbie.example${AUTOCONFIG_PATH}`, `http://${AUTOCONFIG_PATH}`, `http://:80${AUTOCONFIG_PATH}`]) {
    t.equal((await once(port, `GET ${target} HTTP/1.1\r\nHost: autoconfig.newbie.example\r\n\r\n`))?.status, 400, target);
  }
});

t.test('HTTP/1.0 without Host is still answered (the Host names no domain then)', async (t) => {
  const { port } = await listeningApp(t);
  const res = await once(port, `GET ${AUTOCONFIG_PATH}?emailaddress=jane%40newbie.example HTTP/1.0\r\n\r\n`);
  t.equal(res?.status, 200);
  t.match(res?.body, '<domain>newbie.example</domain>');
});

t.test('a pipelined burst is counted request by request, in arrival order', async (t) => {
  const { port } = await listeningApp(t, { RATE_LIMIT_MAX: '3' });
  const one = request('GET', `${AUTOCONFIG_PATH}?emailaddress=jane%40newbie.example`, { host: 'autoconfig.newbie.example' });
  const burst = await exchange({ port, pieces: [one.repeat(5)], responses: 5, timeoutMs: 3000 });
  t.same(burst.responses.map((r) => r.status), [200, 200, 200, 429, 429], 'the first three within the limit are answered');
  t.match(burst.responses[0]?.body, '<domain>newbie.example</domain>');
  t.ok(Number(burst.responses[3]?.headers['retry-after']) > 0, 'Retry-After');
});

t.test('a mixed pipelined burst: 404, 405, 414 and lookups share one budget', async (t) => {
  const { port } = await listeningApp(t, { RATE_LIMIT_MAX: '4' });
  const host = { host: 'autoconfig.newbie.example' };
  const pieces = [
    request('GET', '/nothing-here', host),
    request('DELETE', AUTOCONFIG_PATH, host),
    request('GET', `${AUTOCONFIG_PATH}?x=${'a'.repeat(5000)}`, host),
    request('GET', AUTOCONFIG_PATH, host),
    request('GET', AUTOCONFIG_PATH, host),
  ].join('');
  const burst = await exchange({ port, pieces: [pieces], responses: 5, timeoutMs: 3000 });
  t.same(burst.responses.map((r) => r.status), [404, 405, 414, 200, 429]);
});

t.test("the router's 400 for an undecodable URL names nothing, and is counted", async (t) => {
  const { port } = await listeningApp(t, { RATE_LIMIT_MAX: '2' });
  const bad = `GET /%E0%A4%A/zqxsecret@x.example HTTP/1.1\r\nHost: x\r\n\r\n`;
  const res = await once(port, bad);
  t.equal(res?.status, 400);
  t.equal(res?.body, 'Bad request\n');
  t.equal(res?.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(res?.headers['x-content-type-options'], 'nosniff');
  t.equal((await once(port, bad))?.status, 400);
  t.equal((await once(port, bad))?.status, 429, 'the third is over the limit');
});
