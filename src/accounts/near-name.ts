// "Did you mean": the known name an unknown field or column was most likely meant to be
// (`mailserver` -> `mailServer`, `domain` -> `domains`), so that a typo is fixed at once.

/** Levenshtein distance of two short names (rows of the classic table, one at a time). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known name `name` is nearest to: the same ignoring case, else within two edits
 * (ignoring case) of a name at least four letters long; undefined when none is that near.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance === 0) return candidate;
    if (distance <= 2 && candidate.length >= 4 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** `what` (say, "unknown field"), with the hint when a known name is near `name`. */
export function unknownName(what: string, name: string, known: Iterable<string>): string {
  const near = nearestName(name, known);
  return near === undefined ? what : `${what} (did you mean "${near}"?)`;
}
