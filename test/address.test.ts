import { createHash } from 'node:crypto';
import t from 'tap';
import { readAutoconfigRequest } from '../src/dialects/autoconfig.js';
import { addressMd5, domainFromHost, evolutionMailboxMd5, normalizeDomain, parseAddress } from '../src/model/address.js';
import { parseQuery } from '../src/http/query-string.js';

t.test('parseAddress keeps the local part and lower-cases the domain', async (t) => {
  t.same(parseAddress('Jane.Doe@Her-Shop.Example'), { address: 'Jane.Doe@her-shop.example', localPart: 'Jane.Doe', domain: 'her-shop.example' });
  t.same(parseAddress(' bob+tag@x.example '), { address: 'bob+tag@x.example', localPart: 'bob+tag', domain: 'x.example' });
  t.equal(parseAddress('a@bücher.example')?.domain, 'xn--bcher-kva.example', 'IDN becomes punycode');
  t.equal(parseAddress(`a&b<c>"d'e@x.example`)?.localPart, `a&b<c>"d'e`, 'metacharacters are legal and escaped later');
  for (const bad of [undefined, '', '   ', 'nobody', '@x.example', 'a@', 'a@b@x.example', 'a b@x.example', 'a\u0000@x.example', 'a@localhost', 'a@-x-.example', 'a@x..example', `${'a'.repeat(65)}@x.example`, `a@${'b'.repeat(250)}.example`]) {
    t.equal(parseAddress(bad), undefined, JSON.stringify(bad));
  }
});

t.test('normalizeDomain and domainFromHost', async (t) => {
  t.equal(normalizeDomain('Shop.Example.'), 'shop.example');
  t.equal(normalizeDomain('shop_x.example'), undefined);
  t.equal(normalizeDomain('xn--bcher-kva.example'), 'xn--bcher-kva.example');
  t.equal(domainFromHost('AutoConfig.Shop.Example:8080', ['autoconfig']), 'shop.example');
  t.equal(domainFromHost('autodiscover.shop.example', ['autodiscover']), 'shop.example');
  t.equal(domainFromHost('autodiscover.shop.example', ['autoconfig']), 'autodiscover.shop.example', 'only the named label is stripped');
  t.equal(domainFromHost('shop.example', ['autoconfig']), 'shop.example');
  t.equal(domainFromHost('[::1]:8080', ['autoconfig']), undefined);
  t.equal(domainFromHost(undefined, ['autoconfig']), undefined);
  t.equal(domainFromHost('autoconfig.', ['autoconfig']), undefined);
});

t.test('parseQuery decodes like mail clients encode', async (t) => {
  t.same({ ...parseQuery('emailaddress=a%40b.example&emailmd5=ff') }, { emailaddress: 'a@b.example', emailmd5: 'ff' });
  t.equal(parseQuery('emailaddress=bob+tag@b.example').emailaddress, 'bob+tag@b.example', 'raw + stays');
  t.equal(parseQuery('EmailAddress=x&emailaddress=y').emailaddress, 'x', 'names ignore case; first wins');
  t.equal(parseQuery('emailaddress=%E0%A4%A').emailaddress, undefined, 'undecodable values are dropped');
  t.equal(parseQuery('flag').flag, '');
  t.equal(parseQuery('__proto__=1&constructor=2').__proto__, '1', 'no prototype pollution');
  t.equal(Object.getPrototypeOf(parseQuery('')), null);
});

t.test('parseTypedTarget: an address or a bare domain, as people type them', async (t) => {
  const { parseTypedTarget } = await import('../src/model/address.js');
  t.match(parseTypedTarget(' Jane@Her-Shop.Example '), { domain: 'her-shop.example', address: { address: 'Jane@her-shop.example' } });
  t.same(parseTypedTarget('Her-Shop.Example'), { domain: 'her-shop.example' });
  for (const bad of ['', 'jane@', 'a@b@c.example', 'not a domain', 'localhost']) t.equal(parseTypedTarget(bad), undefined, bad);
});

t.test('parseAddress refuses what XML 1.0 cannot hold (section 2.2) and control characters', async (t) => {
  const { isXmlText, isXmlCodePoint } = await import('../src/model/text.js');
  for (const c of ['\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001F', '\u007F', '\u0085', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFE', '\uFFFF', '\t', '\n', '\r']) {
    t.equal(parseAddress(`ja${c}ne@x.example`), undefined, JSON.stringify(c));
    t.equal(parseAddress(`jane@x${c}.example`), undefined, `${JSON.stringify(c)} in the domain`);
  }
  for (const ok of ['jörg@x.example', '😀@x.example', '\uE000\uFFFD@x.example', '\u{10FFFF}@x.example']) {
    t.equal(parseAddress(ok)?.localPart, ok.split('@')[0], JSON.stringify(ok));
  }
  t.ok(isXmlText('tab\tnewline\ncr\r😀\uFFFD'));
  for (const bad of ['\u0000', '\u0001', '\uD800', 'a\uDC00', '\uD83D', '\uFFFE', '\uFFFF']) t.notOk(isXmlText(bad), JSON.stringify(bad));
  t.same([0, 1, 8, 9, 10, 13, 0x1f, 0x20, 0xd7ff, 0xd800, 0xdfff, 0xe000, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x10ffff, 0x110000].map(isXmlCodePoint),
    [false, false, false, true, true, true, false, true, true, false, false, true, true, false, false, true, true, false]);
});

t.test("Evolution's emailmd5 is read only beside its placeholder, and only as 32 hex digits", async (t) => {
  const hash = '0123456789abcdef0123456789abcdef';
  const placeholder = parseAddress('EVOLUTIONUSER@her-shop.example');
  t.equal(evolutionMailboxMd5(placeholder, hash), hash);
  t.equal(evolutionMailboxMd5(placeholder, hash.toUpperCase()), hash, 'lower-cased');
  t.equal(evolutionMailboxMd5(placeholder, ` ${hash} `), hash, 'surrounding blanks are no part of it');
  t.equal(evolutionMailboxMd5(parseAddress('evolutionuser@her-shop.example'), hash), hash, 'the placeholder in any case');
  for (const bad of [undefined, '', hash.slice(1), `${hash}0`, `${hash.slice(1)}g`, `${hash.slice(2)}%20`, `x${hash}`, 'd41d8cd98f00b204e9800998ecf8427e '.repeat(2)]) {
    t.equal(evolutionMailboxMd5(placeholder, bad), undefined, `ignored: ${JSON.stringify(bad)}`);
  }
  for (const other of [parseAddress('jane@her-shop.example'), parseAddress('EVOLUTIONUSERS@her-shop.example'), undefined]) {
    t.equal(evolutionMailboxMd5(other, hash), undefined, `no placeholder, no hash: ${other?.address}`);
  }
  // GLib's g_compute_checksum_for_string (G_CHECKSUM_MD5): lower-case hex of the UTF-8 bytes.
  t.equal(addressMd5(''), 'd41d8cd98f00b204e9800998ecf8427e');
  t.equal(addressMd5('jane@her-shop.example'), createHash('md5').update(Buffer.from('jane@her-shop.example', 'utf8')).digest('hex'));
});

t.test('readAutoconfigRequest: the placeholder names the domain and no address; the hash names the mailbox', async (t) => {
  const hash = 'ABCDEF0123456789abcdef0123456789';
  t.same(readAutoconfigRequest('EVOLUTIONUSER@her-shop.example', 'autoconfig.other.example', hash), { domain: 'her-shop.example', mailboxMd5: hash.toLowerCase() });
  t.same(readAutoconfigRequest('EVOLUTIONUSER@her-shop.example', undefined, 'nothex'), { domain: 'her-shop.example' }, 'a malformed hash: the domain alone');
  t.same(readAutoconfigRequest('EVOLUTIONUSER@her-shop.example', undefined), { domain: 'her-shop.example' });
  const plain = readAutoconfigRequest('jane@her-shop.example', undefined, hash);
  t.same(plain, { domain: 'her-shop.example', address: parseAddress('jane@her-shop.example') }, 'a real address: the hash is not needed, and not kept');
  t.same(readAutoconfigRequest(undefined, 'autoconfig.her-shop.example', hash), { domain: 'her-shop.example', address: undefined }, 'no placeholder: no hash');
});
