// Signed Apple profiles. The tests make a throw-away PKI with the openssl command, and
// every signature is checked by `openssl cms -verify`, an implementation that shares no
// code with the signer (PKI.js over WebCrypto).
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './support/server.js';
import t from 'tap';
import { ConfigError, configFromEnv } from '../src/config/config.js';
import { createProfileSigner, ProfileSignerError, type ProfileSigner } from '../src/signing/profile-signer.js';
import { testApp } from './support/app.js';

const SECRET = 'test-secret-0123456789abcdef';
const URL_JANE = '/mobileconfig?emailaddress=jane%40newbie.example';

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

interface Pki {
  dir: string;
  /** Root CA, the only trust anchor the verifications get. */
  ca: string;
  /** RSA 2048 signer issued by the root, no extended key usage. */
  rsaCert: string;
  rsaKey: string;
  /** Intermediate CA under the root. */
  intermediate: string;
  /** ECDSA P-256 signer issued by the intermediate, a TLS server certificate (serverAuth). */
  ecCert: string;
  ecKey: string;
  /** ecCert followed by the intermediate, as certbot's fullchain.pem. */
  ecFullchain: string;
  /** A key that belongs to no certificate here. */
  strayKey: string;
}

/** A root CA, an intermediate, an RSA and an EC signer, all valid for two days. */
function makePki(base: string, name: string): Pki {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const run = (...args: string[]) => openssl(args, dir);
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\n');
  writeFileSync(join(dir, 'tls.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:mailconf.test\n');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=mailconf test root', '-days', '2');
  const issue = (name: string, newkey: string[], issuer: string, ext: string) => {
    run('req', '-new', ...newkey, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.mailconf.test`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', ext);
  };
  issue('rsa', ['-newkey', 'rsa:2048'], 'ca', 'leaf.ext');
  issue('intermediate', ['-newkey', 'rsa:2048'], 'ca', 'ca.ext');
  issue('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'intermediate', 'tls.ext');
  run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'stray.key');
  const p = (f: string) => join(dir, f);
  writeFileSync(p('ec-fullchain.pem'), readFileSync(p('ec.pem'), 'utf8') + readFileSync(p('intermediate.pem'), 'utf8'));
  return {
    dir,
    ca: p('ca.pem'),
    rsaCert: p('rsa.pem'),
    rsaKey: p('rsa.key'),
    intermediate: p('intermediate.pem'),
    ecCert: p('ec.pem'),
    ecKey: p('ec.key'),
    ecFullchain: p('ec-fullchain.pem'),
    strayKey: p('stray.key'),
  };
}

/** `openssl cms -verify` of a DER message against `caFile` only: the verified content, or the failure. */
function verify(dir: string, der: Buffer, caFile: string, extra: string[] = []): { ok: true; content: Buffer; certs: number } | { ok: false; error: string } {
  const input = join(dir, `signed-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(input, der);
  try {
    openssl(['cms', '-verify', '-inform', 'DER', '-in', input, '-CAfile', caFile, '-out', `${input}.out`, '-certsout', `${input}.certs`, ...extra], dir);
  } catch (err) {
    return { ok: false, error: String((err as { stderr?: Buffer }).stderr ?? err) };
  }
  const certs = readFileSync(`${input}.certs`, 'utf8').match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  return { ok: true, content: readFileSync(`${input}.out`), certs };
}

/** openssl's dump of the CMS structure, for checks on algorithms and encapsulation. */
function cmsPrint(dir: string, der: Buffer): string {
  const input = join(dir, 'print.der');
  writeFileSync(input, der);
  return openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', input], dir).toString();
}

// One PKI for the whole file: key generation is the slow part.
const PKI = makePki(t.testdir(), 'pki');

t.test('signed profile: verifies with openssl, content attached, byte for byte the unsigned profile', async (t) => {
  const pki = PKI;
  const signer = await createProfileSigner({ certFile: pki.rsaCert, keyFile: pki.rsaKey, chainFile: undefined });
  t.match(signer, { subject: 'CN=rsa.mailconf.test', certificateCount: 1 });
  const signed = await testApp(t, { env: { MAILCONF_SECRET: SECRET }, profileSigner: signer });
  const unsigned = await testApp(t, { env: { MAILCONF_SECRET: SECRET } });
  for (const [url, email] of [
    [URL_JANE, 'jane@newbie.example'],
    ['/email.mobileconfig?emailaddress=sales%40oldtimer-shop.example', 'sales@oldtimer-shop.example'],
    [`/mobileconfig?emailaddress=${encodeURIComponent(`a&b<c>"d'e@newbie.example`)}`, `a&b<c>"d'e@newbie.example`],
  ] as const) {
    const res = await signed.app.inject({ url });
    const plain = await unsigned.app.inject({ url });
    t.equal(res.statusCode, 200, email);
    t.equal(res.headers['content-type'], 'application/x-apple-aspen-config');
    t.equal(res.headers['content-disposition'], `attachment; filename="${email.split('@')[1]}.mobileconfig"`);
    t.equal(res.rawPayload[0], 0x30, 'DER: a SEQUENCE');
    const verified = verify(pki.dir, res.rawPayload, pki.ca);
    if (!verified.ok) {
      t.fail(`openssl cms -verify: ${verified.error}`);
      continue;
    }
    t.ok(verified.content.equals(plain.rawPayload), `${email}: the verified content is the unsigned profile, byte for byte`);
    t.match(verified.content.toString('utf8'), `<string>${email.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</string>`);
    t.equal(verified.certs, 1, 'the signer certificate is in the message');
    t.equal(Number(res.headers['content-length']), res.rawPayload.length);
  }
  const dump = cmsPrint(pki.dir, (await signed.app.inject({ url: URL_JANE })).rawPayload);
  t.match(dump, /contentType: pkcs7-signedData/);
  t.match(dump, /eContentType: pkcs7-data[^\n]*\n\s+eContent:\s+0000 - 3c 3f 78 6d 6c/, 'the profile is encapsulated (not detached)');
  t.match(dump, /digestAlgorithm:\s+algorithm: sha256/);
  t.match(dump, /signatureAlgorithm:\s+algorithm: sha256WithRSAEncryption/);
  t.match(dump, /object: messageDigest/);
  const head = await signed.app.inject({ method: 'HEAD', url: URL_JANE });
  t.equal(head.statusCode, 200);
  t.equal(head.headers['content-type'], 'application/x-apple-aspen-config');
});

t.test('an ECDSA TLS certificate with its chain, from a chain file or a fullchain.pem', async (t) => {
  const pki = PKI;
  for (const files of [
    { certFile: pki.ecCert, keyFile: pki.ecKey, chainFile: pki.intermediate },
    { certFile: pki.ecFullchain, keyFile: pki.ecKey, chainFile: undefined },
    { certFile: pki.ecFullchain, keyFile: pki.ecKey, chainFile: pki.intermediate }, // the intermediate is sent once
  ]) {
    const signer = await createProfileSigner(files);
    t.equal(signer.certificateCount, 2, JSON.stringify(files));
    const profile = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><string>a &amp; b</string></plist>\n';
    const der = await signer.sign(profile);
    // A TLS certificate (serverAuth) is not an S/MIME one: openssl checks the chain, not the purpose.
    const verified = verify(pki.dir, der, pki.ca, ['-purpose', 'any']);
    t.ok(verified.ok, 'verifies against the root alone: the intermediate travels in the message');
    if (verified.ok) {
      t.equal(verified.content.toString('utf8'), profile);
      t.equal(verified.certs, 2, 'signer and intermediate included');
    }
    t.match(cmsPrint(pki.dir, der), /signatureAlgorithm:\s+algorithm: ecdsa-with-SHA256/);
  }
});

t.test('openssl refuses what it should: another CA, a tampered message', async (t) => {
  const pki = PKI;
  const other = makePki(t.testdir(), 'other');
  const signer = await createProfileSigner({ certFile: pki.rsaCert, keyFile: pki.rsaKey, chainFile: undefined });
  const der = await signer.sign('<plist version="1.0"><string>original</string></plist>\n');
  t.ok(verify(pki.dir, der, pki.ca).ok, 'the right CA');
  t.notOk(verify(pki.dir, der, other.ca).ok, 'another CA');
  const tampered = Buffer.from(der);
  const at = tampered.indexOf('original');
  tampered.write('0riginal', at);
  t.notOk(verify(pki.dir, tampered, pki.ca).ok, 'changed content');
});

t.test('unusable signing files stop start-up with a message naming the variable and the problem', async (t) => {
  const pki = PKI;
  const dir = t.testdir();
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const garbage = file('garbage.pem', 'this is not PEM at all\n');
  const badCert = file('bad-cert.pem', '-----BEGIN CERTIFICATE-----\nTUlJQm9vcHM=\n-----END CERTIFICATE-----\n');
  const badKey = file('bad-key.pem', '-----BEGIN PRIVATE KEY-----\nTUlJQm9vcHM=\n-----END PRIVATE KEY-----\n');
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-128-cbc', '-pass', 'pass:x', '-out', 'encrypted.key'], dir);
  openssl(['genrsa', '-aes128', '-traditional', '-passout', 'pass:x', '-out', 'legacy-encrypted.key', '2048'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', 'weak.key', '-out', 'weak.pem', '-subj', '/CN=weak', '-days', '2'], dir);
  openssl(['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', 'ed.key', '-out', 'ed.pem', '-subj', '/CN=ed', '-days', '2'], dir);
  const missing = join(dir, 'no-such-file.pem');
  const cases: Array<[string, { certFile: string; keyFile: string; chainFile?: string }, RegExp, Date?]> = [
    ['missing certificate file', { certFile: missing, keyFile: pki.rsaKey }, /^MOBILECONFIG_CERT: cannot read .*no-such-file\.pem: ENOENT/],
    ['missing key file', { certFile: pki.rsaCert, keyFile: missing }, /^MOBILECONFIG_KEY: cannot read .*no-such-file\.pem/],
    ['missing chain file', { certFile: pki.rsaCert, keyFile: pki.rsaKey, chainFile: missing }, /^MOBILECONFIG_CHAIN: cannot read/],
    ['a directory', { certFile: dir, keyFile: pki.rsaKey }, /^MOBILECONFIG_CERT: cannot read .*EISDIR/],
    ['garbage certificate file', { certFile: garbage, keyFile: pki.rsaKey }, /^MOBILECONFIG_CERT: .*garbage\.pem holds no PEM certificate/],
    ['a key as certificate', { certFile: pki.rsaKey, keyFile: pki.rsaKey }, /^MOBILECONFIG_CERT: .* holds no PEM certificate/],
    ['unparsable certificate', { certFile: badCert, keyFile: pki.rsaKey }, /^MOBILECONFIG_CERT: certificate 1 in .*bad-cert\.pem cannot be parsed/],
    ['garbage key file', { certFile: pki.rsaCert, keyFile: garbage }, /^MOBILECONFIG_KEY: .*garbage\.pem holds no PEM private key/],
    ['a certificate as key', { certFile: pki.rsaCert, keyFile: pki.rsaCert }, /^MOBILECONFIG_KEY: .* holds no PEM private key/],
    ['unparsable key', { certFile: pki.rsaCert, keyFile: badKey }, /^MOBILECONFIG_KEY: the private key in .*bad-key\.pem cannot be read/],
    ['encrypted key', { certFile: pki.rsaCert, keyFile: join(dir, 'encrypted.key') }, /^MOBILECONFIG_KEY: the private key in .*encrypted\.key is encrypted; give an unencrypted key/],
    ['encrypted key, traditional PEM', { certFile: pki.rsaCert, keyFile: join(dir, 'legacy-encrypted.key') }, /is encrypted; give an unencrypted key/],
    ['key of another certificate', { certFile: pki.rsaCert, keyFile: pki.ecKey }, /^MOBILECONFIG_KEY \(.*ec\.key\) does not belong to the certificate in MOBILECONFIG_CERT/],
    ['stray key', { certFile: pki.ecCert, keyFile: pki.strayKey }, /does not belong to the certificate/],
    ['garbage chain', { certFile: pki.rsaCert, keyFile: pki.rsaKey, chainFile: garbage }, /^MOBILECONFIG_CHAIN: .* holds no PEM certificate/],
    ['expired', { certFile: pki.rsaCert, keyFile: pki.rsaKey }, /^MOBILECONFIG_CERT: the certificate expired on \d{4}-/, new Date(Date.now() + 10 * 86_400_000)],
    ['not yet valid', { certFile: pki.rsaCert, keyFile: pki.rsaKey }, /^MOBILECONFIG_CERT: the certificate is not valid before/, new Date(Date.now() - 10 * 86_400_000)],
    ['weak RSA key', { certFile: join(dir, 'weak.pem'), keyFile: join(dir, 'weak.key') }, /^MOBILECONFIG_KEY: an RSA key needs at least 2048 bits/],
    ['Ed25519 key', { certFile: join(dir, 'ed.pem'), keyFile: join(dir, 'ed.key') }, /^MOBILECONFIG_KEY: ed25519 keys are not supported/],
  ];
  for (const [what, files, message, now] of cases) {
    await t.rejects(createProfileSigner({ chainFile: undefined, ...files }, now), { name: 'ProfileSignerError', message }, what);
  }
  t.ok(new ProfileSignerError('x') instanceof Error);
});

t.test('configuration: CERT and KEY together or not at all', async (t) => {
  t.equal(configFromEnv({}).mobileconfigSigning, undefined, 'unsigned by default');
  t.same(configFromEnv({ MOBILECONFIG_CERT: 'c.pem', MOBILECONFIG_KEY: 'k.pem' }).mobileconfigSigning, { certFile: 'c.pem', keyFile: 'k.pem', chainFile: undefined });
  t.same(configFromEnv({ MOBILECONFIG_CERT: 'c.pem', MOBILECONFIG_KEY: 'k.pem', MOBILECONFIG_CHAIN: 'ch.pem' }).mobileconfigSigning, { certFile: 'c.pem', keyFile: 'k.pem', chainFile: 'ch.pem' });
  for (const [env, message] of [
    [{ MOBILECONFIG_CERT: 'c.pem' }, /MOBILECONFIG_CERT is set but MOBILECONFIG_KEY is not/],
    [{ MOBILECONFIG_KEY: 'k.pem' }, /MOBILECONFIG_KEY is set but MOBILECONFIG_CERT is not/],
    [{ MOBILECONFIG_KEY: 'k.pem', MOBILECONFIG_CERT: '' }, /MOBILECONFIG_KEY is set but MOBILECONFIG_CERT is not/],
    [{ MOBILECONFIG_CHAIN: 'ch.pem' }, /MOBILECONFIG_CHAIN is set but MOBILECONFIG_CERT and MOBILECONFIG_KEY are not/],
  ] as const) {
    t.throws(() => configFromEnv(env), { constructor: ConfigError, message }, JSON.stringify(env));
  }
});

t.test('start-up: a bad signing configuration exits non-zero with the message', async (t) => {
  const pki = PKI;
  const directory = `sqlite:${join(t.testdir(), 'directory.db')}`;
  for (const [env, message] of [
    [{ MOBILECONFIG_CERT: pki.rsaCert, MOBILECONFIG_KEY: pki.ecKey }, /^mailconf: cannot start: MOBILECONFIG_KEY \(.*\) does not belong to the certificate in MOBILECONFIG_CERT/],
    [{ MOBILECONFIG_CERT: pki.rsaCert }, /^mailconf: cannot start: MOBILECONFIG_CERT is set but MOBILECONFIG_KEY is not/],
  ] as const) {
    const server = startServer({ MAILCONF_DIRECTORY: directory, ...env });
    t.teardown(() => void server.child.kill('SIGKILL'));
    const [code] = await once(server.child, 'exit');
    t.equal(code, 1, JSON.stringify(env));
    t.match(server.err(), message);
    t.notMatch(server.out(), 'mailconf listening', 'never serves unsigned instead');
  }
});

t.test('start-up with a signing certificate: says so, and serves verifiable profiles', async (t) => {
  const pki = PKI;
  const server = startServer({
    MAILCONF_DIRECTORY: `sqlite:${join(t.testdir(), 'directory.db')}`,
    MOBILECONFIG_CERT: pki.ecCert,
    MOBILECONFIG_KEY: pki.ecKey,
    MOBILECONFIG_CHAIN: pki.intermediate,
  });
  t.teardown(() => void server.child.kill('SIGKILL'));
  for (let i = 0; i < 600 && !server.out().includes('mailconf listening') && server.child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  const lines = server.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string });
  const listening = lines.find((l) => l.msg.startsWith('mailconf listening'));
  if (!listening) throw new Error(`the server did not start: ${server.err()}`);
  t.match(lines.find((l) => l.msg.startsWith('Apple profiles are signed')), { level: 30, msg: /signed as CN=ec\.mailconf\.test \(certificate valid until \d{4}-/ });
  t.match(lines.find((l) => l.msg.startsWith('MAILCONF_SECRET is not set')), { level: 30, msg: /made a random instance secret in .*directory\.db\.secret$/ }, 'a kept random secret without MAILCONF_SECRET');
  const port = Number(/:(\d+),/.exec(listening.msg)![1]);
  const res = await fetch(`http://127.0.0.1:${port}/mobileconfig?emailaddress=sales%40oldtimer-shop.example`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/x-apple-aspen-config');
  const verified = verify(pki.dir, Buffer.from(await res.arrayBuffer()), pki.ca, ['-purpose', 'any']);
  t.ok(verified.ok, 'openssl verifies the downloaded profile');
  if (verified.ok) t.match(verified.content.toString('utf8'), '<string>mail123.pair.com</string>');
  server.child.kill('SIGTERM');
  const [code] = await once(server.child, 'exit');
  t.equal(code, 0);
});

t.test('one signer serves many requests at once', async (t) => {
  const pki = PKI;
  const signer: ProfileSigner = await createProfileSigner({ certFile: pki.rsaCert, keyFile: pki.rsaKey, chainFile: undefined });
  const { app } = await testApp(t, { env: { MAILCONF_SECRET: SECRET }, profileSigner: signer });
  const emails = Array.from({ length: 20 }, (_, i) => `user${i}@newbie.example`);
  const answers = await Promise.all(emails.map((e) => app.inject({ url: `/mobileconfig?emailaddress=${encodeURIComponent(e)}` })));
  for (const [i, res] of answers.entries()) {
    t.equal(res.statusCode, 200, `request ${i}`);
    const verified = verify(pki.dir, res.rawPayload, pki.ca);
    t.ok(verified.ok && verified.content.toString('utf8').includes(`<string>${emails[i]}</string>`), `profile ${i}`, { error: verified.ok ? undefined : verified.error, body: res.statusCode === 200 ? undefined : res.body });
  }
});
