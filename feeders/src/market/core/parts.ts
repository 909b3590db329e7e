// What the core's parts (tick throttle, candle store, indicator runner, book/derivatives store) share:
// the clock, the write path with its point counter, error containment, and the late-bound alerts.
import type { Logger } from 'pino';
import type { Point } from '@influxdata/influxdb-client';
import type { PriceAlerts } from '../alerts/index.js';
import type { MarketMetrics } from '../metrics.js';
import type { MarketSink, MarketTick } from '../types.js';

/**
 * The alerts as the core calls them: onTick, or (PriceAlerts) tickAt with the handle its per-symbol slot
 * keeps (docs/ALERTING.md "Evaluation cost").
 */
export type TickAlerts = Pick<PriceAlerts, 'onTick'> & Partial<SlottedTicks<number>>;

/**
 * A tick consumer's per-symbol handle (the alerts' row, Grafana Live's symbol row): looked up once per
 * symbol and kept in the core's slot, taken again when `slotVersion` changes (rule set, watch set).
 * `tickAt` gets the core's clock as read for the tick (CoreParts.now), so a consumer reads no clock of its
 * own per tick; one that keeps time must run on the core's clock.
 */
export interface SlottedTicks<H = unknown> {
  readonly slotVersion: number;
  tickSlot(t: MarketTick): H;
  tickAt(slot: H, t: MarketTick, now: number): void;
}

export type LiveTicks = MarketSink & Partial<SlottedTicks<number>>;

export interface CoreParts {
  log: Logger;
  now(): number;
  /** The core stopped accepting input. */
  stopped(): boolean;
  /** Set after construction (tests, main.ts): read at use. */
  metrics(): MarketMetrics | undefined;
  alerts(): TickAlerts | undefined;
  live: LiveTicks | undefined;
  /** Hand a point to the sink (default bucket: markets raw) and count it by measurement. */
  write(measurement: string, p: Point, bucket?: string): void;
  /** Count and log an error thrown by a component, never propagate it. */
  contain(component: string, phase: string, err: unknown): void;
}
