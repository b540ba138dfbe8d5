// Clients that hold connections: every phase of a connection is bounded in time (headers,
// body, silence, idle keep-alive), an early answer does not wait for a body, and each
// client may hold only so many connections at once (our own proxies aside). Over real
// sockets to the app listening on 127.0.0.1; a second loopback address, 127.0.0.2, plays
// another client.
import t from 'tap';
import { connect, exchange, listeningApp, request, until } from './raw-client.js';

const SHORT = { HEADERS_TIMEOUT: '1s', REQUEST_TIMEOUT: '2s', KEEP_ALIVE_TIMEOUT: '1s' };

const AUTOCONFIG = request('GET', '/mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example', { host: 'autoconfig.oldtimer-shop.example' });

t.test('every phase of a connection is bounded: slow headers, slow or stalled bodies, silence, idle keep-alive', async (t) => {
  const { port } = await listeningApp(t, SHORT);
  const drip = (first: string, byte: string, n: number) => [first, ...new Array<string>(n).fill(byte)];
  const post = 'POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.newbie.example\r\n';
  const cases = {
    // one header byte every 300 ms: the head never completes
    'slow headers': exchange({ port, pieces: drip('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'a', 30), gapMs: 300, timeoutMs: 6000 }),
    // a body announced as 500 bytes, one byte every 300 ms
    'trickled body': exchange({ port, pieces: drip(`${post}Content-Length: 500\r\n\r\n<`, 'a', 30), gapMs: 300, timeoutMs: 6000 }),
    // a chunked body that stops after its first chunk
    'stalled chunked body': exchange({ port, pieces: [`${post}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`], timeoutMs: 6000 }),
    // a connection that never says anything
    silent: exchange({ port, pieces: [], timeoutMs: 6000 }),
    // one good request, then nothing
    'idle keep-alive': exchange({ port, pieces: [AUTOCONFIG], timeoutMs: 6000 }),
  };
  const results = await Promise.all(Object.values(cases));
  Object.keys(cases).forEach((name, i) => {
    const result = results[i]!;
    t.ok(result.closedByServer, `${name}: the server closed the connection`);
    t.ok(result.ms < 4000, `${name}: within seconds (${result.ms} ms)`);
    t.notOk(result.responses.some((r) => r.status >= 500), `${name}: no 5xx`);
  });
  const [slowHeaders, trickled] = results;
  for (const timedOut of [slowHeaders!, trickled!]) {
    t.equal(timedOut.responses[0]?.status, 408, 'a request that did not arrive in time is told so');
    t.equal(timedOut.responses[0]?.headers['content-type'], 'text/plain; charset=utf-8');
    t.equal(timedOut.responses[0]?.headers['x-content-type-options'], 'nosniff');
  }
  t.equal(results[4]!.responses[0]?.status, 200, 'the idle connection had its answer first');
});

t.test('an answer given before the body arrives closes the connection: no waiting for a body', async (t) => {
  const { port } = await listeningApp(t, { RATE_LIMIT_MAX: '1' });
  t.equal((await exchange({ port, pieces: [AUTOCONFIG], responses: 1, timeoutMs: 2000 })).responses[0]?.status, 200);
  // Over the limit: 429 at once, and the socket is not kept open for the 1000 bytes announced.
  const limited = await exchange({
    port,
    pieces: ['POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<Autodiscover>'],
    timeoutMs: 1500,
  });
  t.equal(limited.responses[0]?.status, 429);
  t.equal(limited.responses[0]?.headers.connection, 'close');
  t.ok(limited.closedByServer, `closed after the 429 (${limited.ms} ms), not held for the body`);
});

t.test('the same for a 405 and a 413 that need no body', async (t) => {
  const { port } = await listeningApp(t, {});
  for (const [head, status] of [
    ['PUT /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', 405],
    ['POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n', 413],
  ] as const) {
    const result = await exchange({ port, pieces: [head], timeoutMs: 1500 });
    t.equal(result.responses[0]?.status, status);
    t.ok(result.closedByServer, `${status}: closed at once (${result.ms} ms)`);
  }
});

t.test('one client may hold MAX_CONNECTIONS_PER_CLIENT connections; more are refused, and logged once', async (t) => {
  const { port, ctx } = await listeningApp(t, { MAX_CONNECTIONS_PER_CLIENT: '6' });
  const sockets = Array.from({ length: 10 }, () => connect(port));
  const closed = new Set<number>();
  sockets.forEach((s, i) => s.once('close', () => closed.add(i)));
  await until(() => closed.size >= 4, 2000, 'the connections over the cap to be closed');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(closed.size, 4, 'four of ten refused');
  t.same([...closed].sort((a, b) => a - b), [6, 7, 8, 9], 'the ones over the cap');

  // Another client is not affected.
  const other = await exchange({ port, pieces: [AUTOCONFIG], responses: 1, timeoutMs: 2000, localAddress: '127.0.0.2' });
  t.equal(other.responses[0]?.status, 200, 'another address is served');
  t.match(other.responses[0]?.body, '<hostname>mail123.pair.com</hostname>');

  const capped = ctx.logs.filter((l) => l.refusal === 'connection cap');
  t.equal(capped.length, 1, 'one warning for the burst');
  t.match(capped[0], { level: 40, client: '127.0.0.1' });

  // Connections given back count again.
  sockets[0]!.destroy();
  await until(() => closed.has(0), 1000, 'our close');
  await new Promise((r) => setTimeout(r, 100));
  const again = await exchange({ port, pieces: [AUTOCONFIG], responses: 1, timeoutMs: 2000 });
  t.equal(again.responses[0]?.status, 200, 'a freed slot is usable');
});

t.test("behind a trusted proxy the proxy's own connections are not capped", async (t) => {
  const { port } = await listeningApp(t, { MAX_CONNECTIONS_PER_CLIENT: '3', TRUST_PROXY: 'loopback' });
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      exchange({
        port,
        // all eight open at once, for 300 ms before they ask
        pieces: ['', request('GET', '/mail/config-v1.1.xml', { host: 'autoconfig.oldtimer-shop.example', headers: [`X-Forwarded-For: 198.51.100.${i}`] })],
        gapMs: 300,
        responses: 1,
        timeoutMs: 2000,
      }),
    ),
  );
  t.same(results.map((r) => r.responses[0]?.status), new Array(8).fill(200), 'eight connections from the proxy, all served');
});
