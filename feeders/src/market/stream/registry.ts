// The market sources by exchange name (docs/STREAMING.md, "Registry"): each watch-set item goes to the
// source of its `exchange` (`binance`, `binance-futures`, `coinbase`, `kraken`, `yahoo`, …); sources that
// serve no one exchange (CoinGecko's market caps, Fear & Greed, Yahoo's fallbacks) get every item and
// pick for themselves. Items naming an exchange nobody serves are counted and logged, never dropped silently.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { WatchItem } from '@mt/common';
import type { MarketComponent } from '../context.js';

export class MarketSourceRegistry {
  private readonly byExchange = new Map<string, MarketComponent>();
  private readonly global: MarketComponent[] = [];
  /** Exchanges served by a global source (Yahoo's symbols by its fallbacks too). */
  private readonly claimed = new Set<string>();
  private readonly unrouted: Gauge<'exchange'>;
  private lastUnrouted = '';

  constructor(
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.unrouted = new Gauge({
      name: 'market_watch_items_unrouted',
      help: 'Watch-set items naming an exchange no market source serves (docs/STREAMING.md)',
      labelNames: ['exchange'] as const,
      registers: [registry],
    });
  }

  /** The source of one exchange: it receives exactly the items whose `exchange` is this name. */
  register(exchange: string, source: MarketComponent): void {
    if (this.byExchange.has(exchange)) throw new Error(`exchange ${exchange} has a source already`);
    this.byExchange.set(exchange, source);
  }

  /** A source that receives every item; `exchanges` names the exchanges whose items it serves. */
  addGlobal(source: MarketComponent, exchanges: string[] = []): void {
    this.global.push(source);
    for (const e of exchanges) this.claimed.add(e);
  }

  exchanges(): string[] {
    return [...new Set([...this.byExchange.keys(), ...this.claimed])].sort();
  }

  components(): MarketComponent[] {
    return [...this.byExchange.values(), ...this.global];
  }

  /** Which items each source gets. */
  route(items: WatchItem[]): Map<MarketComponent, WatchItem[]> {
    const out = new Map<MarketComponent, WatchItem[]>();
    for (const c of this.byExchange.values()) out.set(c, []);
    for (const c of this.global) out.set(c, items);
    const unrouted = new Map<string, number>();
    for (const i of items) {
      const c = this.byExchange.get(i.exchange);
      if (c) out.get(c)!.push(i);
      else if (!this.claimed.has(i.exchange)) unrouted.set(i.exchange, (unrouted.get(i.exchange) ?? 0) + 1);
    }
    this.unrouted.reset();
    for (const [exchange, n] of unrouted) this.unrouted.set({ exchange }, n);
    const summary = [...unrouted].map(([e, n]) => `${e}:${n}`).join(',');
    if (summary && summary !== this.lastUnrouted) this.log.warn({ unrouted: Object.fromEntries(unrouted), known: this.exchanges() }, 'watch-set items name an exchange no source serves');
    this.lastUnrouted = summary;
    return out;
  }
}
