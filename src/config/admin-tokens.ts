// The admin API's bearer tokens (RFC 6750), each with a name: ADMIN_TOKEN, and the lines
// of ADMIN_TOKENS_FILE (`name token`, `#` comments). The name is what the log says changed
// the directory, so a log line names who without holding what would let anyone else.
// Every problem is reported by where it is (the variable, the file's line), never by the
// token's text.
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

export interface AdminToken {
  /** Who holds it, for the log: `ADMIN_TOKEN`, or the name its line in ADMIN_TOKENS_FILE gives. */
  name: string;
  token: string;
}

/** The shortest token accepted: 32 characters (`openssl rand -hex 32` gives 64). */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** RFC 6750 section 2.1's b64token: the only characters a client can send after `Bearer `. */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** The name ADMIN_TOKEN's holder goes by in the log. */
export const ADMIN_TOKEN_NAME = 'ADMIN_TOKEN';

/** Why `token` cannot be a token (named by `where`), or undefined when it can. */
function tokenProblem(token: string, where: string): string | undefined {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) return `${where}: the token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (for example: openssl rand -hex 32)`;
  if (!B64TOKEN.test(token)) return `${where}: the token may hold only letters, digits and - . _ ~ + / (then = at the end), as a Bearer token can (RFC 6750 section 2.1)`;
  return undefined;
}

/** ADMIN_TOKEN as a named token, checked. */
export function adminTokenFromValue(value: string): AdminToken {
  const problem = tokenProblem(value.trim(), ADMIN_TOKEN_NAME);
  if (problem) throw new ConfigError(problem);
  return { name: ADMIN_TOKEN_NAME, token: value.trim() };
}

/**
 * The tokens of a tokens file's text: one `name token` per line; blank lines and lines
 * starting with `#` are skipped. Names and tokens are each unique. `file` names it in
 * messages; every bad line is reported at once.
 */
export function parseAdminTokens(text: string, file: string): AdminToken[] {
  const tokens: AdminToken[] = [];
  const problems: string[] = [];
  const names = new Map<string, number>();
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const where = `ADMIN_TOKENS_FILE ${file} line ${i + 1}`;
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) return void problems.push(`${where}: expected "name token" (two words)`);
    const [name, token] = fields as [string, string];
    if (!NAME.test(name)) return void problems.push(`${where}: the name must be 1-64 letters, digits and . _ @ -, starting with a letter or digit`);
    const problem = tokenProblem(token, where);
    if (problem) return void problems.push(problem);
    const sameName = names.get(name);
    if (sameName !== undefined) return void problems.push(`${where}: the name ${name} is already used on line ${sameName}`);
    const sameToken = seen.get(token);
    if (sameToken !== undefined) return void problems.push(`${where}: the same token as on line ${sameToken}`);
    names.set(name, i + 1);
    seen.set(token, i + 1);
    tokens.push({ name, token });
  });
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  if (tokens.length === 0) throw new ConfigError(`ADMIN_TOKENS_FILE ${file} holds no token: add lines of "name token", or unset it`);
  return tokens;
}

/** The tokens in the file ADMIN_TOKENS_FILE names. */
export function readAdminTokensFile(file: string): AdminToken[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`ADMIN_TOKENS_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseAdminTokens(text, file);
}

/** ADMIN_TOKEN and the file's tokens together: a name or a token given twice is an error. */
export function combinedAdminTokens(fromValue: AdminToken | undefined, fromFile: readonly AdminToken[]): AdminToken[] {
  const all = [...(fromValue ? [fromValue] : []), ...fromFile];
  if (fromValue && fromFile.some((t) => t.name === fromValue.name)) throw new ConfigError(`ADMIN_TOKENS_FILE must not use the name ${ADMIN_TOKEN_NAME}: it names ADMIN_TOKEN's holder`);
  if (fromValue && fromFile.some((t) => t.token === fromValue.token)) throw new ConfigError('ADMIN_TOKENS_FILE holds the same token as ADMIN_TOKEN');
  return all;
}
