// A raw-TCP HTTP/1.1 client for hostile tests: it sends exactly the bytes it is given, all
// at once, in pieces or trickled, reads whatever comes back, and never waits longer than
// it is told. Every socket it opens is tracked, so a test can end them all.
import net from 'node:net';
import type { Test } from 'tap';
import { testApp, type TestApp } from '../support/app.js';

export interface RawResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

export interface Exchange {
  responses: RawResponse[];
  /** Everything received, as latin1 text. */
  raw: string;
  /** Whether the server ended the connection (rather than our own time limit). */
  closedByServer: boolean;
  /** From connecting to the end of the exchange. */
  ms: number;
}

export interface ExchangeOptions {
  port: number;
  /** Written in order: each piece `gapMs` after the previous one. */
  pieces: ReadonlyArray<string | Buffer>;
  gapMs?: number;
  /** The exchange ends after this many complete responses (default: when the server closes). */
  responses?: number;
  /** The exchange ends here at the latest, the socket destroyed. */
  timeoutMs: number;
  /** The requests are HEAD requests: their responses carry no body. */
  head?: boolean;
  /** Our end's address (a second loopback address plays a second client). */
  localAddress?: string;
  /** After writing everything, half-close our side (FIN). */
  end?: boolean;
}

const open = new Set<net.Socket>();

/** Ends every socket this module opened. */
export function destroyAll(): void {
  for (const socket of open) socket.destroy();
  open.clear();
}

export function connect(port: number, localAddress?: string): net.Socket {
  const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  open.add(socket);
  socket.on('error', () => {}); // a reset is an outcome the test reads, not a crash
  socket.once('close', () => open.delete(socket));
  return socket;
}

/** Sends `pieces` and collects the responses, within `timeoutMs` whatever the server does. */
export function exchange(options: ExchangeOptions): Promise<Exchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(options.port, options.localAddress);
    const chunks: Buffer[] = [];
    let responses: RawResponse[] = [];
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ responses: parseResponses(raw, options.head).responses, raw, closedByServer, ms: Date.now() - started });
    };
    socket.on('data', (data) => {
      chunks.push(data);
      if (options.responses !== undefined) {
        responses = parseResponses(Buffer.concat(chunks).toString('latin1'), options.head).responses;
        if (responses.length >= options.responses) finish(false);
      }
    });
    socket.once('close', () => finish(true));
    timers.push(setTimeout(() => finish(false), options.timeoutMs));
    socket.once('connect', () => {
      options.pieces.forEach((piece, i) => {
        timers.push(setTimeout(() => void (!socket.destroyed && socket.write(piece)), i * (options.gapMs ?? 0)));
      });
      if (options.end) timers.push(setTimeout(() => void (!socket.destroyed && socket.end()), options.pieces.length * (options.gapMs ?? 0)));
    });
  });
}

/** The complete responses at the start of `raw` (Content-Length or chunked bodies). */
export function parseResponses(raw: string, head = false): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
    if (!status) break;
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const code = Number(status[1]);
    let body = '';
    let after = rest.slice(end + 4);
    const bodiless = head || (code >= 100 && code < 200) || code === 204 || code === 304;
    if (!bodiless && headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const chunked = readChunked(after);
      if (!chunked) break;
      [body, after] = chunked;
    } else if (!bodiless) {
      const length = Number(headers['content-length'] ?? 0);
      if (after.length < length) break;
      body = after.slice(0, length);
      after = after.slice(length);
    }
    responses.push({ status: code, headers, body });
    rest = after;
  }
  return { responses, rest };
}

function readChunked(text: string): [string, string] | undefined {
  let body = '';
  let rest = text;
  for (;;) {
    const line = rest.indexOf('\r\n');
    if (line < 0) return undefined;
    const size = parseInt(rest.slice(0, line), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) {
      const trailerEnd = rest.indexOf('\r\n\r\n', line);
      return trailerEnd < 0 ? undefined : [body, rest.slice(trailerEnd + 4)];
    }
    if (rest.length < line + 2 + size + 2) return undefined;
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

/** One request's bytes: a request line, `Host`, the given header lines, and a body. */
export function request(method: string, target: string, options: { host?: string; headers?: readonly string[]; body?: string } = {}): string {
  const lines = [`${method} ${target} HTTP/1.1`, ...(options.host === undefined ? [] : [`Host: ${options.host}`]), ...(options.headers ?? [])];
  if (options.body !== undefined && !(options.headers ?? []).some((h) => /^(content-length|transfer-encoding):/i.test(h))) {
    lines.push(`Content-Length: ${Buffer.byteLength(options.body)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${options.body ?? ''}`;
}

/** Resolves once `predicate` holds, checking every 20 ms; rejects after `ms`. */
export async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The test app (support/app.ts) listening on 127.0.0.1, a port of its own; its sockets ended at teardown. */
export async function listeningApp(t: Test, env: NodeJS.ProcessEnv = {}): Promise<{ ctx: TestApp; port: number }> {
  const ctx = await testApp(t, { env: { PUBLIC_URL: 'http://mailconf.pair-test.example', RATE_LIMIT_MAX: '1000', ...env } });
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(destroyAll);
  const address = ctx.app.server.address();
  return { ctx, port: typeof address === 'object' && address ? address.port : 0 };
}
