// `mailconf dns DOMAIN [--public-url URL]`: the zone-file lines a customer domain publishes
// so that clients find this service and the account's mail host.
import { ConfigError, parsePublicUrl } from '../../config/config.js';
import { renderDnsZone } from '../../dialects/dns-zone.js';
import { paccPublication } from '../../dialects/pacc.js';
import { mxServiceHosts, PACC_LABEL, SERVICE_LABELS } from '../../links.js';
import { normalizeDomain } from '../../model/address.js';
import { mxLookupDomains } from '../../policy/provider-profile.js';
import type { Invocation } from '../args.js';
import { lookupOrFail, type Command, type Context } from '../context.js';
import { EXIT_OK, Failure, quote, UsageError } from '../errors.js';

/** The host name clients reach the service at: the public URL's, which must be a DNS name. */
function serviceHostOf(inv: Invocation, ctx: Context): string {
  const raw = ctx.config.publicUrl;
  if (raw === undefined) {
    throw new UsageError("dns: the service's public URL is unknown: pass --public-url URL or set PUBLIC_URL");
  }
  let url: URL;
  try {
    // Named as the operator gave it: the option wins over the environment.
    url = parsePublicUrl(raw, inv.publicUrl !== undefined ? '--public-url' : 'PUBLIC_URL');
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`dns: ${err.message}`);
    throw err;
  }
  const host = normalizeDomain(url.hostname);
  // A record can only point at a DNS name: not an IP address, not a one-label name (localhost).
  if (!host || /^[0-9.]+$/.test(host) || /\.\d+$/.test(host)) {
    throw new UsageError(`dns: the public URL's host ${quote(url.hostname)} is not a DNS name records can point at`);
  }
  return host;
}

export const dnsCommand: Command = {
  name: 'dns',
  usage: 'mailconf dns DOMAIN [--public-url URL] [--fly-certs]',
  arguments: ['DOMAIN'],
  options: ['public-url', 'fly-certs'],
  synopsis: 'dns DOMAIN [--public-url URL] [--fly-certs]',
  description: [
    'Print the DNS records the customer domain DOMAIN should publish,',
    'as zone-file lines: autoconfig and autodiscover CNAMEs and the',
    '_autodiscover._tcp SRV record (port 443) to this service, and the',
    'RFC 6186/8314 SRV records (_submissions, _submission, _imaps,',
    "_imap, _pop3s, _pop3) to the account's mail host, their",
    'priorities in order of preference; a comment names the',
    "service's own names that MX-based lookups reach (autoconfig.",
    "of the provider's MX domains). PACC: the ua-auto-config CNAME",
    'and the _ua-auto-config TXT record with the SHA-256 of the',
    'document served now, or a comment saying why the domain has',
    'none (stored per-mailbox logins). With --fly-certs: the',
    '`fly certs add` commands for the names the customer points at us.',
  ],

  async run(inv, ctx) {
    const arg = inv.positionals[0]!;
    const domain = arg.includes('@') ? undefined : normalizeDomain(arg);
    if (!domain) throw new UsageError(`${quote(arg)} is not a domain name (give the customer's domain, e.g. her-shop.example)`);
    const serviceHost = inv.flyCerts ? undefined : serviceHostOf(inv, ctx);
    const answer = await lookupOrFail(ctx, { domain }, `no records for ${domain}`);
    switch (answer.kind) {
      case 'settings': {
        const pacc = paccPublication(answer);
        // Fly's proxy terminates TLS: each name a customer points at the app needs its own
        // certificate there (the service's own names are added once, by the operator).
        const labels = [...SERVICE_LABELS, ...(pacc.published ? [PACC_LABEL] : [])];
        if (serviceHost === undefined) ctx.io.stdout(labels.map((label) => `fly certs add ${label}.${domain}\n`).join(''));
        else ctx.io.stdout(renderDnsZone({ domain, serviceHost, settings: answer.settings, mxServiceHosts: mxServiceHosts(mxLookupDomains(ctx.profile)), pacc }));
        return EXIT_OK;
      }
      case 'unknown-domain':
        throw new Failure(`no account serves ${domain}: it has no records to publish`);
      case 'address-required':
        throw new Failure(
          `${domain} is an account-named domain, not a customer domain: it has no per-customer records (nor a PACC document: its login is the bare username)`,
        );
    }
  },
};
