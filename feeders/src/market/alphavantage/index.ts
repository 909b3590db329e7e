// Alpha Vantage: the fallback for stocks and indices while Yahoo is failing them (docs/SOURCES.md,
// "Fallback sources"). Free key: 25 requests a day, so one GLOBAL_QUOTE per request, spread over the day
// (DailyBudget: one every 24 h / ALPHAVANTAGE_DAILY_LIMIT at most), always for the failing symbol whose
// fallback quote is oldest. It checks every `intervalMs` whether a request is due; with nothing failing,
// it asks nothing. A "Note"/"Information" answer (limit reached) spends the rest of the day's allowance.
import type { WatchItem } from '@mt/common';
import { ParseError } from '@mt/common';
import { PolledSource, expectJson, marketGet, type PolledSourceDeps } from '../polled-source.js';
import type { MarketSink, MarketTick } from '../types.js';
import { DailyBudget, type PrimaryHealth } from '../fallback/primary.js';
import { AlphaVantageLimitError, SOURCE, globalQuoteToTick } from './mapper.js';

export interface AlphaVantageOptions extends PolledSourceDeps {
  baseUrl: string;
  apiKey: string;
  /** Requests per UTC day the key allows (free key: 25). */
  dailyLimit: number;
  primary: PrimaryHealth;
  out: Pick<MarketSink, 'tick'>;
  now?: () => number;
}

export const ALPHAVANTAGE_TYPES = ['stock', 'index'] as const;

export class AlphaVantageSource extends PolledSource<MarketTick[]> {
  readonly budget: DailyBudget;
  /** Watch symbol → when its last fallback quote was asked (round robin over the failing ones). */
  private readonly asked = new Map<string, number>();
  private readonly now: () => number;
  private readonly base: string;

  constructor(private readonly o: AlphaVantageOptions) {
    super(SOURCE, o);
    this.budget = new DailyBudget(o.dailyLimit);
    this.now = o.now ?? Date.now;
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  protected async fetch(signal: AbortSignal): Promise<MarketTick[]> {
    const failing = this.o.primary.failingOf(ALPHAVANTAGE_TYPES);
    for (const s of this.asked.keys()) if (!failing.some((i) => i.symbol === s)) this.asked.delete(s);
    if (!failing.length) return [];
    const now = this.now();
    if (!this.budget.take(now)) return [];
    const item = failing.reduce((a: WatchItem, b) => ((this.asked.get(b.symbol) ?? -Infinity) < (this.asked.get(a.symbol) ?? -Infinity) ? b : a));
    this.asked.set(item.symbol, now);
    const q = new URLSearchParams({ function: 'GLOBAL_QUOTE', symbol: item.symbol, apikey: this.o.apiKey });
    const res = await marketGet(`${this.base}/query?${q}`, { signal, source: SOURCE });
    try {
      const tick = globalQuoteToTick(expectJson(res, SOURCE), item, Date.now());
      this.metrics.messages.inc({ source: this.name });
      return [tick];
    } catch (err) {
      if (err instanceof AlphaVantageLimitError) {
        this.budget.exhaust(now);
        this.log.warn({ note: err.body.slice(0, 200) }, 'Alpha Vantage says the key’s allowance is used up: no more requests today (UTC)');
      }
      // an unknown symbol (empty quote) or a bad call fails this request only: the next goes to another symbol
      if (err instanceof ParseError) this.log.debug({ symbol: item.symbol, reason: err.reason }, 'no quote from Alpha Vantage');
      throw err;
    }
  }

  protected onData(ticks: MarketTick[]): void {
    for (const t of ticks) this.o.out.tick(t);
  }

  override health(): Record<string, unknown> {
    return { ...super.health(), requestsLeftToday: this.budget.left(this.now()), failingSymbols: this.o.primary.failingOf(ALPHAVANTAGE_TYPES).length };
  }
}
