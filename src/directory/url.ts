// MAILCONF_DIRECTORY / --directory: the one place a directory URL is read. Each backend
// says here what its URL looks like and which local file (if any) holds its data.
import { DirectoryError } from './directory.js';

export type DirectoryLocation = {
  backend: 'sqlite';
  /** The database file, or `:memory:` for a throw-away one. */
  path: string;
  /** The local file that holds the data, when there is one (not for `:memory:`). */
  file: string | undefined;
};

/** What a directory URL names; a DirectoryError when it names no supported backend. */
export function parseDirectoryUrl(url: string): DirectoryLocation {
  if (!url.startsWith('sqlite:') || url.length === 'sqlite:'.length) {
    throw new DirectoryError(`unsupported directory "${url}": expected sqlite:PATH`);
  }
  const path = url.slice('sqlite:'.length);
  return { backend: 'sqlite', path, file: path === ':memory:' ? undefined : path };
}
