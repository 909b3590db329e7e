// CoinGecko market caps for the crypto watch symbols, every COINGECKO_POLL_MS (60 s: the public/demo
// plan allows ~30 calls a minute and /coins/markets refreshes about every 45 s). Base assets map to coin
// ids through COINGECKO_IDS; bases not in that table are looked up by ticker (`symbols=`) and joined back
// through the `symbol` field of the answer. A 429 fails the poll with its Retry-After, which the Poller
// waits out. Every crypto symbol with that base (BTC/USDT, BTC/USDC) receives the cap.
import type { WatchItem } from '@mt/common';
import { PolledSource, expectJson, marketGet, type PolledSourceDeps } from '../polled-source.js';
import { COINGECKO_IDS, parseMarkets, type CoinCap } from './mapper.js';

export interface CoinGeckoSourceOptions extends PolledSourceDeps {
  baseUrl: string;
  /** Demo-plan key, sent as `x-cg-demo-api-key`. */
  apiKey?: string;
  out: { marketCap(symbol: string, marketCap: number): void };
  /** Base asset → coin id (default COINGECKO_IDS). */
  ids?: Readonly<Record<string, string>>;
}

export class CoinGeckoSource extends PolledSource<CoinCap[]> {
  /** Base asset → watched crypto symbols with it. */
  private byBase = new Map<string, string[]>();
  private readonly base: string;
  private readonly ids: Readonly<Record<string, string>>;

  constructor(private readonly o: CoinGeckoSourceOptions) {
    super('coingecko', o);
    this.base = o.baseUrl.replace(/\/+$/, '');
    this.ids = o.ids ?? COINGECKO_IDS;
  }

  override setWatch(items: WatchItem[]): void {
    const byBase = new Map<string, string[]>();
    for (const i of items) {
      if (i.asset_type !== 'crypto') continue;
      const base = i.symbol.split('/')[0]!;
      byBase.set(base, [...(byBase.get(base) ?? []), i.symbol]);
    }
    this.byBase = byBase;
  }

  protected async fetch(signal: AbortSignal): Promise<CoinCap[]> {
    const bases = [...this.byBase.keys()];
    const ids = bases.flatMap((b) => this.ids[b] ?? []);
    const unmapped = bases.filter((b) => !this.ids[b]);
    const coins: CoinCap[] = [];
    if (ids.length) coins.push(...(await this.markets({ ids: ids.join(',') }, signal)));
    if (unmapped.length) coins.push(...(await this.markets({ symbols: unmapped.map((b) => b.toLowerCase()).join(',') }, signal)));
    this.metrics.messages.inc({ source: this.name }, coins.length);
    return coins;
  }

  private async markets(lookup: Record<string, string>, signal: AbortSignal): Promise<CoinCap[]> {
    const q = new URLSearchParams({ vs_currency: 'usd', ...lookup, per_page: '250', page: '1', sparkline: 'false' });
    const headers: Record<string, string> = this.o.apiKey ? { 'x-cg-demo-api-key': this.o.apiKey } : {};
    const { coins, malformed } = parseMarkets(expectJson(await marketGet(`${this.base}/coins/markets?${q}`, { signal, headers, source: this.name }), this.name));
    if (malformed) {
      this.metrics.parseErrors.inc({ source: this.name, reason: 'bad_item' }, malformed);
      this.log.warn({ malformed }, 'coins without id/symbol skipped');
    }
    return coins;
  }

  protected onData(coins: CoinCap[]): void {
    // a ticker lookup can return several coins with one symbol: the largest is the one meant
    const best = new Map<string, CoinCap>();
    for (const c of coins) {
      if (c.marketCap === undefined || c.marketCap <= 0) continue;
      const expectedId = this.ids[c.base];
      if (expectedId && expectedId !== c.id) continue;
      const prev = best.get(c.base);
      if (!prev || c.marketCap > prev.marketCap!) best.set(c.base, c);
    }
    for (const [base, c] of best) for (const symbol of this.byBase.get(base) ?? []) this.o.out.marketCap(symbol, c.marketCap!);
  }

  override health(): Record<string, unknown> {
    return { ...super.health(), bases: this.byBase.size };
  }
}
