// Property: the settings page (HTML) and its plain text (renderSettingsText, also
// `mailconf lookup`) give back exactly the values that went in, for any account, login and
// address. HTML is checked tolerantly but independently: each value's element is cut out
// and read with the strict XML reader, links are read with WHATWG URL, the curl commands
// are unquoted as a shell would and their POX body read as XML, and the page holds no tag
// the template does not write. Text is checked line by line.
import fc from 'fast-check';
import t from 'tap';
import { renderSVG } from 'uqr';
import { appleProfilePath, appleProfileUrl } from '../../src/links.js';
import { renderSettingsText } from '../../src/dialects/settings-text.js';
import { QR_OPTIONS, settingsPageDialect, type SettingsPage, type Site } from '../../src/dialects/settings-page.js';
import { parseAddress } from '../../src/model/address.js';
import type { MailSettings } from '../../src/policy/settings.js';
import { Templates } from '../../src/templates.js';
import { testApp } from '../support/app.js';
import { elementsByLocal, parseXml, textOf } from '../support/xml-reader.js';
import { addressText, check, checkEqual, decodeHtmlEscapes, domainLevel, hasLoneSurrogate, holds, hostile, percentEncode, profile, scenarios } from './arbitraries.js';

const BASE = 'https://mailconf.example';
const page = settingsPageDialect(new Templates(), profile, BASE);
const site: Site = { displayName: profile.displayName, documentationUrl: profile.documentationUrl, publicBase: BASE, wording: profile };

/** Every tag name the template writes; anything else in a page came from a value. */
const TAGS = new Set(['html', 'head', 'meta', 'link', 'title', 'style', 'body', 'header', 'div', 'span', 'main', 'h1', 'h2', 'h3', 'p', 'form', 'label', 'input', 'button', 'section', 'figure', 'img', 'figcaption', 'dl', 'dt', 'dd', 'code', 'br', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'strong', 'ul', 'li', 'details', 'summary', 'pre', 'footer']);

function checkTags(html: string): void {
  const tags = [...html.matchAll(/<\/?([A-Za-z][\w-]*)/g)].map((m) => m[1]!.toLowerCase());
  const foreign = tags.filter((tag) => !TAGS.has(tag));
  checkEqual(foreign, [], 'tags the template does not write');
  check(!/<!--|<script|<!\[CDATA\[/i.test(html.slice(html.indexOf('<body>'))), 'no comment, script or CDATA in the body');
}

/** The text of the one element whose start tag is `start`, read by the strict XML reader. */
function elementText(html: string, start: string, end: string): string {
  const at = html.indexOf(start);
  check(at >= 0 && html.indexOf(start, at + 1) < 0, `exactly one ${start}`);
  const close = html.indexOf(end, at);
  return textOf(parseXml(html.slice(at, close + end.length)));
}

/** A value of an attribute, as written (escaped), in the start tag that holds `marker`. */
function attribute(html: string, marker: string, name: string): string {
  const tag = new RegExp(`<[^<>]*${marker}[^<>]*>`).exec(html)?.[0];
  check(tag, `a tag with ${marker}`);
  const value = new RegExp(`\\s${name}="([^"<>]*)"`).exec(tag)?.[1];
  check(value !== undefined, `${name}= on ${marker}`, tag);
  return decodeHtmlEscapes(value);
}

/** The words of a POSIX shell command line made of plain words and '...' quoting. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      check(end >= 0, 'closed quote', line);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\' && line[i + 1] === "'") {
      word = (word ?? '') + "'";
      i++;
    } else if (c === '\\' && line[i + 1] === '\n') {
      i++;
    } else if (c === ' ' || c === '\n') {
      if (word !== null) words.push(word);
      word = null;
    } else {
      check(!/[$`"\\;&|<>(){}*?]/.test(c), 'no unquoted shell metacharacter', [c, line]);
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

function checkCard(html: string, settings: MailSettings): void {
  checkTags(html);
  const heading = settings.address ?? `addresses at ${settings.domain}`;
  checkEqual(elementText(html, '<h2 id="card-title">', '</h2>'), heading, 'heading');
  checkEqual(elementText(html, '<title>', '</title>'), `Mail settings for ${heading} · ${profile.displayName}`, 'title');
  checkEqual(elementText(html, '<code class="host" id="host">', '</code>'), settings.host, 'host');
  checkEqual(attribute(html, 'id="emailaddress"', 'value'), settings.address ?? settings.domain, 'the form value');
  if (settings.address === null) {
    check(!html.includes('id="apple-profile"'), 'no profile link without an address');
    check(!html.includes('id="apple-profile-qr"') && !html.includes('<img'), 'no QR code without an address');
    return;
  }
  // The QR code is uqr's drawing of the absolute profile URL for exactly this address.
  const qr = attribute(html, 'id="apple-profile-qr"', 'src');
  const prefix = 'data:image/svg+xml;base64,';
  check(qr.startsWith(prefix) && /^[A-Za-z0-9+/]*={0,2}$/.test(qr.slice(prefix.length)), 'the QR code is a base64 SVG data URL', qr.slice(0, 60));
  checkEqual(Buffer.from(qr.slice(prefix.length), 'base64').toString('utf8'), renderSVG(appleProfileUrl(BASE, settings.address), QR_OPTIONS), 'the QR code encodes the profile URL');
  checkEqual(attribute(html, 'id="apple-profile-qr"', 'alt'), `QR code: opens the Apple profile download for ${settings.address}`, 'the QR code says what it is');
  checkEqual(elementText(html, '<code id="login">', '</code>'), settings.login, 'login');
  const profileUrl = new URL(attribute(html, 'id="apple-profile"', 'href'), BASE);
  checkEqual(profileUrl.searchParams.get('emailaddress'), settings.address, 'the profile link names the address');
  const autoconfigUrl = new URL(attribute(html, 'id="raw-autoconfig"', 'href'), BASE);
  checkEqual(autoconfigUrl.searchParams.get('emailaddress'), settings.address, 'the autoconfig link names the address');
  // The Outlook curl command: the shell would pass this body, and it is the request for the address.
  const pre = [...html.matchAll(/<pre><code>([^<]*)<\/code><\/pre>/g)].map((m) => decodeHtmlEscapes(m[1]!));
  const pox = pre.find((p) => p.includes('--data'));
  check(pox, 'the POX curl command');
  const words = shellWords(pox);
  checkEqual(words[0], 'curl', 'curl');
  const body = words[words.indexOf('--data') + 1]!;
  checkEqual(textOf(elementsByLocal(elementsByLocal(parseXml(body), 'Request')[0]!, 'EMailAddress')[0]!), settings.address, 'the POX body names the address');
  checkEqual(words.at(-1), `${BASE}/autodiscover/autodiscover.xml`, 'against the public URL');
  const text = pre.find((p) => p.startsWith('curl \'') && !p.includes('--data'));
  check(text, 'the text curl command');
  const settingsUrl = new URL(shellWords(text.split('\n')[0]!)[1]!);
  checkEqual(settingsUrl.searchParams.get('emailaddress'), settings.address, 'the settings curl names the address');
}

function checkText(text: string, settings: MailSettings): void {
  check(!/[\r\v\f\u0085\u2028\u2029]/.test(text), 'no line break but \\n', text);
  check(text.endsWith('\n'), 'ends with a newline');
  const lines = text.split('\n');
  checkEqual(lines[0], `Mail settings for ${settings.address ?? `addresses at ${settings.domain}`}`, 'heading line');
  checkEqual(lines[2], `Server:   ${settings.host} (incoming and outgoing)`, 'server line');
  checkEqual(lines[3], `Login:    ${settings.login ?? 'your full email address'}`, 'login line');
  const servers = lines.filter((l) => /^ {2}(IMAP|POP3|SMTP) /.test(l));
  checkEqual(servers.length, settings.incoming.length + settings.outgoing.length, 'one line per server');
  for (const [i, s] of [...settings.incoming, ...settings.outgoing].entries()) check(servers[i]!.startsWith(`  ${s.protocol.toUpperCase().padEnd(5)}${s.host}  port ${s.port}`), 'server line', servers[i]);
  const apple = lines.filter((l) => l.startsWith('Apple devices (profile): '));
  if (settings.address === null) return checkEqual(apple, [], 'no profile line');
  checkEqual(apple.length, 1, 'one profile line');
  checkEqual(new URL(apple[0]!.slice('Apple devices (profile): '.length)).searchParams.get('emailaddress'), settings.address, 'profile URL');
}

t.test('rendered directly: the HTML card and the text give back every value exactly', async (t) => {
  await holds(t, 'settings page HTML and text', scenarios, (s) => {
    if (s.kind !== 'settings') return;
    for (const settings of [s.settings, domainLevel(s.settings)]) {
      checkCard(page.render({ kind: 'settings', site, settings }), settings);
      const appleProfileUrl = settings.address === null ? undefined : `${BASE}${appleProfilePath(settings.address)}`;
      checkText(renderSettingsText(settings, profile, { appleProfileUrl }), settings);
      const answer = page.answer('text', { kind: 'settings', settings }, { domain: settings.domain }, '');
      checkEqual(String(answer.body), renderSettingsText(settings, profile, { appleProfileUrl }), 'the /settings text is renderSettingsText');
    }
  }, 500);
});

t.test('rendered directly: the problem page shows any typed value as typed, or not at all', async (t) => {
  await holds(t, 'problem page', hostile(80, 0), (typed) => {
    const html = page.render({ kind: 'problem', site, message: 'That is not a valid email address.', value: typed } satisfies SettingsPage);
    checkTags(html);
    const shown = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u.test(typed) ? '' : typed;
    checkEqual(attribute(html, 'id="emailaddress"', 'value'), shown, 'the form value');
  }, 600);
});

t.test('through the app: /settings in HTML for any typed value: the card for that address, or a 4xx form', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '100000', RATE_LIMIT_MISS_MAX: '100000' } });
  await holds(t, 'GET /settings (HTML)', fc.record({ address: addressText }), async ({ address }) => {
    const res = await app.inject({ url: `/settings?emailaddress=${percentEncode(address)}`, headers: { accept: 'text/html' } });
    checkTags(res.body);
    const parsed = hasLoneSurrogate(address) ? undefined : parseAddress(address);
    if (res.statusCode === 200) {
      check(parsed, 'a card only for an address', address);
      checkEqual(elementText(res.body, '<h2 id="card-title">', '</h2>'), parsed.address, 'heading');
    } else {
      check([400, 404].includes(res.statusCode), 'a client error', [address, res.statusCode]);
      check(res.body.includes('<p class="problem" id="problem" role="alert">'), 'the problem is shown');
    }
  }, 250);
});
