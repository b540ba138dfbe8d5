// The admin API's yes/no query parameters (`?replace=true`, `?dryRun`): `true`, `false`,
// or the name alone for true. Names are read in any case, as every query here is
// (http/query-string.ts). Anything else is a 400 naming the parameter.
import { AdminProblem, problemAnswer } from './problem.js';

/** The value of flag `name` in a parsed query (lower-case names); false when absent. */
export function queryFlag(query: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const value = query[name.toLowerCase()];
  if (value === undefined || value === 'false') return false;
  if (value === '' || value === 'true') return true;
  throw new AdminProblem(problemAnswer(400, `The query parameter ${name} must be true or false`));
}

/** A flag's description in a route's querystring schema (OpenAPI). */
export const flagSchema = (description: string) => ({ type: 'boolean', default: false, description }) as const;
