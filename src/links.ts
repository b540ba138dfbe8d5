// Where the service is: every public path it answers on, the URLs built from PUBLIC_URL,
// and its own host names. Routes register these paths; dialects and the settings page
// link to them; nothing else spells a path.
import { hostName } from './model/address.js';

/** Thunderbird autoconfig: on `autoconfig.<domain>`, and the .well-known form on `<domain>`. */
export const AUTOCONFIG_PATHS = ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml'] as const;
/** Outlook autodiscover (POX, MS-OXDSCLI). */
export const AUTODISCOVER_PATH = '/autodiscover/autodiscover.xml';
/** Autodiscover v2 (new Outlook, Outlook mobile). */
export const AUTODISCOVER_JSON_PATH = '/autodiscover/autodiscover.json';
/** Apple configuration profiles, and the alias some guides link to. */
export const MOBILECONFIG_PATHS = ['/mobileconfig', '/email.mobileconfig'] as const;
/** PACC (draft-ietf-mailmaint-pacc): one document per domain, on `ua-auto-config.<domain>` only. */
export const PACC_PATH = '/.well-known/user-agent-configuration.json';
export const HOME_PATH = '/';
export const SETTINGS_PATH = '/settings';
export const TLS_ALLOWED_PATH = '/tls-allowed';
/** Liveness: the process answers. */
export const HEALTH_PATH = '/healthz';
/** Readiness: lookups work (the directory answers) and the instance is not shutting down. */
export const READY_PATH = '/readyz';
/** Prometheus metrics, for the operator's scraper only. */
export const METRICS_PATH = '/metrics';

/** The admin API (http/admin/): only where ADMIN_TOKEN or ADMIN_TOKENS_FILE is set. */
export const ADMIN_PREFIX = '/admin';
export const ADMIN_ACCOUNT_PATH = `${ADMIN_PREFIX}/accounts/:username`;
export const ADMIN_DOMAIN_PATH = `${ADMIN_PREFIX}/domains/:domain`;
export const ADMIN_IMPORT_PATH = `${ADMIN_PREFIX}/import`;
export const ADMIN_EXPORT_PATH = `${ADMIN_PREFIX}/export`;
export const ADMIN_OPENAPI_PATH = `${ADMIN_PREFIX}/openapi.json`;

/** What metrics call the clients a path serves (the route's URL as registered). */
export function dialectOfRoute(route: string | undefined): string {
  if (route === undefined) return 'none';
  if ((AUTOCONFIG_PATHS as readonly string[]).includes(route)) return 'autoconfig';
  if (route === AUTODISCOVER_PATH) return 'autodiscover-pox';
  if (route.startsWith(AUTODISCOVER_JSON_PATH)) return 'autodiscover-json';
  if ((MOBILECONFIG_PATHS as readonly string[]).includes(route)) return 'mobileconfig';
  if (route === HOME_PATH || route === SETTINGS_PATH) return 'settings-page';
  if (route === TLS_ALLOWED_PATH) return 'tls-allowed';
  if (route === PACC_PATH) return 'pacc';
  if (route === HEALTH_PATH || route === READY_PATH || route === METRICS_PATH) return 'operations';
  if (route.startsWith(`${ADMIN_PREFIX}/`)) return 'admin';
  return 'none';
}

/** The names customers point at us, one label above their domain (CNAMEs, certificates). */
export const AUTOCONFIG_LABEL = 'autoconfig';
export const AUTODISCOVER_LABEL = 'autodiscover';
export const SERVICE_LABELS = [AUTOCONFIG_LABEL, AUTODISCOVER_LABEL] as const;
/**
 * PACC's name for the document's host (a CNAME to us) and its digest's TXT record
 * (draft-ietf-mailmaint-pacc). Not among SERVICE_LABELS: only the PACC route answers on
 * it, and only where a document is published (dialects/pacc.ts).
 */
export const PACC_LABEL = 'ua-auto-config';
export const PACC_TXT_LABEL = '_ua-auto-config';

/**
 * The names MX-based lookups reach the service at: `autoconfig.` of each MX domain of the
 * provider (policy/provider-profile.ts mxLookupDomains: the base domains, and the full
 * domains where they differ). Clients that find no `autoconfig.<customer domain>` try
 * them over HTTPS with the customer's address (draft-ietf-mailmaint-autoconfig-06 4.3);
 * there is no autodiscover equivalent (Outlook does no MX-based lookup).
 */
export function mxServiceHosts(mxDomains: { base: readonly string[]; full: readonly string[] }): string[] {
  const names = [...mxDomains.full, ...mxDomains.base].map((d) => `${AUTOCONFIG_LABEL}.${d}`);
  return names.filter((n, i) => names.indexOf(n) === i);
}

/** The service's own names: those configured (PUBLIC_URL's host, SERVICE_HOSTS), then the MX-based ones. */
export function ownServiceHosts(configured: readonly string[], mxDomains: { base: readonly string[]; full: readonly string[] }): string[] {
  const names = [...configured, ...mxServiceHosts(mxDomains)];
  return names.filter((n, i) => names.indexOf(n) === i);
}

/** Whether a host name is one of a customer's service names (`autoconfig.`, `autodiscover.` or `ua-auto-config.<domain>`). */
export function hasServiceLabel(name: string): boolean {
  return SERVICE_LABELS.some((label) => name.startsWith(`${label}.`)) || name.startsWith(`${PACC_LABEL}.`);
}

/** `<PUBLIC_URL><path>`: the service's own public URL for one of its paths (never the Host header). */
export function publicUrlFor(publicUrl: URL, path: string): string {
  return `${publicUrl.origin}${publicUrl.pathname.replace(/\/+$/, '')}${path}`;
}

/**
 * encodeURIComponent, plus the characters it leaves alone that mean something to a shell
 * or in a quoted attribute: `! ' ( ) *`. The result is safe inside '…' on a command line.
 */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const withAddress = (path: string, address: string) => `${path}?emailaddress=${encodeQueryValue(address)}`;

/** Where an Apple device downloads the profile for `address` (a path on this service). */
export function appleProfilePath(address: string): string {
  return withAddress(MOBILECONFIG_PATHS[0], address);
}

/**
 * The absolute URL of the Apple profile for `address`: `publicBase` is PUBLIC_URL as
 * `publicUrlFor(publicUrl, '')` gives it (no trailing slash). Shown as text and as the
 * settings card's QR code, for a device that is not the one showing the page.
 */
export function appleProfileUrl(publicBase: string, address: string): string {
  return `${publicBase}${appleProfilePath(address)}`;
}

export function autoconfigPath(address: string): string {
  return withAddress(AUTOCONFIG_PATHS[0], address);
}

export function autodiscoverJsonPath(address: string): string {
  return `${AUTODISCOVER_JSON_PATH}?Email=${encodeQueryValue(address)}&Protocol=AutodiscoverV1`;
}

/** The settings page (text, JSON or HTML by Accept) for an address or a bare domain. */
export function settingsPath(typed: string): string {
  return withAddress(SETTINGS_PATH, typed);
}

/** Whether a Host header (any case, maybe a port) names one of the service's own hosts (PUBLIC_URL's, SERVICE_HOSTS). */
export function isServiceHost(serviceHosts: readonly string[], host: string | undefined): boolean {
  const name = hostName(host);
  return name !== '' && serviceHosts.includes(name);
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Whether the admin API answers on a Host (any case, maybe a port): the service's own
 * public name (PUBLIC_URL's host), `localhost` and IP addresses, and never a name with a
 * customer's label (`autoconfig.`, `autodiscover.`, `ua-auto-config.`). Every other name
 * is, or may be, a customer's: there the API does not exist.
 */
export function isAdminHost(publicUrl: URL, host: string | undefined): boolean {
  const text = (host ?? '').trim().toLowerCase();
  if (/^\[[0-9a-f:.]+\](?::\d*)?$/.test(text)) return true; // an IPv6 literal
  const name = hostName(text);
  if (name === '' || hasServiceLabel(name)) return false;
  return name === hostName(publicUrl.host) || name === 'localhost' || IPV4.test(name);
}
