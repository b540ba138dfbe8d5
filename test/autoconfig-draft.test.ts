// The provider-side requirements of draft-ietf-mailmaint-autoconfig-06 that no other test
// file shows, one case per requirement, named by its section (docs/autoconfig-draft.md holds
// the whole table). Every XML answer also goes through the client-rules checker.
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { defaultProvider } from '../src/policy/provider-profile.js';
import { send, testApp } from './support/app.js';

const PATH = '/mail/config-v1.1.xml';
const q = (address: string) => `?emailaddress=${encodeURIComponent(address)}`;
/** SERVICE_HOSTS unset: the service's own names are PUBLIC_URL's host and the MX-based defaults. */
const DEFAULT_NAMES = { SERVICE_HOSTS: '' };

t.test('3.2.3: the answer names the MX base domains as <domain purpose="mx">; Thunderbird keeps the customer domain', async (t) => {
  const { app } = await testApp(t);
  for (const [url, email] of [[PATH + q('jane@newbie.example'), 'jane@newbie.example'], [PATH, undefined]] as const) {
    const { res, autoconfig } = await send(t, app, { url, headers: { host: 'autoconfig.newbie.example' } }, email ?? 'sam@newbie.example');
    t.equal(res.statusCode, 200);
    t.match(
      res.body,
      '    <domain>newbie.example</domain>\n    <domain purpose="mx">pair.com</domain>\n    <domain purpose="mx">pairserver.com</domain>\n',
      'the customer domain, then each MX base domain',
    );
    t.same(autoconfig!.clients.thunderbird.domains, ['newbie.example'], 'Thunderbird skips the attributed elements (JXON)');
    t.same(autoconfig!.clients['thunderbird-android'].domains, ['newbie.example', 'pair.com', 'pairserver.com']);
    t.equal(autoconfig!.clients.thunderbird.incoming?.hostname, 'newbie.mail.pairserver.com');
  }
});

t.test('4.3 and 6.2: autoconfig.<MX base domain> is the service\'s own name and answers for the customer the address names', async (t) => {
  const { app, config } = await testApp(t, { env: DEFAULT_NAMES });
  t.same(config.serviceHosts, ['mailconf.pair-test.example'], 'nothing configured beyond PUBLIC_URL');
  for (const host of ['autoconfig.pairserver.com', 'autoconfig.pair.com']) {
    // Thunderbird: https://autoconfig.<MX base>/mail/config-v1.1.xml?emailaddress=<the customer's address>
    for (const [email, mailHost] of [['bob@newbie.example', 'newbie.mail.pairserver.com'], ['bob@oldtimer-shop.example', 'mail123.pair.com']] as const) {
      const { res, autoconfig } = await send(t, app, { url: PATH + q(email), headers: { host } }, email);
      t.equal(res.statusCode, 200, `${host} ${email}`);
      t.equal(res.headers['content-type'], 'text/xml; charset=utf-8');
      t.equal(autoconfig!.clients.thunderbird.incoming?.hostname, mailHost);
      t.match(res.body, `<domain>${email.split('@')[1]}</domain>`);
    }
    // Thunderbird for Android asks without the address: no customer to answer for (a gap).
    const bare = await app.inject({ url: PATH, headers: { host } });
    t.equal(bare.statusCode, 404, `${host} without an address`);
    t.equal(bare.headers['content-type'], 'text/plain; charset=utf-8');
    // The TLS terminator may get a certificate for the name (HTTPS only: Thunderbird's MX step never uses HTTP).
    const tls = await app.inject({ url: `/tls-allowed?domain=${host}` });
    t.equal(tls.statusCode, 200, `/tls-allowed ${host}`);
  }
  for (const notOurs of ['autoconfig.mail.pairserver.com', 'autoconfig.example-hoster.com']) {
    t.equal((await app.inject({ url: `/tls-allowed?domain=${notOurs}` })).statusCode, 404, `${notOurs} is not ours`);
  }
});

t.test('4.3: the names follow the provider profile (another hoster\'s MX hosts, or none)', async (t) => {
  const other = await testApp(t, { env: DEFAULT_NAMES, profile: { ...defaultProvider, mxHosts: ['mx1.eu.mailhost.example'] } });
  const { res } = await send(t, other.app, { url: PATH + q('jane@newbie.example') }, 'jane@newbie.example');
  t.match(res.body, '<domain>newbie.example</domain>\n    <domain purpose="mx">mailhost.example</domain>\n    <displayName>');
  for (const host of ['autoconfig.eu.mailhost.example', 'autoconfig.mailhost.example']) {
    t.equal((await other.app.inject({ url: `/tls-allowed?domain=${host}` })).statusCode, 200, `${host}: MXFULLDOMAIN and MXBASEDOMAIN`);
  }
  t.equal((await other.app.inject({ url: '/tls-allowed?domain=autoconfig.pairserver.com' })).statusCode, 404);

  const none = await testApp(t, { env: DEFAULT_NAMES, profile: { ...defaultProvider, mxHosts: [] } });
  const plain = await send(t, none.app, { url: PATH + q('jane@newbie.example') }, 'jane@newbie.example');
  t.notMatch(plain.res.body, 'purpose=');
  t.equal((await none.app.inject({ url: '/tls-allowed?domain=autoconfig.pairserver.com' })).statusCode, 404, 'no MX hosts: no MX-based names');
});

t.test('6.3: the configuration is public and needs no authentication; credentials sent anyway change nothing', async (t) => {
  const { app } = await testApp(t);
  const url = PATH + q('jane@newbie.example');
  const anonymous = await app.inject({ url });
  t.equal(anonymous.statusCode, 200);
  t.notOk(anonymous.headers['www-authenticate'], 'no authentication challenge');
  const withCredentials = await app.inject({ url, headers: { authorization: `Basic ${Buffer.from('jane:secret').toString('base64')}`, cookie: 'session=1' } });
  t.equal(withCredentials.statusCode, 200);
  t.equal(withCredentials.body, anonymous.body);
});

t.test('4.1 step 1.3: plain HTTP gets the same answer as HTTPS, never a redirect', async (t) => {
  const { app } = await testApp(t, { env: { TRUST_PROXY: 'true' } });
  const url = PATH + q('jane@newbie.example');
  const https = await app.inject({ url, headers: { host: 'autoconfig.newbie.example', 'x-forwarded-proto': 'https' } });
  const http = await app.inject({ url, headers: { host: 'autoconfig.newbie.example', 'x-forwarded-proto': 'http' } });
  t.equal(https.statusCode, 200);
  t.equal(http.statusCode, 200, 'KMail and FairEmail need the 200 itself');
  t.notOk(http.headers.location);
  t.equal(http.body, https.body);
});

t.test('3.2.4 and 3.9: display names within the SHOULD lengths; none of the elements the draft dropped', async (t) => {
  const { app } = await testApp(t);
  const { res } = await send(t, app, { url: PATH + q('jane@newbie.example') }, 'jane@newbie.example');
  const text = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(res.body)?.[1] ?? '';
  t.ok([...text('displayName')].length <= 30, `displayName "${text('displayName')}" is at most 30 characters (SHOULD; 60 MUST, checkProvider)`);
  t.ok([...text('displayShortName')].length <= 12, `displayShortName "${text('displayShortName')}" is at most 12 characters (SHOULD; 20 MUST)`);
  for (const dropped of ['webMail', 'enable', 'instruction', 'inputField', 'password', 'addThisServer', 'useGlobalPreferredServer', 'oAuth2', 'clientConfigUpdate', 'pop3']) {
    t.notMatch(res.body, new RegExp(`<${dropped}[ >/]`), `no <${dropped}>`);
  }
  t.notMatch(res.body, /<socketType>plain</, 'plain is deprecated: never offered');
});

t.test('docs/autoconfig-draft.md names only test files and cases that exist', async (t) => {
  const doc = readFileSync(new URL('../docs/autoconfig-draft.md', import.meta.url), 'utf8');
  const cited = [...doc.matchAll(/`(test\/[^`]+\.ts)`(?::\s*([^;|]+))?/g)];
  t.ok(cited.length > 20, 'the table cites its tests');
  for (const [, file, rest] of cited) {
    const url = new URL(`../${file}`, import.meta.url);
    t.ok(existsSync(url), `${file} exists`);
    if (rest === undefined || !existsSync(url)) continue;
    // The case as quoted: up to an ellipsis or a parenthesis, without Markdown code marks.
    const name = rest.split('…')[0]!.split(' (')[0]!.replaceAll('`', '').trim();
    const source = readFileSync(url, 'utf8').replaceAll("\\'", "'");
    t.ok(source.includes(`t.test('${name}`) || source.includes(`t.test("${name}`), `${file}: a case named "${name}…"`);
  }
});
