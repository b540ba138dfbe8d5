// The instance secret behind log address hashes and Apple profile ids. MAILCONF_SECRET
// wins; without it, a random secret is made once and kept beside the SQLite directory, so
// ids stay stable across restarts (re-downloaded profiles replace the installed one) and
// nobody who merely knows the configuration can compute them.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export type SecretSource = 'environment' | 'file' | 'new-file' | 'process';

export interface InstanceSecret {
  secret: string;
  source: SecretSource;
  /** The file holding it, for sources `file` and `new-file`. */
  file?: string;
}

/** `sqlite:PATH` -> `PATH.secret`; none for an in-memory directory. */
export function secretFileFor(directoryUrl: string): string | undefined {
  const path = directoryUrl.startsWith('sqlite:') ? directoryUrl.slice('sqlite:'.length) : '';
  return path === '' || path === ':memory:' ? undefined : `${path}.secret`;
}

export function instanceSecret(configured: string | undefined, directoryUrl: string): InstanceSecret {
  if (configured) return { secret: configured, source: 'environment' };
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
