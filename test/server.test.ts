// `npm start` as an operator sees it: the real entry point in a child process.
import { once } from 'node:events';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { destroyAll, exchange } from './hostile/raw-client.js';
import { poxRequest } from './support/app.js';
import { exited, listeningPort, startServer as start, waitFor } from './support/server.js';

t.test('first start seeds the demo directory, says where it listens, answers, and stops on SIGTERM', async (t) => {
  const dir = t.testdir();
  const server = start({ MAILCONF_DIRECTORY: `sqlite:${join(dir, 'sub', 'directory.db')}` });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await waitFor(() => server.out().includes('mailconf listening'), 'the listening line');
  const line = server.out().split('\n').find((l) => l.includes('mailconf listening'))!;
  const msg = JSON.parse(line).msg as string;
  t.match(msg, /^mailconf listening on http:\/\/127\.0\.0\.1:\d+, serving 6 accounts and 6 domains from sqlite:/);
  t.match(msg, /; public URL http:\/\/localhost:\d+\/, trusted proxies: none, rate limits per instance, provider pair\.com, admin API off$/, 'and how it is set up');
  const port = Number(/:(\d+),/.exec(msg)![1]);
  const res = await fetch(`http://127.0.0.1:${port}/mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example`);
  t.equal(res.status, 200);
  t.match(await res.text(), '<hostname>mail123.pair.com</hostname>');
  server.child.kill('SIGTERM');
  const [code] = await once(server.child, 'exit');
  t.equal(code, 0);
});

t.test('bad configuration stops start-up with one clear line', async (t) => {
  const dir = t.testdir();
  const provider = join(dir, 'provider.json');
  writeFileSync(provider, '{"colour":"red"}');
  for (const [env, message] of [
    [{ PORT: 'eighty' }, /^mailconf: cannot start: PORT must be a whole number/],
    [{ MAILCONF_PROVIDER: provider }, /^mailconf: cannot start: provider profile .*unknown field "colour"/],
    [{ MAILCONF_DIRECTORY: `sqlite:${provider}` }, /^mailconf: cannot start: cannot open directory/],
  ] as const) {
    const server = start({ MAILCONF_DIRECTORY: `sqlite:${join(dir, 'd.db')}`, ...env });
    const [code] = await once(server.child, 'exit');
    t.equal(code, 1, JSON.stringify(env));
    t.match(server.err(), message);
  }
});

t.test('SIGTERM: requests on their way are answered, and no client holds the process past SHUTDOWN_TIMEOUT', async (t) => {
  const dir = t.testdir();
  const server = start({ MAILCONF_DIRECTORY: `sqlite:${join(dir, 'directory.db')}`, SHUTDOWN_TIMEOUT: '1500ms' });
  t.teardown(() => {
    destroyAll();
    server.child.kill('SIGKILL');
  });
  const port = await listeningPort(server);
  const autoconfig = 'GET /mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example HTTP/1.1\r\nHost: autoconfig.oldtimer-shop.example\r\n';
  const body = poxRequest('sales@oldtimer-shop.example');
  const pox = `POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.oldtimer-shop.example\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const [halfHead, halfBody, silent, stalled, idle] = [
    // the head's last CRLF comes after SIGTERM
    exchange({ port, pieces: [autoconfig, '\r\n'], gapMs: 600, timeoutMs: 8000 }),
    // so does the second half of the body
    exchange({ port, pieces: [pox + body.slice(0, 100), body.slice(100)], gapMs: 600, timeoutMs: 8000 }),
    // a connection that never says a word
    exchange({ port, pieces: [], timeoutMs: 8000 }),
    // a head that never ends
    exchange({ port, pieces: ['GET /healthz HTTP/1.1\r\nHost: x\r\nX-Never: '], timeoutMs: 8000 }),
    // an answered request, then idle
    exchange({ port, pieces: [`${autoconfig}\r\n`], timeoutMs: 8000 }),
  ];
  await new Promise((r) => setTimeout(r, 300)); // every connection is open and has sent its first part
  const signalled = Date.now();
  server.child.kill('SIGTERM');
  const code = await exited(server, 6000);
  const took = Date.now() - signalled;
  t.equal(code, 0, 'the process exits, with 0');
  t.ok(took < 1500 + 1500, `within SHUTDOWN_TIMEOUT and a margin (${took} ms)`);

  const [head, pbody, quiet, never, kept] = await Promise.all([halfHead, halfBody, silent, stalled, idle]);
  t.equal(head.responses[0]?.status, 200, 'a request whose head completes during shutdown is answered, not given 503');
  t.match(head.responses[0]?.body, '<hostname>mail123.pair.com</hostname>');
  t.equal(head.responses[0]?.headers.connection, 'close', 'and told the connection ends');
  t.equal(pbody.responses[0]?.status, 200, 'a request whose body completes during shutdown is answered');
  t.match(pbody.responses[0]?.body, 'mail123.pair.com');
  for (const [name, result] of [['silent', quiet], ['stalled', never], ['idle', kept]] as const) {
    t.ok(result.closedByServer, `the ${name} connection was closed`);
    t.notOk(result.responses.some((r) => r.status === 503), `no 503 on the ${name} connection`);
  }
  t.equal(kept.responses[0]?.status, 200, 'the idle connection had its answer');
  t.match(server.out(), /SIGTERM: shutting down/);
});

t.test('SIGTERM during a stream of keep-alive requests: every request sent is answered, none fails', async (t) => {
  const { request, Agent } = await import('node:http');
  const dir = t.testdir();
  const server = start({ MAILCONF_DIRECTORY: `sqlite:${join(dir, 'directory.db')}`, SHUTDOWN_TIMEOUT: '4s', RATE_LIMIT_MAX: '100000' });
  t.teardown(() => void server.child.kill('SIGKILL'));
  const port = await listeningPort(server);
  type Outcome = { status?: number; host?: string; closed?: boolean; error?: string; refused?: boolean };
  const outcomes: Outcome[] = [];
  const ask = (agent: InstanceType<typeof Agent>) =>
    new Promise<Outcome>((resolve) => {
      const req = request({ host: '127.0.0.1', port, agent, path: '/mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example', headers: { host: 'autoconfig.oldtimer-shop.example' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, host: /<hostname>([^<]+)</.exec(body)?.[1], closed: res.headers.connection === 'close' }));
      });
      // Refused: the listener is closed, the request was never sent (a platform's proxy
      // sends it to another instance). Anything else after sending is a failure.
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? { refused: true } : { error: err.code ?? err.message }));
      req.end();
    });
  let signalled = false;
  const client = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Bounded: at most 2,000 requests or until the server refuses.
    for (let i = 0; i < 2000; i++) {
      const outcome = await ask(agent);
      outcomes.push(outcome);
      if (outcome.refused || outcome.error) break;
      // Told the connection ends while the machine shuts down, a proxy sends the next
      // request to another instance: so does this client.
      if (signalled && outcome.closed) break;
    }
    agent.destroy();
  };
  const clients = Array.from({ length: 4 }, client);
  await new Promise((r) => setTimeout(r, 400)); // the stream is flowing
  signalled = true;
  server.child.kill('SIGTERM');
  t.equal(await exited(server, 8000), 0, 'the process exits with 0');
  await Promise.all(clients);
  const answered = outcomes.filter((o) => o.status !== undefined);
  t.ok(answered.length > 20, `the stream flowed (${answered.length} answers)`);
  t.same(outcomes.filter((o) => o.error), [], 'no request failed (no reset, no hang-up)');
  t.ok(answered.every((o) => o.status === 200 && o.host === 'mail123.pair.com'), 'every answer is a 200 with the right host (never a 503)');
  t.ok(answered.some((o) => o.closed), 'during the drain answers close their connections');
});
