// 1-minute candles from a trade stream, for venues without a 1 m candle stream (Coinbase Exchange).
// docs/SOURCES.md "Coinbase: candles from trades". Pure state machine, no I/O: per symbol it follows the
// venue's trade ids (consecutive integers per product) and decides, minute by minute, whether the trades
// it saw are the whole minute:
// - a minute whose trades arrived as an unbroken id run, on one socket, is built here (`built`);
// - a minute with an id gap, a socket loss inside it, or the first minute seen by this process is not
//   trusted: it is handed to `fetch` (the venue's REST candles) once it is over;
// - the minutes between two trades whose ids are consecutive had no trade, so no candle (the venue
//   publishes none either); between two trades with a gap (or a reconnect) they are fetched.
// A minute is over when a later trade or the venue's own clock (heartbeat time) passes its end: the
// venue's clock, not ours, so it holds under the test server's accelerated clock.

import type { Ohlcv } from '@mt/common';

export const MINUTE = 60_000;
/** Sizes are summed as integers of 1e-8 (Coinbase's finest base increment): the built volume then equals the venue's to the last digit. */
const UNITS = 1e8;

export interface BuiltCandle extends Ohlcv {
  quoteVolume: number;
  trades: number;
}

export interface TradeCandleEvents {
  /** A complete minute built from its trades. */
  built(c: BuiltCandle): void;
  /**
   * Minutes [from, to) must come from the venue. `traded`: minutes in the range where trades were seen
   * (the venue's answer must contain them; an answer without them is not settled yet).
   */
  fetch(from: number, to: number, traded: number[]): void;
  /** The first trade this process saw for the symbol opens minute `minute`: everything before it is the backfill's. */
  boundary(minute: number): void;
}

export interface TradeCandleOptions {
  /** Venue-clock ms after a minute's end before a clock tick closes it (frames of other channels may run slightly ahead). Default 1000. */
  closeGraceMs?: number;
}

interface Bucket {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  units: number;
  quote: number;
  trades: number;
  /** Some trade of this minute may be missing (gap, reconnect, first minute seen). */
  dirty: boolean;
}

export type TradeVerdict = 'ok' | 'duplicate' | 'gap';

/** One symbol's trades → its closed 1 m candles. */
export class TradeCandles {
  private lastId: number | undefined;
  private bucket: Bucket | undefined;
  /** Start of the first minute not yet decided (emitted, fetched or known empty). */
  private settled: number | undefined;
  /** The socket went away since the last trade: continuity is unknown. */
  private lost = false;
  /** The newest trade another channel told of (ticker `trade_id`, heartbeat `last_trade_id`) and its time. */
  private hintId = -1;
  private hintTs = 0;
  private readonly graceMs: number;

  constructor(
    private readonly ev: TradeCandleEvents,
    o: TradeCandleOptions = {},
  ) {
    this.graceMs = o.closeGraceMs ?? 1000;
  }

  get lastTradeId(): number | undefined {
    return this.lastId;
  }

  /**
   * One trade. Ids at or below the last one are repeats (two sockets overlapping, `last_match` after a
   * resubscribe) and ignored. Returns what the id says about continuity.
   */
  trade(id: number, ts: number, price: number, size: number): TradeVerdict {
    if (this.lastId !== undefined && id <= this.lastId) return 'duplicate';
    const first = this.lastId === undefined;
    const continuous = !first && !this.lost && id === this.lastId! + 1;
    this.lastId = id;
    this.lost = false;
    let m = Math.floor(ts / MINUTE) * MINUTE;
    const b = this.bucket;
    if (b && m < b.openTime) {
      // a later id stamped earlier than the minute being built: the minute cannot be trusted
      b.dirty = true;
      m = b.openTime;
    }
    if (b && m === b.openTime) {
      if (!continuous) b.dirty = true;
      add(b, price, size);
      return continuous ? 'ok' : 'gap';
    }
    // a new minute begins
    if (first) {
      this.ev.boundary(m);
      this.settled = m;
    } else if (b) {
      if (continuous) this.close(b);
      // the open minute and every minute up to this trade's are unknown: one range from the venue
      else this.ev.fetch(b.openTime, m, [b.openTime]);
    } else if (!continuous && this.settled !== undefined && this.settled < m) {
      this.ev.fetch(this.settled, m, []);
    }
    this.settled = m;
    this.bucket = { openTime: m, open: price, high: price, low: price, close: price, units: 0, quote: 0, trades: 0, dirty: !continuous };
    add(this.bucket, price, size);
    return first || continuous ? 'ok' : 'gap';
  }

  /**
   * Another channel names trade `id` at `ts` (ticker, heartbeat). Matches lost at the end of a minute
   * leave no id gap until the next trade, maybe minutes later: this is how such a minute is still caught.
   */
  hint(id: number, ts: number): void {
    if (id > this.hintId) {
      this.hintId = id;
      this.hintTs = ts;
    }
  }

  /** The venue's clock (a heartbeat's or ticker's time): closes the open minute once it is over. */
  clock(ts: number): void {
    const b = this.bucket;
    if (b && ts >= b.openTime + MINUTE + this.graceMs) this.close(b);
  }

  /** The socket carrying this symbol went away: the open minute and the time until the next trade are unknown. */
  socketLost(): void {
    this.lost = true;
    if (this.bucket) this.bucket.dirty = true;
  }

  private close(b: Bucket): void {
    this.bucket = undefined;
    // a trade of this minute, or one after it with ids skipped before it, that the matches never showed
    const last = this.lastId ?? -1;
    if (this.hintId > (this.hintTs >= b.openTime + MINUTE ? last + 1 : last)) b.dirty = true;
    this.settled = b.openTime + MINUTE;
    if (b.dirty) {
      this.ev.fetch(b.openTime, b.openTime + MINUTE, [b.openTime]);
      return;
    }
    this.ev.built({ openTime: b.openTime, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.units / UNITS, quoteVolume: b.quote, trades: b.trades });
  }
}

function add(b: Bucket, price: number, size: number): void {
  if (price > b.high) b.high = price;
  if (price < b.low) b.low = price;
  b.close = price;
  b.units += Math.round(size * UNITS);
  b.quote += price * size;
  b.trades++;
}
