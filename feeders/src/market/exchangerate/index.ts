// ExchangeRate-API: the fallback for forex pairs while Yahoo is failing them (docs/SOURCES.md, "Fallback
// sources"). One `latest/USD` answer prices every pair (A/B = rate(B) / rate(A)). The provider updates its
// rates once a day (free plan: 1 500 requests a month) and asks clients to request after
// `time_next_update_unix` plus 30–300 s: the answer is kept until then and at least `minIntervalMs`
// (1 h) between requests; the failing pairs get ticks from it, at the provider's update time (so the
// dashboards show the quote's true age), each change once.
import { PolledSource, expectJson, marketGet, type PolledSourceDeps } from '../polled-source.js';
import type { MarketSink, MarketTick } from '../types.js';
import type { PrimaryHealth } from '../fallback/primary.js';
import { ParseError } from '@mt/common';
import { SOURCE, pairTick, parseLatest, type Rates } from './mapper.js';

export interface ExchangeRateOptions extends PolledSourceDeps {
  baseUrl: string;
  apiKey: string;
  primary: PrimaryHealth;
  out: Pick<MarketSink, 'tick'>;
  /** Least time between two requests (default 1 h: the provider's "never rate limited" pace). */
  minIntervalMs?: number;
  now?: () => number;
  /** Extra wait after the provider's next update time (default 30–300 s at random, as it asks). */
  jitterMs?: () => number;
}

export class ExchangeRateSource extends PolledSource<MarketTick[]> {
  private rates: Rates | undefined;
  private nextRequestAt = 0;
  private readonly lastSent = new Map<string, string>();
  private readonly now: () => number;
  private readonly base: string;
  requests = 0;

  constructor(private readonly o: ExchangeRateOptions) {
    super(SOURCE, o);
    this.now = o.now ?? Date.now;
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  protected async fetch(signal: AbortSignal): Promise<MarketTick[]> {
    const failing = this.o.primary.failingOf(['forex']);
    for (const s of this.lastSent.keys()) if (!failing.some((i) => i.symbol === s)) this.lastSent.delete(s);
    if (!failing.length) return [];
    const now = this.now();
    if (now >= this.nextRequestAt) {
      const minNext = now + (this.o.minIntervalMs ?? 3_600_000);
      this.nextRequestAt = minNext; // a failed request waits as long, too
      this.requests++;
      const res = await marketGet(`${this.base}/v6/${encodeURIComponent(this.o.apiKey)}/latest/USD`, { signal, source: SOURCE, secret: this.o.apiKey });
      this.rates = parseLatest(expectJson(res, SOURCE));
      const jitter = this.o.jitterMs?.() ?? 30_000 + Math.random() * 270_000;
      if (this.rates.nextUpdateAt !== undefined) this.nextRequestAt = Math.max(minNext, this.rates.nextUpdateAt + jitter);
    }
    const rates = this.rates;
    if (!rates) return [];
    const ticks: MarketTick[] = [];
    for (const item of failing) {
      try {
        ticks.push(pairTick(rates, item, Date.now()));
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        this.parseError(err);
      }
    }
    this.metrics.messages.inc({ source: this.name }, ticks.length);
    return ticks;
  }

  protected onData(ticks: MarketTick[]): void {
    for (const t of ticks) {
      const sig = `${t.ts}|${t.price}`;
      if (this.lastSent.get(t.symbol) === sig) continue;
      this.lastSent.set(t.symbol, sig);
      this.o.out.tick(t);
    }
  }

  override health(): Record<string, unknown> {
    return { ...super.health(), ratesOf: this.rates ? new Date(this.rates.updatedAt).toISOString() : null, nextRequestAt: new Date(this.nextRequestAt).toISOString() };
  }
}
