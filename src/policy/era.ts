// Which era a hosting account belongs to. The provider's cut-off is a calendar date in
// its own time zone, so a timestamp is first turned into that zone's calendar date.
import { calendarDate, parseCreated } from '../model/dates.js';

export type Era = 'old' | 'new';

/** The account's era, or undefined when `created` is not a usable date. */
export function eraOf(created: string, cutoff: string, timeZone: string): Era | undefined {
  const parsed = parseCreated(created);
  if (!parsed) return undefined;
  const date = 'date' in parsed ? parsed.date : calendarDate(parsed.instant, timeZone);
  // ISO dates compare correctly as strings.
  return date < cutoff ? 'old' : 'new';
}
