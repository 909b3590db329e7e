// What every market component receives from the feeder core (main.ts).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { InfluxQLClient, InfluxSink, Shard, WatchItem } from '@mt/common';
import type { MarketConfig } from './config.js';
import type { SourceMetrics } from '../common/metrics.js';
import type { MarketSink } from './types.js';

export interface MarketContext {
  cfg: MarketConfig;
  log: Logger;
  registry: Registry;
  sink: InfluxSink;
  /** Reads (InfluxQL): last stored candle per symbol for backfill, history to warm indicators. */
  influxql: InfluxQLClient;
  sourceMetrics: SourceMetrics;
  /** Normalised ticks and candles go here; the core throttles, stores, evaluates alerts, computes indicators. */
  out: MarketSink & {
    /** CoinGecko market cap, joined onto the crypto symbol's next market_data point. */
    marketCap(symbol: string, marketCap: number): void;
    /**
     * Yahoo's market state of a symbol (REGULAR, CLOSED, …) on every poll, changed or not (a tick goes out
     * only on a change): feed_stale rules know a holiday from an outage by it (docs/ALERTING.md).
     */
    marketState?(symbol: string, state: string): void;
  };
  /** This replica's shard (FEEDER_SHARD / FEEDER_SHARDS); undefined = the only feeder. */
  shard?: Shard;
}

/** A source or service the core starts, feeds the watch set to, and stops. */
export interface MarketComponent {
  readonly name: string;
  /** The current watch set (all asset types; this shard's items when sharded); at start and on every change. */
  setWatch(items: WatchItem[]): void;
  start(): Promise<void> | void;
  stop(): Promise<void>;
  /** For /healthz. */
  health?(): Record<string, unknown>;
}
