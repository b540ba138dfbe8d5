// `mailconf dns DOMAIN`: the zone-file lines a customer domain publishes. The renderer is
// tested on policy settings directly; the command through `main`, as in cli.test.ts.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { settingsFor, type MailSettings } from '../src/policy/settings.js';
import { defaultProvider } from '../src/policy/provider-profile.js';
import { dnsRecords, renderDnsZone } from '../src/dialects/dns-zone.js';
import { PACC_TTL_SECONDS, paccDigest, paccPublication, paccRecordDigest } from '../src/dialects/pacc.js';
import { PACC_PATH } from '../src/links.js';
import { testApp } from './support/app.js';
import { fixtureDirectory, runCli } from './support/cli.js';

const mailconf = runCli;

function settingsOf(account: { username: string; created: string; mailServer: number | null }, domain: string): MailSettings {
  const result = settingsFor({ account, domain }, defaultProvider);
  if (!result.ok) throw new Error(result.error.detail);
  return result.settings;
}

const OLD = settingsOf({ username: 'oldtimer', created: '2009-03-14', mailServer: 123 }, 'oldtimer-shop.example');
const NEW = settingsOf({ username: 'hershop', created: '2021-04-19', mailServer: null }, 'her-shop.example');

/** Zone lines without comments: [name, ttl, class, type, ...data]. */
function records(zone: string): string[][] {
  return zone
    .split('\n')
    .map((l) => l.replace(/;.*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/));
}

// Owner names, a TTL, IN, then CNAME <fqdn> or SRV <priority> <weight> <port> <fqdn>.
const LABEL = '[a-z0-9_]([a-z0-9-]*[a-z0-9])?';
const FQDN = new RegExp(`^(${LABEL}\\.)+$`);

t.test('the records: CNAMEs and autodiscover SRV to the service, RFC 6186/8314 SRV to the era host', async (t) => {
  const zone = renderDnsZone({ domain: 'oldtimer-shop.example', serviceHost: 'mailconf.pair.com', settings: OLD });
  t.same(records(zone), [
    ['autoconfig.oldtimer-shop.example.', '3600', 'IN', 'CNAME', 'mailconf.pair.com.'],
    ['autodiscover.oldtimer-shop.example.', '3600', 'IN', 'CNAME', 'mailconf.pair.com.'],
    ['_autodiscover._tcp.oldtimer-shop.example.', '3600', 'IN', 'SRV', '0', '0', '443', 'mailconf.pair.com.'],
    ['_submissions._tcp.oldtimer-shop.example.', '3600', 'IN', 'SRV', '0', '0', '465', 'mail123.pair.com.'],
    ['_submission._tcp.oldtimer-shop.example.', '3600', 'IN', 'SRV', '10', '0', '587', 'mail123.pair.com.'],
    ['_imaps._tcp.oldtimer-shop.example.', '3600', 'IN', 'SRV', '0', '0', '993', 'mail123.pair.com.'],
    ['_imap._tcp.oldtimer-shop.example.', '3600', 'IN', 'SRV', '10', '0', '143', 'mail123.pair.com.'],
    ['_pop3s._tcp.oldtimer-shop.example.', '3600', 'IN', 'SRV', '20', '0', '995', 'mail123.pair.com.'],
    ['_pop3._tcp.oldtimer-shop.example.', '3600', 'IN', 'SRV', '30', '0', '110', 'mail123.pair.com.'],
  ]);
  const newEra = records(renderDnsZone({ domain: 'her-shop.example', serviceHost: 'mailconf.pair.com', settings: NEW }));
  t.same(newEra.filter((r) => r[3] === 'SRV' && r[7] !== 'mailconf.pair.com.').map((r) => r[7]), Array(6).fill('hershop.mail.pairserver.com.'));
  for (const r of [...records(zone), ...newEra]) {
    t.match(r[0], FQDN, `${r[0]}: an absolute owner name`);
    t.match(r[r.length - 1], FQDN, `${r[0]}: an absolute target`);
    if (r[3] === 'SRV') t.equal(r.length, 8, `${r[0]}: priority, weight, port, target`);
  }
  t.match(zone, /^; oldtimer-shop\.example: /, 'starts with a comment naming the domain');
  t.ok(zone.endsWith('\n'));
});

t.test('priorities follow RFC 6186: one order across IMAP and POP3, one across submission', async (t) => {
  const rs = dnsRecords({ domain: 'x.example', serviceHost: 'svc.example', settings: OLD }).filter((r) => r.type === 'SRV');
  const priority = (service: string) => Number(rs.find((r) => r.name.startsWith(`${service}._tcp.`))!.data.split(' ')[0]);
  // implicit TLS before STARTTLS, IMAP before POP3: lower is preferred
  t.ok(priority('_imaps') < priority('_imap'));
  t.ok(priority('_imap') < priority('_pop3s'));
  t.ok(priority('_pop3s') < priority('_pop3'));
  t.ok(priority('_submissions') < priority('_submission'));
});

t.test('ports, order and hosts come from the settings, not from the renderer', async (t) => {
  const custom: MailSettings = {
    ...OLD,
    incoming: [
      { protocol: 'pop3', host: 'pop.example', port: 1995, security: 'tls' },
      { protocol: 'imap', host: 'imap.example', port: 1993, security: 'tls' },
    ],
    outgoing: [{ protocol: 'smtp', host: 'smtp.example', port: 1587, security: 'starttls' }],
  };
  const srv = records(renderDnsZone({ domain: 'x.example', serviceHost: 'svc.example', settings: custom })).filter((r) => r[3] === 'SRV');
  t.same(srv.map((r) => [r[0], ...r.slice(4)]), [
    ['_autodiscover._tcp.x.example.', '0', '0', '443', 'svc.example.'],
    ['_submission._tcp.x.example.', '0', '0', '1587', 'smtp.example.'],
    ['_pop3s._tcp.x.example.', '0', '0', '1995', 'pop.example.'],
    ['_imaps._tcp.x.example.', '10', '0', '1993', 'imap.example.'],
  ]);
});

/** A directory file with the accounts the command needs, and a runner bound to it. */
function workspace(t: Test) {
  const dir = t.testdir();
  const url = `sqlite:${join(dir, 'd.db')}`;
  const file = join(dir, 'accounts.json');
  writeFileSync(
    file,
    JSON.stringify({
      accounts: [
        { username: 'oldtimer', created: '2009-03-14', mailServer: 123, domains: ['oldtimer-shop.example'] },
        { username: 'hershop', created: '2021-04-19', domains: ['her-shop.example'] },
        { username: 'noserver', created: '2005-01-01', domains: ['broken-old.example'] }, // a data error (imported on purpose)
        { username: 'pairuser', created: '2015-08-20' },
      ],
    }),
  );
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => mailconf([...argv, '--directory', url], env);
  return { url, file, run };
}

function failsWithOneLine(t: Test, r: Awaited<ReturnType<typeof mailconf>>, code: number, pattern: RegExp) {
  t.equal(r.code, code, `exit status ${code}`);
  t.equal(r.errLines.length, 1, `one line on stderr: ${JSON.stringify(r.stderr)}`);
  t.match(r.errLines[0], /^mailconf: /);
  t.match(r.errLines[0], pattern);
  t.equal(r.stdout, '', 'nothing on stdout');
}

t.test('mailconf dns prints the zone for an old-era and a new-era domain', async (t) => {
  const w = workspace(t);
  t.equal((await mailconf(['import', w.file, '--allow-data-errors', '--directory', w.url])).code, 0);
  const old = await w.run(['dns', 'oldtimer-shop.example', '--public-url', 'https://mailconf.pair.com']);
  t.equal(old.code, 0, old.stderr);
  t.equal(old.stderr, '');
  const mxServiceHosts = ['autoconfig.pair.com', 'autoconfig.pairserver.com'];
  const pacc = (settings: MailSettings) => paccPublication({ kind: 'settings', settings, addressIsEveryLogin: true });
  t.equal(old.stdout, renderDnsZone({ domain: 'oldtimer-shop.example', serviceHost: 'mailconf.pair.com', settings: OLD, mxServiceHosts, pacc: pacc(OLD) }));
  t.match(old.stdout, /^; without these, clients follow the domain's MX and try the service's own names autoconfig\.pair\.com, autoconfig\.pairserver\.com$/m, 'names the MX-based names');
  const fresh = await w.run(['dns', 'Her-Shop.EXAMPLE.', '--public-url=https://MailConf.Pair.com:8443/base/']);
  t.equal(fresh.code, 0, fresh.stderr);
  t.equal(fresh.stdout, renderDnsZone({ domain: 'her-shop.example', serviceHost: 'mailconf.pair.com', settings: NEW, mxServiceHosts, pacc: pacc(NEW) }));
});

t.test('the service host: --public-url, else PUBLIC_URL; one is required and must name a DNS host', async (t) => {
  const w = workspace(t);
  await mailconf(['import', w.file, '--allow-data-errors', '--directory', w.url]);
  const fromEnv = await w.run(['dns', 'her-shop.example'], { PUBLIC_URL: 'https://env.pair.example' });
  t.equal(fromEnv.code, 0);
  t.match(fromEnv.stdout, /^autoconfig\.her-shop\.example\.\s+3600 IN CNAME env\.pair\.example\./m);
  const both = await w.run(['dns', 'her-shop.example', '--public-url', 'https://option.pair.example'], { PUBLIC_URL: 'https://env.pair.example' });
  t.match(both.stdout, 'CNAME option.pair.example.', 'the option wins');
  t.notMatch(both.stdout, 'env.pair.example');

  failsWithOneLine(t, await w.run(['dns', 'her-shop.example']), 2, /--public-url URL or set PUBLIC_URL/);
  failsWithOneLine(t, await w.run(['dns', 'her-shop.example'], { PUBLIC_URL: '' }), 2, /PUBLIC_URL/);
  for (const bad of ['not a url', 'ftp://files.pair.example', 'http://localhost:8080', 'https://127.0.0.1', 'https://[::1]:8443', 'https://10.1.2.3/']) {
    failsWithOneLine(t, await w.run(['dns', 'her-shop.example', '--public-url', bad]), 2, /^mailconf: dns: /);
  }
  failsWithOneLine(t, await w.run(['dns', 'her-shop.example', '--public-url']), 2, /option --public-url needs a value/);
  failsWithOneLine(t, await w.run(['lookup', 'her-shop.example', '--public-url', 'https://x.example']), 2, /--public-url does not apply to lookup/);
});

t.test('mailconf dns failures: one line, non-zero exit', async (t) => {
  const w = workspace(t);
  const url = ['--public-url', 'https://mailconf.pair.com'];
  failsWithOneLine(t, await w.run(['dns', 'her-shop.example', ...url]), 1, /no directory at/);
  await mailconf(['import', w.file, '--allow-data-errors', '--directory', w.url]);
  failsWithOneLine(t, await w.run(['dns', 'unknown.example', ...url]), 1, /no account serves unknown\.example/);
  failsWithOneLine(t, await w.run(['dns', 'broken-old.example', ...url]), 1, /data error in account "noserver": old-era account has no mail server number/);
  failsWithOneLine(t, await w.run(['dns', 'pair.com', ...url]), 1, /pair\.com is an account-named domain/);
  for (const bad of ['jane@her-shop.example', 'not a domain', 'localhost', 'her_shop.example', '<script>.example', 'a..b']) {
    failsWithOneLine(t, await w.run(['dns', bad, ...url]), 2, /is not a domain name/);
  }
  failsWithOneLine(t, await w.run(['dns', ...url]), 2, /dns: missing DOMAIN; usage: mailconf dns DOMAIN/);
  failsWithOneLine(t, await w.run(['dns', 'a.example', 'b.example', ...url]), 2, /unexpected argument "b\.example"/);
});

t.test('help documents the command and its option', async (t) => {
  const help = await mailconf(['--help']);
  t.match(help.stdout, /^ {2}dns DOMAIN \[--public-url URL\]/m);
  t.match(help.stdout, /--public-url URL dns: .*\n.*\(default: \$PUBLIC_URL;/);
});

t.test('--fly-certs: the fly certs add commands for the names a hosted domain points at the service', async (t) => {
  const w = workspace(t);
  await mailconf(['import', w.file, '--allow-data-errors', '--directory', w.url]);
  const certs = await w.run(['dns', 'Her-Shop.Example', '--fly-certs']);
  t.equal(certs.code, 0);
  t.equal(
    certs.stdout,
    'fly certs add autoconfig.her-shop.example\nfly certs add autodiscover.her-shop.example\nfly certs add ua-auto-config.her-shop.example\n',
    'no public URL needed; ua-auto-config where a PACC document is published',
  );
  failsWithOneLine(t, await w.run(['dns', 'nobody.example', '--fly-certs']), 1, /no account serves nobody\.example/);
  failsWithOneLine(t, await w.run(['lookup', 'her-shop.example', '--fly-certs']), 2, /--fly-certs does not apply to lookup/);
});

/** The PACC lines of a zone: the CNAME's target and the TXT record's text, or the comment saying why none. */
function paccLines(zone: string) {
  const cname = /^ua-auto-config\.\S+\s+(\d+) IN CNAME (\S+)/m.exec(zone);
  const txt = /^_ua-auto-config\.\S+\s+(\d+) IN TXT\s+"([^"]*)"/m.exec(zone);
  const none = /^; no PACC records \(ua-auto-config, _ua-auto-config\): (.*)$/m.exec(zone);
  return { cname: cname?.[2], txtTtl: txt ? Number(txt[1]) : undefined, txt: txt?.[2], why: none?.[1] };
}

t.test('PACC: the ua-auto-config CNAME and the digest TXT record; the served bytes hash to the printed digest', async (t) => {
  const url = await fixtureDirectory(t);
  const { app } = await testApp(t);
  for (const domain of ['newbie.example', 'lastday.example', 'firstday.example']) {
    const zone = await mailconf(['dns', domain, '--public-url', 'https://mailconf.pair.com', '--directory', url]);
    t.equal(zone.code, 0, zone.stderr);
    const lines = paccLines(zone.stdout);
    t.equal(lines.cname, 'mailconf.pair.com.', `${domain}: the CNAME to the service`);
    t.equal(lines.txtTtl, PACC_TTL_SECONDS, 'the TXT record lives as long as the document may be kept');
    t.match(lines.txt, /^v=UAAC1; a=sha256; d=[A-Za-z0-9+/]{43}=$/);
    const served = await app.inject({ url: PACC_PATH, headers: { host: `ua-auto-config.${domain}` } });
    t.equal(served.statusCode, 200);
    t.equal(paccRecordDigest(lines.txt!), paccDigest(served.rawPayload), `${domain}: the served bytes hash to the printed digest`);
    t.match(served.headers['cache-control'], new RegExp(`max-age=${PACC_TTL_SECONDS}$`), 'max-age no longer than the TTL');
  }
  const newbie = paccLines((await mailconf(['dns', 'newbie.example', '--public-url', 'https://mailconf.pair.com', '--directory', url])).stdout);
  const lastday = paccLines((await mailconf(['dns', 'lastday.example', '--public-url', 'https://mailconf.pair.com', '--directory', url])).stdout);
  t.not(newbie.txt, lastday.txt, 'another host, another digest');

  // A mailbox at the domain with its own stored login: no document, and the zone says why.
  const stored = await mailconf(['dns', 'oldtimer-shop.example', '--public-url', 'https://mailconf.pair.com', '--directory', url]);
  t.equal(stored.code, 0);
  const none = paccLines(stored.stdout);
  t.equal(none.cname, undefined);
  t.equal(none.txt, undefined);
  t.match(none.why, /own stored login.*no login field/);
  t.equal((await app.inject({ url: PACC_PATH, headers: { host: 'ua-auto-config.oldtimer-shop.example' } })).statusCode, 404, 'and none is served');
  const certs = await mailconf(['dns', 'oldtimer-shop.example', '--fly-certs', '--directory', url]);
  t.notMatch(certs.stdout, 'ua-auto-config', 'no certificate for a name that would 404');
  const named = await mailconf(['dns', 'pair.com', '--public-url', 'https://mailconf.pair.com', '--directory', url]);
  t.equal(named.code, 1);
  t.match(named.stderr, /account-named domain.*nor a PACC document: its login is the bare username/);
});
