import t from 'tap';
import { readAutoconfig, type ClientServer } from './support/autoconfig-clients.js';
import { readAutodiscover } from './support/autodiscover-clients.js';
import { parseXml, textOf, elements } from './support/xml-reader.js';

// ---------------------------------------------------------------------------------------
// Autoconfig fixtures: a good document and small building blocks for bad ones.

const EMAIL = 'alice@example.org';

const fields = (hostname: string, port: number | string, socketType: string, username = '%EMAILADDRESS%', auth = '<authentication>password-cleartext</authentication>'): string =>
  `<hostname>${hostname}</hostname><port>${port}</port><socketType>${socketType}</socketType><username>${username}</username>${auth}`;
const imap = (body = fields('mail.provider.net', 993, 'SSL')): string => `<incomingServer type="imap">${body}</incomingServer>`;
const pop3 = (body = fields('mail.provider.net', 995, 'SSL')): string => `<incomingServer type="pop3">${body}</incomingServer>`;
const smtp = (body = fields('mail.provider.net', 465, 'SSL')): string => `<outgoingServer type="smtp">${body}</outgoingServer>`;

function config(servers: string = imap() + smtp(), provider = '<domain>example.org</domain><displayName>Provider Mail</displayName><displayShortName>Provider</displayShortName>', id = 'provider.net'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${id}">
    ${provider}
    ${servers}
  </emailProvider>
</clientConfig>
`;
}

const server = (type: string, hostname: string, port: number, socketType: string, username = EMAIL, authentication = 'password-cleartext'): ClientServer => ({
  type,
  hostname,
  port,
  socketType,
  username,
  authentication,
});

t.test('a good document: no problems, every client reads the same first servers', async (t) => {
  const r = readAutoconfig(config(imap() + imap(fields('mail.provider.net', 143, 'STARTTLS')) + pop3() + smtp() + smtp(fields('mail.provider.net', 587, 'STARTTLS'))), EMAIL);
  t.same(r.problems, []);
  const tb = r.clients.thunderbird;
  t.same(tb.incoming, server('imap', 'mail.provider.net', 993, 'SSL'));
  t.same(tb.incomingAlternatives, [server('imap', 'mail.provider.net', 143, 'STARTTLS'), server('pop3', 'mail.provider.net', 995, 'SSL')]);
  t.same(tb.outgoing, server('smtp', 'mail.provider.net', 465, 'SSL'));
  t.same(tb.outgoingAlternatives, [server('smtp', 'mail.provider.net', 587, 'STARTTLS', '%EMAILADDRESS%')], 'TB does not substitute outgoingAlternatives');
  const tfa = r.clients['thunderbird-android'];
  t.same(tfa.incoming, server('imap', 'mail.provider.net', 993, 'SSL'));
  t.same(tfa.incomingAlternatives, [server('imap', 'mail.provider.net', 143, 'STARTTLS')], 'TfA ignores pop3');
  t.same(tfa.outgoing, server('smtp', 'mail.provider.net', 465, 'SSL'));
  t.same(r.clients.fairemail.incoming, server('imap', 'mail.provider.net', 143, 'STARTTLS', EMAIL, ''), 'FairEmail: last imap');
  t.same(r.clients.fairemail.outgoing, server('smtp', 'mail.provider.net', 587, 'STARTTLS', EMAIL, ''), 'FairEmail: last smtp');
  t.same(r.clients.evolution.incoming, server('imap', 'mail.provider.net', 143, 'STARTTLS'), 'Evolution: last imap');
  t.same(r.clients.evolution.incomingAlternatives, [server('pop3', 'mail.provider.net', 995, 'SSL')]);
  t.same(r.clients.evolution.outgoing, server('smtp', 'mail.provider.net', 587, 'STARTTLS'), 'Evolution: last smtp');
  for (const reading of Object.values(r.clients)) t.same(reading.problems, []);
});

t.test('without an address the placeholders stay; %EMAILLOCALPART% is substituted per client', async (t) => {
  const body = config(imap(fields('mail.provider.net', 993, 'SSL', '%EMAILLOCALPART%')) + smtp());
  const none = readAutoconfig(body);
  t.same(none.problems, []);
  t.equal(none.clients.thunderbird.incoming?.username, '%EMAILLOCALPART%');
  t.equal(none.clients.fairemail.incoming?.username, '%EMAILLOCALPART%');
  const withAddress = readAutoconfig(body, 'Bob.Smith@example.org');
  for (const name of ['thunderbird', 'thunderbird-android', 'fairemail', 'evolution'] as const) {
    t.equal(withAddress.clients[name].incoming?.username, 'Bob.Smith', name);
    t.equal(withAddress.clients[name].outgoing?.username, 'Bob.Smith@example.org', name);
  }
});

t.test('a UTF-8 BOM: Thunderbird for Android and Evolution reject the whole document', async (t) => {
  const r = readAutoconfig('\uFEFF' + config(), EMAIL);
  t.same(r.problems, [
    'document starts with a UTF-8 byte order mark (BOM)',
    'thunderbird-android: rejects the document: UTF-8 byte order mark',
    'evolution: rejects the document: UTF-8 byte order mark',
  ]);
  t.equal(r.clients['thunderbird-android'].incoming, null);
  t.equal(r.clients.evolution.outgoing, null);
  t.same(r.clients.thunderbird.incoming, server('imap', 'mail.provider.net', 993, 'SSL'), 'TB decodes past the BOM');
  t.same(r.clients.fairemail.incoming, server('imap', 'mail.provider.net', 993, 'SSL', EMAIL, ''));
});

t.test('leading junk before the XML declaration', async (t) => {
  const r = readAutoconfig('\n' + config());
  t.same(r.problems.slice(0, 2), [
    'document must start with "<?xml" or "<clientConfig", found "\\n<?xml version=\\""',
    'not well-formed XML: the XML declaration is allowed only at the very start of the document at line 2, column 1',
  ]);
  t.same(r.problems.slice(2), [
    'thunderbird: rejects the document: not well-formed XML',
    'thunderbird-android: rejects the document: not well-formed XML',
    'fairemail: rejects the document: not well-formed XML',
    'evolution: rejects the document: not well-formed XML',
  ]);
  t.same(readAutoconfig(config().replace(/^<\?xml[^>]*>\n/, '')).problems, [], 'a bare <clientConfig> is fine');
});

t.test('XML escaping mistakes are not well-formed', async (t) => {
  const cases: Array<[string, string]> = [
    ['<domain>a&b.example</domain>', '"&" must be escaped as &amp; at line 4, column 42'],
    ['<documentation url="https://x.example/?a=1&b=2"/>', '"&" must be escaped as &amp; at line 4, column 75'],
    ['<displayName>a < b</displayName>', '"<" must be escaped as &lt; at line 4, column 48'],
    ['<displayName>&nbsp;</displayName>', 'undefined entity &nbsp; at line 4, column 46'],
    ['<x:displayName>A</x:displayName>', 'namespace prefix x is not declared at line 4, column 34'],
    ['<displayName a="1" a="2">A</displayName>', 'attribute a is repeated at line 4, column 52'],
  ];
  for (const [fragment, message] of cases) {
    const r = readAutoconfig(config(undefined, `<domain>example.org</domain>${fragment}`));
    t.equal(r.problems[0], `not well-formed XML: ${message}`, fragment);
    t.equal(r.clients.thunderbird.incoming, null);
  }
  const twoRoots = readAutoconfig(config() + '<clientConfig/>');
  t.equal(twoRoots.problems[0], 'not well-formed XML: content after the root element at line 8, column 1');
  const escaped = readAutoconfig(config(undefined, '<domain>example.org</domain><displayName>A &amp; B &#x3C;&#62; &quot;</displayName>'));
  t.same(escaped.problems, []);
});

t.test('root, version, emailProvider, id and domain', async (t) => {
  t.same(readAutoconfig(config().replace('<clientConfig version="1.1">', '<clientConfig xmlns="urn:x" version="1.0">')).problems, [
    '<clientConfig> must not be in a namespace (found "urn:x")',
    '<clientConfig> version is "1.0", expected "1.1"',
  ]);
  const wrongRoot = readAutoconfig('<config><emailProvider id="provider.net"/></config>');
  t.ok(wrongRoot.problems.includes('root element is <config>, expected <clientConfig>'));
  t.ok(wrongRoot.problems.includes('thunderbird: rejects the document: no clientConfig > emailProvider'));
  t.ok(wrongRoot.problems.includes('thunderbird-android: rejects the document: root element is <config>, not <clientConfig>'));

  const upperId = readAutoconfig(config(undefined, undefined, 'Provider.NET'), EMAIL);
  t.same(upperId.problems, ['<emailProvider> id "Provider.NET" is not a valid lower-case host name'], 'clients accept it, the format does not');
  t.not(upperId.clients.thunderbird.incoming, null);

  const badId = readAutoconfig(config(undefined, undefined, 'provider net'), EMAIL);
  t.same(badId.problems, [
    '<emailProvider> id "provider net" is not a valid lower-case host name',
    'thunderbird: rejects the document: emailProvider id "provider net" is not a valid host name',
    'thunderbird-android: rejects the document: emailProvider id "provider net" is not a valid host name',
  ]);
  t.not(badId.clients.fairemail.incoming, null, 'FairEmail does not look at the id');

  const noDomain = readAutoconfig(config(undefined, '<displayName>Provider</displayName>'), EMAIL);
  t.same(noDomain.problems, ['no <domain> element', 'thunderbird: rejects the document: no valid <domain>', 'thunderbird-android: rejects the document: no valid <domain>']);

  const twoProviders = readAutoconfig(config().replace('</clientConfig>', '<emailProvider id="other.net"/></clientConfig>'));
  t.same(twoProviders.problems, ['2 <emailProvider> elements, expected exactly one']);
});

t.test('<domain purpose="mx">: Thunderbird skips it and keeps the plain <domain>, Thunderbird for Android reads its text', async (t) => {
  // Thunderbird: JXON makes { "@purpose": "mx", value } of it, Sanitizer.hostname fails on
  // "[object Object]" and readFromXML goes on to the next <domain>.
  const withMx = readAutoconfig(config(undefined, '<domain>example.org</domain><domain purpose="mx">provider.net</domain>'), EMAIL);
  t.same(withMx.problems, []);
  t.same(withMx.clients.thunderbird.domains, ['example.org']);
  t.same(withMx.clients['thunderbird-android'].domains, ['example.org', 'provider.net']);

  const onlyMx = readAutoconfig(config(undefined, '<domain purpose="mx">provider.net</domain>'), EMAIL);
  t.same(onlyMx.problems, ['every <domain> has an attribute: Thunderbird needs one without', 'thunderbird: rejects the document: no valid <domain>']);
  t.not(onlyMx.clients['thunderbird-android'].incoming, null, 'TfA still takes it');

  const otherPurpose = readAutoconfig(config(undefined, '<domain>example.org</domain><domain purpose="hosting">provider.net</domain><domain kind="mx">x.net</domain>'), EMAIL);
  t.same(otherPurpose.problems, ['<domain purpose="hosting">: only purpose="mx" is defined', '<domain kind="mx">: only purpose="mx" is defined']);
});

t.test('server presence and order: imap first, smtp present', async (t) => {
  const popFirst = readAutoconfig(config(pop3() + imap() + smtp()), EMAIL);
  t.same(popFirst.problems, ['first incomingServer has type="pop3", expected type="imap"']);
  t.equal(popFirst.clients.thunderbird.incoming?.type, 'pop3', 'TB takes the first, a POP3 account');
  t.equal(popFirst.clients['thunderbird-android'].incoming?.type, 'imap');

  const popOnly = readAutoconfig(config(pop3() + smtp()), EMAIL);
  t.same(popOnly.problems, [
    'no incomingServer with type="imap"',
    'thunderbird-android: no usable incoming server',
    'fairemail: no usable incoming server',
  ]);
  t.equal(popOnly.clients.evolution.incoming?.type, 'pop3');

  const noSmtp = readAutoconfig(config(imap()), EMAIL);
  t.same(noSmtp.problems, [
    'no outgoingServer with type="smtp"',
    'thunderbird: rejects the document: no usable outgoing server',
    'thunderbird-android: no usable outgoing server',
    'fairemail: no usable outgoing server',
    'evolution: no usable outgoing server',
  ]);
  t.equal(noSmtp.clients.thunderbird.incoming, null, 'TB rejects the whole config');
});

t.test('socketType "plain": a format problem, and TfA rejects the whole document', async (t) => {
  const r = readAutoconfig(config(imap() + smtp(fields('mail.provider.net', 587, 'plain'))), EMAIL);
  t.same(r.problems, [
    'outgoingServer[1] (smtp): socketType "plain" must be exactly SSL or STARTTLS',
    'thunderbird-android: rejects the document: outgoingServer[1] (smtp): socketType "plain" is not SSL or STARTTLS',
  ]);
  t.equal(r.clients.thunderbird.outgoing?.socketType, 'plain');
  t.equal(r.clients.evolution.outgoing?.socketType, 'plain');
  t.equal(r.clients.fairemail.outgoing?.socketType, 'STARTTLS', 'FairEmail only logs plain; port 587 decided STARTTLS');
  t.equal(r.clients['thunderbird-android'].incoming, null);

  const lower = readAutoconfig(config(imap(fields('mail.provider.net', 993, 'ssl')) + smtp()), EMAIL);
  t.same(lower.problems, [
    'incomingServer[1] (imap): socketType "ssl" must be exactly SSL or STARTTLS',
    'thunderbird: rejects the document: no usable incoming server',
    'thunderbird-android: rejects the document: incomingServer[1] (imap): socketType "ssl" is not SSL or STARTTLS',
  ]);
  t.equal(lower.clients.evolution.incoming?.socketType, '', 'Evolution ignores the value and is left with no security setting');
  t.equal(lower.clients.fairemail.incoming?.socketType, 'SSL', 'FairEmail: port 993 is not 143, so no STARTTLS');
});

t.test('children out of order: FairEmail lets <port> decide STARTTLS until a later <socketType>', async (t) => {
  const ordered = `<hostname>mail.provider.net</hostname><port>10143</port><socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>`;
  const socketFirst = `<hostname>mail.provider.net</hostname><socketType>STARTTLS</socketType><port>10143</port><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>`;
  const good = readAutoconfig(config(imap(ordered) + smtp()), EMAIL);
  t.same(good.problems, []);
  t.equal(good.clients.fairemail.incoming?.socketType, 'STARTTLS');

  const bad = readAutoconfig(config(imap(socketFirst) + smtp()), EMAIL);
  t.same(bad.problems, [
    'incomingServer[1] (imap): children out of order (hostname, socketType, port, username, authentication); expected hostname, port, socketType, username, authentication',
  ]);
  t.equal(bad.clients.fairemail.incoming?.socketType, 'SSL', 'port 10143 reset STARTTLS to false after the socketType');
  t.equal(bad.clients.thunderbird.incoming?.socketType, 'STARTTLS');
  t.equal(bad.clients.evolution.incoming?.socketType, 'STARTTLS');

  const smtpSslOn587 = readAutoconfig(
    config(imap() + smtp('<hostname>mail.provider.net</hostname><socketType>SSL</socketType><port>587</port><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>')),
    EMAIL,
  );
  t.equal(smtpSslOn587.clients.fairemail.outgoing?.socketType, 'STARTTLS');
  t.equal(smtpSslOn587.clients.thunderbird.outgoing?.socketType, 'SSL');
});

t.test('two SMTP servers: Thunderbird and TfA use the first, FairEmail and Evolution the last', async (t) => {
  const r = readAutoconfig(config(imap() + smtp() + smtp(fields('submit.provider.net', 587, 'STARTTLS'))), EMAIL);
  t.same(r.problems, []);
  t.equal(r.clients.thunderbird.outgoing?.port, 465);
  t.same(r.clients.thunderbird.outgoingAlternatives.map((s) => s.port), [587]);
  t.equal(r.clients['thunderbird-android'].outgoing?.port, 465);
  t.same(r.clients.fairemail.outgoing, server('smtp', 'submit.provider.net', 587, 'STARTTLS', EMAIL, ''));
  t.same(r.clients.evolution.outgoing, server('smtp', 'submit.provider.net', 587, 'STARTTLS'));
});

t.test('Evolution overwrites its one smtp slot field by field', async (t) => {
  const partial = '<hostname>submit.provider.net</hostname><port>587</port><socketType>STARTTLS</socketType><authentication>password-encrypted</authentication>';
  const r = readAutoconfig(config(imap() + smtp(fields('mail.provider.net', 465, 'SSL', 'literal-login')) + smtp(partial)), EMAIL);
  t.same(r.problems, ['outgoingServer[2] (smtp): missing <username>', 'thunderbird-android: rejects the document: outgoingServer[2] (smtp): missing <username>']);
  t.same(r.clients.evolution.outgoing, server('smtp', 'submit.provider.net', 587, 'STARTTLS', 'literal-login', 'password-encrypted'), 'username left over from the first smtp');
  t.equal(r.clients.fairemail.outgoing?.username, '', 'FairEmail starts each server afresh');
  t.equal(r.clients.thunderbird.outgoingAlternatives[0]?.username, 'undefined', 'TB: a missing username becomes "undefined"');
});

t.test('placeholders: never in hostnames, username only exact forms', async (t) => {
  const r = readAutoconfig(config(imap() + smtp() + smtp(fields('smtp.%EMAILDOMAIN%', 587, 'STARTTLS'))), EMAIL);
  t.same(r.problems, ['outgoingServer[2] (smtp): hostname "smtp.%EMAILDOMAIN%" contains a placeholder']);
  t.equal(r.clients.thunderbird.outgoingAlternatives[0]?.hostname, 'smtp.%EMAILDOMAIN%', 'TB leaves outgoingAlternatives alone');
  t.equal(r.clients.fairemail.outgoing?.hostname, 'smtp.%EMAILDOMAIN%', 'FairEmail never substitutes hostnames');
  t.equal(r.clients.evolution.outgoing?.hostname, 'smtp.example.org');
  t.equal(r.clients['thunderbird-android'].outgoingAlternatives[0]?.hostname, 'smtp.example.org');

  const incoming = readAutoconfig(config(imap(fields('imap.%EMAILDOMAIN%', 993, 'SSL')) + smtp()), EMAIL);
  t.equal(incoming.clients.thunderbird.incoming?.hostname, 'imap.example.org', 'TB substitutes in incoming');

  const compound = readAutoconfig(config(imap(fields('mail.provider.net', 993, 'SSL', '%EMAILLOCALPART%@%EMAILDOMAIN%')) + smtp()), EMAIL);
  t.same(compound.problems, ['incomingServer[1] (imap): username "%EMAILLOCALPART%@%EMAILDOMAIN%" must be exactly %EMAILADDRESS% or %EMAILLOCALPART%, or a literal without "%"']);
  t.equal(compound.clients.thunderbird.incoming?.username, EMAIL);
  t.equal(compound.clients.fairemail.incoming?.username, '%EMAILLOCALPART%@%EMAILDOMAIN%', 'FairEmail takes it literally');
});

t.test('ports', async (t) => {
  const r = readAutoconfig(config(imap(fields('mail.provider.net', 70000, 'SSL')) + smtp(fields('mail.provider.net', 25, 'STARTTLS'))), EMAIL);
  t.same(r.problems, [
    'incomingServer[1] (imap): port "70000" is not a number in 1-65535',
    'outgoingServer[1] (smtp): SMTP on port 25 (blocked for clients on many networks; use 465 or 587)',
    'thunderbird: rejects the document: no usable incoming server',
    'thunderbird-android: rejects the document: incomingServer[1] (imap): port "70000" is not a number in 0-65535',
    'evolution: no usable incoming server',
  ]);
  t.equal(r.clients.fairemail.incoming?.port, 70000, 'FairEmail does not range-check');
  const notNumber = readAutoconfig(config(imap(fields('mail.provider.net', 'imaps', 'SSL')) + smtp()), EMAIL);
  t.ok(notNumber.problems.includes('fairemail: rejects the document: /clientConfig/emailProvider/incomingServer/port: port "imaps" is not a number'));
});

t.test('authentication values; OAuth2 needs a password-cleartext after it', async (t) => {
  const oauthOnly = readAutoconfig(config(imap(fields('mail.provider.net', 993, 'SSL', '%EMAILADDRESS%', '<authentication>OAuth2</authentication>')) + smtp()), EMAIL);
  t.same(oauthOnly.problems, [
    'incomingServer[1] (imap): authentication OAuth2 is not followed by password-cleartext',
    'thunderbird: rejects the document: no usable incoming server',
  ]);
  t.equal(oauthOnly.clients['thunderbird-android'].incoming?.authentication, 'OAuth2');

  const both = readAutoconfig(
    config(imap(fields('mail.provider.net', 993, 'SSL', '%EMAILADDRESS%', '<authentication>OAuth2</authentication><authentication>password-cleartext</authentication>')) + smtp()),
    EMAIL,
  );
  t.same(both.problems, []);
  t.equal(both.clients.thunderbird.incoming?.authentication, 'password-cleartext', 'TB falls through past OAuth2');

  const ntlm = readAutoconfig(config(imap(fields('mail.provider.net', 993, 'SSL', '%EMAILADDRESS%', '<authentication>NTLM</authentication>')) + smtp()), EMAIL);
  t.same(ntlm.problems, [
    'incomingServer[1] (imap): authentication "NTLM" is not password-cleartext, password-encrypted or OAuth2',
    'thunderbird-android: rejects the document: incomingServer[1] (imap): no recognised <authentication>',
  ]);
  t.equal(ntlm.clients.thunderbird.incoming?.authentication, 'NTLM');
  t.equal(ntlm.clients.evolution.incoming?.authentication, '');
});

t.test('whitespace around values, empty values and elements where text belongs', async (t) => {
  const r = readAutoconfig(config(imap(fields('\n  Mail.Provider.net ', 993, 'SSL')) + smtp()), EMAIL);
  t.same(r.problems, [
    '/clientConfig/emailProvider/incomingServer/hostname: text "\\n  Mail.Provider.net " has leading or trailing whitespace',
    'thunderbird-android: rejects the document: incomingServer[1] (imap): hostname "\\n  Mail.Provider.net " is not a valid host name',
  ]);
  t.equal(r.clients.thunderbird.incoming?.hostname, 'mail.provider.net', 'TB trims and lower-cases');
  t.equal(r.clients.evolution.incoming?.hostname, '\n  Mail.Provider.net ', 'Evolution does not trim');

  const nested = readAutoconfig(config(imap('<hostname><b>x</b></hostname><port>993</port><socketType>SSL</socketType><username>u</username><authentication>password-cleartext</authentication>') + smtp()), EMAIL);
  t.same(nested.problems, [
    'incomingServer[1] (imap): <hostname> contains elements where text is expected',
    'thunderbird: rejects the document: no usable incoming server',
    'thunderbird-android: rejects the document: incomingServer[1] (imap): <hostname> contains elements where text is expected',
    'fairemail: no usable incoming server',
    'evolution: no usable incoming server',
  ]);
});

t.test('password element and display name lengths', async (t) => {
  const r = readAutoconfig(
    config(
      imap(fields('mail.provider.net', 993, 'SSL') + '<password>secret</password>') + smtp(),
      `<domain>example.org</domain><displayName>${'x'.repeat(61)}</displayName><displayShortName>${'y'.repeat(21)}</displayShortName>`,
    ),
    EMAIL,
  );
  t.same(r.problems, [
    '<displayName> is 61 characters long, at most 60 allowed',
    '<displayShortName> is 21 characters long, at most 20 allowed',
    '/clientConfig/emailProvider/incomingServer/password: <password> must never be sent',
  ]);
  const ok = readAutoconfig(config(undefined, `<domain>example.org</domain><displayName>${'é'.repeat(60)}</displayName>`));
  t.same(ok.problems, [], '60 characters, counted as characters');
});

t.test('the XML reader', async (t) => {
  const root = parseXml('<?xml version="1.0"?><!-- c --><a xmlns="urn:a" xmlns:b="urn:b" x="1&#10;2\t3"><b:c>t&lt;<![CDATA[<raw>]]>&#x1F600;</b:c><c/><c/></a>');
  t.equal(root.ns, 'urn:a');
  t.equal(root.attrs.get('x'), '1\n2 3', 'literal tab normalised, reference kept');
  const [bc, c1, c2] = elements(root);
  t.equal(bc?.ns, 'urn:b');
  t.equal(bc?.local, 'c');
  t.equal(textOf(bc!), 't<<raw>😀');
  t.equal(c1?.path, '/a/c[1]');
  t.equal(c2?.path, '/a/c[2]');
  t.throws(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'), { name: 'XmlSyntaxError' });
  t.throws(() => parseXml('<a>\u0001</a>'), { name: 'XmlSyntaxError' });
  t.throws(() => parseXml('<a><!-- x -- y --></a>'), { name: 'XmlSyntaxError' });
  t.throws(() => parseXml('<a><!-- x ---></a>'), { name: 'XmlSyntaxError' });
  t.equal(textOf(parseXml('<a>x<!---->y</a>')), 'xy', 'an empty comment is fine');
  t.throws(() => parseXml('<a></b>'), /expected <\/a>, found <\/b>/);
  t.throws(() => parseXml('<a>'), /<a> is never closed/);
  t.throws(() => parseXml(''), /no root element/);
});

// ---------------------------------------------------------------------------------------
// Autodiscover (POX).

interface ProtocolSpec {
  type: string;
  port: number;
  encryption?: string | null;
  extra?: string;
  spa?: string | null;
  ssl?: string | null;
  login?: string | null;
}

function protocol({ type, port, encryption = port === 143 || port === 110 || port === 587 ? 'TLS' : 'SSL', extra = '', spa = 'off', ssl = 'on', login = 'jane@example.com' }: ProtocolSpec): string {
  const opt = (name: string, v: string | null): string => (v === null ? '' : `<${name}>${v}</${name}>`);
  return `
      <Protocol>
        <Type>${type}</Type>
        <Server>mail.provider.net</Server>
        <Port>${port}</Port>
        <DomainRequired>off</DomainRequired>
        ${opt('LoginName', login)}
        ${opt('SPA', spa)}
        ${opt('SSL', ssl)}
        ${opt('Encryption', encryption)}
        <AuthRequired>on</AuthRequired>${type === 'SMTP' ? '\n        <UsePOPAuth>on</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>' : ''}${extra}
      </Protocol>`;
}

const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

function pox(protocols: string = protocol({ type: 'IMAP', port: 993 }) + protocol({ type: 'POP3', port: 995 }) + protocol({ type: 'SMTP', port: 465 }), responseNs = RESPONSE_NS): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="${responseNs}">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>${protocols}
    </Account>
  </Response>
</Autodiscover>
`;
}

const poxServer = (type: 'IMAP' | 'POP3' | 'SMTP', port: number, socketType: 'SSL' | 'STARTTLS' | 'plain', auth: 'password-cleartext' | 'secure' = 'password-cleartext', username = 'jane@example.com') => ({
  type,
  server: 'mail.provider.net',
  port,
  socketType,
  auth,
  username,
});

t.test('a good POX answer', async (t) => {
  const r = readAutodiscover(pox(), 'jane@example.com');
  t.same(r.problems, []);
  t.equal(r.error, null);
  t.same(r.thunderbird, {
    incoming: poxServer('IMAP', 993, 'SSL'),
    incomingAlternatives: [poxServer('POP3', 995, 'SSL')],
    outgoing: poxServer('SMTP', 465, 'SSL'),
    outgoingAlternatives: [],
  });
  t.same(r.deltaChat, { imap: [{ server: 'mail.provider.net', port: 993, security: 'automatic' }], smtp: [{ server: 'mail.provider.net', port: 465, security: 'automatic' }] });

  const starttls = readAutodiscover(pox(protocol({ type: 'IMAP', port: 143 }) + protocol({ type: 'SMTP', port: 587 })));
  t.same(starttls.problems, []);
  t.equal(starttls.thunderbird.incoming?.socketType, 'STARTTLS');
  t.equal(starttls.thunderbird.outgoing?.socketType, 'STARTTLS');
});

t.test('Encryption TLS on an implicit-TLS port, and ports Thunderbird guesses differently', async (t) => {
  const r = readAutodiscover(pox(protocol({ type: 'IMAP', port: 993, encryption: 'TLS' }) + protocol({ type: 'SMTP', port: 465 })));
  t.same(r.problems, ['Protocol[1] (IMAP): <Encryption> TLS on implicit-TLS port 993 (Outlook would try STARTTLS)']);
  t.equal(r.thunderbird.incoming?.socketType, 'SSL', 'TB ignores Encryption and guesses by port');

  const odd = readAutodiscover(pox(protocol({ type: 'IMAP', port: 10143, encryption: 'TLS' }) + protocol({ type: 'SMTP', port: 587, encryption: 'SSL' })));
  t.same(odd.problems, [
    'Protocol[1] (IMAP): <Encryption> TLS on port 10143 (Thunderbird guesses implicit TLS from the port)',
    'Protocol[2] (SMTP): <Encryption> SSL on port 587 (Thunderbird guesses STARTTLS from the port)',
  ]);
  t.equal(odd.thunderbird.incoming?.socketType, 'SSL');
  t.equal(odd.thunderbird.outgoing?.socketType, 'STARTTLS');

  const missing = readAutodiscover(pox(protocol({ type: 'IMAP', port: 993, encryption: null }) + protocol({ type: 'SMTP', port: 465, encryption: 'Auto' })));
  t.same(missing.problems, ['Protocol[1] (IMAP): missing <Encryption>', 'Protocol[2] (SMTP): <Encryption> "Auto" is not SSL or TLS']);
});

t.test('SPA missing means secure auth in Thunderbird; SSL off or Encryption None means plain', async (t) => {
  const r = readAutodiscover(pox(protocol({ type: 'IMAP', port: 993, spa: null }) + protocol({ type: 'SMTP', port: 465, spa: 'on' })));
  t.same(r.problems, ['Protocol[1] (IMAP): missing <SPA>', 'Protocol[2] (SMTP): <SPA> is "on", expected "off"']);
  t.equal(r.thunderbird.incoming?.auth, 'secure');
  t.equal(r.thunderbird.outgoing?.auth, 'secure');

  const plain = readAutodiscover(pox(protocol({ type: 'IMAP', port: 993, ssl: 'off' }) + protocol({ type: 'SMTP', port: 465, encryption: 'None' })));
  t.same(plain.problems, ['Protocol[1] (IMAP): <SSL> is "off", expected "on"', 'Protocol[2] (SMTP): <Encryption> "None" is not SSL or TLS']);
  t.equal(plain.thunderbird.incoming?.socketType, 'plain');
  t.equal(plain.thunderbird.outgoing?.socketType, 'plain');
  t.same(plain.deltaChat.imap, [{ server: 'mail.provider.net', port: 993, security: 'plain' }]);
  t.same(plain.deltaChat.smtp, [{ server: 'mail.provider.net', port: 465, security: 'automatic' }], 'Delta Chat ignores Encryption');
});

t.test('LoginName: absent -> the address; empty -> a problem', async (t) => {
  const body = pox(protocol({ type: 'IMAP', port: 993, login: null }) + protocol({ type: 'SMTP', port: 465, login: '' }));
  const r = readAutodiscover(body, 'jane@example.com');
  t.same(r.problems, ['Protocol[2] (SMTP): <LoginName> is empty']);
  t.equal(r.thunderbird.incoming?.username, 'jane@example.com');
  t.equal(readAutodiscover(body).thunderbird.incoming?.username, '%EMAILADDRESS%');
});

t.test('POX structure: namespaces, SMTP flags, IMAP first, two SMTP', async (t) => {
  const ns = readAutodiscover(pox(undefined, 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006'));
  t.same(ns.problems, [
    '<Response> is in namespace "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006", expected "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"',
  ]);

  const smtpFlags = readAutodiscover(
    pox(protocol({ type: 'IMAP', port: 993 }) + protocol({ type: 'SMTP', port: 465 }).replace('<UsePOPAuth>on</UsePOPAuth>', '').replace('<SMTPLast>off</SMTPLast>', '<SMTPLast>on</SMTPLast>')),
  );
  t.same(smtpFlags.problems, ['Protocol[2] (SMTP): missing <UsePOPAuth>', 'Protocol[2] (SMTP): <SMTPLast> is "on", expected "off"']);

  const popFirst = readAutodiscover(pox(protocol({ type: 'POP3', port: 995 }) + protocol({ type: 'IMAP', port: 993 }) + protocol({ type: 'SMTP', port: 465 }) + protocol({ type: 'SMTP', port: 587 })));
  t.same(popFirst.problems, ['first incoming Protocol is POP3, expected IMAP']);
  t.equal(popFirst.thunderbird.incoming?.type, 'POP3');
  t.equal(popFirst.thunderbird.outgoing?.port, 465);
  t.same(popFirst.thunderbird.outgoingAlternatives.map((s) => s.port), [587]);
  t.same(popFirst.deltaChat.smtp.map((s) => s.port), [465, 587]);
  t.same(popFirst.deltaChat.imap.map((s) => s.port), [993], 'Delta Chat skips POP3');
});

t.test('no Protocol at all', async (t) => {
  const r = readAutodiscover(pox(''));
  t.same(r.problems, ['<Account> has no <Protocol>', 'no IMAP or POP3 Protocol', 'thunderbird: no_autodiscover', 'deltachat: no IMAP Protocol', 'deltachat: no SMTP Protocol']);
  const broken = readAutodiscover('<Autodiscover>');
  t.same(broken.problems, ['not well-formed XML: <Autodiscover> is never closed at line 1, column 1', 'thunderbird: no_autodiscover', 'deltachat: no IMAP Protocol', 'deltachat: no SMTP Protocol']);
});

t.test('Exchange-style errors', async (t) => {
  const error = (ns: string, attrs = 'Time="21:25:04.889" Id="4130155072"', inner = '<ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData />') =>
    `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="${ns}">
    <Error ${attrs}>${inner}</Error>
  </Response>
</Autodiscover>`;
  const generic = readAutodiscover(error('http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006'));
  t.same(generic.problems, []);
  t.same(generic.error, {
    code: 600,
    message: 'Invalid Request',
    responseNamespace: 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006',
    time: '21:25:04.889',
    id: '4130155072',
  });
  const mobilesync = readAutodiscover(error('http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006', undefined, '<ErrorCode>601</ErrorCode><Message>Provider is not available</Message><DebugData/>'));
  t.same(mobilesync.problems, []);
  t.equal(mobilesync.error?.code, 601);

  const requested = readAutodiscover(error('urn:example:other', undefined, '<ErrorCode>601</ErrorCode><Message>Provider is not available</Message><DebugData/>'));
  t.same(requested.problems, [], 'a 601 may echo the schema the client asked for');
  t.equal(requested.error?.responseNamespace, 'urn:example:other');

  const bad = readAutodiscover(error('', 'Id="x"', '<ErrorCode>600</ErrorCode>'));
  t.same(bad.problems, [
    '<Error> has no Time attribute',
    '<Error> Id "x" is not an unsigned integer',
    '<Error> has no <Message>',
    '<Error> has no <DebugData>',
  ]);
  t.equal(bad.error?.code, 600);
});
