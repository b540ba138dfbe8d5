// Opens the backend a directory URL names: the one URL -> backend dispatch.
import type { Directory } from './directory.js';
import { DirectoryError } from './directory.js';
import { SqliteDirectory } from './sqlite.js';
import { parseDirectoryUrl } from './url.js';

export interface OpenedBackend {
  directory: Directory;
  /** Whether the store was created by this call (it holds nothing yet). */
  created: boolean;
}

/** Opens the directory at `url`; a missing store is created, or with `mustExist` a DirectoryError. */
export async function openBackend(url: string, options: { mustExist: boolean }): Promise<OpenedBackend> {
  const location = parseDirectoryUrl(url);
  const existed = SqliteDirectory.exists(location.path);
  if (!existed && options.mustExist) {
    throw new DirectoryError(`no directory at ${location.path} (start the service once, or run "mailconf import FILE")`);
  }
  try {
    return { directory: new SqliteDirectory(location.path), created: !existed };
  } catch (err) {
    throw new DirectoryError(`cannot open directory ${location.path}: ${(err as Error).message}`);
  }
}
