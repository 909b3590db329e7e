// Funding intervals of Binance USDⓈ-M perpetuals (docs/SOURCES.md "Binance USDⓈ-M futures"): most settle
// every 8 h, some every 4 h or 1 h, and the markPrice stream does not say which. GET /fapi/v1/fundingInfo
// lists the symbols whose cap, floor or interval were adjusted; it is read at start and then every
// `refreshMs` through the venue's REST client. A failed read is counted and logged, the intervals known so
// far (at first: 8 h for every symbol) are kept, and it is tried again after `retryMs`.
import type { Logger } from 'pino';
import { HttpStatusError, sleep } from '@mt/common';
import type { BinanceRest } from '../binance/rest.js';
import { DEFAULT_FUNDING_INTERVAL_HOURS, parseFundingInfo } from './mappers.js';

export interface FundingIntervalsOptions {
  rest: BinanceRest;
  log: Logger;
  /** Read again after this long (default 1 h: Binance announces interval changes ahead). */
  refreshMs?: number;
  /** After a failed read (default 1 min). */
  retryMs?: number;
  /** A body of the wrong shape, or one left-out element of it (counted by the caller). */
  onParseError(err: unknown): void;
}

export class FundingIntervals {
  /** `BTCUSDT` → hours, from the last successful read. */
  private hours = new Map<string, number>();
  private readonly abort = new AbortController();
  private running = false;
  private reads = 0;

  constructor(private readonly o: FundingIntervalsOptions) {}

  /** Hours between two fundings of `restSymbol` (`BTCUSDT`). */
  hoursFor(restSymbol: string): number {
    return this.hours.get(restSymbol) ?? DEFAULT_FUNDING_INTERVAL_HOURS;
  }

  /** Successful reads so far. */
  get loaded(): number {
    return this.reads;
  }

  start(): void {
    if (this.running || this.abort.signal.aborted) return;
    this.running = true;
    void this.loop().finally(() => (this.running = false));
  }

  stop(): void {
    this.abort.abort();
  }

  private async loop(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      const ok = await this.read(signal);
      await sleep(ok ? (this.o.refreshMs ?? 3600_000) : (this.o.retryMs ?? 60_000), signal);
    }
  }

  private async read(signal: AbortSignal): Promise<boolean> {
    try {
      // a failed request or a body that is not JSON is counted by the REST client itself
      const body = await this.o.rest.get('/fapi/v1/fundingInfo', signal);
      let parsed: ReturnType<typeof parseFundingInfo>;
      try {
        parsed = parseFundingInfo(body);
      } catch (err) {
        this.o.onParseError(err);
        throw err;
      }
      const { hours, rejected } = parsed;
      for (const err of rejected) this.o.onParseError(err);
      if (rejected.length) this.o.log.warn({ rejected: rejected.length, first: rejected[0]!.message }, 'fundingInfo elements left out');
      const changed = [...hours].filter(([s, h]) => this.hoursFor(s) !== h).length + [...this.hours.keys()].filter((s) => !hours.has(s)).length;
      this.hours = hours;
      this.reads++;
      if (changed) this.o.log.info({ listed: hours.size, changed, notEightHours: [...hours].filter(([, h]) => h !== DEFAULT_FUNDING_INTERVAL_HOURS).length }, 'funding intervals read');
      return true;
    } catch (err) {
      if (signal.aborted) return false;
      this.o.log.warn({ err: String(err), status: err instanceof HttpStatusError ? err.status : undefined, keeping: this.reads ? 'the last read' : `${DEFAULT_FUNDING_INTERVAL_HOURS} h` }, 'fundingInfo read failed');
      return false;
    }
  }
}
