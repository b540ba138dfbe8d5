// The admin API of the real server (`npm start` in a child process) over real sockets: on
// only with a token, said so at start-up by the token's name; a streamed import of
// thousands of accounts sent in chunks as they are made (no Content-Length) and read back
// by the export; and no token anywhere in what the process wrote.
import { once } from 'node:events';
import { join } from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, bearer } from './support/admin.js';
import { listeningPort, startServer } from './support/server.js';

const ACCOUNTS = 5000;

/** NDJSON of `ACCOUNTS` accounts, made and sent a few hundred at a time. */
function streamedBatch(): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next >= ACCOUNTS) return controller.close();
      let text = '';
      for (const end = Math.min(next + 250, ACCOUNTS); next < end; next++) {
        text += `${JSON.stringify({ username: `bulk${next}`, created: '2021-01-01', domains: [`bulk${next}.example`] })}\n`;
      }
      controller.enqueue(new TextEncoder().encode(text));
    },
  });
}

t.test('the real server: the admin API on by ADMIN_TOKEN, a streamed import and the export, no token in its output', async (t) => {
  const server = startServer({ MAILCONF_DIRECTORY: `sqlite:${join(t.testdir(), 'directory.db')}`, ADMIN_TOKEN });
  t.teardown(() => void server.child.kill('SIGKILL'));
  const port = await listeningPort(server);
  t.match(server.out(), /admin API on for ADMIN_TOKEN"/, 'the start-up line names who may use it');
  const base = `http://127.0.0.1:${port}`;

  t.equal((await fetch(`${base}/admin/export`)).status, 401, 'no token');
  const imported = await fetch(`${base}/admin/import`, {
    method: 'POST',
    headers: { ...bearer(), 'content-type': 'application/x-ndjson' },
    body: streamedBatch(),
    duplex: 'half',
  } as RequestInit);
  t.equal(imported.status, 200);
  t.same(((await imported.json()) as { written: unknown }).written, { accounts: ACCOUNTS, domains: ACCOUNTS, mailboxes: 0 });

  const lookup = await fetch(`${base}/mail/config-v1.1.xml?emailaddress=jane%40bulk4999.example`);
  t.equal(lookup.status, 200, 'the last account imported is answered');
  t.match(await lookup.text(), '<hostname>bulk4999.mail.pairserver.com</hostname>');

  const exported = await fetch(`${base}/admin/export`, { headers: bearer() });
  t.equal(exported.status, 200);
  t.equal(exported.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
  const lines = (await exported.text()).split('\n').filter(Boolean);
  t.equal(lines.filter((l) => l.includes('"bulk')).length, ACCOUNTS, 'every imported account, one a line');

  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
  t.notOk(`${server.out()}${server.err()}`.includes(ADMIN_TOKEN), 'the token is nowhere in the output');
});
