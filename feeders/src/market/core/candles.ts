// The core's candle store: each closed candle stored once (in its timeframe's bucket, docs/INFLUXDB.md
// "Timeframes"), a series' stored history read before its first candle is handled (so indicators continue
// the stored series and stored candles are not written again), 5m / 1h / 1d candles built from streamed
// 1-minute ones, and an older candle (a backfilled gap) or a restated one inserted with the indicators of
// every later candle recomputed in order.
import { candlePoint, MARKETS_DB, storedCandlesQuery, watchItemKey, type InfluxQLClient, type WatchItem } from '@mt/common';
import type { Candle, Interval, MarketTick } from '../types.js';
import { TIMEFRAMES, TimeframeAggregator } from '../timeframes.js';
import type { CoreParts } from './parts.js';
import type { IndicatorRunner } from './indicator-runner.js';

/** Venues that serve every timeframe themselves (their 1-minute candles are not aggregated). */
const SELF_TIMEFRAMED = new Set(['yahoo']);
const MINUTES_PER_DAY = 1440;

interface CandleState {
  /** Recent closed candles, ascending open time. */
  history: Candle[];
  /** Open times already stored (bounded by dedupeWindowMs). */
  seen: Set<number>;
  /** Candles that arrived while the stored history was being read. */
  queue: Candle[] | undefined;
  /** Open times to store again although already stored: restated by their source. */
  revise: Set<number>;
  /** `seen` size at which the next pruning pass runs. */
  pruneAt: number;
}

export interface CandleStoreOptions {
  influxql: InfluxQLClient;
  /** Closed candles kept per series (indicator warm-up and re-computation after an out-of-order candle). */
  historyCandles: number;
  /** How long an open time is remembered to drop duplicate candles. */
  dedupeWindowMs: number;
}

export class CandleStore {
  private readonly candles = new Map<string, CandleState>();
  private readonly warming = new Set<Promise<void>>();
  private readonly aggregator = new TimeframeAggregator();

  constructor(
    private readonly core: CoreParts,
    private readonly indicators: IndicatorRunner,
    private readonly o: CandleStoreOptions,
  ) {}

  candle(c: Candle): void {
    if (this.core.stopped()) return;
    if (!c.closed) {
      this.core.metrics()?.candlesIgnored.inc({ reason: 'open' });
      return;
    }
    const key = candleKey(c);
    const st = this.candles.get(key);
    if (!st) {
      // first candle of this symbol in this process: read its stored history before anything else, so
      // indicators continue the stored series and already-stored candles are not written again
      const fresh: CandleState = { history: [], seen: new Set(), queue: [c], revise: new Set(), pruneAt: 1440 };
      this.candles.set(key, fresh);
      const p = this.warmUp(key, c, fresh).finally(() => this.warming.delete(p));
      this.warming.add(p);
      return;
    }
    if (st.queue) st.queue.push(c);
    else this.store(key, st, c);
  }

  /** Candles whose values their source revised: stored again over the old ones, indicators recomputed. */
  restate(cs: Candle[]): void {
    for (const c of cs) {
      if (this.core.stopped() || !c.closed) continue;
      const key = candleKey(c);
      const known = this.candles.get(key);
      known?.revise.add(c.openTime);
      this.candle(c);
      // a series not seen yet in this process: warming up now, the revision applies once it is read
      if (!known) this.candles.get(key)?.revise.add(c.openTime);
    }
  }

  /** Series of symbols that left the watch set are forgotten: if one comes back, it warms up from storage again. */
  setWatch(items: WatchItem[]): void {
    const keys = new Set(items.map(watchItemKey));
    for (const key of this.candles.keys()) {
      if (keys.has(key.slice(0, key.lastIndexOf(':')))) continue;
      this.candles.delete(key);
      this.indicators.drop(key);
      this.aggregator.drop(key.slice(0, key.lastIndexOf(':')));
    }
  }

  /** Wait for pending warm-ups (shutdown). */
  async settle(): Promise<void> {
    while (this.warming.size) await Promise.allSettled([...this.warming]);
  }

  /**
   * The change in % of the tick's price against the close of the symbol's last closed `interval` candle
   * that ended by `at` (the venue's own series: Binance's stream, Yahoo's chart bars). None while there is
   * no such candle within `slackMs` of `at` (cold start, a gap, a closed market's last bar long ago) rather
   * than a change over some other span. change_pct_1h: 1-minute candles an hour back (docs/INFLUXDB.md).
   */
  changeSince(t: MarketTick, interval: Interval, at: number, slackMs: number): number | undefined {
    const h = this.candles.get(`${t.exchange}:${t.symbol}:${interval}`)?.history;
    if (!h?.length) return undefined;
    // binary search: the last candle that closed at or before `at`
    let lo = 0;
    let hi = h.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.closeTime < at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const ref = h[found];
    if (!ref || at - ref.closeTime > slackMs || !(ref.close > 0)) return undefined;
    return ((t.price - ref.close) / ref.close) * 100;
  }

  private async warmUp(key: string, first: Candle, st: CandleState): Promise<void> {
    try {
      const stored = await this.readHistory(first);
      st.history = stored.slice(-this.o.historyCandles);
      for (const h of stored) st.seen.add(h.openTime);
      this.indicators.seed(key, st.history);
      // the open 5m / 1h / 1d buckets continue from the minutes stored before this process started
      if (aggregates(first)) this.aggregator.seed(seriesKey(first), stored);
    } catch (err) {
      // without history the candles are still stored; indicators start cold
      this.core.log.warn({ err, key }, 'could not read stored candles for indicator warm-up');
      this.core.metrics()?.componentErrors.inc({ component: 'indicators', phase: 'warmup' });
    }
    const queued = st.queue ?? [];
    st.queue = undefined;
    for (const c of queued) this.store(key, st, c);
  }

  /**
   * The latest stored candles of c's series: `historyCandles`, or for a 1-minute series that the higher
   * timeframes are built from, at least a day's worth (every minute of the open daily bucket).
   */
  private async readHistory(c: Candle): Promise<Candle[]> {
    const tf = TIMEFRAMES[c.interval];
    const rp = tf.bucket.split('/')[1]!;
    const n = this.o.historyCandles;
    const q = storedCandlesQuery({ rp, exchange: c.exchange, symbol: c.symbol, interval: c.interval, limit: aggregates(c) ? Math.max(n, MINUTES_PER_DAY) : n });
    const series = await this.o.influxql.query(MARKETS_DB, q);
    const rows = series.flatMap((s) => {
      const idx = (name: string) => s.columns.indexOf(name);
      return s.values.map((v) => {
        const num = (name: string) => Number(v[idx(name)]);
        const openTime = num('time');
        return {
          exchange: c.exchange,
          symbol: c.symbol,
          assetType: c.assetType,
          interval: c.interval,
          openTime,
          closeTime: openTime + tf.ms - 1,
          open: num('open'),
          high: num('high'),
          low: num('low'),
          close: num('close'),
          volume: num('volume'),
          quoteVolume: num('quote_volume'),
          trades: num('trades'),
          closed: true,
          receivedAt: this.core.now(),
        } satisfies Candle;
      });
    });
    return rows.filter((r) => Number.isFinite(r.openTime) && Number.isFinite(r.close)).sort((a, b) => a.openTime - b.openTime);
  }

  private store(key: string, st: CandleState, c: Candle): void {
    const revised = st.revise.delete(c.openTime);
    if (st.seen.has(c.openTime) && !revised) {
      this.core.metrics()?.candlesIgnored.inc({ reason: 'duplicate' });
      return;
    }
    st.seen.add(c.openTime);
    this.pruneSeen(st, c.openTime);
    const bucket = TIMEFRAMES[c.interval].bucket;
    this.core.write('candles', candlePoint(c), bucket);
    const live = this.core.live;
    if (live) {
      try {
        live.candle(c);
      } catch (err) {
        this.core.contain('live', 'candle', err);
      }
    }
    if (aggregates(c)) {
      try {
        for (const higher of this.aggregator.add(seriesKey(c), c)) this.candle(higher);
      } catch (err) {
        this.core.contain('timeframes', 'candle', err);
      }
    }

    const h = st.history;
    const last = h[h.length - 1];
    if (!last || c.openTime > last.openTime) {
      h.push(c);
      if (h.length > this.o.historyCandles) h.shift();
      this.indicators.run(key, c, false);
      return;
    }
    // An older candle (a backfilled gap) after newer ones, or a revised one: insert or replace it and
    // recompute the indicators of every later candle, so the series is the same as if the candles had
    // arrived in order with these values.
    const i = h.findIndex((x) => x.openTime >= c.openTime);
    if (h[i]?.openTime === c.openTime) h[i] = c;
    else {
      if (i === 0 && h.length >= this.o.historyCandles) return; // older than anything that still matters
      h.splice(i, 0, c);
      if (h.length > this.o.historyCandles) h.shift();
    }
    const from = h.indexOf(c);
    try {
      this.indicators.seed(key, h.slice(0, from));
    } catch (err) {
      this.core.contain('indicators', 'seed', err);
      return;
    }
    for (const x of h.slice(from)) this.indicators.run(key, x, x !== c);
  }

  private pruneSeen(st: CandleState, newest: number): void {
    // amortised: a pass over the set only after it has grown by a day of 1 m candles since the last one
    // (a full window, 48 h = 2880 entries, stays above any fixed size: pruning on every candle past it
    // made each candle walk the whole set, bench/timeframes.ts)
    if (st.seen.size < st.pruneAt) return;
    const cutoff = newest - this.o.dedupeWindowMs;
    for (const t of st.seen) if (t < cutoff) st.seen.delete(t);
    st.pruneAt = st.seen.size + 1440;
  }
}

function candleKey(c: Pick<Candle, 'exchange' | 'symbol' | 'interval'>): string {
  return `${c.exchange}:${c.symbol}:${c.interval}`;
}

function seriesKey(c: Pick<Candle, 'exchange' | 'symbol'>): string {
  return `${c.exchange}:${c.symbol}`;
}

/** Whether c is a streamed 1-minute candle that the higher timeframes are built from. */
function aggregates(c: Candle): boolean {
  return c.interval === '1m' && !SELF_TIMEFRAMED.has(c.exchange);
}
