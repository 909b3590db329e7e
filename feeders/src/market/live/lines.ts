// What the market feeder pushes to Grafana Live, as Influx line protocol (docs/GRAFANA_LIVE.md). Grafana
// 12.3 converts each request into one frame per measurement whose schema is the union of the fields in
// that request (pkg/services/live/telemetry/telegraf/convert.go), and a subscribed panel drops its buffer
// whenever the schema changes (public/app/features/live/data/StreamingDataFrame.ts). So there is ONE
// measurement, `ticker`, one line per symbol, and it always carries every field: price, bid, ask, 24 h
// change and the tick's time as a value (`time_ms`). A value not known yet (a stock without a book, a
// trade before the first 24 h ticker) is the string "NaN", which the converter turns into a null float
// (the same number column, no schema change). Closed candles are not pushed (docs/GRAFANA_LIVE.md, "Why
// no candles"). Field names are the InfluxDB ones, so one panel override fits both queries.
// Timestamps are nanoseconds: the push endpoint takes no precision parameter.
export const LIVE_MEASUREMENTS = {
  ticker: ['ask', 'bid', 'change_pct_24h', 'price', 'time_ms'],
} as const;
export type LiveMeasurement = keyof typeof LIVE_MEASUREMENTS;

/** Tag keys/values: escape comma, equals, space (line protocol); our symbols never contain them, but be exact. */
const tag = (s: string) => (/[ ,=\\]/.test(s) ? s.replace(/[ ,=\\]/g, (c) => `\\${c}`) : s);

/** Grafana's null float (telegraf/convert.go: a string field "NaN" becomes a null in a float64 column). */
const NULL = '"NaN"';

export interface SeriesKey {
  exchange: string;
  symbol: string;
  assetType: string;
}

export interface Quote {
  price: number | undefined;
  bid: number | undefined;
  ask: number | undefined;
  changePct24h: number | undefined;
  /** The newest tick's time, epoch ms. */
  ts: number;
}

/**
 * `ticker,asset_type=…,exchange=…,symbol=… ask=` — tags sorted as Grafana's labels string will be, up to
 * the first field: rendered once per symbol, so a line costs only its numbers.
 */
export function lineHead(k: SeriesKey): string {
  return `ticker,asset_type=${tag(k.assetType)},exchange=${tag(k.exchange)},symbol=${tag(k.symbol)} ask=`;
}

/** ASCII bytes of a constant part of a line. */
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const B_NULL = bytes(NULL);
const B_BID = bytes(',bid=');
const B_CHANGE = bytes(',change_pct_24h=');
const B_PRICE = bytes(',price=');
const B_TIME = bytes(',time_ms=');
const B_NS = bytes('000000');
/** 10⁰ … 10⁸: the digit count of a small integer. */
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
/** Room a line needs beyond its head: four values (≤ 25 bytes each), the names, two times (≤ 22 bytes each). */
const LINE_ROOM = 256;

/** Copies a constant's bytes to `p` (a byte loop: cheaper than TypedArray#set for a few bytes); returns the end. */
function put(b: Uint8Array, p: number, c: Uint8Array): number {
  for (let i = 0; i < c.length; i++) b[p + i] = c[i]!;
  return p + c.length;
}

/** Writes `n` (an integer, 0 ≤ n < 10⁹) in decimal at `p`; returns the end. */
function writeSmall(b: Uint8Array, p: number, n: number): number {
  let d = 1;
  while (d < 9 && n >= POW10[d]!) d++;
  return writeDigits(b, p, n, d);
}

/**
 * Writes the last `width` digits of `n` (an integer, 0 ≤ n < 10⁹), leading zeros included, at `p`;
 * returns the end. As an int32 the division by 10 is an integer multiply, not a double division.
 */
function writeDigits(b: Uint8Array, p: number, n: number, width: number): number {
  n |= 0;
  for (let i = p + width - 1; i >= p; i--) {
    const q = (n / 10) | 0;
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return p + width;
}

/** Writes integer `n` (0 ≤ n < 10¹⁶) at `p` as two small integers; returns the end. */
export function writeInt(b: Uint8Array, p: number, n: number): number {
  if (n < 1e8) return writeSmall(b, p, n | 0);
  const hi = Math.floor(n / 1e8);
  return writeDigits(b, writeSmall(b, p, hi | 0), n - hi * 1e8, 8);
}

/**
 * Writes a line-protocol float at `p` that parses back to exactly `x` (or Grafana's null for NaN, a value
 * not known); returns the end. A value with at most 8 decimals (exchange prices, sizes and 24 h changes) is
 * written from integers: m = x × 10⁸ rounded, the text the exact decimal m / 10⁸, which parses to x
 * whenever the division m / 1e8 gives x (both round the same exact quotient to the nearest double).
 * Anything else is written in JS's own shortest form (exponent form is valid line protocol too).
 */
function writeFloat(b: Buffer, p: number, x: number): number {
  if (x !== x) return put(b, p, B_NULL);
  const m = Math.round(x * 1e8);
  if (!(m / 1e8 === x && m > -9e15 && m < 9e15)) return p + b.write(String(x), p, 'latin1');
  let a = m;
  if (m < 0) {
    b[p++] = 45; // -
    a = -m;
  }
  const int = Math.floor(a / 1e8);
  const frac = a - int * 1e8;
  p = writeInt(b, p, int);
  if (frac === 0) return p;
  b[p++] = 46; // .
  // all 8 fraction digits, then the trailing zeros taken off again (frac > 0: a non-zero digit stays)
  p = writeDigits(b, p, frac, 8);
  while (b[p - 1] === 48) p--;
  return p;
}

/**
 * Where a quote's numbers sit in a row of a Float64Array (TickerBody.addRow): ask, bid, 24 h change, price
 * (NaN: not known) and the newest tick's time in epoch ms.
 */
export const Q_ASK = 0;
export const Q_BID = 1;
export const Q_CHANGE = 2;
export const Q_PRICE = 3;
export const Q_TS = 4;

/**
 * A request's body: `ticker` lines written as bytes into one buffer kept from request to request, so a
 * line allocates nothing — no text per number, no string per line, no body string to flatten and encode
 * (a line's strings were most of what Live made the feeder's garbage collector do, docs/BENCHMARKS.md §10).
 */
export class TickerBody {
  private buf = Buffer.allocUnsafe(16 * 1024);
  /** Bytes written, and lines. */
  length = 0;
  lines = 0;
  /** add()'s quote as a row. */
  private readonly quote = new Float64Array(5);

  clear(): void {
    this.length = 0;
    this.lines = 0;
  }

  /** The body written so far: a view of the buffer, valid until the next clear(). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /**
   * One symbol's line, its head from lineHead() as bytes; fields sorted by key as Grafana sorts them.
   * `time_ms` repeats the tick's time as a value: in the browser every label set of a channel shares one
   * time column, so a quote table can only learn when *its* symbol last moved (its Age) by reducing a
   * value of that symbol's own (docs/GRAFANA_LIVE.md, "What the browser does").
   */
  add(head: Uint8Array, q: Quote): void {
    const r = this.quote;
    r[Q_ASK] = q.ask ?? NaN;
    r[Q_BID] = q.bid ?? NaN;
    r[Q_CHANGE] = q.changePct24h ?? NaN;
    r[Q_PRICE] = q.price ?? NaN;
    r[Q_TS] = q.ts;
    this.addRow(head, r, 0);
  }

  /** add() for a quote held in `r` from index `o` on (Q_ASK … Q_TS): the sink's per-symbol rows. */
  addRow(head: Uint8Array, r: Float64Array, o: number): void {
    if (this.length + head.length + LINE_ROOM > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.length + head.length + LINE_ROOM));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    const b = this.buf;
    let p = this.length;
    if (this.lines++ > 0) b[p++] = 10; // \n
    b.set(head, p);
    p = writeFloat(b, p + head.length, r[o + Q_ASK]!);
    p = writeFloat(b, put(b, p, B_BID), r[o + Q_BID]!);
    p = writeFloat(b, put(b, p, B_CHANGE), r[o + Q_CHANGE]!);
    p = writeFloat(b, put(b, p, B_PRICE), r[o + Q_PRICE]!);
    p = put(b, p, B_TIME);
    // an epoch time in ms (≥ 0, < 10¹⁶) as an integer, else in JS's form; the timestamp is the same digits and 10⁶
    const ms = Math.round(r[o + Q_TS]!);
    const start = p;
    p = ms >= 0 && ms < 1e16 ? writeInt(b, p, ms) : p + b.write(String(ms), p, 'latin1');
    const end = p;
    b[p++] = 32; // space
    for (let i = start; i < end; i++) b[p++] = b[i]!;
    this.length = put(b, p, B_NS);
  }
}

/** A line as text (tests, logs): the same bytes as TickerBody writes. */
export function tickerLine(head: string, q: Quote): string {
  const body = new TickerBody();
  body.add(Buffer.from(head), q);
  return body.bytes().toString('utf8');
}
