// Signs Apple configuration profiles: CMS SignedData (RFC 5652) in DER, the profile
// encapsulated (not detached), SHA-256, with the signer's certificate and its chain, as
// `openssl smime -sign -nodetach -outform der` makes it. Node's crypto checks the key and
// certificates once, at start-up; PKI.js builds the CMS structure over WebCrypto, which
// signs with RSA and with ECDSA keys (what most ACME clients issue now) alike.
import { createHash, webcrypto, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ProfileSignerError, readCertificates, readPrivateKey, type SigningFiles } from './pem.js';

export { ProfileSignerError };

export interface ProfileSigner {
  /** The signing certificate's subject, e.g. `CN=mailconf.pair.com`, for the start-up log. */
  readonly subject: string;
  /** When the signing certificate expires. */
  readonly notAfter: Date;
  /** Certificates sent with each signature: the signer's first, then its chain. */
  readonly certificateCount: number;
  /** `content` (UTF-8) wrapped in a signed CMS message, DER-encoded. */
  sign(content: string | Uint8Array): Promise<Buffer>;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
};

// WebCrypto's names for the curves Node reports in OpenSSL's spelling.
const CURVES: Record<string, string> = {
  prime256v1: 'P-256',
  'P-256': 'P-256',
  secp384r1: 'P-384',
  'P-384': 'P-384',
  secp521r1: 'P-521',
  'P-521': 'P-521',
};

const MIN_RSA_BITS = 2048;

// PKI.js types these with the DOM's WebCrypto names; Node's are the same objects.
type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
type PkiCryptoKey = Parameters<pkijs.SignedData['sign']>[0];

/** The WebCrypto algorithm for `key`, or why it cannot sign profiles. */
function signingAlgorithm(key: KeyObject): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < MIN_RSA_BITS) return `an RSA key needs at least ${MIN_RSA_BITS} bits (this one has ${details.modulusLength})`;
    return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    if (!curve) return `the EC curve ${details.namedCurve ?? '(unnamed)'} is not supported (use P-256, P-384 or P-521)`;
    return { name: 'ECDSA', namedCurve: curve };
  }
  return `${key.asymmetricKeyType ?? 'this'} keys are not supported (use RSA or ECDSA)`;
}

/** A DER SET OF is sorted by the members' encodings (OpenSSL re-encodes signed attributes that way). */
function derSorted(attributes: pkijs.Attribute[]): pkijs.Attribute[] {
  const encoded = attributes.map((a) => ({ a, der: Buffer.from(a.toSchema().toBER(false)) }));
  return encoded.sort((x, y) => Buffer.compare(x.der, y.der)).map((e) => e.a);
}

/**
 * Reads and checks the signing files, then returns a signer. Throws a ProfileSignerError
 * naming the variable and the problem when a file is unreadable, holds no PEM certificate
 * or key, the key does not belong to the certificate, the certificate is not valid at
 * `now`, or the key type cannot sign. Extra certificates in the certificate file (a
 * `fullchain.pem`) count as chain.
 */
export async function createProfileSigner(files: SigningFiles, now: Date = new Date()): Promise<ProfileSigner> {
  const [signerCert, ...certFileChain] = readCertificates('MOBILECONFIG_CERT', files.certFile);
  const key = readPrivateKey('MOBILECONFIG_KEY', files.keyFile);
  const chain = [...certFileChain, ...(files.chainFile ? readCertificates('MOBILECONFIG_CHAIN', files.chainFile) : [])];
  if (!signerCert!.checkPrivateKey(key)) {
    throw new ProfileSignerError(
      `MOBILECONFIG_KEY (${files.keyFile}) does not belong to the certificate in MOBILECONFIG_CERT (${files.certFile})`,
    );
  }
  const notBefore = new Date(signerCert!.validFrom);
  const notAfter = new Date(signerCert!.validTo);
  if (now < notBefore) throw new ProfileSignerError(`MOBILECONFIG_CERT: the certificate is not valid before ${notBefore.toISOString()}`);
  if (now > notAfter) throw new ProfileSignerError(`MOBILECONFIG_CERT: the certificate expired on ${notAfter.toISOString()}`);
  const algorithm = signingAlgorithm(key);
  if (typeof algorithm === 'string') throw new ProfileSignerError(`MOBILECONFIG_KEY: ${algorithm}`);

  const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as EngineCrypto });
  let privateKey: webcrypto.CryptoKey;
  try {
    privateKey = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithm, false, ['sign']);
  } catch (err) {
    throw new ProfileSignerError(`MOBILECONFIG_KEY: the key cannot be used for signing: ${(err as Error).message}`);
  }
  const seen = new Set<string>();
  const certificates = [signerCert!, ...chain]
    .filter((c) => !seen.has(c.fingerprint256) && seen.add(c.fingerprint256))
    .map((c) => pkijs.Certificate.fromBER(c.raw));
  const signer = certificates[0]!;

  const sign = async (content: string | Uint8Array): Promise<Buffer> => {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const signedAttrs = new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: derSorted([
        new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
        new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
        new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: createHash('sha256').update(data).digest() })] }),
      ]),
    });
    const signedData = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data, eContent: new asn1js.OctetString({ valueHex: data }) }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.issuer, serialNumber: signer.serialNumber }),
          signedAttrs,
        }),
      ],
      certificates,
    });
    await signedData.sign(privateKey as unknown as PkiCryptoKey, 0, 'SHA-256', undefined, engine);
    const contentInfo = new pkijs.ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
    return Buffer.from(contentInfo.toSchema().toBER(false));
  };

  // One signature now, so that a key WebCrypto cannot use stops start-up rather than a request.
  try {
    await sign('mailconf start-up check');
  } catch (err) {
    throw new ProfileSignerError(`MOBILECONFIG_KEY: signing with this key fails: ${(err as Error).message}`);
  }
  return { subject: signerCert!.subject.replace(/\n/g, ', '), notAfter, certificateCount: certificates.length, sign };
}
