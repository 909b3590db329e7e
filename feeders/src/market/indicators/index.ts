// Indicators on closed 1 m candles (SMA 20, EMA 50, RSI 14, MACD 12/26/9, Bollinger 20/2).
import type { Candle, IndicatorValues } from '../types.js';

export class IndicatorEngine {
  /** Warm up a symbol from stored history (oldest first) so values are right from the first live candle. */
  seed(_key: string, _history: Candle[]): void {}
  /** Feed one closed candle (in open-time order); returns the indicators for it (fields absent until warm). */
  onClosedCandle(_key: string, _c: Candle): IndicatorValues {
    return {};
  }
  /** How many closed candles a symbol needs for every indicator to be defined. */
  static readonly warmupCandles = 100;
}
