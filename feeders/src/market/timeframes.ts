// Timeframes of candles and indicators (docs/INFLUXDB.md, "Timeframes"): which bucket each is stored in,
// and the aggregation of closed 1-minute candles into 5m / 1h / 1d bars for venues that stream 1-minute
// klines (Binance). Yahoo serves each timeframe itself and is not aggregated.
import { BUCKETS } from '@mt/common';
import type { Candle, Interval } from './types.js';

export interface Timeframe {
  interval: Interval;
  ms: number;
  /** Bucket (`db/rp`) the feeder writes this timeframe's candles and indicators to. */
  bucket: string;
}

export const TIMEFRAMES: Record<Interval, Timeframe> = {
  '1m': { interval: '1m', ms: 60_000, bucket: BUCKETS.marketsRaw },
  '5m': { interval: '5m', ms: 300_000, bucket: BUCKETS.markets5m },
  '1h': { interval: '1h', ms: 3_600_000, bucket: BUCKETS.markets1h },
  '1d': { interval: '1d', ms: 86_400_000, bucket: BUCKETS.markets1h },
};

export const INTERVALS = Object.keys(TIMEFRAMES) as Interval[];

/** The timeframes built from 1-minute candles. */
const DERIVED: Interval[] = ['5m', '1h', '1d'];

interface Bucket {
  start: number;
  minutes: Set<number>;
  open: number;
  openAt: number;
  high: number;
  low: number;
  close: number;
  closeAt: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  emitted: boolean;
}

/**
 * Closed 1-minute candles → closed 5m / 1h / 1d candles, UTC-aligned. A bucket is emitted once, when all
 * of its minutes have been added (in any order: a backfilled gap completes a bucket late), never from
 * part of its minutes. Callers add each 1-minute candle once (the core's ledger drops repeats).
 */
export class TimeframeAggregator {
  /** `exchange:symbol` → interval → bucket start → bucket. */
  private readonly state = new Map<string, Map<Interval, Map<number, Bucket>>>();

  constructor(private readonly keepMs = 2 * 86_400_000) {}

  /** Seed open buckets from stored 1-minute candles (restart): nothing is emitted. */
  seed(key: string, stored: Candle[]): void {
    for (const c of stored) this.add(key, c, true);
  }

  /** Add one closed 1-minute candle; returns the higher-timeframe candles it completes. */
  add(key: string, c: Candle, seeding = false): Candle[] {
    if (c.interval !== '1m' || !c.closed) return [];
    let byInterval = this.state.get(key);
    if (!byInterval) this.state.set(key, (byInterval = new Map()));
    const out: Candle[] = [];
    for (const interval of DERIVED) {
      const tf = TIMEFRAMES[interval];
      let buckets = byInterval.get(interval);
      if (!buckets) byInterval.set(interval, (buckets = new Map()));
      const start = c.openTime - (c.openTime % tf.ms);
      let b = buckets.get(start);
      if (!b) {
        buckets.set(start, (b = newBucket(start, c)));
        // amortised: a pass only once twice the kept number of buckets has accumulated
        if (buckets.size > (2 * this.keepMs) / tf.ms + 2) this.prune(buckets, start);
      } else if (b.minutes.has(c.openTime)) continue;
      else merge(b, c);
      b.minutes.add(c.openTime);
      if (!b.emitted && b.minutes.size === tf.ms / 60_000) {
        b.emitted = true;
        if (!seeding) out.push(toCandle(b, c, tf));
      }
    }
    return out;
  }

  drop(key: string): void {
    this.state.delete(key);
  }

  private prune(buckets: Map<number, Bucket>, newest: number): void {
    for (const start of buckets.keys()) if (start < newest - this.keepMs) buckets.delete(start);
  }
}

function newBucket(start: number, c: Candle): Bucket {
  return {
    start,
    minutes: new Set(),
    open: c.open,
    openAt: c.openTime,
    high: c.high,
    low: c.low,
    close: c.close,
    closeAt: c.openTime,
    volume: c.volume,
    quoteVolume: c.quoteVolume,
    trades: c.trades,
    emitted: false,
  };
}

function merge(b: Bucket, c: Candle): void {
  if (c.openTime < b.openAt) {
    b.open = c.open;
    b.openAt = c.openTime;
  }
  if (c.openTime > b.closeAt) {
    b.close = c.close;
    b.closeAt = c.openTime;
  }
  if (c.high > b.high) b.high = c.high;
  if (c.low < b.low) b.low = c.low;
  b.volume += c.volume;
  b.quoteVolume += c.quoteVolume;
  b.trades += c.trades;
}

function toCandle(b: Bucket, last: Candle, tf: Timeframe): Candle {
  return {
    exchange: last.exchange,
    symbol: last.symbol,
    assetType: last.assetType,
    interval: tf.interval,
    openTime: b.start,
    closeTime: b.start + tf.ms - 1,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    quoteVolume: b.quoteVolume,
    trades: b.trades,
    closed: true,
    receivedAt: last.receivedAt,
  };
}
