// Representative settings, one of each shape an answer takes: what every dialect factory
// renders once when it is created (dialects/template.ts provenTemplate), so a template
// that names a field its view lacks stops start-up instead of answering 500 later.
import type { MailSettings, ServerSettings } from '../policy/settings.js';

const HOST = 'mail.example.com';
const servers = (list: Array<Omit<ServerSettings, 'host'>>): ServerSettings[] => list.map((s) => ({ ...s, host: HOST }));

/** Settings for one mailbox, with its login: every branch that needs an address. */
export const SAMPLE_MAILBOX_SETTINGS: MailSettings = Object.freeze({
  provider: { id: 'example.com', displayName: 'Example Mail', displayShortName: 'Example', documentationUrl: 'https://example.com/help' },
  domain: 'example.com',
  address: 'someone@example.com',
  login: 'someone@example.com',
  era: 'new',
  host: HOST,
  incoming: servers([
    { protocol: 'imap', port: 993, security: 'tls' },
    { protocol: 'imap', port: 143, security: 'starttls' },
    { protocol: 'pop3', port: 995, security: 'tls' },
  ]),
  outgoing: servers([
    { protocol: 'smtp', port: 465, security: 'tls' },
    { protocol: 'smtp', port: 587, security: 'starttls' },
  ]),
  authentication: 'password',
  maxMessageBytes: 40 * 1024 * 1024,
});

/** Domain-level settings (no address, so no login): the other branches. */
export const SAMPLE_DOMAIN_SETTINGS: MailSettings = Object.freeze({ ...SAMPLE_MAILBOX_SETTINGS, address: null, login: null });
