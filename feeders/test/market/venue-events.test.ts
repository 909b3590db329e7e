// The core's book and derivatives store on a real InfluxDB: order_book at most once per symbol per second
// (latest wins), crossed / stale / invalid books never stored and counted, funding, open interest and
// liquidations stored with the contract's fields and tags (docs/INFLUXDB.md, "order_book" … "liquidations").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startInflux, type InfluxServer } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, createLogger, influxConfigFromEnv, type InfluxSink } from '@mt/common';
import { MarketCore } from '../../src/market/core.js';
import { createMarketMetrics } from '../../src/market/metrics.js';
import type { BookSummary } from '../../src/market/types.js';

let influx: InfluxServer;
let sink: InfluxSink;
const log = pino({ level: 'silent' });

before(async () => {
  influx = await startInflux();
  const cfg = influxConfigFromEnv({ INFLUX_URL: influx.url, INFLUX_TOKEN: '', INFLUX_ORG: '', INFLUX_API: 'v1' });
  await bootstrapInflux(cfg, createLogger('venue-events-test', 'silent'));
  sink = createInfluxSink(cfg, { log, registry: new Registry(), flushIntervalMs: 100 });
});

after(async () => {
  await sink?.close();
  await influx?.stop();
});

async function rows(q: string): Promise<{ columns: string[]; values: unknown[][] }[]> {
  const res = await influx.query(q, 'markets');
  return (res.results[0]?.series ?? []) as { columns: string[]; values: unknown[][] }[];
}

/** Rows of one series as objects keyed by column. */
function objects(s: { columns: string[]; values: unknown[][] } | undefined): Record<string, unknown>[] {
  return (s?.values ?? []).map((v) => Object.fromEntries(s!.columns.map((c, i) => [c, v[i]])));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('order_book, funding, open_interest, liquidations: stored rows as the contract has them', async () => {
  const registry = new Registry();
  const core: MarketCore = new MarketCore({ sink, influxql: createInfluxQLClient(influxConfigFromEnv({ INFLUX_URL: influx.url, INFLUX_TOKEN: '', INFLUX_ORG: '', INFLUX_API: 'v1' })), indicators: { seed() {}, onClosedCandle: () => ({}), drop() {} }, log });
  core.metrics = createMarketMetrics(registry, () => core.lastTicks());
  const base = { exchange: 'kraken', symbol: 'BTC/USD', assetType: 'crypto' as const };
  const book = (over: Partial<BookSummary>): BookSummary => ({ ...base, ts: Date.now(), receivedAt: Date.now(), bestBid: 100, bestAsk: 100.1, ...over });

  const t0 = Date.now();
  core.out.book!(book({ ts: t0, bestBid: 100, bestAsk: 100.2, bidDepth1pct: 3000, askDepth1pct: 1000, imbalance: 0.5 })); // stored at once
  core.out.book!(book({ ts: t0 + 1, bestBid: 100.1, bestAsk: 100.3 })); // held
  core.out.book!(book({ ts: t0 + 2, bestBid: 100.2, bestAsk: 100.4 })); // replaces the held one: latest wins
  core.out.book!(book({ ts: t0 + 3, bestBid: 101, bestAsk: 101 })); // crossed (locked): never stored
  core.out.book!(book({ ts: t0 + 4, bestBid: 102, bestAsk: 101 })); // crossed
  core.out.book!(book({ ts: t0 - 60_000, bestBid: 99, bestAsk: 99.5 })); // a minute old: stale
  core.out.book!(book({ ts: t0 + 5, bestBid: Number.NaN, bestAsk: 100 })); // invalid
  core.out.book!(book({ ...base, exchange: 'binance', symbol: 'ETH/USDT', ts: t0 + 6, bestBid: 3000, bestAsk: 3000.5 })); // own throttle
  core.out.funding!({ ...base, exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', ts: t0, receivedAt: t0, markPrice: 50_000.5, indexPrice: 50_001, fundingRate: 0.0001, nextFundingTime: 1_764_144_000_000, fundingIntervalHours: 4 });
  core.out.funding!({ ...base, exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', ts: t0 + 400, receivedAt: t0, markPrice: 50_001, fundingRate: 0.0001, nextFundingTime: 1_764_144_000_000, fundingIntervalHours: 0 }); // invalid
  core.out.funding!({ ...base, exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', ts: t0 + 500, receivedAt: t0, markPrice: 50_002, fundingRate: 0.0002, nextFundingTime: 1_764_144_000_000 }); // held, then stored
  core.out.openInterest!({ ...base, exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', ts: t0, receivedAt: t0, openInterest: 12_345.6, openInterestValue: 617_000_000 });
  const liq = { ...base, exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', ts: t0, receivedAt: t0, side: 'sell' as const, price: 49_000, quantity: 0.5, value: 24_500 };
  core.out.liquidation!(liq);
  core.out.liquidation!({ ...liq, quantity: 0.25, value: 12_250 }); // same millisecond: kept as its own row
  core.out.liquidation!({ ...liq, side: 'buy', price: 51_000, quantity: 1, value: 51_000 });
  core.out.liquidation!({ ...liq, price: -1 }); // invalid

  await sleep(1200); // the held book and funding go out at their second
  await core.stop();
  await sink.flush();

  const books = await rows(`SELECT "best_bid","best_ask","spread_bps","bid_depth_1pct","ask_depth_1pct","imbalance" FROM "order_book" GROUP BY "exchange","symbol","asset_type"`);
  const kraken = objects(books.find((s) => (s as unknown as { tags: Record<string, string> }).tags.exchange === 'kraken'));
  assert.deepEqual(
    kraken.map((r) => [r.time, r.best_bid, r.best_ask, r.bid_depth_1pct, r.ask_depth_1pct, r.imbalance]),
    [
      [t0, 100, 100.2, 3000, 1000, 0.5],
      [t0 + 2, 100.2, 100.4, null, null, null],
    ],
    'the first book at once, then the latest of its second; no crossed, stale or invalid book',
  );
  assert.ok(Math.abs((kraken[0]!.spread_bps as number) - (0.2 / 100.1) * 10_000) < 1e-9, 'spread in basis points of the mid');
  const tags = books.map((s) => (s as unknown as { tags: Record<string, string> }).tags);
  assert.deepEqual(tags, [
    { exchange: 'binance', symbol: 'ETH/USDT', asset_type: 'crypto' },
    { exchange: 'kraken', symbol: 'BTC/USD', asset_type: 'crypto' },
  ]);

  const funding = objects((await rows(`SELECT "mark_price","index_price","funding_rate","next_funding_time","funding_interval_hours","exchange","symbol" FROM "funding"`))[0]);
  assert.deepEqual(
    funding.map((r) => [r.time, r.mark_price, r.index_price, r.funding_rate, r.next_funding_time, r.funding_interval_hours, r.exchange, r.symbol]),
    [
      [t0, 50_000.5, 50_001, 0.0001, 1_764_144_000_000, 4, 'binance-futures', 'BTC/USDT:USDT'],
      [t0 + 500, 50_002, null, 0.0002, 1_764_144_000_000, null, 'binance-futures', 'BTC/USDT:USDT'],
    ],
  );
  const oi = objects((await rows(`SELECT "open_interest","open_interest_value" FROM "open_interest"`))[0]);
  assert.deepEqual(oi, [{ time: t0, open_interest: 12_345.6, open_interest_value: 617_000_000 }]);
  const liqs = objects((await rows(`SELECT "price","quantity","value","side" FROM "liquidations"`))[0]);
  assert.deepEqual(
    liqs.map((r) => [r.time, r.side, r.price, r.quantity, r.value]),
    [
      [t0, 'buy', 51_000, 1, 51_000],
      [t0, 'sell', 49_000, 0.5, 24_500],
      [t0 + 1, 'sell', 49_000, 0.25, 12_250],
    ],
  );

  const rejected = (await registry.getSingleMetric('market_events_rejected_total')!.get()).values.map((v) => [v.labels.event, v.labels.reason, v.value]);
  assert.deepEqual(
    rejected.sort(),
    [
      ['book', 'crossed', 2],
      ['book', 'invalid', 1],
      ['book', 'stale', 1],
      ['funding', 'invalid', 1],
      ['liquidation', 'invalid', 1],
    ],
  );
});
