// The admin routes' calls into the directory. A refusal of the data (ImportRejectedError)
// or a problem already decided goes on to the route; any other failure is the directory
// not answering: 503 with Retry-After (RFC 9110 section 10.2.3), logged, and nothing was
// changed (every write is one transaction).
import type { FastifyRequest } from 'fastify';
import { RETRY_AFTER_SECONDS } from '../../dialects/answer.js';
import { ImportRejectedError } from '../../directory/directory.js';
import { AdminProblem, problemAnswer } from './problem.js';

const UNAVAILABLE = problemAnswer(503, 'The directory did not answer: nothing was changed; try again shortly', {
  headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
});

export async function directoryCall<T>(request: FastifyRequest, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ImportRejectedError || err instanceof AdminProblem) throw err;
    request.log.error({ err }, 'admin API: directory unavailable');
    throw new AdminProblem(UNAVAILABLE);
  }
}
