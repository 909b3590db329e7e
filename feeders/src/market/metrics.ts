// Market feeder metrics that belong to the core, not to one source (names: docs/METRICS.md, "Market feeder").
// Source-specific ones (Binance connections, backfill, gaps) live with their source; sink ones in common.
import { Counter, Gauge, type Registry } from 'prom-client';

export function createMarketMetrics(
  registry: Registry,
  lastTicks: () => Iterable<[symbol: string, last: { at: number; assetType: string }]>,
  now: () => number = Date.now,
) {
  return {
    lastTickAge: new Gauge({
      name: 'market_last_tick_age_seconds',
      help: 'Seconds since the last tick of a symbol (computed at scrape)',
      // asset_type lets the staleness alert tell 24/7 crypto from markets that close at night
      labelNames: ['symbol', 'asset_type'] as const,
      registers: [registry],
      // computed at scrape time, so a silent symbol's age keeps growing without any timer
      collect() {
        this.reset();
        const t = now();
        for (const [symbol, last] of lastTicks()) this.set({ symbol, asset_type: last.assetType }, Math.max(0, (t - last.at) / 1000));
      },
    }),
    points: new Counter({
      name: 'market_points_total',
      help: 'Points handed to the InfluxDB sink by the market core, by measurement',
      labelNames: ['measurement'] as const,
      registers: [registry],
    }),
    candlesIgnored: new Counter({
      name: 'market_candles_ignored_total',
      help: 'Candles not stored by the core: still open, or already stored (duplicate)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'market_events_rejected_total',
      help: 'Book and derivatives events not stored by the core: crossed or stale books, invalid values (docs/INFLUXDB.md, "order_book")',
      labelNames: ['event', 'reason'] as const,
      registers: [registry],
    }),
    watchItems: new Gauge({
      name: 'market_watch_items',
      help: 'Watch-set items: all of them (scope="all") and those this feeder collects (scope="owned"; fewer when sharded)',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    componentErrors: new Counter({
      name: 'market_component_errors_total',
      help: 'Errors thrown by a market component (source, alerts, indicators) and contained by the core',
      labelNames: ['component', 'phase'] as const,
      registers: [registry],
    }),
  };
}

export type MarketMetrics = ReturnType<typeof createMarketMetrics>;
