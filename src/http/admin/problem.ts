// The admin API's errors as RFC 9457 problem details (`application/problem+json`): the
// status, its title, a detail in our words, and for refused data every problem with where
// it is: a JSON Pointer into the body sent (RFC 6901), or a position in an import's
// stream (`line 7`). The type is always `about:blank` (RFC 9457 section 4.2.1): the status
// says what kind of problem it is, and the title is then the status's phrase (RFC 9110's).
import { STATUS_CODES } from 'node:http';
import { MAX_PROBLEMS, readerPosition } from '../../accounts/records.js';
import type { Answer } from '../../dialects/answer.js';
import type { ImportProblem } from '../../directory/directory.js';

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/** One problem with the data: at a JSON Pointer into the body, or at a position in a stream. */
export type ProblemItem = { pointer: string; detail: string } | { position: string; detail: string };

export interface Problem {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  errors?: ProblemItem[];
}

/** RFC 9110 section 15's phrases where Node still has the older ones. */
const TITLES: Readonly<Record<number, string>> = { 413: 'Content Too Large', 422: 'Unprocessable Content' };

export const titleOf = (status: number) => TITLES[status] ?? STATUS_CODES[status] ?? 'Error';

/** A problem answer: never cached, never sniffed (JSON.stringify escapes every value in it). */
export function problemAnswer(status: number, detail: string, options: { errors?: ProblemItem[]; headers?: Readonly<Record<string, string>> } = {}): Answer {
  const problem: Problem = { type: 'about:blank', title: titleOf(status), status, detail, ...(options.errors ? { errors: options.errors } : {}) };
  return {
    status,
    type: PROBLEM_JSON,
    headers: { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...options.headers },
    body: JSON.stringify(problem),
  };
}

/** Thrown by an admin route or parser: the admin error handler sends `answer` (a problem) as it is. */
export class AdminProblem extends Error {
  constructor(readonly answer: Answer) {
    super(`admin API problem ${answer.status}`);
  }
}

/** `n problems` / `1 problem`. */
export const problemCount = (n: number) => `${n} problem${n === 1 ? '' : 's'}`;

/**
 * An import's problems (each at its position in the stream) as a 422; past MAX_PROBLEMS
 * the input was not read further, so there may be more (as `mailconf import` says).
 */
export function importProblems(problems: readonly ImportProblem[], what: string): Answer {
  const count = problems.length >= MAX_PROBLEMS ? `at least ${problemCount(problems.length)}` : problemCount(problems.length);
  return problemAnswer(422, `${count} ${what}, nothing written`, {
    // The directory's positions (`line 4.domains[0]`) as the readers write them (`line 4, domains[0]`), as the CLI prints them.
    errors: problems.map((p) => ({ position: readerPosition(p.position), detail: p.reason })),
  });
}

/** The 405 of an admin path (http/send.ts refuseOtherMethods), with the methods it answers (RFC 9110 section 15.5.6). */
export const methodNotAllowedProblem = (allow: string): Answer => problemAnswer(405, `This path answers ${allow} only`, { headers: { allow } });
