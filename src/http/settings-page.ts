// The settings page for people: GET/HEAD / (a form) and GET/HEAD /settings?emailaddress=…
// /settings answers in the type the client asks for: HTML for browsers, JSON for
// `Accept: application/json`, and plain text for everyone else (curl's `*/*` included).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { hostName } from '../address.js';
import { isServiceHost, type Config } from '../config.js';
import type { MailSettings } from '../policy/settings.js';
import { appleProfilePath, type Site } from '../render/settings-page.js';
import { renderSettingsText } from '../render/text.js';
import { parseMailQuery, type MailQuery } from '../resolve.js';
import type { AppContext } from './context.js';
import { lookupFor, methodNotAllowedRoute, replyText, RETRY_AFTER_SECONDS, TEXT } from './lookup.js';
import { publicUrlFor } from './scheme.js';

export const SETTINGS_PATH = '/settings';
const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Sent with every answer of these routes: the page runs no script, loads nothing but its
 * inline style and icon (a data: URL), submits only to us and is never framed.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});

export type SettingsFormat = 'html' | 'json' | 'text';

const FORMAT_TYPES: ReadonlyArray<[SettingsFormat, readonly string[]]> = [
  // On a tie, the first wins: a client that does not single out HTML or JSON gets text.
  ['text', ['text/plain']],
  ['json', ['application/json']],
  ['html', ['text/html', 'application/xhtml+xml']],
];

/**
 * The answer format for an Accept header (RFC 9110 §12.5.1): each format takes the q of
 * the most specific range matching one of its media types; the highest q wins, then the
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
export function servesPage(host: string | undefined, config: Pick<Config, 'serviceHosts'>): boolean {
  return isServiceHost(config, host) || !/^(autoconfig|autodiscover)\./.test(hostName(host));
}

type ProblemCode = 'missing-address' | 'invalid-address' | 'address-required' | 'unknown-domain' | 'settings-unavailable' | 'service-unavailable';

interface Problem {
  status: 400 | 404 | 500 | 503;
  code: ProblemCode;
  message: string;
}

const EXAMPLE = 'name@example.com';

/** What was typed, as a directory query, or the problem with it. */
export function settingsQuery(raw: string | undefined): MailQuery | Problem {
  const text = (raw ?? '').trim();
  if (text === '') return { status: 400, code: 'missing-address', message: `Enter your email address, for example ${EXAMPLE}.` };
  // A bare domain gives the domain's settings, with "your full email address" as the login.
  return parseMailQuery(text) ?? { status: 400, code: 'invalid-address', message: `That is not a valid email address. It should look like ${EXAMPLE}.` };
}

export async function settingsPageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const publicBase = publicUrlFor(ctx.config.publicUrl, '');
  const site: Site = {
    displayName: ctx.profile.displayName,
    documentationUrl: ctx.profile.documentationUrl,
    publicBase,
  };

  const answerProblem = (reply: FastifyReply, format: SettingsFormat, problem: Problem, value: string) => {
    reply.code(problem.status);
    if (problem.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    switch (format) {
      case 'html':
        return reply.type(HTML).send(ctx.renderers.renderSettingsPage({ kind: 'problem', site, message: problem.message, value }));
      case 'json':
        return reply.type(JSON_TYPE).send(JSON.stringify({ error: problem.code, message: problem.message }));
      case 'text':
        return reply.type(TEXT).send(`${problem.message}\n`);
    }
  };

  const answerSettings = (reply: FastifyReply, format: SettingsFormat, settings: MailSettings) => {
    switch (format) {
      case 'html':
        return reply.type(HTML).send(ctx.renderers.renderSettingsPage({ kind: 'settings', site, settings }));
      case 'json':
        return reply.type(JSON_TYPE).send(JSON.stringify(settings));
      case 'text': {
        const appleProfileUrl = settings.address
          ? `${publicBase}${appleProfilePath(settings.address)}`
          : undefined;
        return reply.type(TEXT).send(renderSettingsText(settings, { appleProfileUrl }));
      }
    }
  };

  const notHere = (reply: FastifyReply) => replyText(reply, 404, 'Not found');

  app.get('/', async (request, reply) => {
    if (!servesPage(request.host, ctx.config)) return notHere(reply);
    return reply.headers(PAGE_HEADERS).type(HTML).send(ctx.renderers.renderSettingsPage({ kind: 'form', site }));
  });
  app.route(methodNotAllowedRoute('/', ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD'));

  app.get(SETTINGS_PATH, async (request, reply) => {
    if (!servesPage(request.host, ctx.config)) return notHere(reply);
    reply.headers(PAGE_HEADERS).header('vary', 'Accept');
    const format = negotiate(request.headers.accept);
    const raw = (request.query as Record<string, string>).emailaddress ?? '';
    const query = settingsQuery(raw);
    if ('status' in query) return answerProblem(reply, format, query, raw);
    const result = await lookupFor(ctx, request, query.domain, query.address);
    switch (result.kind) {
      case 'settings':
        return answerSettings(reply, format, result.settings);
      case 'unknown-domain':
        return answerProblem(reply, format, {
          status: 404,
          code: 'unknown-domain',
          message: query.address && ctx.profile.accountNamedDomains.includes(query.domain)
            ? 'There are no mail settings for this address. Check it for typos.'
            : `There are no mail settings for ${query.domain}. Check the address for typos.`,
        }, raw);
      case 'address-required':
        return answerProblem(reply, format, {
          status: 400,
          code: 'address-required',
          message: `Addresses at ${query.domain} name the account: enter your full address, for example username@${query.domain}.`,
        }, raw);
      case 'data-error':
        return answerProblem(reply, format, {
          status: 500,
          code: 'settings-unavailable',
          message: 'The settings for this address cannot be shown. Please contact support.',
        }, raw);
      case 'unavailable':
        return answerProblem(reply, format, {
          status: 503,
          code: 'service-unavailable',
          message: 'Mail settings are temporarily unavailable. Please try again in a minute.',
        }, raw);
    }
  });
  app.route(methodNotAllowedRoute(SETTINGS_PATH, ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'], 'GET, HEAD'));
}
