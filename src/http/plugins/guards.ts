// What every request goes through before and after its route, in this order: a client
// that hung up is turned away (there is no one to count), every other request is counted
// against its client's rate limit (plugins/rate-limit.ts), then over-long URLs and
// unreadable hosts are refused. Unknown paths get 404, URLs the router cannot decode 400,
// errors their status: plain text that names no internals and echoes nothing.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { hostProblem } from '../arrival.js';
import type { Readiness } from '../context.js';
import { AnswerInstead, refusal, sendAnswer } from '../send.js';
import { logRequest } from './access-log.js';

/** Longer request targets are refused with 414 before any work is done. */
export const MAX_URL_LENGTH = 4096;

const CLOSED = refusal(400, 'Connection closed');
const URL_TOO_LONG = refusal(414, 'Request URL too long');
const BAD_REQUEST = refusal(400, 'Bad request');
/** What any unknown path gets (and the admin API on a name it does not answer on). */
export const NOT_FOUND = refusal(404, 'Not found');

/**
 * An answer sent before the request's body was read to its end (a refusal: 429, 405,
 * 413, a redirect, ...) closes the connection (RFC 9112 section 9.6). Otherwise Node
 * reads and discards the rest of the body to reach the next request, and a client that
 * trickles it, or announces a body it never sends, holds the connection until
 * REQUEST_TIMEOUT.
 */
function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.complete === false) reply.header('connection', 'close');
}

export function guards(app: FastifyInstance, readiness: Readiness): void {
  app.addHook('onRequest', async (request, reply) => {
    // A client that hung up before we got to its request has no address left: there is no
    // one to answer and nothing to rate-limit by.
    if (!request.raw.socket?.remoteAddress) return sendAnswer(reply, CLOSED);
    const overLimit = await app.countRequest(request, reply);
    if (overLimit) return sendAnswer(reply, overLimit);
    if (request.raw.url && request.raw.url.length > MAX_URL_LENGTH) return sendAnswer(reply, URL_TOO_LONG);
    const problem = hostProblem(request);
    if (problem) {
      request.log.info({ reason: problem }, 'bad request');
      return sendAnswer(reply, BAD_REQUEST);
    }
  });

  // A callback hook, not an async one: it runs on every answer, and a promise per answer costs.
  app.addHook('onSend', (request, reply, payload, done) => {
    closeIfBodyPending(request, reply);
    // Draining for shutdown: every answer ends its connection (RFC 9112 section 9.6), so a
    // keep-alive client sends its next request on a new connection, to another instance,
    // instead of on one that is about to close under it.
    if (!readiness.accepting) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler(async (err: FastifyError | AnswerInstead, request, reply) => {
    if (err instanceof AnswerInstead) return sendAnswer(reply, err.answer);
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'unexpected error');
    // The status's own reason phrase: some of Fastify's messages quote the request (its
    // Content-Type, its path).
    return sendAnswer(reply, refusal(status, status === 500 ? 'Internal error' : (STATUS_CODES[status] ?? 'Bad request')));
  });
  app.setNotFoundHandler(async (_request, reply) => sendAnswer(reply, NOT_FOUND));
}

/**
 * Fastify's `frameworkErrors`: the router's answers for a path it cannot decode
 * (FST_ERR_BAD_URL) or a parameter over its length limit (FST_ERR_MAX_PARAM_LENGTH).
 * Fastify's own answer echoes the path; this one names nothing. No hook runs for these
 * requests, so they are counted, closed and logged here like every other answer.
 */
export const routerErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, request, reply) => {
  reply.raw.once('finish', () => logRequest(request, reply));
  const answer = async () => {
    if (!request.raw.socket?.remoteAddress) return CLOSED;
    const overLimit = await request.server.countRequest(request, reply);
    return overLimit ?? (error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? URL_TOO_LONG : BAD_REQUEST);
  };
  answer().then(
    (refusal) => {
      closeIfBodyPending(request, reply);
      sendAnswer(reply, refusal);
    },
    (err: unknown) => {
      request.log.error({ err }, 'unexpected error');
      sendAnswer(reply, refusal(500, 'Internal error'));
    },
  );
};
