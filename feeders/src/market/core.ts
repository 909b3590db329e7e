// The feeder core: every source hands normalised events to `out`; the core composes its jobs
// (feeders/src/market/core/): the tick throttle (alerts on every tick, market_data once per second per
// symbol), the candle store (each closed candle once, in its timeframe's bucket, 5m / 1h / 1d built from
// streamed 1-minute ones), the indicator runner (indicators per timeframe on closed candles in open-time
// order, closed-candle listeners) and the book/derivatives store (order_book, funding, open_interest,
// liquidations; docs/INFLUXDB.md).
import type { Logger } from 'pino';
import { BUCKETS, type InfluxQLClient, type InfluxSink, type WatchItem } from '@mt/common';
import type { Point } from '@influxdata/influxdb-client';
import type { MarketContext } from './context.js';
import type { IndicatorEngine } from './indicators/index.js';
import type { MarketMetrics } from './metrics.js';
import type { CoreParts, LiveTicks, TickAlerts } from './core/parts.js';
import { TickThrottle } from './core/ticks.js';
import { CandleStore } from './core/candles.js';
import { IndicatorRunner, type ClosedCandleListener } from './core/indicator-runner.js';
import { VenueEventStore } from './core/venue-events.js';

export type { ClosedCandleListener } from './core/indicator-runner.js';

export interface MarketCoreOptions {
  sink: InfluxSink;
  influxql: InfluxQLClient;
  indicators: Pick<IndicatorEngine, 'seed' | 'onClosedCandle' | 'drop'>;
  /** Set after construction when alerts need the context the core is part of. */
  alerts?: TickAlerts;
  /**
   * A second, push-only sink beside InfluxDB (Grafana Live, docs/GRAFANA_LIVE.md): every tick and every
   * stored closed candle, unthrottled (it coalesces itself). It must never block or throw into ingest.
   */
  live?: LiveTicks;
  log: Logger;
  /** Built with `core.lastTicks()` as its tick-age source. */
  metrics?: MarketMetrics;
  now?: () => number;
  /** Minimum spacing of market_data (and order_book, funding) points per symbol. Default 1000. */
  throttleMs?: number;
  /** Closed candles kept per symbol (indicator warm-up and re-computation after an out-of-order candle). Default 200. */
  historyCandles?: number;
  /** How long an open time is remembered to drop duplicate candles. Default 48 h. */
  dedupeWindowMs?: number;
  /** A book older than this (venue time against ours) is not stored. Default 5000. */
  bookStaleMs?: number;
}

export class MarketCore {
  readonly out: MarketContext['out'];
  alerts: TickAlerts | undefined;
  metrics: MarketMetrics | undefined;
  private readonly ticks: TickThrottle;
  private readonly candles: CandleStore;
  private readonly indicators: IndicatorRunner;
  private readonly venueEvents: VenueEventStore;
  private stopped = false;

  constructor(private readonly o: MarketCoreOptions) {
    this.alerts = o.alerts;
    this.metrics = o.metrics;
    const now = o.now ?? Date.now;
    const throttleMs = o.throttleMs ?? 1000;
    const parts: CoreParts = {
      log: o.log,
      now,
      stopped: () => this.stopped,
      metrics: () => this.metrics,
      alerts: () => this.alerts,
      live: o.live,
      write: (measurement, p, bucket) => this.write(measurement, p, bucket),
      contain: (component, phase, err) => this.contain(component, phase, err),
    };
    this.indicators = new IndicatorRunner(parts, o.indicators);
    const candles = (this.candles = new CandleStore(parts, this.indicators, {
      influxql: o.influxql,
      historyCandles: o.historyCandles ?? 200,
      dedupeWindowMs: o.dedupeWindowMs ?? 48 * 3600_000,
    }));
    const ticks = (this.ticks = new TickThrottle(parts, { throttleMs, changeSince: (t, interval, at, slackMs) => candles.changeSince(t, interval, at, slackMs) }));
    const ve = (this.venueEvents = new VenueEventStore({ write: (m, p) => this.write(m, p), metrics: () => this.metrics, now, throttleMs, bookStaleMs: o.bookStaleMs }));
    this.out = {
      tick: (t) => {
        if (!this.stopped) ticks.tick(t);
      },
      candle: (c) => candles.candle(c),
      restate: (cs) => candles.restate(cs),
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
      marketCap: (symbol, cap) => ticks.marketCap(symbol, cap),
    };
  }

  /** Subscribe to every closed candle of every timeframe with its indicators; returns the unsubscribe. */
  onClosedCandle(listener: ClosedCandleListener): () => void {
    return this.indicators.onClosedCandle(listener);
  }

  /** For market_last_tick_age_seconds: symbol → receive time of its last tick and its asset type. */
  lastTicks(): Iterable<[string, { at: number; assetType: string }]> {
    return this.ticks.lastTicks();
  }

  /**
   * Forget symbols that left the watch set: their tick age would otherwise grow forever, and if one comes
   * back its candles must warm up from storage again rather than continue a stale in-memory series.
   */
  setWatch(items: WatchItem[]): void {
    this.ticks.setWatch(items);
    this.candles.setWatch(items);
    this.venueEvents.setWatch(items);
  }

  /** Emit every held point now and wait for pending warm-ups (shutdown). */
  async flush(): Promise<void> {
    await this.candles.settle();
    this.ticks.flush();
    this.venueEvents.flush();
  }

  /** Stop accepting input, then flush(). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
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
