// The simulated market clock every venue fake steps through (Binance, Coinbase, Kraken): a 1-minute
// candle is `stepsPerCandle` steps, one step every candleMs / stepsPerCandle real ms while running
// (or one by hand with advance()); the fake says what a step sends.
const MINUTE = 60_000;

export interface MinuteClockOptions {
  /** Open time of the first simulated minute (minute aligned). */
  startTime: number;
  /** Real ms per simulated minute while running. */
  candleMs: number;
  stepsPerCandle: number;
}

export class MinuteClock {
  /** Open time of the minute being stepped through. */
  cur: number;
  /** Steps taken in that minute: 0 before the first, stepsPerCandle once it is over. */
  step = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: MinuteClockOptions,
    private readonly onStep: () => void,
  ) {
    if (o.startTime % MINUTE !== 0) throw new Error('startTime must be minute aligned');
    this.cur = o.startTime;
  }

  /** Simulated exchange time (ms). */
  now(): number {
    return this.cur + Math.floor((this.step * MINUTE) / this.o.stepsPerCandle);
  }

  /** Open time of the newest minute that is over. */
  lastClosedOpenTime(): number {
    return this.step >= this.o.stepsPerCandle ? this.cur : this.cur - MINUTE;
  }

  /** One step: a minute that is over gives way to the next, then the fake's step. */
  advance(): void {
    if (this.step >= this.o.stepsPerCandle) {
      this.cur += MINUTE;
      this.step = 0;
    }
    this.step++;
    this.onStep();
  }

  resume(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.advance(), Math.max(1, Math.round(this.o.candleMs / this.o.stepsPerCandle)));
  }

  pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
