// Thunderbird autoconfig: GET/HEAD /mail/config-v1.1.xml and its .well-known twin.
import type { FastifyInstance } from 'fastify';
import { domainFromHost, parseAddress } from '../address.js';
import type { AppContext } from './context.js';
import { lookupFor, methodNotAllowedRoute, RETRY_AFTER_SECONDS } from './lookup.js';

export const AUTOCONFIG_PATHS = ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml'];
const TEXT = 'text/plain; charset=utf-8';

export async function autoconfigRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const url of AUTOCONFIG_PATHS) {
    app.get(url, async (request, reply) => {
      const query = request.query as Record<string, string>;
      // A malformed address counts as absent: the Host still names the domain.
      const address = parseAddress(query.emailaddress);
      const domain = address?.domain ?? domainFromHost(request.host, ['autoconfig']);
      if (!domain) return reply.code(404).type(TEXT).send('No mail settings: no domain given\n');
      const result = await lookupFor(ctx, request, domain, address);
      switch (result.kind) {
        case 'settings':
          return reply.type('text/xml; charset=utf-8').send(ctx.renderers.renderAutoconfig(result.settings));
        case 'unknown-domain':
          return reply.code(404).type(TEXT).send('No mail settings are published for this domain\n');
        case 'address-required':
          return reply.code(404).type(TEXT).send('Mail settings for this domain need the email address (?emailaddress=)\n');
        case 'data-error':
          return reply.code(500).type(TEXT).send('Mail settings for this address are unavailable; please contact support\n');
        case 'unavailable':
          return reply
            .code(503)
            .header('retry-after', String(RETRY_AFTER_SECONDS))
            .type(TEXT)
            .send('Mail settings are temporarily unavailable; please try again shortly\n');
      }
    });
    app.route(methodNotAllowedRoute(url, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD'));
  }
}
