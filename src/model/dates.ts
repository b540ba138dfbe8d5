// Account creation dates: a real `YYYY-MM-DD` date or an RFC 3339 timestamp, and the
// calendar date an instant falls on in a given time zone (the era rule compares dates).

const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * The instant or date `text` names, or undefined when it is neither a real `YYYY-MM-DD`
 * date nor an RFC 3339 timestamp (with a real date, time and offset).
 */
export function parseCreated(text: string): { date: string } | { instant: Date } | undefined {
  const plain = PLAIN_DATE.exec(text);
  if (plain) {
    const [, y, m, d] = plain.map(Number) as [number, number, number, number];
    return isRealDate(y, m, d) ? { date: text } : undefined;
  }
  const ts = TIMESTAMP.exec(text);
  if (!ts) return undefined;
  const [y, mo, d, h, mi, s] = ts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offset = ts[8]!;
  if (!isRealDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  if (offset.length === 6 && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59)) return undefined;
  const instant = new Date(text.toUpperCase().replace(' ', 'T'));
  return Number.isNaN(instant.getTime()) ? undefined : { instant };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar date (`YYYY-MM-DD`) of `instant` in `timeZone`. */
export function calendarDate(instant: Date, timeZone: string): string {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    // en-CA formats dates as YYYY-MM-DD.
    fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, fmt);
  }
  return fmt.format(instant);
}
