// Property: Outlook's POX answers (settings and errors, the 601 namespace echo included)
// are well-formed XML for any account, login, address and requested schema, read back
// exactly by the strict reader (test/support/xml-reader.ts); and the request reader gives
// back exactly what a client escaped into its body, or refuses the body (error 600).
import fc from 'fast-check';
import t from 'tap';
import {
  autodiscoverPoxDialect,
  ERROR_RESPONSE_SCHEMA,
  MAX_AUTODISCOVER_BODY,
  MOBILESYNC_RESPONSE_SCHEMA,
  parseAutodiscoverRequest,
  poxRequestBody,
  unsupportedSchema,
} from '../../src/dialects/autodiscover-pox.js';
import { parseAddress } from '../../src/model/address.js';
import { Templates } from '../../src/templates.js';
import { testApp } from '../support/app.js';
import { readAutodiscover } from '../support/autodiscover-clients.js';
import { elementsByLocal, parseXml, textOf, type XmlElement } from '../support/xml-reader.js';
import { addressText, check, checkEqual, domainLevel, holds, hostile, hostileUnit, scenarios } from './arbitraries.js';

const dialect = autodiscoverPoxDialect(new Templates());

const only = (el: XmlElement, local: string) => {
  const found = elementsByLocal(el, local);
  check(found.length === 1, `one <${local}> in ${el.path}`, found.length);
  return found[0]!;
};
const response = (xml: string) => only(parseXml(xml), 'Response');

/** A schema as a client might send it: ours, the mobile one, a plausible URI, or anything. */
const schemaText = fc.oneof(
  fc.constantFrom(
    'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a',
    'https://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a',
    MOBILESYNC_RESPONSE_SCHEMA,
  ),
  fc.webUrl(),
  fc.tuple(fc.constantFrom('urn:', 'http://x.example/', 'tag:'), hostile(40)).map(([a, b]) => a + b),
  hostile(60),
);

/** `text` with some characters written as character references, as XML allows (and a CR always: section 2.11). */
const withReferences = (text: string) =>
  fc.array(fc.boolean(), { minLength: [...text].length, maxLength: [...text].length }).map((flags) =>
    [...text].map((ch, i) => {
      if (!flags[i]) return ch.replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' })[c]!);
      const code = ch.codePointAt(0)!;
      return i % 2 ? `&#x${code.toString(16)};` : `&#${code};`;
    }).join(''),
  );

t.test('rendered directly: settings read back exactly, for every mailbox and domain', async (t) => {
  await holds(t, 'POX settings round-trip', scenarios, (s) => {
    if (s.kind !== 'settings') return;
    for (const settings of [s.settings, domainLevel(s.settings)]) {
      const answer = dialect.answer({ kind: 'settings', settings });
      const xml = String(answer.body);
      const protocols = elementsByLocal(only(response(xml), 'Account'), 'Protocol').map((p) => ({
        type: textOf(only(p, 'Type')),
        server: textOf(only(p, 'Server')),
        port: Number(textOf(only(p, 'Port'))),
        login: elementsByLocal(p, 'LoginName').map(textOf),
      }));
      const first = (protocol: string) => [...settings.incoming, ...settings.outgoing].find((x) => x.protocol === protocol)!;
      checkEqual(protocols, ['imap', 'pop3', 'smtp'].map((p) => ({
        type: p.toUpperCase(),
        server: first(p).host,
        port: first(p).port,
        login: settings.login === null ? [] : [settings.login],
      })), 'protocols');
      // And the client models (Thunderbird, Delta Chat) find no problem and the same login.
      const reading = readAutodiscover(xml, 'typed@example.com');
      checkEqual(reading.problems, [], 'client problems');
      checkEqual(reading.thunderbird.incoming?.username, settings.login ?? 'typed@example.com', 'Thunderbird login');
    }
  }, 800);
});

t.test('rendered directly: the 601 error is well-formed and echoes only a safe namespace', async (t) => {
  await holds(t, 'POX 601 namespace', schemaText, (schema) => {
    const namespace = unsupportedSchema(schema);
    if (namespace === undefined) return check(/outlook\/responseschema\/2006a$/i.test(schema), 'only ours is served', schema);
    check([schema, MOBILESYNC_RESPONSE_SCHEMA, ERROR_RESPONSE_SCHEMA].includes(namespace), 'echo, mobile or generic', namespace);
    if (namespace === schema) check(/^[\x21-\x7e]{1,256}$/.test(schema) && !/[<>"{}|\\^`]/.test(schema), 'only URI characters are echoed', schema);
    const xml = dialect.renderError({ code: 601, message: 'Provider is not available', namespace });
    const r = response(xml);
    checkEqual(r.ns, namespace, 'Response namespace');
    checkEqual(textOf(only(only(r, 'Error'), 'ErrorCode')), '601', 'ErrorCode');
  }, 1000);
});

t.test('the request reader: exactly what the client escaped, or a refusal', async (t) => {
  const inputs = fc.record({ address: addressText, schema: schemaText }).chain(({ address, schema }) =>
    fc.record({ address: fc.constant(address), schema: fc.constant(schema), encoded: withReferences(address) }),
  );
  await holds(t, 'parseAutodiscoverRequest(poxRequestBody(...))', inputs, ({ address, schema, encoded }) => {
    const plain = parseAutodiscoverRequest(poxRequestBody(address, schema));
    const referenced = parseAutodiscoverRequest(poxRequestBody('x', schema).replace('<EMailAddress>x<', () => `<EMailAddress>${encoded}<`));
    const forbidden = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
    for (const [parse, how] of [[plain, 'escaped'], [referenced, 'as references']] as const) {
      if (forbidden.test(address) || forbidden.test(schema)) {
        check(!parse.ok, `${how}: a character XML forbids is refused`, address);
        continue;
      }
      check(parse.ok, `${how}: readable`, [address, schema, parse]);
      // The reader trims the text around a value (before references are decoded), and so
      // does everything that reads the value; nothing else changes.
      checkEqual((parse.request.emailAddress ?? '').trim(), address.trim(), `${how}: address`);
      checkEqual((parse.request.acceptableResponseSchema ?? '').trim(), schema.trim(), `${how}: schema`);
    }
  }, 1000);
});

t.test('through the app: any body gives well-formed XML: settings for that address, or an error', async (t) => {
  // Every XML answer is also read by the client-rules checker (test/support/app.ts).
  const { app } = await testApp(t, { env: { TRUST_PROXY: '127.0.0.1', RATE_LIMIT_MAX: '100000', RATE_LIMIT_MISS_MAX: '100000' } });
  const inputs = fc.record({
    address: addressText,
    schema: fc.option(schemaText, { freq: 3 }),
    junk: fc.option(fc.string({ unit: hostileUnit, maxLength: 40 }), { freq: 4 }),
  });
  await holds(t, 'POST /autodiscover/autodiscover.xml', inputs, async ({ address, schema, junk }) => {
    let body = poxRequestBody(address, schema ?? undefined);
    if (junk !== null) body = body.replace('<Request>', () => `<Request>${junk}`);
    const res = await app.inject({ method: 'POST', url: '/autodiscover/autodiscover.xml', payload: body, headers: { 'content-type': 'text/xml', 'x-forwarded-proto': 'https' } });
    if (Buffer.byteLength(body) > MAX_AUTODISCOVER_BODY) return checkEqual(res.statusCode, 413, 'too big');
    checkEqual(res.statusCode, 200, `status for ${JSON.stringify(body)}`);
    const r = response(res.body);
    const error = elementsByLocal(r, 'Error')[0];
    const parsed = parseAddress(address);
    const served = unsupportedSchema(schema ?? undefined) === undefined;
    if (junk === null && served && parsed && ['newbie.example', 'oldtimer-shop.example'].includes(parsed.domain) && !/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body)) {
      check(error === undefined, 'settings, not an error', res.body);
      const expected = parsed.address.toLowerCase() === 'sales@oldtimer-shop.example' ? 'sales-oldtimer' : parsed.address;
      for (const login of elementsByLocal(only(r, 'Account'), 'Protocol').map((p) => textOf(only(p, 'LoginName')))) checkEqual(login, expected, 'LoginName');
    } else if (error) {
      check(['500', '600', '601'].includes(textOf(only(error, 'ErrorCode'))), 'a client error', textOf(only(error, 'ErrorCode')));
    }
  }, 300);
});
