// The spot harness (a MarketContext collecting what a source hands over) plus the events only a
// derivatives venue sends: top of book, funding, open interest, liquidations.
import type { InfluxQLClient, InfluxSink, WatchItem } from '@mt/common';
import type { BookSummary, FundingUpdate, Liquidation, OpenInterestUpdate } from '../../src/market/types.js';
import { harness, type Harness } from '../binance/harness.js';

export interface FuturesHarness extends Harness {
  books: BookSummary[];
  funding: FundingUpdate[];
  openInterest: OpenInterestUpdate[];
  liquidations: Liquidation[];
}

export function futuresHarness(env: Record<string, string>, io: { influxql?: InfluxQLClient; sink?: InfluxSink } = {}): FuturesHarness {
  const h = harness(env, io);
  const books: BookSummary[] = [];
  const funding: FundingUpdate[] = [];
  const openInterest: OpenInterestUpdate[] = [];
  const liquidations: Liquidation[] = [];
  h.ctx.out.book = (b) => books.push(b);
  h.ctx.out.funding = (f) => funding.push(f);
  h.ctx.out.openInterest = (o) => openInterest.push(o);
  h.ctx.out.liquidation = (l) => liquidations.push(l);
  return { ...h, books, funding, openInterest, liquidations };
}

export function perps(...symbols: string[]): WatchItem[] {
  return symbols.map((symbol) => ({ symbol, asset_type: 'crypto', exchange: 'binance-futures' }));
}
