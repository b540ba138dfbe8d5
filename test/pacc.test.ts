// PACC (draft-ietf-mailmaint-pacc): GET/HEAD /.well-known/user-agent-configuration.json on
// ua-auto-config.<domain>. The body's bytes are checked by the client against a SHA-256
// digest in DNS, so they must be the same on every request and every instance.
import { createHash } from 'node:crypto';
import t from 'tap';
import { PACC_REVISION, PACC_TTL_SECONDS, paccBody, paccDigest, paccDomainOfHost, paccRecordDigest, paccTxtRecord } from '../src/dialects/pacc.js';
import { SAMPLE_DOMAIN_SETTINGS } from '../src/dialects/sample.js';
import { PACC_PATH } from '../src/links.js';
import { DownDirectory, testApp } from './support/app.js';

const get = (host: string, method: 'GET' | 'HEAD' = 'GET') => ({ method, url: PACC_PATH, headers: { host } });

t.test('the document of a hosted domain: the era host for IMAP, POP3 and submission, password, the provider', async (t) => {
  const { app } = await testApp(t);
  const res = await app.inject(get('ua-auto-config.newbie.example'));
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/json', 'no charset: the body is ASCII');
  t.equal(res.headers['cache-control'], `public, max-age=${PACC_TTL_SECONDS}`, 'kept no longer than the TXT record');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['content-encoding'], undefined, 'never compressed: the digest is of these bytes');
  t.equal(
    res.body,
    '{"protocols":{"imap":{"host":"newbie.mail.pairserver.com"},"pop3":{"host":"newbie.mail.pairserver.com"},' +
      '"submit":{"host":"newbie.mail.pairserver.com"}},"authentication":{"password":true},' +
      '"info":{"provider":{"name":"pair Networks Mail","shortName":"pair Mail"},"help":{"documentation":"https://www.pair.com/support/kb/"}}}',
    `the ${PACC_REVISION} shape, keys in a fixed order, no whitespace, no trailing newline`,
  );
  t.same(Object.keys(JSON.parse(res.body)), ['protocols', 'authentication', 'info']);
  const old = await app.inject(get('ua-auto-config.lastday.example'));
  t.equal(old.statusCode, 200);
  t.equal(JSON.parse(old.body).protocols.imap.host, 'mail12.pair.com', 'the old era host');
});

t.test('byte-stable: every request, HEAD, any Host spelling, another instance, the same bytes', async (t) => {
  const one = await testApp(t);
  const two = await testApp(t, { env: { MAILCONF_SECRET: 'another-instance-secret-0123456789' } });
  const bodies = new Set<string>();
  for (const host of ['ua-auto-config.newbie.example', 'UA-Auto-Config.Newbie.EXAMPLE', 'ua-auto-config.newbie.example.', 'ua-auto-config.newbie.example:443']) {
    for (const { app } of [one, two]) {
      for (let i = 0; i < 2; i++) {
        const res = await app.inject(get(host));
        t.equal(res.statusCode, 200, host);
        bodies.add(res.rawPayload.toString('latin1'));
      }
    }
  }
  t.equal(bodies.size, 1, 'one body');
  const head = await one.app.inject(get('ua-auto-config.newbie.example', 'HEAD'));
  t.equal(head.statusCode, 200, 'HEAD');
  t.equal(head.body, '');
  t.equal(head.headers['content-type'], 'application/json');
  const [body] = [...bodies];
  t.match(body, /^[\x20-\x7e]+$/, 'ASCII only, no newline');
  t.equal(paccDigest(Buffer.from(body!, 'latin1')), createHash('sha256').update(body!).digest('base64'));
});

t.test('no document where it would not work, or for no hosted domain', async (t) => {
  const { app } = await testApp(t);
  const notFound = [
    'ua-auto-config.oldtimer-shop.example', // a mailbox there has its own stored login
    'ua-auto-config.pair.com', // account-named: the login is the bare username
    'ua-auto-config.unknown.example',
    'newbie.example', // the document is found by its Host only: ua-auto-config.<domain>
    'autoconfig.newbie.example',
    'mailconf.pair-test.example',
    'ua-auto-config.example',
    'x.ua-auto-config.newbie.example',
  ];
  for (const host of notFound) {
    const res = await app.inject(get(host));
    t.equal(res.statusCode, 404, host);
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8', host);
  }
  t.equal((await app.inject(get('ua-auto-config.broken-old.example'))).statusCode, 500, 'account data that gives no host');
});

t.test('other methods 405; a directory that is down 503', async (t) => {
  const { app } = await testApp(t);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const res = await app.inject({ method, url: PACC_PATH, headers: { host: 'ua-auto-config.newbie.example' } });
    t.equal(res.statusCode, 405, method);
    t.equal(res.headers.allow, 'GET, HEAD');
  }
  const down = await testApp(t, { directory: new DownDirectory() });
  const res = await down.app.inject(get('ua-auto-config.newbie.example'));
  t.equal(res.statusCode, 503);
  t.ok(res.headers['retry-after']);
});

t.test('the host reader and the body builder', async (t) => {
  t.equal(paccDomainOfHost('ua-auto-config.her-shop.example'), 'her-shop.example');
  t.equal(paccDomainOfHost('her-shop.example'), undefined);
  t.equal(paccDomainOfHost('ua-auto-config.'), undefined);
  t.equal(paccDomainOfHost(undefined), undefined);
  const body = paccBody({ ...SAMPLE_DOMAIN_SETTINGS, provider: { ...SAMPLE_DOMAIN_SETTINGS.provider, displayName: 'Ex\u00e4mple "Mail" </script>' } })!;
  t.match(body, /^[\x20-\x7e]+$/, 'non-ASCII text escaped');
  t.equal(JSON.parse(body).info.provider.name, 'Ex\u00e4mple "Mail" </script>', 'escaped by construction, read back exactly');
  const starttlsFirst = paccBody({
    ...SAMPLE_DOMAIN_SETTINGS,
    incoming: [{ protocol: 'imap', host: 'h.example', port: 143, security: 'starttls' }, { protocol: 'pop3', host: 'h.example', port: 995, security: 'tls' }],
    outgoing: [],
  })!;
  t.same(Object.keys(JSON.parse(starttlsFirst).protocols), ['pop3'], 'a protocol whose first choice is not implicit TLS on its port is left out');
  t.equal(paccBody({ ...SAMPLE_DOMAIN_SETTINGS, incoming: [], outgoing: [] }), undefined, 'nothing to name: no document');
});

t.test('the integrity record: written and read', async (t) => {
  const d = paccDigest('{}');
  t.equal(paccTxtRecord(d), `v=UAAC1; a=sha256; d=${d}`);
  t.equal(paccRecordDigest(paccTxtRecord(d)), d);
  t.equal(paccRecordDigest(`d=${d};a=sha256;v=UAAC1;`), d, 'tags in another order, no spaces, a final ;');
  t.equal(paccRecordDigest(`  v = uaac1 ;  A=SHA256 ; x=unknown; d=${d}  `), d, 'spaces, case of names and tags, unknown tags');
  t.equal(paccRecordDigest(`v=UAAC2; a=sha256; d=${d}`), undefined, 'another version');
  t.equal(paccRecordDigest(`v=UAAC1; a=sha512; d=${d}`), undefined, 'another algorithm');
  t.equal(paccRecordDigest('v=UAAC1; a=sha256'), undefined, 'no digest');
  t.equal(paccRecordDigest(`v=UAAC1; a=sha256; d=${d}; d=${d}`), undefined, 'a tag twice');
  t.equal(paccRecordDigest('v=spf1 -all'), undefined, 'another record');
});
