// Apple Mail (iOS, iPadOS, macOS): GET/HEAD /mobileconfig?emailaddress=… (alias
// /email.mobileconfig) downloads a configuration profile for that mailbox, signed when the
// service has a signing certificate (AppContext.profileSigner).
import type { FastifyInstance } from 'fastify';
import { parseAddress } from '../address.js';
import { MOBILECONFIG_CONTENT_TYPE, mobileconfigIds, renderMobileconfig } from '../render/mobileconfig.js';
import type { AppContext } from './context.js';
import { lookupFor, methodNotAllowedRoute, replyText, replyTextFailure } from './lookup.js';

export const MOBILECONFIG_PATHS = ['/mobileconfig', '/email.mobileconfig'];

export async function mobileconfigRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const url of MOBILECONFIG_PATHS) {
    app.get(url, async (request, reply) => {
      const raw = (request.query as Record<string, string | undefined>).emailaddress;
      // A profile sets up one mailbox: unlike autoconfig, the Host cannot stand in for it.
      if (raw === undefined || raw.trim() === '') {
        return replyText(reply, 400, 'Add your email address: /mobileconfig?emailaddress=you@example.com');
      }
      const address = parseAddress(raw);
      if (!address) return replyText(reply, 400, 'That is not a valid email address');
      const result = await lookupFor(ctx, request, address.domain, address);
      switch (result.kind) {
        case 'settings': {
          const { settings } = result;
          const ids = mobileconfigIds(ctx.secret, address.address, settings.provider.id);
          const profile = renderMobileconfig(settings, ids);
          const body = ctx.profileSigner ? await ctx.profileSigner.sign(profile) : profile;
          return reply
            .type(MOBILECONFIG_CONTENT_TYPE)
            .header('content-disposition', `attachment; filename="${settings.domain}.mobileconfig"`)
            .header('cache-control', 'no-store')
            .send(body);
        }
        default:
          return replyTextFailure(reply, result.kind, 'No mail settings are published for this address');
      }
    });
    app.route(methodNotAllowedRoute(url, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD'));
  }
}
