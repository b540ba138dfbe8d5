// The running build's version, from package.json: for `mailconf --version` and the
// metrics' build info. src/config and dist/config are both two levels below the root.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  return cached;
}
