// Indicators on closed 1 m candles (SMA 20, EMA 50, RSI 14, MACD 12/26/9, Bollinger 20/2), O(1) per candle
// per symbol: fixed-size rings with running sums, recursive EMAs, Wilder averages. Standard definitions:
// - EMA(n): k = 2/(n+1), seeded with the SMA of the first n closes (first value on candle n).
// - RSI(n): Wilder — first average gain/loss = plain mean of the first n changes, then avg = (avg·(n-1)+x)/n;
//   RSI = 100 when the average loss is 0.
// - MACD(12,26,9): EMA12 − EMA26 (from candle 26); signal = EMA9 of MACD seeded like any EMA (candle 34).
// - Bollinger(20,2): SMA20 ± 2·σ with the POPULATION standard deviation (divide by 20), as Bollinger defines it.
// Because EMAs and Wilder averages are seeded at the first candle they see, values after a cold start
// converge to those of an uninterrupted series only after a few periods: seed() with enough history
// (warmupCandles) before the first live candle.
import type { Candle, IndicatorValues } from '../types.js';

/** Sliding window of the last n values with running mean and M2 (Welford, add+remove): O(1) per value. */
class Window {
  private readonly buf: number[];
  private i = 0;
  count = 0;
  mean = 0;
  private m2 = 0;
  constructor(readonly n: number) {
    this.buf = new Array<number>(n).fill(0);
  }
  push(x: number): void {
    if (this.count < this.n) {
      this.count++;
      const d = x - this.mean;
      this.mean += d / this.count;
      this.m2 += d * (x - this.mean);
    } else {
      const old = this.buf[this.i]!;
      const oldMean = this.mean;
      this.mean += (x - old) / this.n;
      this.m2 += (x - old) * (x - this.mean + old - oldMean);
      if (this.m2 < 0) this.m2 = 0; // rounding on a flat window
    }
    this.buf[this.i] = x;
    this.i = (this.i + 1) % this.n;
  }
  get full(): boolean {
    return this.count === this.n;
  }
  /** Population standard deviation of the window. */
  get stdev(): number {
    return Math.sqrt(this.m2 / this.n);
  }
}

/** EMA seeded with the SMA of its first n inputs. */
class Ema {
  private readonly k: number;
  private seen = 0;
  private sum = 0;
  value: number | undefined;
  constructor(private readonly n: number) {
    this.k = 2 / (n + 1);
  }
  push(x: number): number | undefined {
    if (this.value !== undefined) this.value += (x - this.value) * this.k;
    else {
      this.sum += x;
      if (++this.seen === this.n) this.value = this.sum / this.n;
    }
    return this.value;
  }
}

/** Wilder's RSI. */
class Rsi {
  private prev: number | undefined;
  private changes = 0;
  private gain = 0;
  private loss = 0;
  value: number | undefined;
  constructor(private readonly n: number) {}
  push(x: number): number | undefined {
    if (this.prev === undefined) {
      this.prev = x;
      return undefined;
    }
    const d = x - this.prev;
    this.prev = x;
    const g = d > 0 ? d : 0;
    const l = d < 0 ? -d : 0;
    if (this.changes < this.n) {
      this.gain += g;
      this.loss += l;
      if (++this.changes < this.n) return undefined;
      this.gain /= this.n;
      this.loss /= this.n;
    } else {
      this.gain = (this.gain * (this.n - 1) + g) / this.n;
      this.loss = (this.loss * (this.n - 1) + l) / this.n;
    }
    this.value = this.loss === 0 ? 100 : 100 - 100 / (1 + this.gain / this.loss);
    return this.value;
  }
}

class SymbolState {
  lastOpenTime = -Infinity;
  readonly w20 = new Window(20);
  readonly ema50 = new Ema(50);
  readonly rsi14 = new Rsi(14);
  readonly ema12 = new Ema(12);
  readonly ema26 = new Ema(26);
  readonly signal9 = new Ema(9);

  push(close: number): IndicatorValues {
    const v: IndicatorValues = {};
    this.w20.push(close);
    if (this.w20.full) {
      const m = this.w20.mean;
      const sd = this.w20.stdev;
      v.sma_20 = m;
      v.bb_middle = m;
      v.bb_upper = m + 2 * sd;
      v.bb_lower = m - 2 * sd;
    }
    v.ema_50 = this.ema50.push(close);
    v.rsi_14 = this.rsi14.push(close);
    const fast = this.ema12.push(close);
    const slow = this.ema26.push(close);
    if (fast !== undefined && slow !== undefined) {
      v.macd = fast - slow;
      v.macd_signal = this.signal9.push(v.macd);
      if (v.macd_signal !== undefined) v.macd_hist = v.macd - v.macd_signal;
    }
    for (const k of Object.keys(v) as (keyof IndicatorValues)[]) if (v[k] === undefined) delete v[k];
    return v;
  }
}

export class IndicatorEngine {
  private readonly state = new Map<string, SymbolState>();

  /** Warm up a symbol from stored history (oldest first) so values are right from the first live candle. */
  seed(key: string, history: Candle[]): void {
    const s = new SymbolState();
    this.state.set(key, s);
    for (const c of history) this.feed(s, c);
  }

  /** Feed one closed candle (in open-time order); returns the indicators for it (fields absent until warm). */
  onClosedCandle(key: string, c: Candle): IndicatorValues {
    let s = this.state.get(key);
    if (!s) this.state.set(key, (s = new SymbolState()));
    return this.feed(s, c);
  }

  /** Forget a symbol (removed from the watch set). */
  drop(key: string): void {
    this.state.delete(key);
  }

  private feed(s: SymbolState, c: Candle): IndicatorValues {
    // a candle seen again (backfill overlapping live, a replayed close) must not count twice
    if (!c.closed || c.openTime <= s.lastOpenTime || !Number.isFinite(c.close)) return {};
    s.lastOpenTime = c.openTime;
    return s.push(c.close);
  }

  /** How many closed candles a symbol needs for every indicator to be defined. */
  static readonly warmupCandles = 100;
}
