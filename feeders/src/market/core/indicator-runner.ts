// The core's indicator runner: feeds each stored closed candle of a series to the indicator engine in
// open-time order, stores the values (`indicators`, in the timeframe's bucket) and hands candle + values
// to the closed-candle listeners (candle and indicator alert rules).
import type { IndicatorEngine } from '../indicators/index.js';
import type { Candle, IndicatorValues } from '../types.js';
import { indicatorPoint } from '@mt/common';
import { TIMEFRAMES } from '../timeframes.js';
import type { CoreParts } from './parts.js';

/**
 * One closed candle of one timeframe with its indicator values, in open-time order per series.
 * `recomputed`: the values of an already announced candle, recomputed because an older candle (a
 * backfilled gap) arrived after it.
 */
export type ClosedCandleListener = (c: Candle, values: IndicatorValues, info: { recomputed: boolean }) => void;

export class IndicatorRunner {
  private readonly listeners: ClosedCandleListener[] = [];

  constructor(
    private readonly core: CoreParts,
    private readonly engine: Pick<IndicatorEngine, 'seed' | 'onClosedCandle' | 'drop'>,
  ) {}

  /** Subscribe to every closed candle of every timeframe with its indicators; returns the unsubscribe. */
  onClosedCandle(listener: ClosedCandleListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Start series `key` over from `history` (warm-up, or before recomputing from an inserted candle). Throws what the engine throws. */
  seed(key: string, history: Candle[]): void {
    this.engine.seed(key, history);
  }

  drop(key: string): void {
    this.engine.drop(key);
  }

  /** The next closed candle of series `key`: its values computed, stored and announced. */
  run(key: string, c: Candle, recomputed: boolean): void {
    let values: IndicatorValues;
    try {
      values = this.engine.onClosedCandle(key, c);
      const p = indicatorPoint(c, values);
      if (p) this.core.write('indicators', p, TIMEFRAMES[c.interval].bucket);
    } catch (err) {
      this.core.contain('indicators', 'candle', err);
      return;
    }
    for (const l of this.listeners) {
      try {
        l(c, values, { recomputed });
      } catch (err) {
        this.core.contain('closed-candle-listener', 'candle', err);
      }
    }
  }
}
