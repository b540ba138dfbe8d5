// Property: `mailconf dns` prints zone-file lines (RFC 1035 section 5.1) of exactly one
// shape for any customer domain and account: two comment lines, then one record per line,
// `<owner> <ttl> IN CNAME|SRV <data> ; <comment>`, every owner name under the domain and
// every target the service or the account's mail host, absolute; or the domain was
// refused (normalizeDomain, as the command does) before anything was rendered.
import fc from 'fast-check';
import t from 'tap';
import { renderDnsZone } from '../../src/dialects/dns-zone.js';
import { normalizeDomain } from '../../src/model/address.js';
import { settingsFor } from '../../src/policy/settings.js';
import { check, checkEqual, dnsLabel, domainText, holds, profile } from './arbitraries.js';

const LABEL = '[a-z0-9_](?:[a-z0-9-]*[a-z0-9])?';
const FQDN = `(?:${LABEL}\\.)+`;
const RECORD = new RegExp(`^(${FQDN}) +(\\d+) IN (CNAME|SRV) +(?:(${FQDN})|(\\d+) (\\d+) (\\d+) (${FQDN})) * ; [A-Za-z0-9 ,()]+$`);

const inputs = fc.record({
  domain: domainText,
  serviceHost: fc.oneof(fc.constant('mailconf.pair.com'), fc.domain()),
  username: dnsLabel,
  era: fc.constantFrom('old' as const, 'new' as const),
  mailServer: fc.integer({ min: 1, max: 1_000_000 }),
  ttl: fc.option(fc.integer({ min: 0, max: 2_147_483_647 }), { nil: undefined }),
});

t.test('zone lines: one exact shape for any domain and account, or the domain is refused', async (t) => {
  await holds(t, 'renderDnsZone', inputs, (i) => {
    const domain = normalizeDomain(i.domain);
    const serviceHost = normalizeDomain(i.serviceHost);
    if (!domain || !serviceHost) return; // `mailconf dns` refuses it with a usage error
    const account = { username: i.username, created: i.era === 'old' ? '2009-03-14' : '2019-10-02', mailServer: i.era === 'old' ? i.mailServer : null };
    const result = settingsFor({ account, domain }, profile);
    check(result.ok, 'a DNS-label username and a mail server number always give a host', result);
    const { settings } = result;
    const zone = renderDnsZone({ domain, serviceHost, settings, ttl: i.ttl });
    check(zone.endsWith('\n') && !/[\r\t\v\f\u0085\u2028\u2029]/.test(zone), 'lines end in \\n alone', zone);
    const lines = zone.slice(0, -1).split('\n');
    checkEqual(lines[0], `; ${domain}: records for mail-client auto-setup (mailconf dns)`, 'first comment');
    checkEqual(lines[1], `; service: ${serviceHost}; mail host: ${settings.host}`, 'second comment');
    const records = lines.slice(2);
    checkEqual(records.length, 3 + settings.incoming.length + settings.outgoing.length, 'one record per line');
    for (const line of records) {
      const m = RECORD.exec(line);
      check(m, 'a record line', line);
      const [, owner, ttl, type, cnameTarget, , , port, srvTarget] = m;
      check(owner!.endsWith(`.${domain}.`), 'the owner is under the domain', line);
      checkEqual(Number(ttl), i.ttl ?? 3600, 'ttl');
      const target = type === 'CNAME' ? cnameTarget : srvTarget;
      check(target === `${serviceHost}.` || target === `${settings.host}.`, 'the target is the service or the mail host', line);
      if (type === 'SRV') check(Number(port) >= 1 && Number(port) <= 65535, 'a port', line);
    }
  }, 1000);
});
