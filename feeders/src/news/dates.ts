// Publication dates as feeds really write them (docs/SENTIMENT.md "Feeds in the wild"): RFC 822 and
// ISO 8601 mostly, but also the site's local numeric format ("08/02/2013 12:00:00") and ISO without an
// offset. JavaScript's Date reads both of those in the machine's time zone and month-first; this reads
// them the same way on every machine.

/** `en-us` (and `en_US`) writes month first; every other locale day first. */
const monthFirst = (language: string | undefined) => /^en[-_]us\b/i.test(language?.trim() ?? '');

const NUMERIC = /^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i;
const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;

function offsetMs(zone: string | undefined): number {
  if (!zone || /^(Z|UTC|GMT)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/**
 * Epoch ms of a feed date, or NaN. A numeric date `a/b/yyyy` is day-first unless a part over 12 says
 * otherwise or the feed's `<language>` is `en-us`; `dd.mm.yyyy` is always day-first. A date without a
 * zone is UTC (never the machine's zone).
 */
export function parseFeedDate(raw: string | undefined, language?: string): number {
  const s = raw?.trim();
  if (!s) return NaN;
  const n = NUMERIC.exec(s);
  if (n) {
    const [a, sep, b, y] = [Number(n[1]), n[2], Number(n[3]), Number(n[4])];
    const mdy = sep !== '.' && (b > 12 || (a <= 12 && monthFirst(language)));
    const [day, month] = mdy ? [b, a] : [a, b];
    if (month < 1 || month > 12 || day < 1 || day > 31) return NaN;
    const year = n[4]!.length === 2 ? 2000 + y : y;
    return Date.UTC(year, month - 1, day, Number(n[5] ?? 0), Number(n[6] ?? 0), Number(n[7] ?? 0)) - offsetMs(n[8]);
  }
  if (ISO_NO_ZONE.test(s)) return Date.parse(`${s.replace(' ', 'T')}${s.length === 10 ? 'T00:00:00' : ''}Z`);
  return Date.parse(s);
}
