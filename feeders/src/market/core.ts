// The feeder core: every source hands normalised ticks and candles to `out`; the core evaluates price
// alerts on every tick, throttles market_data to one point per second per symbol, stores each closed
// candle once (in its timeframe's bucket, docs/INFLUXDB.md "Timeframes"), builds 5m / 1h / 1d candles
// from streamed 1-minute ones, and computes indicators per timeframe on closed candles in open-time order.
import type { Logger } from 'pino';
import { BUCKETS, influxQLString, watchItemKey, type InfluxQLClient, type InfluxSink, type WatchItem } from '@mt/common';
import type { Point } from '@influxdata/influxdb-client';
import type { MarketContext } from './context.js';
import type { Candle, IndicatorValues, Interval, MarketSink, MarketTick } from './types.js';
import type { IndicatorEngine } from './indicators/index.js';
import type { PriceAlerts } from './alerts/index.js';
import type { MarketMetrics } from './metrics.js';
import { candlePoint, indicatorPoint, marketDataPoint } from './points.js';
import { TIMEFRAMES, TimeframeAggregator } from './timeframes.js';
import { VenueEventStore } from './core/venue-events.js';

/**
 * One closed candle of one timeframe with its indicator values, in open-time order per series.
 * `recomputed`: the values of an already announced candle, recomputed because an older candle (a
 * backfilled gap) arrived after it.
 */
export type ClosedCandleListener = (c: Candle, values: IndicatorValues, info: { recomputed: boolean }) => void;

/** Venues that serve every timeframe themselves (their 1-minute candles are not aggregated). */
const SELF_TIMEFRAMED = new Set(['yahoo']);
const MINUTES_PER_DAY = 1440;
/** How far before "an hour ago" the reference candle of change_pct_1h may have closed. */
const CHANGE_1H_SLACK_MS = 5 * 60_000;
/** How old the previous daily close may be for a fallback's 24 h change (a long weekend). */
const PREV_CLOSE_SLACK_MS = 4 * 86_400_000;

export interface MarketCoreOptions {
  sink: InfluxSink;
  influxql: InfluxQLClient;
  indicators: Pick<IndicatorEngine, 'seed' | 'onClosedCandle' | 'drop'>;
  /** Set after construction when alerts need the context the core is part of. */
  alerts?: Pick<PriceAlerts, 'onTick'>;
  /**
   * A second, push-only sink beside InfluxDB (Grafana Live, docs/GRAFANA_LIVE.md): every tick and every
   * stored closed candle, unthrottled (it coalesces itself). It must never block or throw into ingest.
   */
  live?: MarketSink;
  log: Logger;
  /** Built with `core.lastTicks()` as its tick-age source. */
  metrics?: MarketMetrics;
  now?: () => number;
  /** Minimum spacing of market_data points per symbol. */
  throttleMs?: number;
  /** Closed candles kept per symbol (indicator warm-up and re-computation after an out-of-order candle). */
  historyCandles?: number;
  /** How long an open time is remembered to drop duplicate candles. */
  dedupeWindowMs?: number;
  /** A book older than this (venue time against ours) is not stored. Default 5000. */
  bookStaleMs?: number;
}

interface TickState {
  /** The ticks since the last point, merged (later wins); reused from point to point, so no per-tick object. */
  held: MarketTick;
  /** Whether `held` holds anything not yet stored. */
  pending: boolean;
  lastEmitAt: number;
  timer: NodeJS.Timeout | undefined;
  /** The throttle timer's callback, made once per symbol. */
  emit: () => void;
}

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

const MARKETS_DB = BUCKETS.marketsRaw.split('/')[0]!;
const CANDLE_FIELDS = ['open', 'high', 'low', 'close', 'volume', 'quote_volume', 'trades'] as const;

export class MarketCore {
  readonly out: MarketContext['out'];
  alerts: Pick<PriceAlerts, 'onTick'> | undefined;
  metrics: MarketMetrics | undefined;
  /** exchange → symbol → state: two look-ups instead of building an `exchange:symbol` key per tick. */
  private readonly ticks = new Map<string, Map<string, TickState>>();
  private readonly lastTickAt = new Map<string, { at: number; assetType: string }>();
  private readonly marketCaps = new Map<string, number>();
  private readonly candles = new Map<string, CandleState>();
  private readonly warming = new Set<Promise<void>>();
  private readonly aggregator = new TimeframeAggregator();
  private readonly closedListeners: ClosedCandleListener[] = [];
  private readonly now: () => number;
  private readonly throttleMs: number;
  private readonly historyCandles: number;
  private readonly dedupeWindowMs: number;
  private readonly venueEvents: VenueEventStore;
  private stopped = false;

  constructor(private readonly o: MarketCoreOptions) {
    this.alerts = o.alerts;
    this.metrics = o.metrics;
    this.now = o.now ?? Date.now;
    this.throttleMs = o.throttleMs ?? 1000;
    this.historyCandles = o.historyCandles ?? 200;
    this.dedupeWindowMs = o.dedupeWindowMs ?? 48 * 3600_000;
    this.venueEvents = new VenueEventStore({
      write: (measurement, p) => this.write(measurement, p),
      metrics: () => this.metrics,
      now: this.now,
      throttleMs: this.throttleMs,
      bookStaleMs: o.bookStaleMs,
    });
    const ve = this.venueEvents;
    this.out = {
      tick: (t) => this.onTick(t),
      candle: (c) => this.onCandle(c),
      restate: (cs) => this.onRestate(cs),
      book: (b) => {
        if (!this.stopped) ve.book(b);
      },
      funding: (f) => {
        if (!this.stopped) ve.funding(f);
      },
      openInterest: (oi) => {
        if (!this.stopped) ve.openInterest(oi);
      },
      liquidation: (l) => {
        if (!this.stopped) ve.liquidation(l);
      },
      marketCap: (symbol, cap) => {
        if (Number.isFinite(cap)) this.marketCaps.set(symbol, cap);
      },
    };
  }

  /** Subscribe to every closed candle of every timeframe with its indicators; returns the unsubscribe. */
  onClosedCandle(listener: ClosedCandleListener): () => void {
    this.closedListeners.push(listener);
    return () => {
      const i = this.closedListeners.indexOf(listener);
      if (i >= 0) this.closedListeners.splice(i, 1);
    };
  }

  /** For market_last_tick_age_seconds: symbol → receive time of its last tick and its asset type. */
  lastTicks(): Iterable<[string, { at: number; assetType: string }]> {
    return this.lastTickAt.entries();
  }

  /**
   * Forget symbols that left the watch set: their tick age would otherwise grow forever, and if one comes
   * back its candles must warm up from storage again rather than continue a stale in-memory series.
   */
  setWatch(items: WatchItem[]): void {
    const symbols = new Set(items.map((i) => i.symbol));
    const keys = new Set(items.map(watchItemKey));
    for (const s of this.lastTickAt.keys()) if (!symbols.has(s)) this.lastTickAt.delete(s);
    for (const s of this.marketCaps.keys()) if (!symbols.has(s)) this.marketCaps.delete(s);
    for (const [exchange, bySymbol] of this.ticks) {
      for (const [symbol, st] of bySymbol) {
        if (keys.has(watchItemKey({ exchange, symbol }))) continue;
        this.emitTick(st);
        bySymbol.delete(symbol);
      }
    }
    for (const key of this.candles.keys()) {
      if (keys.has(key.slice(0, key.lastIndexOf(':')))) continue;
      this.candles.delete(key);
      this.o.indicators.drop(key);
      this.aggregator.drop(key.slice(0, key.lastIndexOf(':')));
    }
    this.venueEvents.setWatch(items);
  }

  /** Emit every held market_data point now and wait for pending warm-ups (shutdown). */
  async flush(): Promise<void> {
    while (this.warming.size) await Promise.allSettled([...this.warming]);
    for (const bySymbol of this.ticks.values()) for (const st of bySymbol.values()) this.emitTick(st);
    this.venueEvents.flush();
  }

  /** Stop accepting input, then flush(). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }

  // ---- ticks ----

  private onTick(t: MarketTick): void {
    if (this.stopped) return;
    // alerts see every tick, not the throttled stream: a spike inside one second must still fire
    try {
      this.alerts?.onTick(t);
    } catch (err) {
      this.contain('alerts', 'tick', err);
    }
    if (this.o.live) {
      try {
        this.o.live.tick(t);
      } catch (err) {
        this.contain('live', 'tick', err);
      }
    }
    const now = this.now();
    const last = this.lastTickAt.get(t.symbol);
    if (last) last.at = now;
    else this.lastTickAt.set(t.symbol, { at: now, assetType: t.assetType });
    let bySymbol = this.ticks.get(t.exchange);
    if (!bySymbol) this.ticks.set(t.exchange, (bySymbol = new Map()));
    let st = bySymbol.get(t.symbol);
    if (!st) bySymbol.set(t.symbol, (st = this.tickState()));
    if (st.pending) merge(st.held, t);
    else copyTick(st.held, t);
    st.pending = true;
    const wait = st.lastEmitAt + this.throttleMs - now;
    if (wait <= 0) this.emitTick(st);
    else st.timer ??= setTimeout(st.emit, wait).unref();
  }

  private tickState(): TickState {
    const st: TickState = {
      held: { ...EMPTY_TICK },
      pending: false,
      lastEmitAt: -Infinity,
      timer: undefined,
      emit: () => this.emitTick(st),
    };
    return st;
  }

  private emitTick(st: TickState): void {
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    if (!st.pending) return;
    const t = st.held;
    st.pending = false;
    st.lastEmitAt = this.now();
    if (t.assetType === 'crypto' && t.marketCap === undefined) {
      const cap = this.marketCaps.get(t.symbol);
      if (cap !== undefined) {
        t.marketCap = cap;
        this.marketCaps.delete(t.symbol);
      }
    }
    t.changePct1h ??= this.changeSince(t, '1m', t.ts - 3600_000, CHANGE_1H_SLACK_MS);
    // a fallback without a day's change (ExchangeRate-API's rates): against the symbol's last closed daily
    // candle, i.e. the previous close, as Yahoo's own figure is (docs/SOURCES.md, "Fallback sources")
    if (t.source !== undefined) t.changePct24h ??= this.changeSince(t, '1d', t.ts, PREV_CLOSE_SLACK_MS);
    this.write('market_data', marketDataPoint(t));
  }

  /**
   * The change in % of the tick's price against the close of the symbol's last closed `interval` candle
   * that ended by `at` (the venue's own series: Binance's stream, Yahoo's chart bars). None while there is
   * no such candle within `slackMs` of `at` (cold start, a gap, a closed market's last bar long ago) rather
   * than a change over some other span. change_pct_1h: 1-minute candles an hour back (docs/INFLUXDB.md).
   */
  private changeSince(t: MarketTick, interval: Interval, at: number, slackMs: number): number | undefined {
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

  // ---- candles ----

  private onCandle(c: Candle): void {
    if (this.stopped) return;
    if (!c.closed) {
      this.metrics?.candlesIgnored.inc({ reason: 'open' });
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

  private onRestate(cs: Candle[]): void {
    for (const c of cs) {
      if (this.stopped || !c.closed) continue;
      const key = candleKey(c);
      const known = this.candles.get(key);
      known?.revise.add(c.openTime);
      this.onCandle(c);
      // a series not seen yet in this process: warming up now, the revision applies once it is read
      if (!known) this.candles.get(key)?.revise.add(c.openTime);
    }
  }

  private async warmUp(key: string, first: Candle, st: CandleState): Promise<void> {
    try {
      const stored = await this.readHistory(first);
      st.history = stored.slice(-this.historyCandles);
      for (const h of stored) st.seen.add(h.openTime);
      this.o.indicators.seed(key, st.history);
      // the open 5m / 1h / 1d buckets continue from the minutes stored before this process started
      if (aggregates(first)) this.aggregator.seed(seriesKey(first), stored);
    } catch (err) {
      // without history the candles are still stored; indicators start cold
      this.o.log.warn({ err, key }, 'could not read stored candles for indicator warm-up');
      this.metrics?.componentErrors.inc({ component: 'indicators', phase: 'warmup' });
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
    const q =
      `SELECT ${CANDLE_FIELDS.map((f) => `"${f}"`).join(',')} FROM "${rp}"."candles"` +
      ` WHERE "exchange"=${influxQLString(c.exchange)} AND "symbol"=${influxQLString(c.symbol)} AND "interval"=${influxQLString(c.interval)}` +
      ` ORDER BY time DESC LIMIT ${aggregates(c) ? Math.max(this.historyCandles, MINUTES_PER_DAY) : this.historyCandles}`;
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
          receivedAt: this.now(),
        } satisfies Candle;
      });
    });
    return rows.filter((r) => Number.isFinite(r.openTime) && Number.isFinite(r.close)).sort((a, b) => a.openTime - b.openTime);
  }

  private store(key: string, st: CandleState, c: Candle): void {
    const revised = st.revise.delete(c.openTime);
    if (st.seen.has(c.openTime) && !revised) {
      this.metrics?.candlesIgnored.inc({ reason: 'duplicate' });
      return;
    }
    st.seen.add(c.openTime);
    this.pruneSeen(st, c.openTime);
    const bucket = TIMEFRAMES[c.interval].bucket;
    this.write('candles', candlePoint(c), bucket);
    if (this.o.live) {
      try {
        this.o.live.candle(c);
      } catch (err) {
        this.contain('live', 'candle', err);
      }
    }
    if (aggregates(c)) {
      try {
        for (const higher of this.aggregator.add(seriesKey(c), c)) this.onCandle(higher);
      } catch (err) {
        this.contain('timeframes', 'candle', err);
      }
    }

    const h = st.history;
    const last = h[h.length - 1];
    if (!last || c.openTime > last.openTime) {
      h.push(c);
      if (h.length > this.historyCandles) h.shift();
      this.indicators(key, c, false);
      return;
    }
    // An older candle (a backfilled gap) after newer ones, or a revised one: insert or replace it and
    // recompute the indicators of every later candle, so the series is the same as if the candles had
    // arrived in order with these values.
    const i = h.findIndex((x) => x.openTime >= c.openTime);
    if (h[i]?.openTime === c.openTime) h[i] = c;
    else {
      if (i === 0 && h.length >= this.historyCandles) return; // older than anything that still matters
      h.splice(i, 0, c);
      if (h.length > this.historyCandles) h.shift();
    }
    const from = h.indexOf(c);
    try {
      this.o.indicators.seed(key, h.slice(0, from));
    } catch (err) {
      this.contain('indicators', 'seed', err);
      return;
    }
    for (const x of h.slice(from)) this.indicators(key, x, x !== c);
  }

  private indicators(key: string, c: Candle, recomputed: boolean): void {
    let values: IndicatorValues;
    try {
      values = this.o.indicators.onClosedCandle(key, c);
      const p = indicatorPoint(c, values);
      if (p) this.write('indicators', p, TIMEFRAMES[c.interval].bucket);
    } catch (err) {
      this.contain('indicators', 'candle', err);
      return;
    }
    for (const l of this.closedListeners) {
      try {
        l(c, values, { recomputed });
      } catch (err) {
        this.contain('closed-candle-listener', 'candle', err);
      }
    }
  }

  private pruneSeen(st: CandleState, newest: number): void {
    // amortised: a pass over the set only after it has grown by a day of 1 m candles since the last one
    // (a full window, 48 h = 2880 entries, stays above any fixed size: pruning on every candle past it
    // made each candle walk the whole set, bench/timeframes.ts)
    if (st.seen.size < st.pruneAt) return;
    const cutoff = newest - this.dedupeWindowMs;
    for (const t of st.seen) if (t < cutoff) st.seen.delete(t);
    st.pruneAt = st.seen.size + 1440;
  }

  private write(measurement: string, p: Point, bucket: string = BUCKETS.marketsRaw): void {
    this.o.sink.write(bucket, p);
    this.metrics?.points.inc({ measurement });
  }

  private contain(component: string, phase: string, err: unknown): void {
    this.metrics?.componentErrors.inc({ component, phase });
    this.o.log.error({ err, component, phase }, 'component error contained');
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

/**
 * Every field of a MarketTick, in one order: the held ticks all get this shape, so the per-tick copy and
 * merge below run on one object layout (and the point builder skips the undefined fields).
 */
const EMPTY_TICK: MarketTick = {
  exchange: '',
  symbol: '',
  assetType: 'crypto',
  ts: 0,
  receivedAt: 0,
  price: 0,
  bid: undefined,
  ask: undefined,
  volume24h: undefined,
  changePct24h: undefined,
  changePct1h: undefined,
  high24h: undefined,
  low24h: undefined,
  marketCap: undefined,
  marketState: undefined,
  source: undefined,
};

/** The first tick after a point: `h` becomes a copy of `t` (fields `t` lacks are cleared). */
function copyTick(h: MarketTick, t: MarketTick): void {
  h.exchange = t.exchange;
  h.symbol = t.symbol;
  h.assetType = t.assetType;
  h.ts = t.ts;
  h.receivedAt = t.receivedAt;
  h.price = t.price;
  h.bid = t.bid;
  h.ask = t.ask;
  h.volume24h = t.volume24h;
  h.changePct24h = t.changePct24h;
  h.changePct1h = t.changePct1h;
  h.high24h = t.high24h;
  h.low24h = t.low24h;
  h.marketCap = t.marketCap;
  // a fallback knows no market state: its point carries the venue's last one (docs/SOURCES.md)
  if (t.source === undefined || t.marketState !== undefined) h.marketState = t.marketState;
  h.source = t.source;
}

/**
 * Later tick wins field by field; fields it does not carry (bid/ask from bookTicker, 24 h stats from the
 * ticker) are kept. Field by field rather than over Object.entries: no arrays per tick.
 */
function merge(h: MarketTick, t: MarketTick): void {
  const ts = Math.max(h.ts, t.ts);
  if (t.exchange !== undefined) h.exchange = t.exchange;
  if (t.symbol !== undefined) h.symbol = t.symbol;
  if (t.assetType !== undefined) h.assetType = t.assetType;
  if (t.receivedAt !== undefined) h.receivedAt = t.receivedAt;
  if (t.price !== undefined) h.price = t.price;
  if (t.bid !== undefined) h.bid = t.bid;
  if (t.ask !== undefined) h.ask = t.ask;
  if (t.volume24h !== undefined) h.volume24h = t.volume24h;
  if (t.changePct24h !== undefined) h.changePct24h = t.changePct24h;
  if (t.changePct1h !== undefined) h.changePct1h = t.changePct1h;
  if (t.high24h !== undefined) h.high24h = t.high24h;
  if (t.low24h !== undefined) h.low24h = t.low24h;
  if (t.marketCap !== undefined) h.marketCap = t.marketCap;
  if (t.marketState !== undefined) h.marketState = t.marketState;
  h.source = t.source; // the price is the latest tick's: so is who gave it
  h.ts = ts;
}
