// Autodiscover v2 for new Outlook and Outlook mobile: GET /autodiscover/autodiscover.json
// ?Email=<address>&Protocol=AutodiscoverV1, or .../autodiscover.json/v1.0/<address>?Protocol=...
// It only says where the v1 (POX) endpoint is: ours, at PUBLIC_URL. The address is looked up
// (through the same pipeline) so that only hosted domains get a pointer; it is never used to
// build a URL or to contact anything (these paths are ProxyShell scanners' favourite target).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAddress } from '../address.js';
import { AUTODISCOVER_PATH } from './autodiscover.js';
import type { AppContext } from './context.js';
import { lookupFor, methodNotAllowedRoute, RETRY_AFTER_SECONDS } from './lookup.js';
import { publicUrlFor } from './scheme.js';

export const AUTODISCOVER_JSON_PATH = '/autodiscover/autodiscover.json';
export const SUPPORTED_PROTOCOL = 'AutodiscoverV1';

interface JsonError {
  status: 400 | 404 | 500 | 503;
  code: string;
  message: string;
}

const INVALID_REQUEST: JsonError = { status: 400, code: 'InvalidRequest', message: 'This is not an autodiscover request.' };
const NO_ADDRESS: JsonError = { status: 400, code: 'InvalidRequest', message: 'An email address is required.' };
const BAD_ADDRESS: JsonError = { status: 400, code: 'InvalidRequest', message: 'The email address is not valid.' };

/** Echoed protocol values are cut short: the answer should not carry whatever a scanner sends. */
const MAX_ECHO = 64;

function invalidProtocol(given: string): JsonError {
  const shown = given.length > MAX_ECHO ? `${given.slice(0, MAX_ECHO)}...` : given;
  return {
    status: 400,
    code: 'InvalidProtocol',
    message: `The given protocol value '${shown}' is invalid. Supported values are '${SUPPORTED_PROTOCOL}'`,
  };
}

/**
 * Request shapes no mail client sends, all from ProxyShell-style probes: a query parameter
 * named like a path or address (`?@foo.com/owa/`), or an address carrying URL syntax
 * (`Email=autodiscover/autodiscover.json?@foo.com`). They get a 400, never a lookup.
 */
function isProbe(query: Record<string, string>, address: string | undefined): boolean {
  return Object.keys(query).some((name) => /[@/\\]/.test(name)) || (address !== undefined && /[/?#\\]/.test(address));
}

/** The address in `v1.0/<address>` (null for any other path below autodiscover.json). */
function addressFromPath(rest: string): string | null {
  const match = /^v1\.0\/([^/]*)$/i.exec(rest);
  return match ? match[1]! : null;
}

export async function autodiscoverJsonRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const pointer = { Protocol: SUPPORTED_PROTOCOL, Url: publicUrlFor(ctx.config.publicUrl, AUTODISCOVER_PATH) };

  const json = (reply: FastifyReply, body: unknown) =>
    reply.type('application/json; charset=utf-8').header('x-content-type-options', 'nosniff').send(JSON.stringify(body));
  const fail = (reply: FastifyReply, e: JsonError) => json(reply.code(e.status), { ErrorCode: e.code, ErrorMessage: e.message });

  const answer = async (request: FastifyRequest, reply: FastifyReply, raw: string | undefined) => {
    const query = request.query as Record<string, string>;
    if (isProbe(query, raw)) return fail(reply, INVALID_REQUEST);
    const protocol = query.protocol ?? '';
    if (protocol.toLowerCase() !== SUPPORTED_PROTOCOL.toLowerCase()) return fail(reply, invalidProtocol(protocol));
    if (raw === undefined || raw.trim() === '') return fail(reply, NO_ADDRESS);
    const address = parseAddress(raw);
    if (!address) return fail(reply, BAD_ADDRESS);
    const result = await lookupFor(ctx, request, address.domain, address);
    switch (result.kind) {
      case 'settings':
        return json(reply, pointer);
      case 'unknown-domain':
      case 'address-required':
        return fail(reply, { status: 404, code: 'NotFound', message: 'No mail settings are published for this address.' });
      case 'data-error':
        return fail(reply, { status: 500, code: 'InternalServerError', message: 'Mail settings for this address are unavailable; please contact support.' });
      case 'unavailable':
        reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        return fail(reply, { status: 503, code: 'ServiceUnavailable', message: 'Mail settings are temporarily unavailable; please try again shortly.' });
    }
  };

  app.get(AUTODISCOVER_JSON_PATH, async (request, reply) =>
    answer(request, reply, (request.query as Record<string, string>).email),
  );
  app.get(`${AUTODISCOVER_JSON_PATH}/*`, async (request, reply) => {
    const raw = addressFromPath((request.params as Record<string, string>)['*'] ?? '');
    if (raw === null) return fail(reply, INVALID_REQUEST);
    return answer(request, reply, raw);
  });
  for (const url of [AUTODISCOVER_JSON_PATH, `${AUTODISCOVER_JSON_PATH}/*`]) {
    app.route(methodNotAllowedRoute(url, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD'));
  }
}
