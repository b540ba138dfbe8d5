// Where Delta Chat's core binary is: its platform package (a devDependency, exact pin),
// whose `main` is the deltachat-rpc-server executable itself. We depend on the platform
// package rather than on @deltachat/stdio-rpc-server, whose list of optional platform
// packages names some the registry does not have, which makes `npm ci` refuse the lockfile.
import { createRequire } from 'node:module';

export const CORE_PACKAGE = `@deltachat/stdio-rpc-server-${process.platform}-${process.arch}`;

/** The path of the core binary for this platform; throws when its package is not installed. */
export function coreBinaryPath(): string {
  return createRequire(import.meta.url).resolve(CORE_PACKAGE);
}
