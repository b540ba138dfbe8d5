// The settings page for people (`GET /` and `GET /settings`): a form, and for an address
// the settings as a card, in HTML for browsers, JSON for `Accept: application/json` and
// plain text for everyone else (curl's `*/*` included). The request reader, the views for
// templates/settings-page.html.hbs (which escapes every value), and the answer for every
// Resolution.
import { renderSVG } from 'uqr';
import { hostName, parseTypedTarget, type MailTarget } from '../model/address.js';
import {
  appleProfilePath,
  appleProfileUrl,
  AUTODISCOVER_PATH,
  autoconfigPath,
  autodiscoverJsonPath,
  hasServiceLabel,
  isServiceHost,
  settingsPath,
} from '../links.js';
import type { Resolution } from '../pipeline/lookup.js';
import { accountNameOf, isAccountNamedDomain } from '../policy/account-named.js';
import { messageLimits, PORT_25_REASON, unknownAccountMessage, type ProviderProfile, type ProviderWording } from '../policy/provider-profile.js';
import type { MailSettings, ServerSettings } from '../policy/settings.js';
import { HTML, JSON_TYPE, MAILBOX_PRIVATE, PER_ADDRESS, TEXT, unavailable, type Answer } from './answer.js';
import { poxRequestBody } from './autodiscover-pox.js';
import { shellQuote } from './escape.js';
import { renderSettingsText, SECURITY_LABEL } from './settings-text.js';
import { SAMPLE_DOMAIN_SETTINGS, SAMPLE_MAILBOX_SETTINGS } from './sample.js';
import { provenTemplate, type TemplateSource } from './template.js';

/** What every page shows about the service, whatever was asked. */
export interface Site {
  /** The provider's name, e.g. "pair Networks Mail". */
  displayName: string;
  documentationUrl: string;
  /** The service's public base URL (`PUBLIC_URL`), without a trailing slash: used in the curl commands shown. */
  publicBase: string;
  /** The provider profile's words for people (its usage rules). */
  wording: Pick<ProviderWording, 'usageRules'>;
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

/** A QR code as an `<img>`: an SVG data URL (base64: nothing in it needs escaping, and `{{ }}` escapes it all the same). */
export interface QrImage {
  src: string;
  /** CSS pixels, a whole number per module, so the modules stay sharp at any device pixel ratio. */
  width: number;
  alt: string;
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
    /** The QR code of the absolute profile URL, for a phone's camera. */
    appleProfileQr: QrImage;
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


/** The Outlook (POX) autodiscover request for `address`, as a curl command (three lines) against the service. */
export function poxCurlCommand(publicBase: string, address: string): string {
  return `curl -H 'Content-Type: text/xml' \\
  --data ${shellQuote(poxRequestBody(address))} \\
  ${shellQuote(`${publicBase}${AUTODISCOVER_PATH}`)}`;
}

/**
 * QR codes as uqr draws them: error correction M (ISO/IEC 18004: up to 15% of the code may
 * be unreadable, for glare on a screen), the 4-module quiet zone the standard asks for, one
 * SVG unit per module, dark on white in either colour scheme (cameras expect dark modules).
 * The mask is uqr's choice by the standard's penalty rules (the easiest to scan): about 2 ms
 * of CPU per code, paid once per address card the answer cache does not hold.
 */
export const QR_OPTIONS = Object.freeze({ ecc: 'M', border: 4, pixelSize: 1, blackColor: '#000', whiteColor: '#fff' } as const);
/** CSS pixels per module: at 4, a code for a typical address is about 180 px wide. */
const QR_MODULE_PX = 4;

/** The QR code that opens `url`, rendered here (no script on the page), with its text alternative. */
export function qrImage(url: string, alt: string): QrImage {
  let modules = 0;
  const svg = renderSVG(url, { ...QR_OPTIONS, onEncoded: (qr) => (modules = qr.size) });
  return { src: `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`, width: modules * QR_MODULE_PX, alt };
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
    usageRules: site.wording.usageRules,
    links:
      address === null
        ? null
        : {
            appleProfile: appleProfilePath(address),
            appleProfileQr: qrImage(
              appleProfileUrl(site.publicBase, address),
              `QR code: opens the Apple profile download for ${address}`,
            ),
            autoconfig: autoconfigPath(address),
            autodiscoverJson: autodiscoverJsonPath(address),
            curlText: `curl ${shellQuote(`${site.publicBase}${settingsPath(address)}`)}`,
            curlJson: `curl -H 'Accept: application/json' ${shellQuote(`${site.publicBase}${settingsPath(address)}`)}`,
            curlPox: poxCurlCommand(site.publicBase, address),
          },
    curlDomain: `curl ${shellQuote(`${site.publicBase}${settingsPath(settings.domain)}`)}`,
  };
}

/**
 * What was typed, to show in the form again: as typed, unless it holds control characters
 * or text XML cannot hold (HTML treats those as parse errors, WHATWG HTML section 13.2.3.5):
 * no typed address has them, so the field is left empty instead.
 */
export function echoable(raw: string): string {
  return /^[^\p{Cc}\p{Cs}\uFFFE\uFFFF]*$/u.test(raw) ? raw : '';
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
      return { ...base, title: `Mail settings · ${page.site.displayName}`, value: echoable(page.value), message: page.message, card: null, noindex: true };
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


// ---------------------------------------------------------------------------------------
// The request

export type SettingsFormat = 'html' | 'json' | 'text';

const FORMAT_TYPES: ReadonlyArray<[SettingsFormat, readonly string[]]> = [
  // On a tie, the first wins: a client that does not single out HTML or JSON gets text.
  ['text', ['text/plain']],
  ['json', ['application/json']],
  ['html', ['text/html', 'application/xhtml+xml']],
];

/**
 * The answer format for an Accept header (RFC 9110 section 12.5.1): each format takes the q
 * of the most specific range matching one of its media types; the highest q wins, then the
 * more specific match (so `text/html` beats a browser's `*\/*;q=0.8`), then text. No
 * header, or nothing acceptable, gives text.
 */
export function negotiate(accept: string | undefined): SettingsFormat {
  const ranges: Array<{ type: string; subtype: string; q: number }> = [];
  for (const part of (accept ?? '').split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const param of params) {
      const m = /^q\s*=\s*([01](?:\.\d{0,3})?)$/.exec(param);
      if (m) q = Math.min(1, Number(m[1]));
    }
    ranges.push({ type, subtype, q });
  }
  let best: { format: SettingsFormat; q: number; specificity: number } = { format: 'text', q: 0, specificity: -1 };
  for (const [format, mediaTypes] of FORMAT_TYPES) {
    for (const mediaType of mediaTypes) {
      const [type, subtype] = mediaType.split('/') as [string, string];
      let match: { q: number; specificity: number } | undefined;
      for (const r of ranges) {
        const specificity =
          r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
        if (specificity >= 0 && (!match || specificity > match.specificity)) match = { q: r.q, specificity };
      }
      if (!match || match.q <= 0) continue;
      if (match.q > best.q || (match.q === best.q && match.specificity > best.specificity)) best = { format, ...match };
    }
  }
  return best.format;
}

/**
 * Whether the page answers on this Host. The customer-facing names `autoconfig.<domain>`
 * and `autodiscover.<domain>` carry mail-client answers only (404 elsewhere, as before),
 * unless the name is one of the service's own (PUBLIC_URL's host, SERVICE_HOSTS).
 */
export function servesPage(host: string | undefined, names: { serviceHosts: readonly string[] }): boolean {
  return isServiceHost(names.serviceHosts, host) || !hasServiceLabel(hostName(host));
}

type ProblemCode = 'missing-address' | 'invalid-address' | 'address-required' | 'unknown-domain' | 'unknown-account' | 'settings-unavailable' | 'service-unavailable';

export interface PageProblem {
  status: 400 | 404 | 500 | 503;
  code: ProblemCode;
  message: string;
}

const EXAMPLE = 'name@example.com';

/** What was typed, as a lookup target, or the problem with it. A bare domain gives the domain's settings. */
export function readTypedTarget(raw: string | undefined): MailTarget | PageProblem {
  const text = (raw ?? '').trim();
  if (text === '') return { status: 400, code: 'missing-address', message: `Enter your email address, for example ${EXAMPLE}.` };
  return parseTypedTarget(text) ?? { status: 400, code: 'invalid-address', message: `That is not a valid email address. It should look like ${EXAMPLE}.` };
}

// ---------------------------------------------------------------------------------------
// The answer

/**
 * Sent with every answer of these routes: the page runs no script (`default-src 'none'`
 * covers script-src), loads nothing but its inline style and its images (the icon and the
 * settings card's QR code, both data: URLs), submits only to us and is never framed.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});
/** /settings answers differ by Accept. */
const SETTINGS_HEADERS: Readonly<Record<string, string>> = Object.freeze({ ...PAGE_HEADERS, vary: 'Accept' });

/** The problem a lookup's outcome is for a person who typed `target`. */
function problemOf(resolution: Exclude<Resolution, { kind: 'settings' }>, target: MailTarget, profile: ProviderProfile): PageProblem {
  switch (resolution.kind) {
    case 'unknown-domain':
      // On an account-named domain the local part names the account: say that account is
      // unknown, in the profile's words. Elsewhere the domain is not ours: say so, and whom
      // to ask. No "check for typos": we cannot tell a typo from a domain hosted elsewhere
      // without hinting at which domains are hosted here.
      if (target.address && isAccountNamedDomain(profile, target.domain)) {
        return { status: 404, code: 'unknown-account', message: unknownAccountMessage(profile, accountNameOf(target.address), target.domain) };
      }
      return {
        status: 404,
        code: 'unknown-domain',
        message: `${target.domain} is not hosted by ${profile.displayName}, so there are no settings for it here. Ask your mail provider (whoever hosts mail for ${target.domain}) for its settings.`,
      };
    case 'address-required':
      return {
        status: 400,
        code: 'address-required',
        message: `Addresses at ${target.domain} name the account: enter your full address, for example username@${target.domain}.`,
      };
    case 'data-error':
      return { status: 500, code: 'settings-unavailable', message: 'The settings for this address cannot be shown. Please contact support.' };
    case 'unavailable':
      return { status: 503, code: 'service-unavailable', message: 'Mail settings are temporarily unavailable. Please try again in a minute.' };
  }
}

export interface SettingsPageDialect {
  /** The HTML page: the form, an address's settings, or a problem. */
  render(page: SettingsPage): string;
  /** `GET /`: the empty form. */
  form(): Answer;
  /** `GET /settings` whose typed value could not be read (`raw` is shown again in the form). */
  problem(format: SettingsFormat, problem: PageProblem, raw: string): Answer;
  answer(format: SettingsFormat, resolution: Resolution, target: MailTarget, raw: string): Answer;
}

export function settingsPageDialect(templates: TemplateSource, profile: ProviderProfile, publicBase: string): SettingsPageDialect {
  const site: Site = { displayName: profile.displayName, documentationUrl: profile.documentationUrl, publicBase, wording: profile };
  // Between them, these take every branch of the page: the form, a problem, an address's
  // card (with its links and login) and a domain's (without).
  const samples: SettingsPage[] = [
    { kind: 'form', site },
    { kind: 'problem', site, message: 'That is not a valid email address.', value: 'someone@' },
    { kind: 'settings', site, settings: SAMPLE_MAILBOX_SETTINGS },
    { kind: 'settings', site, settings: SAMPLE_DOMAIN_SETTINGS },
  ];
  const template = provenTemplate('settings-page.html', templates.get<SettingsPageView>('settings-page.html'), samples.map(settingsPageView));
  const render = (page: SettingsPage) => template(settingsPageView(page));
  const page = (status: number, type: string, body: string, cache?: Readonly<Record<string, string>>): Answer => ({
    status,
    type,
    headers: { ...SETTINGS_HEADERS, ...cache },
    body,
  });

  const problem = (format: SettingsFormat, p: PageProblem, raw: string): Answer => {
    // The answer to what was typed (shown again in the form): for that person alone.
    const cache = raw === '' ? undefined : PER_ADDRESS;
    const answer =
      format === 'html' ? page(p.status, HTML, render({ kind: 'problem', site, message: p.message, value: raw }), cache)
      : format === 'json' ? page(p.status, JSON_TYPE, JSON.stringify({ error: p.code, message: p.message }), cache)
      : page(p.status, TEXT, `${p.message}\n`, cache);
    return p.status === 503 ? unavailable(answer) : answer;
  };

  const settingsAnswer = (format: SettingsFormat, settings: MailSettings): Answer => {
    // An address's settings name its login; a domain's name none.
    const cache = settings.address === null ? undefined : MAILBOX_PRIVATE;
    switch (format) {
      case 'html':
        return page(200, HTML, render({ kind: 'settings', site, settings }), cache);
      case 'json':
        return page(200, JSON_TYPE, JSON.stringify(settings), cache);
      case 'text': {
        const profileUrl = settings.address ? appleProfileUrl(publicBase, settings.address) : undefined;
        return page(200, TEXT, renderSettingsText(settings, profile, { appleProfileUrl: profileUrl }), cache);
      }
    }
  };

  return {
    render,
    form: () => ({ status: 200, type: HTML, headers: PAGE_HEADERS, body: render({ kind: 'form', site }) }),
    problem,
    answer: (format, resolution, target, raw) =>
      resolution.kind === 'settings' ? settingsAnswer(format, resolution.settings) : problem(format, problemOf(resolution, target, profile), raw),
  };
}
