// A MarketContext for the Binance source in-process: ticks and candles collected in arrays (and, when a
// sink is given, stored as the core stores them), metrics in a fresh registry.
import { Registry } from 'prom-client';
import { candlePoint, createLogger, type InfluxQLClient, type InfluxSink, type WatchItem } from '@mt/common';
import { marketSchema } from '../../src/market/config.js';
import type { MarketContext } from '../../src/market/context.js';
import type { BookSummary, Candle, MarketTick } from '../../src/market/types.js';
import { createSourceMetrics } from '../../src/common/metrics.js';

export interface Harness {
  ctx: MarketContext;
  ticks: MarketTick[];
  candles: Candle[];
  books: BookSummary[];
  registry: Registry;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** No stored candles: the backfill goes BACKFILL_HOURS back. */
export const emptyInfluxQL: InfluxQLClient = { query: async () => [] };

const noSink: InfluxSink = { write() {}, flush: async () => {}, close: async () => {}, pending: () => ({}) };

export function harness(env: Record<string, string>, io: { influxql?: InfluxQLClient; sink?: InfluxSink } = {}): Harness {
  const registry = new Registry();
  const ticks: MarketTick[] = [];
  const candles: Candle[] = [];
  const books: BookSummary[] = [];
  const sink = io.sink ?? noSink;
  const ctx: MarketContext = {
    cfg: marketSchema.parse({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env }),
    log: createLogger('market-feeder-test', (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent'),
    registry,
    sink,
    influxql: io.influxql ?? emptyInfluxQL,
    sourceMetrics: createSourceMetrics(registry),
    out: {
      tick: (t) => ticks.push(t),
      candle: (c) => {
        candles.push(c);
        sink.write('markets/raw', candlePoint(c));
      },
      book: (b) => books.push(b),
      marketCap: () => {},
    },
  };
  return {
    ctx,
    ticks,
    candles,
    books,
    registry,
    async metric(name, labels = {}) {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
      if (!m) return 0;
      return (m.values as { value: number; labels: Record<string, string | number> }[])
        .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
        .reduce((s, v) => s + v.value, 0);
    },
  };
}

export function crypto(...symbols: string[]): WatchItem[] {
  return symbols.map((symbol) => ({ symbol, asset_type: 'crypto', exchange: 'binance' }));
}

/** Missing and doubled open times of `got` against the exchange's list `want` (both ascending sets). */
export function compareCandles(want: number[], got: number[]): { missing: number[]; duplicated: number[]; extra: number[] } {
  const counts = new Map<number, number>();
  for (const t of got) counts.set(t, (counts.get(t) ?? 0) + 1);
  const wantSet = new Set(want);
  return {
    missing: want.filter((t) => !counts.has(t)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([t]) => t),
    extra: got.filter((t) => !wantSet.has(t)),
  };
}
