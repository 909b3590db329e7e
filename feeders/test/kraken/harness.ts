// A MarketContext for the Kraken source in-process: ticks, candles and books collected in arrays; with a
// sink, candles stored as the core stores them and books through the core's own VenueEventStore (≤ 1/s
// per symbol, crossed/stale rejected), so the tests read what a user would see in InfluxDB.
import type { InfluxQLClient, InfluxSink, WatchItem } from '@mt/common';
import { harness as baseHarness, type Harness } from '../binance/harness.js';
import { VenueEventStore } from '../../src/market/core/venue-events.js';
import type { BookSummary } from '../../src/market/types.js';

export interface KrakenHarness extends Harness {
  books: BookSummary[];
  store: VenueEventStore;
}

export function harness(env: Record<string, string>, io: { influxql?: InfluxQLClient; sink?: InfluxSink } = {}): KrakenHarness {
  const h = baseHarness(env, io);
  const books: BookSummary[] = [];
  const store = new VenueEventStore({ write: (_m, p) => io.sink?.write('markets/raw', p), metrics: () => undefined, now: Date.now });
  h.ctx.out.book = (b) => {
    books.push(b);
    store.book(b);
  };
  return { ...h, books, store };
}

export function kraken(...symbols: string[]): WatchItem[] {
  return symbols.map((symbol) => ({ symbol, asset_type: 'crypto', exchange: 'kraken' }));
}
