// The admin API's tests' shared pieces: tokens, the environment that turns the API on,
// requests that bear a token, and reading problem+json answers.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

/** ADMIN_TOKEN in these tests (40 characters). */
export const ADMIN_TOKEN = 'test-admin-token-0123456789-abcdefghijkl';

export const ADMIN_ENV = { ADMIN_TOKEN } as const;

/** `Authorization: Bearer <token>`. */
export const bearer = (token: string = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

/** An admin request from loopback (light-my-request's default peer) with `token`, on the service's own host. */
export function adminInject(app: FastifyInstance, opts: InjectOptions & { token?: string }): Promise<LightMyRequestResponse> {
  const { token, headers, ...rest } = opts;
  return app.inject({ ...rest, headers: { ...bearer(token), ...headers } });
}

/** NDJSON of `records`, one a line. */
export const ndjson = (...records: unknown[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');
