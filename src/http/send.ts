// The endpoints' last step, the 405 every path gives for the methods it does not answer,
// the plain-text refusals of the guards, and the answer that replaces a dialect's.
import type { FastifyInstance, FastifyReply, HTTPMethods } from 'fastify';
import { methodNotAllowed, textAnswer, type Answer } from '../dialects/answer.js';

/**
 * Thrown where a request is answered otherwise than by its dialect (a lookup past the miss
 * budget): the error handler (plugins/guards.ts) sends `answer` as it is.
 */
export class AnswerInstead extends Error {
  constructor(readonly answer: Answer) {
    super('answered instead of the dialect');
  }
}

/** Sends a dialect's Answer as it is: status, Content-Type, headers, body. */
export function sendAnswer(reply: FastifyReply, answer: Answer): FastifyReply {
  reply.code(answer.status).type(answer.type);
  if (answer.headers) reply.headers(answer.headers);
  return reply.send(answer.body);
}

/**
 * `answer` with nosniff: a browser must read it as the type it says it is and nothing else
 * (WHATWG Fetch, X-Content-Type-Options), whatever a request put in it.
 */
function nosniff(answer: Answer, headers: Readonly<Record<string, string>> = {}): Answer {
  return { ...answer, headers: { ...answer.headers, ...headers, 'x-content-type-options': 'nosniff' } };
}

/** A plain-text refusal from a guard (a 400, 404, 414, 429 ...), with `headers`. */
export function refusal(status: number, message: string, headers: Readonly<Record<string, string>> = {}): Answer {
  return nosniff(textAnswer(status, message), headers);
}

const METHODS: readonly HTTPMethods[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

type AnsweredMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Answers 405 with `Allow` for every method `url` does not answer (HEAD goes with GET):
 * plain text, or the `answer` a caller gives for that Allow value (the admin API's problem). It
 * replies in onRequest, before any body is read, so no body or Content-Type can turn it
 * into a 413 or 415.
 */
export function refuseOtherMethods(
  app: FastifyInstance,
  url: string,
  answered: readonly AnsweredMethod[],
  answer: (allow: string) => Answer = (allow) => nosniff(methodNotAllowed(allow)),
): void {
  const allow = [...(answered.includes('GET') ? ['GET', 'HEAD'] : []), ...answered.filter((m) => m !== 'GET')].join(', ');
  const refused = answer(allow);
  app.route({
    method: METHODS.filter((m) => !answered.includes(m as AnsweredMethod)),
    url,
    // Not an operation of the path: an OpenAPI description (@fastify/swagger) leaves it out.
    schema: { hide: true },
    onRequest: async (_request, reply) => sendAnswer(reply, refused),
    handler: async () => undefined,
  });
}
