// What the core's parts (tick throttle, candle store, indicator runner, book/derivatives store) share:
// the clock, the write path with its point counter, error containment, and the late-bound alerts.
import type { Logger } from 'pino';
import type { Point } from '@influxdata/influxdb-client';
import type { PriceAlerts } from '../alerts/index.js';
import type { MarketMetrics } from '../metrics.js';
import type { MarketSink } from '../types.js';

export interface CoreParts {
  log: Logger;
  now(): number;
  /** The core stopped accepting input. */
  stopped(): boolean;
  /** Set after construction (tests, main.ts): read at use. */
  metrics(): MarketMetrics | undefined;
  alerts(): Pick<PriceAlerts, 'onTick'> | undefined;
  live: MarketSink | undefined;
  /** Hand a point to the sink (default bucket: markets raw) and count it by measurement. */
  write(measurement: string, p: Point, bucket?: string): void;
  /** Count and log an error thrown by a component, never propagate it. */
  contain(component: string, phase: string, err: unknown): void;
}
