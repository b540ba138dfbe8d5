// Thunderbird autoconfig: GET/HEAD /mail/config-v1.1.xml and its .well-known twin.
import type { FastifyInstance } from 'fastify';
import { domainFromHost, parseAddress } from '../address.js';
import type { AppContext } from './context.js';
import { lookupFor, methodNotAllowedRoute, replyText, replyTextFailure } from './lookup.js';

export const AUTOCONFIG_PATHS = ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml'];

export async function autoconfigRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const url of AUTOCONFIG_PATHS) {
    app.get(url, async (request, reply) => {
      const query = request.query as Record<string, string>;
      // A malformed address counts as absent: the Host still names the domain.
      const address = parseAddress(query.emailaddress);
      const domain = address?.domain ?? domainFromHost(request.host, ['autoconfig']);
      if (!domain) return replyText(reply, 404, 'No mail settings: no domain given');
      const result = await lookupFor(ctx, request, domain, address);
      if (result.kind === 'settings') {
        return reply.type('text/xml; charset=utf-8').send(ctx.renderers.renderAutoconfig(result.settings));
      }
      return result.kind === 'address-required'
        ? replyText(reply, 404, 'Mail settings for this domain need the email address (?emailaddress=)')
        : replyTextFailure(reply, result.kind);
    });
    app.route(methodNotAllowedRoute(url, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD'));
  }
}
