// The instance secret behind log address hashes and Apple profile ids. MAILCONF_SECRET
// wins; without it, a random secret is made once and kept beside the directory's local
// file (SQLite `:memory:`, or a folder that cannot be written, gets a per-process secret), so
// ids stay stable across restarts (re-downloaded profiles replace the installed one) and
// nobody who merely knows the configuration can compute them. A shared directory
// (PostgreSQL) has no local file and is served by several instances, which must all hash
// and name alike: there MAILCONF_SECRET is required.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { maskDirectoryUrl, parseDirectoryUrl } from '../directory/url.js';
import { ConfigError } from './config.js';

export type SecretSource = 'environment' | 'file' | 'new-file' | 'process';

export interface InstanceSecret {
  secret: string;
  source: SecretSource;
  /** The file holding it, for sources `file` and `new-file`. */
  file?: string;
}

/** `<the directory's file>.secret`; none for a directory without a local file. */
export function secretFileFor(directoryUrl: string): string | undefined {
  const { file } = parseDirectoryUrl(directoryUrl);
  return file === undefined ? undefined : `${file}.secret`;
}

/**
 * The secret to use. Throws a ConfigError (start-up stops with its message) for a shared
 * directory without MAILCONF_SECRET: a secret of its own per instance would give each
 * client other profile ids and each log other hashes depending on the machine it reached.
 */
export function instanceSecret(configured: string | undefined, directoryUrl: string): InstanceSecret {
  if (configured) return { secret: configured, source: 'environment' };
  if (parseDirectoryUrl(directoryUrl).shared) {
    throw new ConfigError(
      `MAILCONF_SECRET is not set: the directory ${maskDirectoryUrl(directoryUrl)} is shared by every instance, ` +
        'so the instance secret (Apple profile ids, log address hashes) must be too; ' +
        'set the same MAILCONF_SECRET on each (for example: openssl rand -hex 32)',
    );
  }
  const file = secretFileFor(directoryUrl);
  if (file) {
    try {
      const stored = readFileSync(file, 'utf8').trim();
      if (stored.length >= 32) return { secret: stored, source: 'file', file };
    } catch {
      // not there yet: made below
    }
    const secret = randomBytes(32).toString('hex');
    try {
      // wx: never overwrite a secret another process wrote meanwhile.
      writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      return { secret, source: 'new-file', file };
    } catch {
      try {
        const stored = readFileSync(file, 'utf8').trim();
        if (stored.length >= 32) return { secret: stored, source: 'file', file };
      } catch {
        // unreadable and unwritable: fall through to a per-process secret
      }
    }
  }
  return { secret: randomBytes(32).toString('hex'), source: 'process' };
}
