// Property: for any account, login, domain and address, the autoconfig answer is
// well-formed XML (read by the strict reader in test/support/xml-reader.ts, which shares no
// code with Handlebars) and gives back exactly the domain, host and login that went in; or
// the input never reached the template (refused by import validation or parseAddress).
import fc from 'fast-check';
import t from 'tap';
import { ADDRESS_PLACEHOLDER, autoconfigDialect, readAutoconfigRequest } from '../../src/dialects/autoconfig.js';
import { parseAddress } from '../../src/model/address.js';
import { Templates } from '../../src/templates.js';
import { testApp } from '../support/app.js';
import { elements, parseXml, textOf, type XmlElement } from '../support/xml-reader.js';
import { addressText, check, checkEqual, domainLevel, hasLoneSurrogate, holds, percentEncode, scenarios } from './arbitraries.js';

const dialect = autoconfigDialect(new Templates());

const child = (el: XmlElement, name: string) => {
  const found = elements(el, name);
  check(found.length === 1, `one <${name}> in ${el.path}`, found.length);
  return found[0]!;
};

/** What the strict reader finds in an autoconfig document. */
function readConfig(xml: string) {
  const root = parseXml(xml);
  check(root.name === 'clientConfig', 'the root is clientConfig');
  const provider = child(root, 'emailProvider');
  const servers = [...elements(provider, 'incomingServer'), ...elements(provider, 'outgoingServer')].map((s) => ({
    type: s.attrs.get('type'),
    hostname: textOf(child(s, 'hostname')),
    port: Number(textOf(child(s, 'port'))),
    username: textOf(child(s, 'username')),
  }));
  // One plain <domain>, the one asked about; then the provider's MX base domains, purpose="mx".
  const domains = elements(provider, 'domain');
  const plain = domains.filter((d) => d.attrs.size === 0);
  check(plain.length === 1, `one plain <domain> in ${provider.path}`, plain.length);
  const mxDomains = domains.filter((d) => d.attrs.get('purpose') === 'mx' && d.attrs.size === 1).map(textOf);
  check(mxDomains.length + 1 === domains.length, 'every other <domain> is purpose="mx"', domains.length);
  return { id: provider.attrs.get('id'), domain: textOf(plain[0]!), mxDomains, displayName: textOf(child(provider, 'displayName')), servers };
}

t.test('rendered directly: well-formed, and exactly the values that went in', async (t) => {
  await holds(t, 'autoconfig XML round-trips', scenarios, (s) => {
    if (s.kind === 'import-refused') return check(s.problems.length > 0, 'a refused import says why');
    if (s.kind === 'address-refused') {
      // A malformed address counts as absent: only the Host can name the domain.
      const target = readAutoconfigRequest(s.address, undefined);
      return check(target === undefined || target.address === undefined, 'a refused address is never a target', target);
    }
    if (s.kind === 'data-error') return checkEqual(dialect.answer({ kind: 'data-error', error: s.error }).status, 500, 'data error');
    for (const settings of [s.settings, domainLevel(s.settings)]) {
      const answer = dialect.answer({ kind: 'settings', settings });
      checkEqual(answer.status, 200, 'status');
      const read = readConfig(String(answer.body));
      checkEqual(read.id, settings.provider.id, 'provider id');
      checkEqual(read.domain, settings.domain, 'domain');
      checkEqual(read.displayName, settings.provider.displayName, 'displayName');
      const expected = [...settings.incoming, ...settings.outgoing].map((x) => ({
        type: x.protocol,
        hostname: x.host,
        port: x.port,
        // A login with `%` is the placeholder (clients substitute inside values); a stored
        // one cannot be, and import refuses it.
        username: settings.login === null || settings.login.includes('%') ? ADDRESS_PLACEHOLDER : settings.login,
      }));
      checkEqual(read.servers, expected, 'servers');
    }
  }, 1000);
});

t.test('through the app: any emailaddress gives well-formed XML for that address, or is treated as absent', async (t) => {
  const ctx = await testApp(t, { env: { RATE_LIMIT_MAX: '100000', RATE_LIMIT_MISS_MAX: '100000' } });
  const { app } = ctx;
  const logsOf = () => ctx.logs.filter((l) => (l.level as number) >= 40).slice(-2);
  const inputs = fc.record({ address: addressText, hostKnown: fc.boolean() });
  await holds(t, 'GET /mail/config-v1.1.xml?emailaddress=<anything>', inputs, async ({ address, hostKnown }) => {
    const host = hostKnown ? 'autoconfig.newbie.example' : 'mailconf.pair-test.example';
    const res = await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=${percentEncode(address)}`, headers: { host } });
    // The lone-surrogate form is undecodable and dropped: absent, like a malformed one.
    const parsed = hasLoneSurrogate(address) ? undefined : parseAddress(address);
    const hosted = parsed && ['newbie.example', 'oldtimer-shop.example'].includes(parsed.domain);
    if (parsed && hosted) {
      checkEqual(res.statusCode, 200, `status for ${JSON.stringify(address)}`);
      const read = readConfig(res.body);
      checkEqual(read.domain, parsed.domain, 'domain');
      checkEqual(read.mxDomains, ['pair.com', 'pairserver.com'], 'the MX base domains of the built-in profile');
      // No stored login for these: the login is the address as parsed (or the placeholder
      // for it, when it holds a `%`).
      const username = parsed.address.toLowerCase() === 'sales@oldtimer-shop.example' ? 'sales-oldtimer'
        : parsed.address.includes('%') ? ADDRESS_PLACEHOLDER : parsed.address;
      for (const server of read.servers) checkEqual(server.username, username, 'username');
      checkEqual(res.headers['cache-control'], 'private, no-store', 'cache-control');
    } else if (!parsed && hostKnown) {
      checkEqual(res.statusCode, 200, `absent address, Host names the domain: ${JSON.stringify(address)}`);
      for (const server of readConfig(res.body).servers) checkEqual(server.username, ADDRESS_PLACEHOLDER, 'username');
    } else {
      check(res.statusCode === 404 || res.statusCode === 200, 'no 5xx', [res.statusCode, res.body, logsOf()]);
      if (res.statusCode === 200) readConfig(res.body);
      else checkEqual(res.headers['content-type'], 'text/plain; charset=utf-8', 'a 404 is plain text');
    }
    checkEqual(res.headers['x-content-type-options'], 'nosniff', 'nosniff');
  }, 300);
});
