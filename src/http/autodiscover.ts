// Outlook autodiscover (POX): POST /autodiscover/autodiscover.xml (path in any case),
// and GET for Delta Chat, which fetches it without a body.
import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { domainFromHost, parseAddress } from '../address.js';
import { isServiceHost } from '../config.js';
import { ERROR_RESPONSE_SCHEMA, MOBILESYNC_RESPONSE_SCHEMA, type AutodiscoverError } from '../render/autodiscover.js';
import type { Resolution } from '../resolve.js';
import { parseAutodiscoverRequest } from './autodiscover-request.js';
import type { AppContext } from './context.js';
import { lookupFor, methodNotAllowedRoute, RETRY_AFTER_SECONDS } from './lookup.js';
import { plainHttpDetector, publicUrlFor } from './scheme.js';

export const AUTODISCOVER_PATH = '/autodiscover/autodiscover.xml';
export const MAX_AUTODISCOVER_BODY = 64 * 1024;

const OUTLOOK_SCHEMA = /^https?:\/\/schemas\.microsoft\.com\/exchange\/autodiscover\/outlook\/responseschema\/2006a$/i;

const INVALID_REQUEST: AutodiscoverError = { code: 600, message: 'Invalid Request' };

/** The namespace to refuse a requested response schema in, or undefined when we serve it. */
export function unsupportedSchema(schema: string | undefined): string | undefined {
  if (schema === undefined || OUTLOOK_SCHEMA.test(schema)) return undefined;
  if (schema.toLowerCase().includes('/mobilesync/responseschema/')) return MOBILESYNC_RESPONSE_SCHEMA;
  // Echo a plausible namespace name; anything long or with spaces is no namespace at all.
  return /^\S{1,256}$/.test(schema) ? schema : ERROR_RESPONSE_SCHEMA;
}

export async function autodiscoverRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const xml = (reply: FastifyReply, body: string) => reply.type('text/xml; charset=utf-8').send(body);
  const error = (reply: FastifyReply, e: AutodiscoverError) => xml(reply, ctx.renderers.renderAutodiscoverError(e));

  const answer = (reply: FastifyReply, result: Resolution) => {
    switch (result.kind) {
      case 'settings':
        return xml(reply, ctx.renderers.renderAutodiscover(result.settings));
      case 'unknown-domain':
        return error(reply, { code: 500, message: 'The email address cannot be found.' });
      case 'address-required':
        return error(reply, INVALID_REQUEST);
      case 'data-error':
        return error(reply, { code: 602, message: 'The configuration for this address is unavailable.' });
      case 'unavailable':
        reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
        return error(reply, { code: 603, message: 'The server is temporarily unable to answer.' });
    }
  };

  // Outlook's HTTP redirect method: over plain HTTP, GET and POST get a 302 to our HTTPS
  // URL (Outlook asks the user, Thunderbird POSTs again there). Not with an http://
  // PUBLIC_URL (local use): there POX is answered directly. In preParsing: after the rate
  // limit (an onRequest hook), before the body is read.
  const overPlainHttp = plainHttpDetector(ctx.config.trustProxy);
  const httpsUrl = publicUrlFor(ctx.config.publicUrl, AUTODISCOVER_PATH);
  const redirect =
    ctx.config.publicUrl.protocol === 'https:'
      ? {
          preParsing: async (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload) =>
            overPlainHttp(request) ? reply.code(302).header('location', httpsUrl).send() : payload,
        }
      : {};

  await app.register(async (scope) => {
    // Outlook, Thunderbird and scanners send every Content-Type, or none: take the body as text.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_AUTODISCOVER_BODY }, (_req, body, done) =>
      done(null, body),
    );

    scope.post(AUTODISCOVER_PATH, redirect, async (request, reply) => {
      const parsed = parseAutodiscoverRequest(typeof request.body === 'string' ? request.body : '');
      if (!parsed.ok) {
        request.log.info({ reason: parsed.reason }, 'invalid autodiscover request');
        return error(reply, INVALID_REQUEST);
      }
      const namespace = unsupportedSchema(parsed.request.acceptableResponseSchema);
      if (namespace) return error(reply, { code: 601, message: 'Provider is not available', namespace });
      // A LegacyDN names an Exchange mailbox; with no address there is nothing to look up.
      const address = parseAddress(parsed.request.emailAddress);
      if (!address) return error(reply, INVALID_REQUEST);
      return answer(reply, await lookupFor(ctx, request, address.domain, address));
    });

    scope.get(AUTODISCOVER_PATH, redirect, async (request, reply) => {
      // Our own name is where the HTTP redirect sends clients. Thunderbird's XMLHttpRequest
      // follows the 302 as a body-less GET and POSTs again (after asking the user) only when
      // that GET fails: a 200 here, even an error document, would end its search.
      if (isServiceHost(ctx.config, request.host)) {
        return error(reply.code(400), INVALID_REQUEST);
      }
      const domain = domainFromHost(request.host, ['autodiscover']);
      if (!domain) return error(reply, INVALID_REQUEST);
      const result = await lookupFor(ctx, request, domain, undefined);
      // A Host that names no hosted domain is a request we cannot read: Exchange says 600.
      if (result.kind === 'unknown-domain') return error(reply, INVALID_REQUEST);
      return answer(reply, result);
    });

    scope.route(methodNotAllowedRoute(AUTODISCOVER_PATH, ['PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD, POST'));
  });
}
