// The settings page for people (`GET /` and `GET /settings`): a form, and for an address
// the settings as a card. The view is built here, purely; every value reaches the HTML
// through `templates/settings-page.html.hbs`, which escapes it.
import type { MailSettings, ServerSettings } from '../policy/settings.js';
import { OUTLOOK_RESPONSE_SCHEMA } from './autodiscover.js';
import type { Templates } from './templates.js';
import { messageLimits, PORT_25_REASON, SECURITY_LABEL, USAGE_RULES } from './text.js';

/** What every page shows about the service, whatever was asked. */
export interface Site {
  /** The provider's name, e.g. "pair Networks Mail". */
  displayName: string;
  documentationUrl: string;
  /** The service's public base URL (`PUBLIC_URL`), without a trailing slash: used in the curl commands shown. */
  publicBase: string;
}

export type SettingsPage =
  /** The empty form (`GET /`). */
  | { kind: 'form'; site: Site }
  /** The settings for an address, or for a whole domain when only a domain was typed. */
  | { kind: 'settings'; site: Site; settings: MailSettings }
  /** The form again, with what was typed and why it gave no settings. */
  | { kind: 'problem'; site: Site; message: string; value: string };

interface ServerRow {
  protocol: string;
  port: number;
  encryption: string;
  preferred: boolean;
}

export interface CardView {
  /** `jane@her-shop.example`, or `addresses at her-shop.example`. */
  heading: string;
  domain: string;
  host: string;
  /** null: the login is the full address, which we do not know. */
  login: string | null;
  incoming: ServerRow[];
  outgoing: ServerRow[];
  megabytes: number;
  attachmentMegabytes: number;
  port25: string;
  usageRules: readonly string[];
  /** Links that need the address; null for domain-level settings. */
  links: {
    appleProfile: string;
    autoconfig: string;
    autodiscoverJson: string;
    curlText: string;
    curlJson: string;
    curlPox: string;
  } | null;
  /** Shown for domain-level settings. */
  curlDomain: string;
}

export interface SettingsPageView {
  title: string;
  providerName: string;
  helpUrl: string;
  /** The form's value. */
  value: string;
  message: string | null;
  card: CardView | null;
  /** Pages about one address stay out of search engines. */
  noindex: boolean;
}

/**
 * encodeURIComponent, plus the characters it leaves alone that mean something to a shell
 * or in a quoted attribute: `! ' ( ) *`. The result is safe inside '…' on a command line.
 */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Where an Apple device downloads the profile for `address` (a path on this service). */
export function appleProfilePath(address: string): string {
  return `/mobileconfig?emailaddress=${encodeQueryValue(address)}`;
}

/** XML text escaping, `'` included, so the result never contains a single quote. */
function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `text` as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The Outlook (POX) autodiscover request for `address`, as a curl command (three lines) against the service. */
export function poxCurlCommand(publicBase: string, address: string): string {
  const body =
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">' +
    `<Request><EMailAddress>${escapeXml(address)}</EMailAddress>` +
    `<AcceptableResponseSchema>${OUTLOOK_RESPONSE_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>`;
  return `curl -H 'Content-Type: text/xml' \\
  --data ${shellQuote(body)} \\
  ${shellQuote(`${publicBase}/autodiscover/autodiscover.xml`)}`;
}

function rows(servers: ServerSettings[]): ServerRow[] {
  return servers.map((s, i) => ({
    protocol: s.protocol.toUpperCase(),
    port: s.port,
    encryption: SECURITY_LABEL[s.security],
    preferred: i === 0,
  }));
}

export function cardView(settings: MailSettings, site: Site): CardView {
  const { megabytes, attachmentMegabytes } = messageLimits(settings.maxMessageBytes);
  const address = settings.address;
  const q = address === null ? '' : encodeQueryValue(address);
  return {
    heading: address ?? `addresses at ${settings.domain}`,
    domain: settings.domain,
    host: settings.host,
    login: settings.login,
    incoming: rows(settings.incoming),
    outgoing: rows(settings.outgoing),
    megabytes,
    attachmentMegabytes,
    port25: PORT_25_REASON,
    usageRules: USAGE_RULES,
    links:
      address === null
        ? null
        : {
            appleProfile: appleProfilePath(address),
            autoconfig: `/mail/config-v1.1.xml?emailaddress=${q}`,
            autodiscoverJson: `/autodiscover/autodiscover.json?Email=${q}&Protocol=AutodiscoverV1`,
            curlText: `curl ${shellQuote(`${site.publicBase}/settings?emailaddress=${q}`)}`,
            curlJson: `curl -H 'Accept: application/json' ${shellQuote(`${site.publicBase}/settings?emailaddress=${q}`)}`,
            curlPox: poxCurlCommand(site.publicBase, address),
          },
    curlDomain: `curl ${shellQuote(`${site.publicBase}/settings?emailaddress=${encodeQueryValue(settings.domain)}`)}`,
  };
}

export function settingsPageView(page: SettingsPage): SettingsPageView {
  const base = {
    providerName: page.site.displayName,
    helpUrl: page.site.documentationUrl,
  };
  switch (page.kind) {
    case 'form':
      return { ...base, title: `Mail settings · ${page.site.displayName}`, value: '', message: null, card: null, noindex: false };
    case 'problem':
      return { ...base, title: `Mail settings · ${page.site.displayName}`, value: page.value, message: page.message, card: null, noindex: true };
    case 'settings': {
      const card = cardView(page.settings, page.site);
      return {
        ...base,
        title: `Mail settings for ${card.heading} · ${page.site.displayName}`,
        value: page.settings.address ?? page.settings.domain,
        message: null,
        card,
        noindex: true,
      };
    }
  }
}

export function settingsPageRenderer(templates: Templates): (page: SettingsPage) => string {
  const template = templates.get<SettingsPageView>('settings-page.html');
  return (page) => template(settingsPageView(page));
}
