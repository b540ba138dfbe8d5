// The hostile corpus: what scanners and attackers send, byte for byte, each with the
// outcome the service must give. Sent over raw TCP by corpus.test.ts to the real server
// (started with the short bounds in CORPUS_ENV) while a well-behaved client keeps asking.
import { poxRequest } from '../support/app.js';
import { request } from './raw-client.js';

export interface HostileCase {
  name: string;
  pieces: ReadonlyArray<string | Buffer>;
  gapMs?: number;
  /** The statuses of the answers, in order; alternatives where either is right. */
  expect: readonly number[] | { anyOf: ReadonlyArray<readonly number[]> };
  /** The server must end the connection (not our time limit), within this case's time. */
  closes?: boolean;
  /** The exchange ends here at the latest (default 3 s). */
  timeoutMs?: number;
  /** The first answer's body must match. */
  body?: RegExp;
  /** No answer's body or headers may match (what would prove a leak or an injection). */
  never?: RegExp;
  head?: boolean;
}

/** The bounds the corpus server runs with: short, so the slow cases take seconds. */
export const CORPUS_ENV = {
  HEADERS_TIMEOUT: '1s',
  REQUEST_TIMEOUT: '2s',
  KEEP_ALIVE_TIMEOUT: '1s',
  MAX_CONNECTIONS_PER_CLIENT: '16',
  RATE_LIMIT_MAX: '1000000',
};

const HOST = 'autoconfig.newbie.example';
const AC = '/mail/config-v1.1.xml';
const POX = '/autodiscover/autodiscover.xml';
const get = (target: string, headers: readonly string[] = []) => request('GET', target, { host: HOST, headers });
const post = (body: string, headers: readonly string[] = []) => request('POST', POX, { host: 'autodiscover.newbie.example', headers: ['Content-Type: text/xml', ...headers], body });
const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const drip = (first: string, byte: string, n: number) => [first, ...new Array<string>(n).fill(byte)];

const REQUEST_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
const poxWith = (doctype: string, address: string) =>
  `<?xml version="1.0"?>${doctype}<Autodiscover xmlns="${REQUEST_NS}"><Request><EMailAddress>${address}</EMailAddress>` +
  `<AcceptableResponseSchema>${RESPONSE_NS}</AcceptableResponseSchema></Request></Autodiscover>`;
const laughs = `<!DOCTYPE a [<!ENTITY l0 "ha">${Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('')}]>`;

/** The slow cases, run side by side: each must be closed by the server within seconds. */
export const SLOW_CASES: HostileCase[] = [
  { name: 'slow headers: a header byte every 300 ms', pieces: drip(`GET ${AC} HTTP/1.1\r\nHost: ${HOST}\r\nX-Slow: `, 'a', 20), gapMs: 300, expect: [408], closes: true, timeoutMs: 5000 },
  { name: 'trickled body: a byte every 300 ms', pieces: drip(`POST ${POX} HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 400\r\n\r\n<`, 'a', 20), gapMs: 300, expect: [408], closes: true, timeoutMs: 5000 },
  { name: 'stalled chunked body', pieces: [`POST ${POX} HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n<Autodiscover xm\r\n`], expect: [], closes: true, timeoutMs: 5000 },
  { name: 'announced body never sent', pieces: [`POST ${POX} HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 300\r\n\r\n`], expect: [], closes: true, timeoutMs: 5000 },
  { name: 'a connection that never speaks', pieces: [], expect: [], closes: true, timeoutMs: 5000 },
  { name: 'idle keep-alive after an answer', pieces: [get(AC)], expect: [200], closes: true, timeoutMs: 5000 },
  { name: 'a pipelined second request that stalls', pieces: [`${get(AC)}GET ${AC} HTTP/1.1\r\nHo`], expect: [200, 408], closes: true, timeoutMs: 5000 },
];

/** The quick cases, one after the other. */
export const CASES: HostileCase[] = [
  // Encoding: invalid UTF-8, NUL, CR/LF, in the path, the query and the headers.
  { name: 'invalid UTF-8 percent-encoded in the path', pieces: [get('/%C0%AF%C0%AF/etc/passwd')], expect: [400], body: /^Bad request\n$/ },
  { name: 'a truncated percent escape in the path', pieces: [get('/mail/%E0%A4%A')], expect: [400] },
  { name: 'raw invalid UTF-8 bytes in the path', pieces: [bytes('GET /', [0xc0, 0xaf, 0xff, 0xfe], ` HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`)], expect: [400], closes: true },
  { name: 'invalid UTF-8 percent-encoded in the address', pieces: [get(`${AC}?emailaddress=%FF%FE%40newbie.example`)], expect: [200], body: /<domain>newbie\.example<\/domain>/ },
  { name: 'raw invalid UTF-8 bytes in the query', pieces: [bytes(`GET ${AC}?emailaddress=`, [0xff, 0xfe], `%40newbie.example HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`)], expect: [400], closes: true },
  { name: 'raw invalid UTF-8 in a header value', pieces: [bytes(`GET ${AC} HTTP/1.1\r\nHost: ${HOST}\r\nX-Junk: `, [0xff, 0xfe, 0xc0], '\r\n\r\n')], expect: [200] },
  { name: 'NUL percent-encoded in the address', pieces: [get(`${AC}?emailaddress=jane%00%40newbie.example`)], expect: [200], never: /jane/ },
  { name: 'NUL raw in the request line', pieces: [bytes(`GET ${AC}?x=`, [0], ` HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`)], expect: [400], closes: true },
  { name: 'NUL raw in a header value', pieces: [bytes(`GET ${AC} HTTP/1.1\r\nHost: ${HOST}\r\nX-Nul: a`, [0], 'b\r\n\r\n')], expect: [400], closes: true },
  { name: 'CR LF percent-encoded in the query (header injection)', pieces: [get(`${AC}?emailaddress=jane%40newbie.example%0D%0AX-Injected:%20yes`)], expect: [200], never: /x-injected/i },
  { name: 'CR LF percent-encoded in the path', pieces: [get('/%0D%0AX-Injected:%20yes')], expect: [404], never: /x-injected/i },
  { name: 'a bare CR in a header value', pieces: [`GET ${AC} HTTP/1.1\r\nHost: ${HOST}\r\nX-A: a\rX-Injected: yes\r\n\r\n`], expect: [400], closes: true },
  { name: 'bare LF line ends', pieces: [`GET ${AC} HTTP/1.1\nHost: ${HOST}\n\n`], expect: [400], closes: true },
  { name: 'a space inside a header name', pieces: [`GET ${AC} HTTP/1.1\r\nHost: ${HOST}\r\nX Bad: a\r\n\r\n`], expect: [400], closes: true },
  { name: 'obs-fold (a continuation line)', pieces: [`GET ${AC} HTTP/1.1\r\nHost: ${HOST}\r\nX-A: a\r\n folded\r\n\r\n`], expect: [400], closes: true },

  // Size: query strings, URLs, headers.
  { name: 'a 5 KiB query string', pieces: [get(`${AC}?emailaddress=${'a'.repeat(5000)}%40newbie.example`)], expect: [414] },
  { name: 'a 20 KiB URL', pieces: [get(`/${'a'.repeat(20_000)}`)], expect: [431], closes: true },
  { name: 'a 20 KiB header', pieces: [get(AC, [`X-Big: ${'a'.repeat(20_000)}`])], expect: [431], closes: true },
  { name: '300 small headers', pieces: [get(AC, Array.from({ length: 300 }, (_, i) => `X-H${i}: ${i}`))], expect: [200] },
  { name: 'a 10 KiB Host', pieces: [request('GET', AC, { host: `${'a'.repeat(63)}.`.repeat(160) })], expect: [404] },

  // Path traversal, in every spelling.
  ...['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/mail/..%2f..%2f..%2fetc%2fpasswd', '/.well-known/autoconfig/../../../etc/passwd',
    '/mail/config-v1.1.xml/../../../etc/passwd', '/..\\..\\..\\etc\\passwd', '/%252e%252e/%252e%252e/etc/passwd', '/templates/autoconfig.hbs', '/../package.json', '/data/directory.db']
    .map((target): HostileCase => ({ name: `traversal ${target}`, pieces: [get(target)], expect: [404], never: /root:|"name": "mailconf"|SQLite format|\{\{/ })),

  // Request smuggling: the service must refuse the ambiguity, answer once, and close.
  { name: 'CL.TE: Content-Length and Transfer-Encoding', pieces: [post('0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n', ['Content-Length: 5', 'Transfer-Encoding: chunked'])], expect: [400], closes: true },
  { name: 'TE.CL: Transfer-Encoding first', pieces: [post('5\r\nhello\r\n0\r\n\r\n', ['Transfer-Encoding: chunked', 'Content-Length: 3'])], expect: [400], closes: true },
  { name: 'two differing Content-Lengths', pieces: [post('abcdefGET /smuggled HTTP/1.1\r\n\r\n', ['Content-Length: 3', 'Content-Length: 6'])], expect: [400], closes: true },
  { name: 'two equal Content-Lengths', pieces: [post('abc', ['Content-Length: 3', 'Content-Length: 3'])], expect: [400], closes: true },
  { name: 'a Content-Length list', pieces: [post('abc', ['Content-Length: 3, 3'])], expect: [400], closes: true },
  { name: 'a signed Content-Length', pieces: [post('abc', ['Content-Length: +3'])], expect: [400], closes: true },
  { name: 'a negative Content-Length', pieces: [post('abc', ['Content-Length: -1'])], expect: [400], closes: true },
  { name: 'TE obfuscated: xchunked', pieces: [post('3\r\nabc\r\n0\r\n\r\n', ['Transfer-Encoding: xchunked'])], expect: [400], closes: true },
  { name: 'TE obfuscated: chunked, identity', pieces: [post('3\r\nabc\r\n0\r\n\r\n', ['Transfer-Encoding: chunked, identity'])], expect: [400], closes: true },
  { name: 'TE obfuscated: a space before the colon', pieces: [post('3\r\nabc\r\n0\r\n\r\n', ['Transfer-Encoding : chunked'])], expect: [400], closes: true },
  { name: 'TE obfuscated: a second TE line', pieces: [post('3\r\nabc\r\n0\r\n\r\n', ['Transfer-Encoding: chunked', 'Transfer-Encoding: x'])], expect: [400], closes: true },
  { name: 'TE obfuscated: a vertical tab', pieces: [post('3\r\nabc\r\n0\r\n\r\n', ['Transfer-Encoding:\x0bchunked'])], expect: [400], closes: true },
  { name: 'a chunk size that overflows', pieces: [post('ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n', ['Transfer-Encoding: chunked'])], expect: [400], closes: true },
  { name: 'a GET with a body carrying a second request', pieces: [request('GET', AC, { host: HOST, body: `GET /smuggled HTTP/1.1\r\nHost: ${HOST}\r\n\r\n` })], expect: [200], closes: true, never: /smuggled/ },

  // Pipelining.
  { name: '10 pipelined lookups', pieces: [get(`${AC}?emailaddress=jane%40newbie.example`).repeat(10)], expect: new Array<number>(10).fill(200) },
  { name: '200 pipelined health checks', pieces: [request('GET', '/healthz', { host: HOST }).repeat(200)], expect: new Array<number>(200).fill(200) },
  { name: 'a POST then a GET, pipelined', pieces: [post(poxRequest('jane@newbie.example')) + get(AC)], expect: [200, 200] },

  // Methods.
  { name: 'PROPFIND', pieces: [request('PROPFIND', '/', { host: HOST })], expect: [404] },
  { name: 'TRACE', pieces: [request('TRACE', AC, { host: HOST })], expect: [404], never: /X-Trace-Me/ },
  { name: 'DELETE on an endpoint', pieces: [request('DELETE', AC, { host: HOST })], expect: [405] },
  { name: 'an unknown method', pieces: [request('FOO', AC, { host: HOST })], expect: [400], closes: true },
  { name: 'a lower-case method', pieces: [request('get', AC, { host: HOST })], expect: [400], closes: true },
  { name: 'CONNECT', pieces: [`CONNECT ${HOST}:443 HTTP/1.1\r\nHost: ${HOST}:443\r\n\r\n`], expect: [], closes: true },
  { name: 'OPTIONS *', pieces: [request('OPTIONS', '*', { host: HOST })], expect: [405] },
  { name: 'GET *', pieces: [request('GET', '*', { host: 'mailconf.localhost' })], expect: [400] },
  { name: 'HEAD on autoconfig', pieces: [request('HEAD', AC, { host: HOST })], head: true, expect: [200] },
  { name: 'a WebSocket upgrade (answered as an ordinary request)', pieces: [get(AC, ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='])], expect: [200] },
  { name: 'HTTP/2 prior knowledge', pieces: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], expect: [400], closes: true },
  { name: 'HTTP/0.9 (never completes a head)', pieces: [`GET ${AC}\r\n`], expect: [], closes: true },
  { name: 'HTTP/9.9', pieces: [`GET ${AC} HTTP/9.9\r\nHost: ${HOST}\r\n\r\n`], expect: [400], closes: true },
  { name: 'a TLS ClientHello on the plain port', pieces: [bytes([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03], 'x'.repeat(64))], expect: [400], closes: true },

  // Host: one field line, a valid one, the absolute-form target first.
  { name: 'two Host headers', pieces: [`GET ${AC} HTTP/1.1\r\nHost: ${HOST}\r\nHost: autoconfig.oldtimer-shop.example\r\n\r\n`], expect: [400] },
  { name: 'a Host port of letters', pieces: [request('GET', AC, { host: `${HOST}:http` })], expect: [400] },
  { name: 'an absolute-form target with another Host', pieces: [`GET http://${HOST}${AC} HTTP/1.1\r\nHost: autoconfig.oldtimer-shop.example\r\n\r\n`], expect: [200], body: /<domain>newbie\.example<\/domain>/, never: /oldtimer/ },
  { name: 'a forged X-Forwarded-Host (no proxy trusted)', pieces: [get(AC, ['X-Forwarded-Host: autoconfig.oldtimer-shop.example'])], expect: [200], never: /oldtimer/ },

  // ProxyShell and other Exchange probes: refused without a lookup or a redirect.
  ...['/autodiscover/autodiscover.json?@x.com/owa/?&Email=autodiscover/autodiscover.json%3F@x.com',
    '/autodiscover/autodiscover.json?@x.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@x.com',
    '/autodiscover/autodiscover.json?@x.com/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dz&Email=autodiscover/autodiscover.json%3F@x.com',
    '/autodiscover/autodiscover.json?@x.com/autodiscover/autodiscover.xml?&Email=autodiscover/autodiscover.json%3F@x.com']
    .map((target): HostileCase => ({ name: `ProxyShell ${target.slice(0, 60)}`, pieces: [get(target)], expect: [400], never: /^location:/im })),
  ...['/owa/', '/ecp/default.aspx', '/mapi/nspi/', '/powershell', '/EWS/Exchange.asmx', '/rpc/rpcproxy.dll', '/aspnet_client/x.aspx']
    .map((target): HostileCase => ({ name: `Exchange probe ${target}`, pieces: [get(target)], expect: [404] })),

  // Hostile POX bodies: no entity is ever expanded, nothing is fetched, sizes are capped.
  { name: 'XXE: an external file entity', pieces: [post(poxWith('<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "file:///etc/passwd">]>', '&x;'))], expect: [200], body: /<ErrorCode>600<\/ErrorCode>/, never: /root:/ },
  { name: 'XXE: an external URL entity', pieces: [post(poxWith('<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "http://127.0.0.1:1/x">]>', '&x;'))], expect: [200], body: /<ErrorCode>600<\/ErrorCode>/ },
  { name: 'XXE: a parameter entity', pieces: [post(poxWith('<!DOCTYPE Autodiscover [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>', 'jane@newbie.example'))], expect: [200], body: /<ErrorCode>600<\/ErrorCode>/, never: /root:/ },
  { name: 'billion laughs', pieces: [post(poxWith(laughs, '&l9;'))], expect: [200], body: /<ErrorCode>600<\/ErrorCode>/, never: /haha/ },
  { name: 'deep nesting', pieces: [post(`${'<a>'.repeat(1000)}${'</a>'.repeat(1000)}`)], expect: { anyOf: [[200], [413]] } },
  { name: 'many siblings', pieces: [post(`<Autodiscover>${'<a/>'.repeat(900)}</Autodiscover>`)], expect: { anyOf: [[200], [413]] } },
  { name: 'a 1 MiB body', pieces: [post('<'.repeat(1 << 20))], expect: [413], closes: true },
  { name: 'a 10 GB Content-Length', pieces: [`POST ${POX} HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 10000000000\r\n\r\n<`], expect: [413], closes: true },
  { name: 'invalid UTF-8 in the body', pieces: [bytes(`POST ${POX} HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 6\r\n\r\n<`, [0xff, 0xfe, 0xc0], '/>')], expect: [200], body: /<ErrorCode>600<\/ErrorCode>/ },
  { name: 'Expect: 100-continue', pieces: [post(poxRequest('jane@newbie.example'), ['Expect: 100-continue'])], expect: [100, 200] },
];
