// What one client may hold open, and for how long. Every phase of a connection is bounded
// (Node's http.Server timeouts): the request head, the whole request with its body, and
// the idle time between requests, so no client can keep a socket by sending slowly or
// not at all. Each client (an address, IPv6 by /64) may hold a few connections at once;
// our own proxies are not capped, they carry every client. Refusals are logged, a summary
// at most every few seconds, so a flood cannot flood the log too.
import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyBaseLogger, FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { ConnectionLimits } from '../../config/config.js';
import { clientKey, type ProxyTrust } from '../client-ip.js';
import { refusal } from '../send.js';

/** How often refusals of one kind may be logged. */
const LOG_EVERY_MS = 10_000;

type Refusal = 'connection cap' | 'request timeout';

const REFUSAL_MESSAGE: Record<Refusal, string> = {
  'connection cap': 'refused a connection: the client already holds MAX_CONNECTIONS_PER_CLIENT connections',
  'request timeout': 'closed a connection: its request did not arrive within HEADERS_TIMEOUT / REQUEST_TIMEOUT',
};

/** Logs the first refusal of each kind at once, then how many more there were, every LOG_EVERY_MS. */
class RefusalLog {
  private readonly pending = new Map<Refusal, { more: number; client: string; timer: NodeJS.Timeout }>();

  constructor(private readonly log: FastifyBaseLogger) {}

  note(refusal: Refusal, client: string): void {
    const entry = this.pending.get(refusal);
    if (entry) {
      entry.more += 1;
      entry.client = client;
      return;
    }
    this.log.warn({ refusal, client }, REFUSAL_MESSAGE[refusal]);
    const timer = setInterval(() => {
      const current = this.pending.get(refusal)!;
      if (current.more === 0) {
        clearInterval(current.timer);
        this.pending.delete(refusal);
        return;
      }
      this.log.warn({ refusal, count: current.more, client: current.client }, `${REFUSAL_MESSAGE[refusal]} (${current.more} more times in ${LOG_EVERY_MS / 1000} s, the last from this client)`);
      current.more = 0;
    }, LOG_EVERY_MS);
    timer.unref();
    this.pending.set(refusal, { more: 0, client, timer });
  }

  stop(): void {
    for (const entry of this.pending.values()) clearInterval(entry.timer);
    this.pending.clear();
  }
}

/** The answer written straight to the socket for a request Node could not read or did not get in time. */
function rawAnswer(status: number): string {
  const text = refusal(status, STATUS_CODES[status] ?? 'Bad Request');
  const body = Buffer.from(text.body);
  const headers = { ...text.headers, 'content-type': text.type, 'content-length': String(body.length), connection: 'close' };
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
}

/**
 * The server options that bound each phase, and the handler for requests Node refuses
 * itself (unparsable, smuggling attempts, heads too large, too slow). Fastify's own
 * handler answers in JSON and logs the raw packet at trace level, headers and all.
 */
function connectionOptions(limits: ConnectionLimits, refusals: RefusalLog) {
  return {
    // Socket inactivity (Node's server.timeout): a connection that opens and says nothing,
    // or stops mid-request, is closed; Node's headersTimeout only starts at the first byte.
    connectionTimeout: limits.headersTimeout,
    // Node's requestTimeout and headersTimeout are deadlines from a request's first byte,
    // however steadily it trickles in, checked every connectionsCheckingInterval (Node's
    // default, 30 s, would let a deadline of seconds run half a minute over).
    requestTimeout: limits.requestTimeout,
    http: {
      headersTimeout: limits.headersTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeout / 4))),
    },
    keepAliveTimeout: limits.keepAliveTimeout,
    // Requests that reach us while we shut down are answered (server.ts bounds the wait).
    return503OnClosing: false,
    clientErrorHandler(this: FastifyInstance, err: ConnectionError, socket: Socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      if (status === 408) refusals.note('request timeout', clientKey(socket.remoteAddress ?? 'unknown'));
      else this.log.debug({ code: err.code }, 'unreadable request');
      // As Node's own handler (the 'clientError' event): write an answer only if none is
      // under way on this socket, or the client would read it as part of another.
      const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (socket.writable && (!inFlight || !inFlight.headersSent)) socket.end(rawAnswer(status));
      socket.destroy();
    },
  } satisfies Partial<FastifyHttpOptions<Server>>;
}

/** The connection bounds of one server: its options, then `attach` once the app exists. */
export function connectionLimits(limits: ConnectionLimits, trust: ProxyTrust, log: FastifyBaseLogger) {
  const refusals = new RefusalLog(log);
  return {
    options: connectionOptions(limits, refusals),
    /** Caps each client's open connections on the app's server. */
    attach(app: FastifyInstance): void {
      const open = new Map<string, number>();
      app.server.on('connection', (socket: Socket) => {
        const peer = socket.remoteAddress;
        if (!peer || trust(peer, 0)) return; // a proxy of ours carries many clients
        const key = clientKey(peer);
        const count = open.get(key) ?? 0;
        if (count >= limits.maxPerClient) {
          refusals.note('connection cap', key);
          socket.destroy();
          return;
        }
        open.set(key, count + 1);
        socket.once('close', () => {
          const left = (open.get(key) ?? 1) - 1;
          if (left === 0) open.delete(key);
          else open.set(key, left);
        });
      });
      app.addHook('onClose', async () => refusals.stop());
    },
  };
}
