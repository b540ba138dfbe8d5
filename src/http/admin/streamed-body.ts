// The body of POST /admin/import, handed on as it arrives (the import reads it as it goes,
// never holding it whole), bounded by ADMIN_IMPORT_MAX_SIZE: past it, a 413 (RFC 9110
// section 15.5.14) and the transaction it feeds is rolled back. A body the client cut off
// is a 400, not the directory's failure.
import type { FastifyInstance } from 'fastify';
import { AdminProblem, problemAnswer } from './problem.js';

/** NDJSON's media types: the registered-by-use `application/x-ndjson`, and its newer spelling. */
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'] as const;

const tooLarge = (max: number) => new AdminProblem(problemAnswer(413, `The body is larger than ADMIN_IMPORT_MAX_SIZE (${max} bytes): nothing was written`));
const CUT_OFF = new AdminProblem(problemAnswer(400, 'The body ended before it was complete: nothing was written'));

/** Adds the streaming NDJSON body parser to `app` (the import route's own scope): the body is the request stream itself. */
export function acceptStreamedNdjson(app: FastifyInstance): void {
  app.addContentTypeParser([...NDJSON_TYPES], (_request, payload, done) => done(null, payload));
}

/**
 * A 413 at once for a body whose Content-Length is over `max`, and for one that says it is
 * compressed: only the identity coding is read (RFC 9110 section 15.5.16: 415).
 */
export function checkBodyHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, max: number): void {
  if (Number(headers['content-length'] ?? 0) > max) throw tooLarge(max);
  const coding = headers['content-encoding'];
  if (coding !== undefined && String(coding).trim().toLowerCase() !== 'identity') {
    throw new AdminProblem(problemAnswer(415, 'The body must not be compressed (Content-Encoding)', { headers: { 'accept-encoding': 'identity' } }));
  }
}

/**
 * `body`'s chunks, at most `max` bytes in all. Read with next() rather than for-await: a
 * reader that stops early (enough problems found) must not destroy the request stream, or
 * its 422 could not be sent on the socket.
 */
export async function* boundedBody(body: AsyncIterable<Buffer>, max: number): AsyncGenerator<Buffer> {
  const chunks = body[Symbol.asyncIterator]();
  let bytes = 0;
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch {
      throw CUT_OFF;
    }
    if (next.done) return;
    bytes += next.value.length;
    if (bytes > max) throw tooLarge(max);
    yield next.value;
  }
}
