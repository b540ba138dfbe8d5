// Property: every JSON answer (autodiscover.json for Outlook, the settings page's JSON) is
// JSON that JSON.parse reads back as exactly the values that went in, for any account,
// login, address and protocol value; or the request was refused with its 400 before any
// lookup.
import fc from 'fast-check';
import t from 'tap';
import { readAutodiscoverJsonRequest } from '../../src/dialects/autodiscover-json.js';
import { settingsPageDialect } from '../../src/dialects/settings-page.js';
import { parseAddress } from '../../src/model/address.js';
import { Templates } from '../../src/templates.js';
import { testApp } from '../support/app.js';
import { addressText, check, checkEqual, domainLevel, hasLoneSurrogate, holds, hostile, percentEncode, profile, scenarios } from './arbitraries.js';

const page = settingsPageDialect(new Templates(), profile, 'https://mailconf.example');
const HOSTED = ['newbie.example', 'oldtimer-shop.example'];

t.test('rendered directly: the settings page JSON is the settings, exactly', async (t) => {
  await holds(t, 'settings JSON round-trip', scenarios, (s) => {
    if (s.kind === 'address-refused') {
      const read = readAutodiscoverJsonRequest({ email: s.address, protocol: 'AutodiscoverV1' });
      check(!read.ok && read.answer.status === 400, 'a refused address is a 400', s.address);
      return;
    }
    if (s.kind !== 'settings') return;
    for (const settings of [s.settings, domainLevel(s.settings)]) {
      const target = settings.address === null ? { domain: settings.domain } : { domain: settings.domain, address: s.address };
      const answer = page.answer('json', { kind: 'settings', settings }, target, settings.address ?? settings.domain);
      checkEqual(JSON.parse(String(answer.body)), settings, 'the settings');
    }
  }, 800);
});

t.test('through the app: autodiscover.json answers JSON for any address and protocol', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '100000', RATE_LIMIT_MISS_MAX: '100000' } });
  const inputs = fc.record({
    address: addressText,
    protocol: fc.oneof(fc.constantFrom('AutodiscoverV1', 'autodiscoverv1', 'ActiveSync', ''), hostile(100)),
    pathForm: fc.boolean(),
  });
  await holds(t, 'GET /autodiscover/autodiscover.json', inputs, async ({ address, protocol, pathForm }) => {
    const url = pathForm
      ? `/autodiscover/autodiscover.json/v1.0/${percentEncode(address)}?Protocol=${percentEncode(protocol)}`
      : `/autodiscover/autodiscover.json?Email=${percentEncode(address)}&Protocol=${percentEncode(protocol)}`;
    const res = await app.inject({ url });
    if (pathForm && (address.includes('/') || hasLoneSurrogate(address))) {
      // A `/` in the address makes another path, and bytes that are not UTF-8 cannot be
      // routed: the router answers (404 or 400), never the dialect.
      return check([400, 404].includes(res.statusCode), 'the router refuses it', [address, res.statusCode]);
    }
    checkEqual(res.headers['content-type'], 'application/json; charset=utf-8', `type for ${url}`);
    const body = JSON.parse(res.body) as Record<string, string>;
    const given = hasLoneSurrogate(protocol) ? '' : protocol;
    if (res.statusCode === 200) {
      const parsed = parseAddress(address);
      check(parsed && HOSTED.includes(parsed.domain), 'a pointer only for a hosted domain', address);
      checkEqual(body, { Protocol: 'AutodiscoverV1', Url: 'https://mailconf.pair-test.example/autodiscover/autodiscover.xml' }, 'pointer');
    } else if (body.ErrorCode === 'InvalidProtocol') {
      const shown = given.length > 64 ? `${given.slice(0, 64)}...` : given;
      checkEqual(body.ErrorMessage, `The given protocol value '${shown}' is invalid. Supported values are 'AutodiscoverV1'`, 'the echo, exactly');
    } else {
      check([400, 404].includes(res.statusCode), 'a client error', [res.statusCode, body]);
    }
  }, 300);
});

t.test('through the app: the settings page JSON for any typed value', async (t) => {
  const { app } = await testApp(t, { env: { RATE_LIMIT_MAX: '100000', RATE_LIMIT_MISS_MAX: '100000' } });
  await holds(t, 'GET /settings (JSON)', fc.record({ address: addressText }), async ({ address }) => {
    const res = await app.inject({ url: `/settings?emailaddress=${percentEncode(address)}`, headers: { accept: 'application/json' } });
    const body = JSON.parse(res.body) as Record<string, unknown>;
    const parsed = hasLoneSurrogate(address) ? undefined : parseAddress(address);
    if (res.statusCode === 200) {
      check(parsed !== undefined, 'settings only for an address', address);
      checkEqual(body.address, parsed.address, 'address');
    } else {
      check([400, 404].includes(res.statusCode), 'a client error', [address, res.statusCode]);
      check(typeof body.error === 'string' && typeof body.message === 'string', 'error and message', body);
    }
  }, 250);
});
