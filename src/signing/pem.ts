// Reading the signing material: PEM files (RFC 7468) holding the certificate, its chain
// and an unencrypted private key, each checked by Node's crypto as it is read.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** MOBILECONFIG_CERT, _KEY and _CHAIN: where the signing material is. */
export interface SigningFiles {
  certFile: string;
  keyFile: string;
  chainFile: string | undefined;
}

/** A configured key or certificate that cannot be used: start-up stops with this message. */
export class ProfileSignerError extends Error {
  override name = 'ProfileSignerError';
}

interface PemBlock {
  label: string;
  text: string;
}

function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g)) {
    blocks.push({ label: m[1]!, text: `${m[0]}\n` });
  }
  return blocks;
}

function readPem(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProfileSignerError(`${variable}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Every certificate in a PEM file; at least one, each one parsable. */
export function readCertificates(variable: string, path: string): X509Certificate[] {
  const blocks = pemBlocks(readPem(variable, path)).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length === 0) throw new ProfileSignerError(`${variable}: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block.text);
    } catch (err) {
      throw new ProfileSignerError(`${variable}: certificate ${i + 1} in ${path} cannot be parsed: ${(err as Error).message}`);
    }
  });
}

export function readPrivateKey(variable: string, path: string): KeyObject {
  const text = readPem(variable, path);
  const keys = pemBlocks(text).filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (keys.length === 0) throw new ProfileSignerError(`${variable}: ${path} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`);
  if (keys.some((b) => b.label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:.*ENCRYPTED/m.test(b.text))) {
    throw new ProfileSignerError(`${variable}: the private key in ${path} is encrypted; give an unencrypted key (the service cannot ask for a passphrase)`);
  }
  try {
    return createPrivateKey({ key: keys[0]!.text, format: 'pem' });
  } catch (err) {
    throw new ProfileSignerError(`${variable}: the private key in ${path} cannot be read: ${(err as Error).message}`);
  }
}

