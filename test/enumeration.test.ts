// Anti-enumeration: a mailbox the directory stores (with a login that is only its own
// address in some letter case) and one it does not know must get byte-identical answers in
// every dialect, for every spelling of the address, once the typed address itself is masked.
// The one documented exception is a stored login override that really differs.
import { createHash } from 'node:crypto';
import t from 'tap';
import { renderSVG } from 'uqr';
import { QR_OPTIONS } from '../src/dialects/settings-page.js';
import { SqliteDirectory } from '../src/directory/sqlite.js';
import { poxRequestBody } from '../src/dialects/autodiscover-pox.js';
import { appleProfileUrl, encodeQueryValue } from '../src/links.js';
import { testApp } from './support/app.js';

const DOMAIN = 'enum.example';

async function directory(): Promise<SqliteDirectory> {
  const d = new SqliteDirectory(':memory:');
  await d.importAccounts(
    [
      {
        username: 'enumacct',
        created: '2019-01-01',
        mailServer: null,
        domains: [DOMAIN],
        mailboxes: [
          { address: `known@${DOMAIN}`, login: `known@${DOMAIN}` },
          { address: `other@${DOMAIN}`, login: `Other@Enum.Example` },
        ],
      },
    ],
    { replace: true },
  );
  return d;
}

interface Request {
  name: string;
  method: 'GET' | 'POST';
  url: (address: string) => string;
  body?: (address: string) => string;
  headers?: Record<string, string>;
}

const REQUESTS: Request[] = [
  { name: 'autoconfig', method: 'GET', url: (a) => `/mail/config-v1.1.xml?emailaddress=${encodeQueryValue(a)}` },
  { name: 'POX', method: 'POST', url: () => '/autodiscover/autodiscover.xml', body: (a) => poxRequestBody(a), headers: { 'content-type': 'text/xml' } },
  { name: 'autodiscover.json', method: 'GET', url: (a) => `/autodiscover/autodiscover.json?Email=${encodeQueryValue(a)}&Protocol=AutodiscoverV1` },
  { name: 'mobileconfig', method: 'GET', url: (a) => `/mobileconfig?emailaddress=${encodeQueryValue(a)}` },
  { name: 'settings (text)', method: 'GET', url: (a) => `/settings?emailaddress=${encodeQueryValue(a)}`, headers: { accept: 'text/plain' } },
  { name: 'settings (JSON)', method: 'GET', url: (a) => `/settings?emailaddress=${encodeQueryValue(a)}`, headers: { accept: 'application/json' } },
  { name: 'settings (HTML)', method: 'GET', url: (a) => `/settings?emailaddress=${encodeQueryValue(a)}`, headers: { accept: 'text/html' } },
];

/** Headers that differ per request whatever was asked. */
const VOLATILE = /^(date|x-ratelimit-.*|request-id)$/;

const PUBLIC = 'http://mailconf.pair-test.example';

/**
 * The settings card's QR code spells the typed address (its profile URL), so it differs
 * for any two addresses, as the address does, stored or not: it must be exactly the code
 * of that address's profile URL, and is then masked (the length with it).
 */
function withoutQr(res: { statusCode: number; headers: Record<string, unknown>; body: string }, address: string) {
  const body = res.body.replace(/data:image\/svg\+xml;base64,([A-Za-z0-9+/]+(?:&#x3D;){0,2})/, (_, data: string) =>
    Buffer.from(data.replace(/&#x3D;/g, '='), 'base64').toString('utf8') === renderSVG(appleProfileUrl(PUBLIC, address), QR_OPTIONS) ? 'QR-OF-THE-PROFILE-URL' : 'QR-OF-SOMETHING-ELSE',
  );
  if (body === res.body) return res;
  return { ...res, body, headers: { ...res.headers, 'content-length': String(Buffer.byteLength(body)) } };
}

/** The answer with the typed local part (and the per-address profile ids) masked. */
function masked(res: { statusCode: number; headers: Record<string, unknown>; body: string }, local: string) {
  const mask = (text: string) =>
    text
      .split(local)
      .join('LOCAL')
      // Apple profile ids are keyed hashes of the address: different for any two addresses.
      .replace(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/g, 'UUID')
      .replace(/mailconf\.[0-9a-f]{32}/g, 'mailconf.ID');
  const headers = Object.fromEntries(
    Object.entries(res.headers)
      .filter(([name]) => !VOLATILE.test(name))
      .map(([name, value]) => [name, mask(String(value))]),
  );
  return { status: res.statusCode, headers, body: mask(res.body) };
}

t.test('a stored mailbox and an unknown one answer alike, in every dialect and every spelling', async (t) => {
  const { app } = await testApp(t, { directory: await directory(), env: { RATE_LIMIT_MAX: '100000', PUBLIC_URL: PUBLIC } });
  const spellings: Array<[string, string]> = [
    ['known', 'xnown'],
    ['KNOWN', 'XNOWN'],
    ['Known', 'Xnown'],
    ['kNoWn', 'xNoWn'],
    ['other', 'ither'],
    ['OTHER', 'ITHER'],
  ];
  for (const r of REQUESTS) {
    for (const [stored, unknown] of spellings) {
      const ask = async (local: string) => {
        const address = `${local}@${DOMAIN}`;
        const res = await app.inject({
          method: r.method,
          url: r.url(address),
          headers: { host: 'mailconf.pair-test.example', ...r.headers },
          ...(r.body ? { payload: r.body(address) } : {}),
        });
        return masked(withoutQr(res, address), local);
      };
      const a = await ask(stored);
      const b = await ask(unknown);
      t.equal(a.status, 200, `${r.name} ${stored}: answered`);
      t.same(a, b, `${r.name}: ${stored}@ and ${unknown}@ are indistinguishable`);
      if (r.name === 'settings (HTML)') t.match(a.body, 'src="QR-OF-THE-PROFILE-URL"', 'the QR code is the one of the typed address');
    }
  }
});

t.test('a real login override is the documented exception', async (t) => {
  const d = await directory();
  await d.importAccounts(
    [{ username: 'enumacct', created: '2019-01-01', mailServer: null, domains: [DOMAIN], mailboxes: [{ address: `known@${DOMAIN}`, login: 'known-imap' }] }],
    { replace: true },
  );
  const { app } = await testApp(t, { directory: d });
  const res = await app.inject({ url: `/mail/config-v1.1.xml?emailaddress=KNOWN%40${DOMAIN}` });
  t.match(res.body, '<username>known-imap</username>');
});

t.test("Evolution's hash of a stored mailbox and of an unknown one answer alike; a real override differs only in the login", async (t) => {
  const d = await directory();
  const { app } = await testApp(t, { directory: d, env: { RATE_LIMIT_MAX: '100000' } });
  const md5 = (address: string) => createHash('md5').update(address.toLowerCase()).digest('hex');
  const ask = async (path: string, hash: string) => {
    const res = await app.inject({ url: `${path}?emailaddress=EVOLUTIONUSER%40${DOMAIN}&emailmd5=${hash}`, headers: { host: 'mailconf.pair-test.example' } });
    return masked(res, 'EVOLUTIONUSER');
  };
  for (const path of ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml']) {
    const unknown = await ask(path, md5(`xnown@${DOMAIN}`));
    t.equal(unknown.status, 200);
    // Stored logins that are only the address itself, in any case: no override, no difference.
    for (const stored of [`known@${DOMAIN}`, `other@${DOMAIN}`, `OTHER@${DOMAIN}`]) t.same(await ask(path, md5(stored)), unknown, `${path}: ${stored} and an unknown mailbox are indistinguishable`);
    t.same(await ask(path, md5(`xnown@${DOMAIN}`).toUpperCase()), unknown, 'the hash in capitals: the same');
  }

  await d.importAccounts(
    [{ username: 'enumacct', created: '2019-01-01', mailServer: null, domains: [DOMAIN], mailboxes: [{ address: `known@${DOMAIN}`, login: 'known-imap' }] }],
    { replace: true },
  );
  const unknown = await ask('/mail/config-v1.1.xml', md5(`xnown@${DOMAIN}`));
  const known = await ask('/mail/config-v1.1.xml', md5(`known@${DOMAIN}`));
  t.match(known.body, '<username>known-imap</username>');
  t.match(unknown.body, '<username>%EMAILADDRESS%</username>');
  t.same(
    { ...known, body: known.body.replaceAll('known-imap', 'LOGIN') },
    { ...unknown, body: unknown.body.replaceAll('%EMAILADDRESS%', 'LOGIN'), headers: { ...unknown.headers, 'content-length': known.headers['content-length'] } },
    'the same status, headers and shape: only the login differs',
  );
});
