// Property: an Apple configuration profile (Apple's Configuration Profile Reference, "Mail")
// is a well-formed XML property list for any account, login and address, read back by
// test/support/plist-reader.ts (fast-xml-parser plus Apple's plist rules, sharing no code
// with the `plist` writer) as exactly the value that was built; the dialect never throws,
// and an address that is not one gets the 400 before anything is rendered.
import fc from 'fast-check';
import t from 'tap';
import { mobileconfigDialect, mobileconfigIds, mobileconfigValue, readMobileconfigRequest, renderMobileconfig } from '../../src/dialects/mobileconfig.js';
import { parseAddress } from '../../src/model/address.js';
import { testApp } from '../support/app.js';
import { readPlist, type PlistData } from '../support/plist-reader.js';
import { addressText, check, checkEqual, hasLoneSurrogate, holds, percentEncode, scenarios } from './arbitraries.js';

const SECRET = 'property-secret-0123456789';
const dialect = mobileconfigDialect(SECRET);
type Dict = { [key: string]: PlistData };

t.test('rendered directly: the plist reads back as exactly the value built, and names the login', async (t) => {
  await holds(t, 'plist round-trip', scenarios, async (s) => {
    if (s.kind === 'address-refused') {
      const read = readMobileconfigRequest(s.address);
      check(!read.ok && read.answer.status === 400, 'a refused address is a 400', s.address);
      return;
    }
    if (s.kind !== 'settings') return;
    const ids = mobileconfigIds(SECRET, s.settings.address!, s.settings.provider.id);
    const value = mobileconfigValue(s.settings, ids);
    const read = readPlist(renderMobileconfig(s.settings, ids)) as Dict;
    checkEqual(read, value as unknown as Dict, 'the whole profile');
    const mail = (read.PayloadContent as Dict[])[0]!;
    checkEqual(mail.EmailAddress, s.settings.address, 'EmailAddress');
    checkEqual(mail.IncomingMailServerUsername, s.settings.login, 'IncomingMailServerUsername');
    checkEqual(mail.OutgoingMailServerUsername, s.settings.login, 'OutgoingMailServerUsername');
    const answer = await dialect.answer({ kind: 'settings', settings: s.settings });
    checkEqual(answer.status, 200, 'status');
    checkEqual(answer.headers?.['cache-control'], 'private, no-store', 'cache-control');
  }, 600);
});

t.test('through the app: any emailaddress gives a readable profile for that address, or a 4xx in plain text', async (t) => {
  const ctx = await testApp(t, { env: { MAILCONF_SECRET: SECRET, RATE_LIMIT_MAX: '100000', RATE_LIMIT_MISS_MAX: '100000' } });
  const { app } = ctx;
  await holds(t, 'GET /mobileconfig?emailaddress=<anything>', fc.record({ address: addressText }), async ({ address }) => {
    const res = await app.inject({ url: `/mobileconfig?emailaddress=${percentEncode(address)}` });
    const parsed = hasLoneSurrogate(address) ? undefined : parseAddress(address);
    if (parsed && ['newbie.example', 'oldtimer-shop.example'].includes(parsed.domain)) {
      checkEqual(res.statusCode, 200, `status for ${JSON.stringify(address)}`);
      const mail = ((readPlist(res.body) as Dict).PayloadContent as Dict[])[0]!;
      checkEqual(mail.EmailAddress, parsed.address, 'EmailAddress');
    } else {
      check([400, 404].includes(res.statusCode), 'a client error', [address, res.statusCode]);
      checkEqual(res.headers['content-type'], 'text/plain; charset=utf-8', 'plain text');
    }
  }, 300);
  t.same(ctx.logs.filter((l) => (l.level as number) >= 50), [], 'nothing logged as an error');
});
