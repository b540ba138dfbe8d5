// Records from any reader (formats/), validated one at a time on their way to the
// directory's importStream: valid accounts flow on at once, problems are gathered, and the
// stream ends by throwing them all (as ImportRejectedError) so that nothing is committed.
import type { ProviderProfile } from '../policy/provider-profile.js';
import { ImportRejectedError, type ImportProblem, type ImportRecord } from '../directory/directory.js';
import { MAX_PROBLEMS } from '../directory/import-rules.js';
import { validateAccount, type RawRecord, type ValidationOptions } from './validate.js';

/** What a reader yields: a record to validate, or a problem it found itself (a line that is not JSON). */
export type SourceItem = RawRecord | ImportProblem;

// At most MAX_PROBLEMS problems are reported (the directory's bound, one for the whole
// import): past it the input is not read further (a file in the wrong format would
// otherwise produce one per line).
export { MAX_PROBLEMS };

/**
 * The valid accounts of `source` with their positions. After the last record (or the
 * MAX_PROBLEMS-th problem), when any record was invalid, it throws an ImportRejectedError
 * with every problem: the validator's, and the reader's (a reader throws one for a syntax
 * error it cannot read past).
 */
export async function* validatedRecords(
  source: AsyncIterable<SourceItem>,
  profile: ProviderProfile,
  options: ValidationOptions,
): AsyncGenerator<ImportRecord> {
  const problems: ImportProblem[] = [];
  const add = (found: readonly ImportProblem[]) => problems.push(...found.slice(0, MAX_PROBLEMS - problems.length));
  try {
    for await (const item of source) {
      if ('reason' in item) add([item]);
      else {
        const checked = validateAccount(item, profile, options);
        if (checked.ok) yield { position: item.position, account: checked.account };
        else add(checked.problems);
      }
      if (problems.length >= MAX_PROBLEMS) break;
    }
  } catch (err) {
    if (!(err instanceof ImportRejectedError)) throw err;
    add(err.problems);
  }
  if (problems.length > 0) throw new ImportRejectedError(problems);
}

/**
 * A problem's position as the readers write it. The directory names a field of a record by
 * appending its JSON path (`accounts[2].domains[0]`, right for JSON), which for a record
 * at a line reads `line 4.domains[0]`: that becomes `line 4, domains[0]`, as the NDJSON
 * and CSV readers put it.
 */
export function readerPosition(position: string): string {
  return position.replace(/^(line \d+)\.(?=[A-Za-z])/, '$1, ');
}

/**
 * `records`, refused (after the last one) when there was none and they are to replace the
 * directory: a nightly export that failed and wrote nothing must not empty it. `problem`
 * says so in the caller's words (the CLI's `--replace`, the admin API's `?replace=true`).
 */
export async function* notEmptyForReplace(records: AsyncIterable<ImportRecord>, replace: boolean, problem: ImportProblem): AsyncGenerator<ImportRecord> {
  let count = 0;
  for await (const record of records) {
    count++;
    yield record;
  }
  if (replace && count === 0) throw new ImportRejectedError([problem]);
}
