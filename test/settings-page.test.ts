import { execFileSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { defaultProvider } from '../src/policy/provider-profile.js';
import { shellQuote } from '../src/dialects/escape.js';
import { renderSVG, encode } from 'uqr';
import { cardView, negotiate, poxCurlCommand, QR_OPTIONS, servesPage, settingsPageDialect } from '../src/dialects/settings-page.js';
import { encodeQueryValue } from '../src/links.js';
import { Templates } from '../src/templates.js';
import { renderSettingsText } from '../src/dialects/settings-text.js';
import { settingsFor } from '../src/policy/settings.js';
import { DownDirectory, testApp } from './support/app.js';

const q = (address: string) => `/settings?emailaddress=${encodeURIComponent(address)}`;
const HTML = 'text/html; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SAFARI = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const PUBLIC = 'https://mailconf.pair-test.example';

/** The text of the element with this id (tags stripped, entities left as they are). */
const byId = (html: string, id: string) => new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(code|dd|p)>`).exec(html)?.[1]?.replace(/<[^>]+>/g, '');

/** The server table rows of the card, as "IMAP 993 SSL/TLS". */
function tableRows(html: string): string[] {
  return [...html.matchAll(/<tr><td>(\w+)<\/td><td>(\d+)<\/td><td>([\w/]+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

function pageHeaders(t: Test, headers: Record<string, unknown>, what: string) {
  t.equal(headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'", `${what}: CSP`);
  t.equal(headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  t.equal(headers['referrer-policy'], 'no-referrer', `${what}: no referrer`);
}

t.test('GET / is the form: works without script, loads nothing, fits a phone', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ url: '/' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], HTML);
  pageHeaders(t, res.headers, 'GET /');
  t.match(res.body, /^<!doctype html>\n<html lang="en">/);
  t.match(res.body, '<meta name="viewport" content="width=device-width, initial-scale=1">');
  t.match(res.body, /<form class="lookup" method="get" action="\/settings" novalidate>/);
  t.match(res.body, /<input type="email" id="emailaddress" name="emailaddress" value=""/);
  t.match(res.body, '<button type="submit">Show settings</button>');
  t.notMatch(res.body, /<script|\son\w+=|javascript:/i, 'no script at all');
  t.notMatch(res.body, /\b(src|href)="(https?:)?\/\/(?!www\.pair\.com\/support)/, 'no external asset (only the help link)');
  t.notMatch(res.body, /<link rel="stylesheet"|@import/, 'the style is inline');
  t.notMatch(res.body, 'noindex', 'the form page may be indexed');
  t.match(res.body, '<a href="https://www.pair.com/support/kb/">pair Networks Mail help pages</a>');

  const head = await app.inject({ method: 'HEAD', url: '/' });
  t.equal(head.statusCode, 200);
  t.equal(head.body, '');
  t.equal(head.headers['content-type'], HTML);
  pageHeaders(t, head.headers, 'HEAD /');
});

t.test('the card: old-era and new-era hosts, logins, ports, limits, rules, links', async (t) => {
  const { app } = await testApp(t);
  const cases = [
    { email: 'sales@oldtimer-shop.example', host: 'mail123.pair.com', login: 'sales-oldtimer' }, // per-mailbox login
    { email: 'other@oldtimer-shop.example', host: 'mail123.pair.com', login: 'other@oldtimer-shop.example' },
    { email: 'jane@newbie.example', host: 'newbie.mail.pairserver.com', login: 'jane@newbie.example' },
    { email: 'a@lastday.example', host: 'mail12.pair.com', login: 'a@lastday.example' },
    { email: 'a@firstday.example', host: 'firstday.mail.pairserver.com', login: 'a@firstday.example' },
    { email: 'plainpair@pair.com', host: 'plainpair.mail.pairserver.com', login: 'plainpair' }, // bare username
    { email: 'pairuser@pair.com', host: 'pairuser.mail.pairserver.com', login: 'pairuser-imap' },
  ];
  for (const { email, host, login } of cases) {
    const res = await app.inject({ url: q(email), headers: { accept: CHROME } });
    t.equal(res.statusCode, 200, email);
    t.equal(res.headers['content-type'], HTML);
    t.equal(res.headers.vary, 'Accept');
    pageHeaders(t, res.headers, email);
    const html = res.body;
    t.equal(byId(html, 'host'), host, `${email}: host`);
    t.equal(byId(html, 'login'), login, `${email}: login`);
    t.match(html, `<h2 id="card-title">${email}</h2>`);
    t.match(html, `<title>Mail settings for ${email} · pair Networks Mail</title>`);
    t.match(html, `value="${email}"`, 'the form keeps the address');
    t.match(html, '<meta name="robots" content="noindex">');
    t.same(tableRows(html), ['IMAP 993 SSL/TLS', 'IMAP 143 STARTTLS', 'POP3 995 SSL/TLS', 'POP3 110 STARTTLS', 'SMTP 465 SSL/TLS', 'SMTP 587 STARTTLS']);
    t.equal(html.match(/<span class="tag">recommended<\/span>/g)?.length, 2, 'IMAP 993 and SMTP 465 recommended');
    t.match(html, 'Up to <strong>40 MB</strong> per message, counted after encoding: about <strong>35 MB</strong> of attachments.');
    t.match(html, '<h3>Why not port 25?</h3>');
    t.match(html, /Port 25 is not offered: many internet providers block it/);
    for (const rule of defaultProvider.usageRules) t.match(html, `<li>${rule}</li>`, `usage rule: ${rule}`);
    t.match(html, /mailing list service/);
    const enc = encodeURIComponent(email);
    t.match(html, `<a class="button" id="apple-profile" href="/mobileconfig?emailaddress&#x3D;${enc}">Download Apple profile</a>`);
    t.match(html, `href="/mail/config-v1.1.xml?emailaddress&#x3D;${enc}"`);
    t.match(html, `href="/autodiscover/autodiscover.json?Email&#x3D;${enc}&amp;Protocol&#x3D;AutodiscoverV1"`);
    t.match(html, `&lt;EMailAddress&gt;${email}&lt;/EMailAddress&gt;`, 'the POX request as a curl command');
    t.match(html, `&#x27;${PUBLIC}/autodiscover/autodiscover.xml&#x27;`, 'against PUBLIC_URL, never the Host header');
    t.notMatch(html, /<td>25<\/td>/, 'port 25 is never offered');
    t.notMatch(html, /<script/i);
  }
});

t.test('a bare domain gives domain-level settings: the login is the full address', async (t) => {
  const { app } = await testApp(t);
  const html = await app.inject({ url: '/settings?emailaddress=NewBie.Example', headers: { accept: FIREFOX } });
  t.equal(html.statusCode, 200);
  t.equal(byId(html.body, 'host'), 'newbie.mail.pairserver.com');
  t.equal(byId(html.body, 'login'), 'your full email address, for example name@newbie.example');
  t.match(html.body, '<h2 id="card-title">addresses at newbie.example</h2>');
  t.notMatch(html.body, /mobileconfig|config-v1\.1\.xml|autodiscover\.json/, 'links that need an address are left out');
  t.match(html.body, `curl &#x27;${PUBLIC}/settings?emailaddress&#x3D;newbie.example&#x27;`);

  const text = await app.inject({ url: '/settings?emailaddress=newbie.example' });
  t.match(text.body, /^Mail settings for addresses at newbie\.example$/m);
  t.match(text.body, /^Login: {4}your full email address$/m);
  t.notMatch(text.body, /Apple devices/, 'no profile without an address');

  const json = await app.inject({ url: '/settings?emailaddress=newbie.example', headers: { accept: 'application/json' } });
  t.match(JSON.parse(json.body), { domain: 'newbie.example', address: null, login: null, host: 'newbie.mail.pairserver.com' });
});

t.test('negotiation: browsers get HTML, Accept: application/json gets JSON, everyone else text', async (t) => {
  const cases: Array<[string | undefined, 'html' | 'json' | 'text']> = [
    [undefined, 'text'],
    ['', 'text'],
    ['*/*', 'text'], // curl, wget, fetch()
    [CHROME, 'html'],
    [FIREFOX, 'html'],
    [SAFARI, 'html'],
    ['text/html', 'html'],
    ['application/xhtml+xml', 'html'],
    ['TEXT/HTML', 'html'],
    ['application/json', 'json'],
    ['application/json, text/plain;q=0.5', 'json'],
    ['application/json;q=0.9, */*;q=0.1', 'json'],
    ['text/html;q=0.5, application/json', 'json'],
    ['text/html, application/json;q=0.9', 'html'],
    ['application/json, text/html', 'json'], // a tie: HTML was not preferred
    ['text/plain', 'text'],
    ['text/*', 'text'],
    ['text/plain, text/html', 'text'],
    ['text/html, */*;q=0.1', 'html'],
    ['application/json;q=0, */*', 'text'],
    ['text/html;q=0', 'text'],
    ['image/png', 'text'], // nothing acceptable: text rather than a 406
    ['garbage', 'text'],
    ['text/html;q=abc', 'html'],
  ];
  for (const [accept, format] of cases) t.equal(negotiate(accept), format, `Accept: ${accept}`);

  const { app } = await testApp(t);
  const types: Record<string, string> = { html: HTML, json: JSON_TYPE, text: TEXT };
  for (const [accept, format] of cases) {
    const res = await app.inject({ url: q('jane@newbie.example'), headers: accept === undefined ? {} : { accept } });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], types[format], `Accept: ${accept} -> ${format}`);
    t.equal(res.headers.vary, 'Accept');
    pageHeaders(t, res.headers, `Accept: ${accept}`);
  }
});

t.test('JSON: the MailSettings, as `mailconf lookup --json` prints them', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ url: q('sales@oldtimer-shop.example'), headers: { accept: 'application/json' } });
  t.equal(res.headers['content-type'], JSON_TYPE);
  const body = JSON.parse(res.body);
  t.same(Object.keys(body), ['provider', 'domain', 'address', 'login', 'era', 'host', 'incoming', 'outgoing', 'authentication', 'maxMessageBytes']);
  t.match(body, {
    provider: { id: 'pair.com', displayName: 'pair Networks Mail' },
    domain: 'oldtimer-shop.example',
    address: 'sales@oldtimer-shop.example',
    login: 'sales-oldtimer',
    era: 'old',
    host: 'mail123.pair.com',
    authentication: 'password',
    maxMessageBytes: 40 * 1024 * 1024,
  });
  t.same(
    [...body.incoming, ...body.outgoing].map((s: { protocol: string; port: number; security: string; host: string }) => `${s.protocol}:${s.port}:${s.security}:${s.host}`),
    ['imap:993:tls', 'imap:143:starttls', 'pop3:995:tls', 'pop3:110:starttls', 'smtp:465:tls', 'smtp:587:starttls'].map((s) => `${s}:mail123.pair.com`),
  );
});

t.test("text: what curl prints, readable, without trailing spaces", async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ url: '/settings?emailaddress=jane@newbie.example', headers: { accept: '*/*', 'user-agent': 'curl/8.5.0' } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], TEXT);
  const text = res.body;
  t.match(text, /^Mail settings for jane@newbie\.example$/m);
  t.match(text, /^Server: {3}newbie\.mail\.pairserver\.com \(incoming and outgoing\)$/m);
  t.match(text, /^Login: {4}jane@newbie\.example$/m);
  t.match(text, /^ {2}IMAP newbie\.mail\.pairserver\.com {2}port 993 {2}SSL\/TLS {3}\(preferred\)$/m);
  t.match(text, /^ {2}SMTP newbie\.mail\.pairserver\.com {2}port 587 {2}STARTTLS$/m);
  t.match(text, /40 MB including encoding \(about 35 MB of attachments\)/);
  t.match(text, /^Port 25 is not offered/m);
  for (const rule of defaultProvider.usageRules) t.match(text, `  - ${rule}\n`);
  t.match(text, `Apple devices (profile): ${PUBLIC}/mobileconfig?emailaddress=jane%40newbie.example\n`);
  t.notMatch(text, /<[a-z]/i, 'no markup');
  t.same(text.split('\n').filter((l) => l !== l.trimEnd()), [], 'no line ends in spaces');
  t.ok(text.endsWith('\n'));

  const head = await app.inject({ method: 'HEAD', url: '/settings?emailaddress=jane@newbie.example' });
  t.equal(head.statusCode, 200);
  t.equal(head.body, '');
  t.equal(head.headers['content-type'], TEXT);
  t.equal(head.headers.vary, 'Accept');
});

t.test('renderSettingsText (also `mailconf lookup`): no trailing spaces, rules, optional profile link', async (t) => {
  const account = { username: 'oldtimer', created: '2009-03-14', mailServer: 123 };
  const result = settingsFor({ account, domain: 'x.example', address: 'a@x.example' }, defaultProvider);
  if (!result.ok) throw new Error('fixture');
  const text = renderSettingsText(result.settings, defaultProvider);
  t.same(text.split('\n').filter((l) => /\s$/.test(l)), []);
  t.notMatch(text, /Apple devices/);
  t.match(renderSettingsText(result.settings, defaultProvider, { appleProfileUrl: 'https://s.example/mobileconfig?emailaddress=a%40x.example' }), /^Apple devices \(profile\): https:\/\/s\.example\//m);
});

t.test('metacharacters in the address are escaped everywhere, and never become markup', async (t) => {
  const { app } = await testApp(t);
  const nasty = `a&b<c>"d'e@newbie.example`;
  const res = await app.inject({ url: q(nasty), headers: { accept: 'text/html' } });
  t.equal(res.statusCode, 200, 'a legal (if odd) local part');
  const escaped = 'a&amp;b&lt;c&gt;&quot;d&#x27;e@newbie.example';
  t.match(res.body, `<h2 id="card-title">${escaped}</h2>`);
  t.match(res.body, `value="${escaped}"`);
  t.match(res.body, `<code id="login">${escaped}</code>`);
  t.notMatch(res.body, nasty);
  t.notMatch(res.body, /<c>|"d'/);
  const enc = 'a%26b%3Cc%3E%22d%27e%40newbie.example';
  t.match(res.body, `href="/mobileconfig?emailaddress&#x3D;${enc}"`, 'query values percent-encoded, then escaped');
  t.match(res.body, '&lt;EMailAddress&gt;a&amp;amp;b&amp;lt;c&amp;gt;&amp;quot;d&amp;apos;e@newbie.example&lt;/EMailAddress&gt;', 'XML-escaped in the curl body, then HTML-escaped');

  for (const attack of ['<script>alert(1)</script>@newbie.example', '"><script>alert(1)</script>@newbie.example', '<script>alert(1)</script>', `"><img src=x onerror=alert(1)>`]) {
    const r = await app.inject({ url: q(attack), headers: { accept: CHROME } });
    // The one image a card has is the template's own QR code (a base64 data URL).
    const body = r.body.replace(/<img id="apple-profile-qr" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/]+(&#x3D;){0,2}" width="\d+" height="\d+" alt="[^"<>]*">/, '');
    t.notMatch(body, /<script|<img/i, `no markup from ${attack}`);
    t.match(r.body, /&lt;(script|img)/, 'shown as text');
    pageHeaders(t, r.headers, attack);
    const text = await app.inject({ url: q(attack) });
    t.equal(text.headers['content-type'], TEXT);
    t.equal(text.headers['x-content-type-options'], 'nosniff', 'text is never sniffed as HTML');
  }
});

t.test('curl commands on the page survive any address: quoted for the shell, escaped for XML', async (t) => {
  t.equal(encodeQueryValue(`o'brien!(x)*@a.example`), 'o%27brien%21%28x%29%2A%40a.example');
  t.equal(shellQuote(`it's`), `'it'\\''s'`);
  const address = `o'brien"$(id)\`id\`&<x>@newbie.example`;
  const command = poxCurlCommand('https://s.example', address);
  // Run the command with a `curl` that prints its arguments: bash must see exactly these three.
  const args = execFileSync('bash', ['-c', `curl() { printf '%s\\0' "$@"; }\n${command}`], { encoding: 'utf8' }).split('\0').slice(0, -1);
  t.same(args, [
    '-H',
    'Content-Type: text/xml',
    '--data',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request>' +
      '<EMailAddress>o&apos;brien&quot;$(id)`id`&amp;&lt;x&gt;@newbie.example</EMailAddress>' +
      '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>' +
      '</Request></Autodiscover>',
    'https://s.example/autodiscover/autodiscover.xml',
  ]);
  const account = { username: 'newbie', created: '2019-10-02', mailServer: null };
  const result = settingsFor({ account, domain: 'newbie.example', address }, defaultProvider);
  if (!result.ok) throw new Error('fixture');
  const links = cardView(result.settings, { displayName: 'x', documentationUrl: 'https://d.example/', publicBase: 'https://s.example', wording: defaultProvider }).links!;
  for (const cmd of [links.curlText, links.curlJson]) {
    const printed = execFileSync('bash', ['-c', `curl() { printf '%s\\0' "$@"; }\n${cmd}`], { encoding: 'utf8' }).split('\0');
    t.equal(printed.at(-2), 'https://s.example/settings?emailaddress=o%27brien%22%24%28id%29%60id%60%26%3Cx%3E%40newbie.example', cmd);
  }
});

t.test('bad input: 400 with a short message, in the negotiated type', async (t) => {
  const { app } = await testApp(t);
  const cases: Array<[string, RegExp, string]> = [
    ['/settings', /Enter your email address/, 'missing-address'],
    ['/settings?emailaddress=', /Enter your email address/, 'missing-address'],
    ['/settings?emailaddress=%20%20', /Enter your email address/, 'missing-address'],
    ['/settings?emailaddress=jane%40', /not a valid email address/, 'invalid-address'],
    ['/settings?emailaddress=%40newbie.example', /not a valid email address/, 'invalid-address'],
    ['/settings?emailaddress=a%40b%40newbie.example', /not a valid email address/, 'invalid-address'],
    ['/settings?emailaddress=jane%20doe%40newbie.example', /not a valid email address/, 'invalid-address'],
    ['/settings?emailaddress=not%20an%20address', /not a valid email address/, 'invalid-address'],
    ['/settings?emailaddress=localhost', /not a valid email address/, 'invalid-address'],
    ['/settings?emailaddress=pair.com', /Addresses at pair\.com name the account: enter your full address, for example username@pair\.com/, 'address-required'],
  ];
  for (const [url, message, code] of cases) {
    const html = await app.inject({ url, headers: { accept: CHROME } });
    t.equal(html.statusCode, 400, url);
    t.equal(html.headers['content-type'], HTML);
    t.equal(html.headers.vary, 'Accept');
    pageHeaders(t, html.headers, url);
    t.match(html.body, /<p class="problem" id="problem" role="alert">[^<]+<\/p>/);
    t.match(byId(html.body, 'problem'), message);
    t.match(html.body, 'aria-invalid="true"');
    t.match(html.body, '<form class="lookup"', 'the form, to try again');
    t.notMatch(html.body, 'id="host"', 'no card');

    const text = await app.inject({ url });
    t.equal(text.statusCode, 400);
    t.equal(text.headers['content-type'], TEXT);
    t.match(text.body, message);
    t.equal(text.body.split('\n').length, 2, 'one line');

    const json = await app.inject({ url, headers: { accept: 'application/json' } });
    t.equal(json.statusCode, 400);
    t.equal(json.headers['content-type'], JSON_TYPE);
    const body = JSON.parse(json.body);
    t.same(Object.keys(body), ['error', 'message']);
    t.equal(body.error, code);
    t.match(body.message, message);
  }
  const typed = await app.inject({ url: '/settings?emailaddress=jane%40', headers: { accept: 'text/html' } });
  t.match(typed.body, 'value="jane@"', 'what was typed stays in the form');
});

t.test('unknown domains: 404; account data errors: 500 naming nothing internal', async (t) => {
  const { app, rawLogs } = await testApp(t);
  const unhosted = /^unknown\.example is not hosted by pair Networks Mail, so there are no settings for it here\. Ask your mail provider \(whoever hosts mail for unknown\.example\) for its settings\.$/;
  const notFound: Array<[string, RegExp, string]> = [
    ['x@unknown.example', unhosted, 'unknown-domain'],
    ['unknown.example', unhosted, 'unknown-domain'],
    ['nosuchaccount@pair.com', /^No account named "nosuchaccount" is known\. At pair\.com, the part before the @ is the username of your hosting account/, 'unknown-account'],
  ];
  for (const [ask, message, code] of notFound) {
    for (const [accept, type] of [[CHROME, HTML], ['*/*', TEXT], ['application/json', JSON_TYPE]] as const) {
      const res = await app.inject({ url: q(ask), headers: { accept } });
      t.equal(res.statusCode, 404, `${ask} ${accept}`);
      t.equal(res.headers['content-type'], type);
      const shown = type === HTML ? byId(res.body, 'problem')!.replace(/&quot;/g, '"') : type === JSON_TYPE ? JSON.parse(res.body).message : res.body.trimEnd();
      t.match(shown, message, `${ask} ${accept}`);
      t.notMatch(res.body, /typo/i, 'no typo advice: we cannot tell a typo from a domain hosted elsewhere');
      if (type === JSON_TYPE) t.equal(JSON.parse(res.body).error, code);
    }
  }
  for (const ask of ['a@broken-old.example', 'a@broken-new.example']) {
    for (const [accept, type] of [[CHROME, HTML], ['*/*', TEXT], ['application/json', JSON_TYPE]] as const) {
      const res = await app.inject({ url: q(ask), headers: { accept } });
      t.equal(res.statusCode, 500, ask);
      t.equal(res.headers['content-type'], type);
      t.match(res.body, /cannot be shown\. Please contact support\./);
      t.notMatch(res.body, /noserver|bad_name|mail server|username|DNS label|data error/i, 'no internals');
    }
  }
  t.match(rawLogs(), /account noserver: old-era account has no mail server number/, 'the operator learns which account');
  t.notMatch(rawLogs(), /x@unknown\.example|a@broken-old\.example/, 'addresses are never logged');
});

t.test('directory down: 503 with Retry-After, no internals', async (t) => {
  const { app } = await testApp(t, { directory: new DownDirectory() });
  for (const [accept, type] of [[CHROME, HTML], ['*/*', TEXT], ['application/json', JSON_TYPE]] as const) {
    const res = await app.inject({ url: q('jane@newbie.example'), headers: { accept } });
    t.equal(res.statusCode, 503);
    t.equal(res.headers['retry-after'], '30');
    t.equal(res.headers['content-type'], type);
    t.equal(res.headers.vary, 'Accept');
    t.match(res.body, /temporarily unavailable/);
    t.notMatch(res.body, /ECONNREFUSED|5432|password=|secret/);
    if (type === JSON_TYPE) t.equal(JSON.parse(res.body).error, 'service-unavailable');
  }
  const home = await app.inject({ url: '/' });
  t.equal(home.statusCode, 200, 'the form needs no directory');
});

t.test('other methods: 405 with Allow, before any body is read', async (t) => {
  const { app } = await testApp(t);
  for (const url of ['/', '/settings', '/settings?emailaddress=jane@newbie.example', '/SETTINGS']) {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
      const res = await app.inject({ method, url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'emailaddress=jane%40newbie.example' });
      t.equal(res.statusCode, 405, `${method} ${url}`);
      t.equal(res.headers.allow, 'GET, HEAD');
    }
  }
});

t.test('the page template compiles with the others, and refuses a view with a missing field', async (t) => {
  const render = new Templates().get<object>('settings-page.html');
  t.throws(() => render({ title: 'x' }), /not defined/);
});

t.test("the card's links and commands lead to real answers for the same account", async (t) => {
  // An http:// PUBLIC_URL: the POX command is answered directly (no redirect to HTTPS).
  const { app } = await testApp(t, { env: { PUBLIC_URL: 'http://mailconf.test' } });
  const email = 'sales@oldtimer-shop.example';
  const html = (await app.inject({ url: q(email), headers: { accept: CHROME } })).body;
  const unescape = (s: string) => s.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
  const href = (id: string) => unescape(new RegExp(`id="${id}" href="([^"]+)"`).exec(html)![1]!);

  const autoconfig = await app.inject({ url: href('raw-autoconfig') });
  t.equal(autoconfig.statusCode, 200, 'autoconfig link');
  t.match(autoconfig.body, '<hostname>mail123.pair.com</hostname>');
  t.match(autoconfig.body, '<username>sales-oldtimer</username>');

  const pointer = await app.inject({ url: href('raw-autodiscover') });
  t.equal(pointer.statusCode, 200, 'autodiscover.json link');
  t.match(JSON.parse(pointer.body), { Protocol: 'AutodiscoverV1', Url: 'http://mailconf.test/autodiscover/autodiscover.xml' });

  const profile = await app.inject({ url: href('apple-profile') });
  t.equal(profile.statusCode, 200, 'Apple profile link');
  t.match(profile.headers['content-type'], /^application\/x-apple-aspen-config/);
  t.match(profile.body, 'mail123.pair.com');

  // The POX command as shown (HTML-unescaped, as a browser shows it), run by bash with a stub curl.
  const shown = /<pre><code>(curl -H &#x27;Content-Type[\s\S]*?)<\/code><\/pre>/.exec(html)?.[1];
  if (!shown) throw new Error('the POX command is not on the page');
  const command = shown.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
  const args = execFileSync('bash', ['-c', `curl() { printf '%s\\0' "$@"; }\n${command}`], { encoding: 'utf8' }).split('\0');
  t.equal(args[4], 'http://mailconf.test/autodiscover/autodiscover.xml');
  const pox = await app.inject({ method: 'POST', url: new URL(args[4]!).pathname, headers: { 'content-type': args[1]!.slice('Content-Type: '.length) }, payload: args[3]! });
  t.equal(pox.statusCode, 200, 'the POX command');
  t.match(pox.body, '<Server>mail123.pair.com</Server>');
  t.match(pox.body, '<LoginName>sales-oldtimer</LoginName>');
});

t.test('customer-facing autoconfig./autodiscover./ua-auto-config. names carry no page (404), the service names do', async (t) => {
  const { app } = await testApp(t);
  for (const host of ['autoconfig.newbie.example', 'AutoDiscover.NewBie.Example:443', 'autodiscover.unknown.example', 'ua-auto-config.newbie.example']) {
    for (const url of ['/', q('jane@newbie.example')]) {
      const res = await app.inject({ url, headers: { host } });
      t.equal(res.statusCode, 404, `${host}${url}`);
      t.equal(res.body, 'Not found\n');
    }
  }
  for (const host of ['mailconf.pair-test.example', 'autoconfig.pair.com', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'mailconf.fly.dev']) {
    for (const url of ['/', q('jane@newbie.example')]) {
      const res = await app.inject({ url, headers: { host, accept: 'text/html' } });
      t.equal(res.statusCode, 200, `${host}${url}`);
    }
  }
  t.ok(servesPage('autoconfig.pair.com.', { serviceHosts: ['autoconfig.pair.com'] }));
  t.ok(servesPage('AutoConfig.Pair.com:8080', { serviceHosts: ['autoconfig.pair.com'] }));
  t.notOk(servesPage('autoconfig.pair.com', { serviceHosts: [] }));
  t.ok(servesPage(undefined, { serviceHosts: [] }));
});

t.test('characters XML forbids in what was typed: 400 invalid-address, and the form does not echo them', async (t) => {
  const { app } = await testApp(t);
  for (const bad of ['%EF%BF%BE', '%EF%BF%BF', '%01', '%1F', '%7F']) {
    const url = `/settings?emailaddress=ja${bad}ne%40newbie.example`;
    const html = await app.inject({ url, headers: { accept: CHROME } });
    t.equal(html.statusCode, 400, url);
    t.match(byId(html.body, 'problem'), /not a valid email address/);
    t.match(html.body, 'name="emailaddress" value=""', 'the field is left empty');
    t.notMatch(html.body, /ja.?ne/);
    const json = await app.inject({ url, headers: { accept: 'application/json' } });
    t.equal(JSON.parse(json.body).error, 'invalid-address');
  }
});

t.test('headers: an address answer is private, no-store; a domain answer none; a problem private', async (t) => {
  const { app } = await testApp(t);
  for (const accept of [CHROME, 'application/json', '*/*']) {
    const mailbox = await app.inject({ url: q('jane@newbie.example'), headers: { accept } });
    t.equal(mailbox.headers['cache-control'], 'private, no-store', `${accept}: it names the login`);
    pageHeaders(t, mailbox.headers, accept);
    const domain = await app.inject({ url: q('newbie.example'), headers: { accept } });
    t.equal(domain.statusCode, 200);
    t.notOk(domain.headers['cache-control'], `${accept}: the domain's settings name no mailbox`);
    for (const typed of ['jane@unknown.example', 'nobody']) {
      const problem = await app.inject({ url: q(typed), headers: { accept } });
      t.equal(problem.headers['cache-control'], 'private', `${problem.statusCode}: the answer to what one person typed`);
    }
  }
  const form = await app.inject({ url: '/' });
  t.notOk(form.headers['cache-control'], 'the form is the same for everyone');
});

t.test('every page has one h1: the form, a problem and a settings card', async (t) => {
  const { app } = await testApp(t);
  for (const url of ['/', q('jane@newbie.example'), q('newbie.example'), q('jane@'), q('nobody@pair.com')]) {
    const res = await app.inject({ url, headers: { accept: CHROME } });
    t.same(res.body.match(/<h1>[^<]+<\/h1>/g), ['<h1>Set up your mail program</h1>'], `${url}: one h1`);
    t.ok(res.body.indexOf('<h1>') < res.body.indexOf('<form'), `${url}: the h1 comes first`);
  }
});

t.test('nobody@pair.com: no account of that name is known, in the provider profile\'s words', async (t) => {
  const { app } = await testApp(t);
  for (const ask of ['nobody@pair.com', 'NoBody@Pair.com']) {
    const html = await app.inject({ url: q(ask), headers: { accept: CHROME } });
    t.equal(html.statusCode, 404);
    t.equal(
      byId(html.body, 'problem'),
      'No account named &quot;nobody&quot; is known. At pair.com, the part before the @ is the username of your hosting account: check it in your control panel or welcome email.',
    );
    t.notMatch(html.body, /published|not hosted|for this domain|typo/i, 'pair.com is served: never "nothing for this domain"');
    t.match(html.body, `value="${ask}"`, 'what was typed stays in the form');
    const json = JSON.parse((await app.inject({ url: q(ask), headers: { accept: 'application/json' } })).body);
    t.same(json, { error: 'unknown-account', message: 'No account named "nobody" is known. At pair.com, the part before the @ is the username of your hosting account: check it in your control panel or welcome email.' });
  }
  // A placeholder typed into the address is shown as typed, never filled in.
  const braces = await app.inject({ url: q('{domain}@pair.com') });
  t.match(braces.body, /^No account named "\{domain\}" is known\. At pair\.com,/);
  // The page still offers the settings for a known account on the same domain.
  t.equal((await app.inject({ url: q('plainpair@pair.com') })).statusCode, 200);
});

t.test('an unhosted domain: said plainly, with whom to ask; no typo advice', async (t) => {
  const { app } = await testApp(t);
  for (const ask of ['jane@elsewhere.example', 'elsewhere.example', 'jane@newbie.exampel']) {
    const domain = ask.split('@').at(-1)!;
    const html = await app.inject({ url: q(ask), headers: { accept: CHROME } });
    t.equal(html.statusCode, 404, ask);
    t.equal(byId(html.body, 'problem'), `${domain} is not hosted by pair Networks Mail, so there are no settings for it here. Ask your mail provider (whoever hosts mail for ${domain}) for its settings.`);
    t.notMatch(html.body, /typo|did you mean|newbie\.example\b/i, 'no guess, and no hosted domain named');
  }
});

t.test('the provider profile gives the words: usage rules and the unknown-account message', async (t) => {
  const other = { ...defaultProvider, usageRules: ['Only mail you would sign.', 'No bulk mail <of any kind>.'], unknownAccountText: 'Nobody is called {username} at {domain} here.' };
  const dialect = settingsPageDialect(new Templates(), other, PUBLIC);
  const account = { username: 'newbie', created: '2019-10-02', mailServer: null };
  const result = settingsFor({ account, domain: 'newbie.example', address: 'jane@newbie.example' }, other);
  if (!result.ok) throw new Error('fixture');
  const html = String(dialect.answer('html', { kind: 'settings', settings: result.settings }, { domain: 'newbie.example' }, '').body);
  t.match(html, '<li>Only mail you would sign.</li>');
  t.match(html, '<li>No bulk mail &lt;of any kind&gt;.</li>', 'escaped like every value');
  for (const rule of defaultProvider.usageRules) t.notMatch(html, rule, 'the default rules are gone');
  const text = String(dialect.answer('text', { kind: 'settings', settings: result.settings }, { domain: 'newbie.example' }, '').body);
  t.match(text, '  - Only mail you would sign.\n  - No bulk mail <of any kind>.\n');
  const address = { address: 'x@pair.com', localPart: 'X', domain: 'pair.com' };
  const unknown = dialect.answer('text', { kind: 'unknown-domain', domain: 'pair.com' }, { domain: 'pair.com', address }, 'X@pair.com');
  t.equal(unknown.status, 404);
  t.equal(unknown.body, 'Nobody is called x at pair.com here.\n');
});

/** The QR image of a card: its attributes, and the SVG its data URL holds. */
function qrOf(html: string): { svg: string; width: number; height: number; alt: string } | undefined {
  const m = /<img id="apple-profile-qr" src="data:image\/svg\+xml;base64,([A-Za-z0-9+/]+(?:&#x3D;){0,2})" width="(\d+)" height="(\d+)" alt="([^"<>]*)">/.exec(html);
  if (!m) return undefined;
  return { svg: Buffer.from(m[1]!.replace(/&#x3D;/g, '='), 'base64').toString('utf8'), width: Number(m[2]), height: Number(m[3]), alt: m[4]! };
}

/** The dark modules an SVG from uqr draws (`M<x>,<y>h1v1h-1z`, one per module), as a matrix of `size`. */
function modulesOf(svg: string): boolean[][] {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)![1]);
  const grid = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  for (const [, x, y] of svg.matchAll(/M(\d+),(\d+)h1v1h-1z/g)) grid[Number(y)]![Number(x)] = true;
  return grid;
}

t.test('the card has a QR code of the absolute Apple profile URL, drawn on the server, that downloads the profile', async (t) => {
  const { app } = await testApp(t);
  for (const [email, login] of [['jane@newbie.example', 'jane@newbie.example'], ['sales@oldtimer-shop.example', 'sales-oldtimer'], [`o'brien&co@newbie.example`, `o'brien&co@newbie.example`]] as const) {
    const res = await app.inject({ url: q(email), headers: { accept: CHROME } });
    const qr = qrOf(res.body);
    if (!qr) throw new Error(`${email}: no QR code on the card`);
    const url = `${PUBLIC}/mobileconfig?emailaddress=${encodeQueryValue(email)}`;
    t.equal(qr.svg, renderSVG(url, QR_OPTIONS), `${email}: uqr's drawing of ${url}`);
    // Read the modules back from the SVG and compare them with the symbol for the URL.
    const expected = encode(url, { ecc: 'M', border: 4 });
    t.same(modulesOf(qr.svg), expected.data, `${email}: the modules spell the profile URL`);
    t.equal(expected.data.slice(0, 4).flat().filter(Boolean).length, 0, 'a quiet zone of 4 modules (ISO/IEC 18004)');
    t.equal(qr.width, expected.size * 4, 'four CSS pixels per module');
    t.equal(qr.height, qr.width);
    t.equal(qr.alt, `QR code: opens the Apple profile download for ${email.replace(/&/g, '&amp;').replace(/'/g, '&#x27;')}`);
    t.notMatch(qr.svg, /<script|on\w+=|href/i, 'the SVG is modules only');
    t.match(res.body, '<figcaption>Setting up an iPhone or iPad? Point its camera at this code to get the profile on it.</figcaption>');
    // What the camera opens: the profile for this address.
    const profile = await app.inject({ url: new URL(url).pathname + new URL(url).search, headers: { host: new URL(url).host } });
    t.equal(profile.statusCode, 200, `${email}: the QR code's URL downloads the profile`);
    t.match(profile.headers['content-type'], /^application\/x-apple-aspen-config/);
    t.match(profile.body, login.replace(/&/g, '&amp;'));
  }
  const domain = await app.inject({ url: q('newbie.example'), headers: { accept: CHROME } });
  t.notMatch(domain.body, /<img|apple-profile-qr/, 'a domain card has no QR code (a profile needs an address)');
  const problem = await app.inject({ url: q('nobody@pair.com'), headers: { accept: CHROME } });
  t.notMatch(problem.body, /<img/, 'a problem has none');
  const json = JSON.parse((await app.inject({ url: q('jane@newbie.example'), headers: { accept: 'application/json' } })).body);
  t.notMatch(JSON.stringify(json), /svg|qr|base64/i, 'JSON stays the MailSettings: a program has no camera');
});

t.test("the page's CSP lets the QR code (a data: image) show and still forbids every script", async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject({ url: q('jane@newbie.example'), headers: { accept: CHROME } });
  const csp = new Map(String(res.headers['content-security-policy']).split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
  t.same(csp.get('default-src'), ["'none'"], 'default-src none');
  t.notOk(csp.has('script-src') || csp.has('script-src-elem') || csp.has('script-src-attr'), 'no script-src: scripts fall back to default-src none (CSP Level 3 section 6.8.1)');
  t.ok(csp.get('img-src')?.includes('data:'), 'img-src allows data: (the QR code and the icon)');
  t.notMatch(res.body, /<script|\son\w+=|javascript:/i, 'the page has no script');
});
