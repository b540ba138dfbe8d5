// Our Marionette client against a fake Marionette server on loopback: the framing
// (`<length>:<json>`, split and joined TCP chunks, multi-byte UTF-8), command ids, errors.
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import { Marionette } from './marionette.js';

function frame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body]);
}

/** A server that greets, then answers each command with `answer(name, params)`. */
async function fakeServer(t: Test, answer: (name: string, params: Record<string, unknown>) => { error?: unknown; value?: unknown } | undefined) {
  const received: Array<[string, Record<string, unknown>]> = [];
  const server = createServer((socket: Socket) => {
    // The greeting in two chunks, to exercise reassembly.
    const greeting = frame({ applicationType: 'gecko', marionetteProtocol: 3 });
    socket.write(greeting.subarray(0, 5));
    setTimeout(() => socket.write(greeting.subarray(5)), 5);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const colon = buffer.indexOf(0x3a);
        if (colon < 0) return;
        const length = Number(buffer.subarray(0, colon).toString());
        if (buffer.length < colon + 1 + length) return;
        const [, id, name, params] = JSON.parse(buffer.subarray(colon + 1, colon + 1 + length).toString('utf8')) as [number, number, string, Record<string, unknown>];
        buffer = buffer.subarray(colon + 1 + length);
        received.push([name, params]);
        const a = answer(name, params);
        if (!a) continue; // never answered
        socket.write(frame([1, id, a.error ?? null, a.error ? null : a.value ?? null]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, received };
}

t.test('greeting, commands and answers', async (t) => {
  const { port, received } = await fakeServer(t, (name, params) => {
    if (name === 'WebDriver:ExecuteAsyncScript') return { value: { value: JSON.stringify({ ok: true, value: { echo: params.args, text: 'Grüße ✓' } }) } };
    if (name === 'WebDriver:NewSession') return { value: { capabilities: { browserName: 'thunderbird', 'moz:processID': 42 } } };
    return { value: null };
  });
  const { client, greeting } = await Marionette.connect(port);
  t.teardown(() => client.close());
  t.same(greeting, { applicationType: 'gecko', marionetteProtocol: 3 });
  const session = await client.newSession();
  t.same(session, { capabilities: { browserName: 'thunderbird', 'moz:processID': 42 } });
  await client.setContext('chrome');
  const [a, b] = await Promise.all([client.run<{ echo: unknown; text: string }>('return 1;', [1, 'x']), client.run<{ echo: unknown }>('return 2;', [2])]);
  t.same(a, { echo: [1, 'x'], text: 'Grüße ✓' }, 'multi-byte text survives the byte-length framing');
  t.same(b.echo, [2], 'answers are matched to their commands by id');
  t.same(received.map(([name]) => name), ['WebDriver:NewSession', 'Marionette:SetContext', 'WebDriver:ExecuteAsyncScript', 'WebDriver:ExecuteAsyncScript']);
  t.same(received[1]![1], { value: 'chrome' });
});

t.test('errors: from the protocol and from the script', async (t) => {
  const { port } = await fakeServer(t, (name) => {
    if (name === 'Bad:Command') return { error: { error: 'unknown command', message: 'Bad:Command', stacktrace: '' } };
    return { value: { value: JSON.stringify({ ok: false, error: 'TypeError: nope' }) } };
  });
  const { client } = await Marionette.connect(port);
  t.teardown(() => client.close());
  await t.rejects(client.send('Bad:Command'), { name: 'MarionetteError', error: 'unknown command', command: 'Bad:Command' });
  await t.rejects(client.run('throw new TypeError("nope")'), /script failed in the application: TypeError: nope/);
});

t.test('refuses anything but loopback', async (t) => {
  await t.rejects(Marionette.connect(2828, '192.0.2.1'), /non-loopback/);
});

t.test('a closed connection fails pending commands', async (t) => {
  const { port } = await fakeServer(t, () => undefined);
  const { client } = await Marionette.connect(port);
  const pending = client.send('Never:Answered', {});
  client.close();
  await t.rejects(pending, /closed/);
});
