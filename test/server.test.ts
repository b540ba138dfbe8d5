// `npm start` as an operator sees it: the real entry point in a child process.
import { once } from 'node:events';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { startServer as start, waitFor } from './support/server.js';

t.test('first start seeds the demo directory, says where it listens, answers, and stops on SIGTERM', async (t) => {
  const dir = t.testdir();
  const server = start({ MAILCONF_DIRECTORY: `sqlite:${join(dir, 'sub', 'directory.db')}` });
  t.teardown(() => void server.child.kill('SIGKILL'));
  await waitFor(() => server.out().includes('mailconf listening'), 'the listening line');
  const line = server.out().split('\n').find((l) => l.includes('mailconf listening'))!;
  const msg = JSON.parse(line).msg as string;
  t.match(msg, /^mailconf listening on http:\/\/127\.0\.0\.1:\d+, serving 6 accounts and 6 domains from sqlite:/);
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
