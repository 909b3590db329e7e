// RFC 3339 UTC times as the crypto venues print them (`2026-09-10T17:40:00.105760475Z`, Kraken; Coinbase
// with microseconds) → epoch ms, on every frame. Date.parse of every time was one of the largest costs of
// a saturated feeder beyond JSON.parse; here the minute (`YYYY-MM-DDTHH:MM`) is parsed once and kept, the
// seconds and milliseconds are read from the digits (docs/BENCHMARKS.md §15 "Saturated").

/** Never a prefix of a time of the shape, until the first one is parsed. */
let cachedMinute = '\u0000';
let cachedMinuteMs = Number.NaN;
let cachedSecond = '';
let cachedSecondMs = Number.NaN;

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (at least one fraction digit after a point; the first three are the
 * milliseconds, the rest truncated, as Date.parse does) → epoch ms; NaN when `v` has another shape or is
 * no valid time. The values are judged by Date.parse (of the minute, or of the second for hour 24, which
 * Date.parse treats on its own rules).
 */
export function utcTimeMs(v: string): number {
  const end = v.length - 1;
  if (end < 19 || v.charCodeAt(end) !== 90) return Number.NaN; // 'Z'
  const s1 = v.charCodeAt(17) - 48;
  const s2 = v.charCodeAt(18) - 48;
  if (v.charCodeAt(16) !== 58 || s1 < 0 || s1 > 9 || s2 < 0 || s2 > 9) return Number.NaN; // ':SS'
  let ms = 0;
  if (end > 19) {
    // a fraction: '.' and at least one digit
    if (v.charCodeAt(19) !== 46 || end === 20) return Number.NaN;
    for (let i = 20; i < end; i++) {
      const c = v.charCodeAt(i);
      if (c < 48 || c > 57) return Number.NaN;
      if (i < 23) ms += (c - 48) * (i === 20 ? 100 : i === 21 ? 10 : 1);
    }
  }
  if (!v.startsWith(cachedMinute)) {
    // `YYYY-MM-DDTHH:MM`, judged by Date.parse once per minute
    for (let i = 0; i < 16; i++) {
      const c = v.charCodeAt(i);
      const want = i === 4 || i === 7 ? 45 : i === 10 ? 84 : i === 13 ? 58 : -1; // '-', 'T', ':'
      if (want < 0 ? c < 48 || c > 57 : c !== want) return Number.NaN;
    }
    if (v.charCodeAt(11) === 50 && v.charCodeAt(12) === 52) {
      // hour 24 (never cached as a minute): only 24:00:00 is a time to Date.parse
      const second = v.slice(0, 19);
      if (second !== cachedSecond) {
        cachedSecond = second;
        cachedSecondMs = Date.parse(`${second}Z`);
      }
      return cachedSecondMs + ms;
    }
    cachedMinute = v.slice(0, 16);
    cachedMinuteMs = Date.parse(`${cachedMinute}:00Z`);
  }
  const sec = s1 * 10 + s2;
  if (sec > 59) return Number.NaN;
  return cachedMinuteMs + sec * 1000 + ms;
}
