// The body of PUT /admin/accounts/{username}: one JSON document (RFC 8259), at most as
// large as one line of an NDJSON import (the same one account). A syntax error is a 400
// saying where, `line L, column C`, as the import formats say it.
import type { FastifyInstance } from 'fastify';
import { syntaxErrorIn } from '../../accounts/formats/json-syntax.js';
import { MAX_LINE_BYTES } from '../../accounts/formats/lines.js';
import { AdminProblem, problemAnswer } from './problem.js';

export const JSON_BODY = 'application/json';

/** A PUT without its body, or with an empty one. */
export const EMPTY = new AdminProblem(problemAnswer(400, 'The body is empty: send the account as JSON'));

/** Adds the JSON body parser to `app` (an admin route's own scope). */
export function acceptJsonBody(app: FastifyInstance): void {
  app.addContentTypeParser(JSON_BODY, { parseAs: 'string', bodyLimit: MAX_LINE_BYTES }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(EMPTY, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const found = syntaxErrorIn(text) ?? { position: 'line 1, column 1', reason: 'not valid JSON' };
      done(new AdminProblem(problemAnswer(400, `The body is not valid JSON (${found.position})`, { errors: [{ position: found.position, detail: found.reason }] })), undefined);
    }
  });
}
