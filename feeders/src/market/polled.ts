// The polled market sources (Yahoo, CoinGecko, Fear & Greed). Owned by the polled-sources work.
import type { MarketComponent, MarketContext } from './context.js';

export function createPolledSources(_ctx: MarketContext): MarketComponent[] {
  return [];
}
