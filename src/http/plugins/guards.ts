// What every request goes through before and after its route: hung-up clients and
// over-long URLs are turned away first; unknown paths get 404 and unexpected errors 500,
// as plain text that names no internals.
import type { FastifyError, FastifyInstance } from 'fastify';
import { textAnswer } from '../../dialects/answer.js';
import { sendAnswer } from '../send.js';

/** Longer request targets are refused with 414 before any work is done. */
export const MAX_URL_LENGTH = 4096;

const CLOSED = textAnswer(400, 'Connection closed');
const URL_TOO_LONG = textAnswer(414, 'Request URL too long');
const NOT_FOUND = textAnswer(404, 'Not found');

export function guards(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    // A client that hung up before we got to its request has no address left: there is no
    // one to answer and nothing to rate-limit by (the limiter would throw on it).
    if (!request.ip) return sendAnswer(reply, CLOSED);
    if (request.raw.url && request.raw.url.length > MAX_URL_LENGTH) return sendAnswer(reply, URL_TOO_LONG);
  });

  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'unexpected error');
    return sendAnswer(reply, textAnswer(status, status === 500 ? 'Internal error' : err.message));
  });
  app.setNotFoundHandler(async (_request, reply) => sendAnswer(reply, NOT_FOUND));
}
