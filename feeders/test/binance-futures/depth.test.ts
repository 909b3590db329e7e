// Binance USDⓈ-M futures order books (docs/ORDER_BOOKS.md, "Binance USDⓈ-M futures"): the recorded
// SUSHIUSDT diff sequence and /fapi/v1/depth snapshot (cryptofeed, one session) replayed under the futures
// rules — the book ends where the venue's own bookTicker says, and spot's rule would have broken it; then
// the local futures server through the real market core into a real InfluxDB: a DEPTH_BOOKS perpetual's
// order_book rows carry depth (exchange=binance-futures) at most once a second, a lost diff (`pu` gap)
// resyncs that perpetual alone and is counted, a crossed diff is counted and never stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { BinanceFuturesFake, fixtureJson, fixtureText, startInflux, waitFor, type InfluxServer } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, createLogger, influxConfigFromEnv, type InfluxQLClient, type InfluxSink } from '@mt/common';
import { createBinanceFuturesSource } from '../../src/market/binance-futures/index.js';
import { parseFuturesFrame } from '../../src/market/binance-futures/mappers.js';
import { FUTURES_RULES } from '../../src/market/binance-futures/depth.js';
import { DiffBook, SPOT_RULES, type DepthDiff, type DepthSnapshot, type SequenceRules } from '../../src/market/binance/depth.js';
import { parseDepthSnapshot } from '../../src/market/binance/mappers.js';
import { MarketCore } from '../../src/market/core.js';
import { createMarketMetrics } from '../../src/market/metrics.js';
import type { BookSummary } from '../../src/market/types.js';
import { harness } from '../binance/harness.js';
import { perps } from './harness.js';

const recorded = fixtureText('binance_futures/ws_combined_depthUpdate_100ms_SUSHIUSDT_sequence_15frames.txt')
  .split('\n')
  .filter(Boolean)
  .map((l) => {
    const e = parseFuturesFrame(l);
    assert.equal(e.kind, 'depth');
    return e as Extract<typeof e, { kind: 'depth' }>;
  });
const snapshot = parseDepthSnapshot(fixtureJson('binance_futures/rest_fapi_v1_depth_SUSHIUSDT_limit1000_cryptofeed_excerpt_top20.json'));

/** A DiffBook over `snap` whose snapshot arrives after `buffered` diffs were handed in. */
async function replay(rules: SequenceRules, snaps: DepthSnapshot[], buffered: DepthDiff[]) {
  const books: BookSummary[] = [];
  const resyncs: string[] = [];
  let asked = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const book = new DiffBook({
    exchange: 'binance-futures',
    symbol: 'SUSHI/USDT:USDT',
    assetType: 'crypto',
    rules,
    snapshot: async () => {
      // a network round trip: a snapshot the book refuses is fetched again, not in a tight loop
      await (asked === 0 ? gate : new Promise((r) => setTimeout(r, 20)));
      return snaps[Math.min(asked++, snaps.length - 1)]!;
    },
    onBook: (b) => books.push(b),
    onResync: (r) => resyncs.push(r),
    onError: (err) => assert.fail(String(err)),
  });
  for (const d of buffered) book.onDiff(d, 0);
  release();
  await waitFor(() => book.live || resyncs.length > 0, 2000, 'snapshot applied');
  return { book, books, resyncs, asked: () => asked };
}

/** The recorded snapshot and diffs applied level by level to two plain maps: the oracle. */
function oracle(upTo: number): { bestBid: number; bestAsk: number; bid: number; ask: number } {
  const bids = new Map(snapshot.bids.map((l) => [l.price, l.qty]));
  const asks = new Map(snapshot.asks.map((l) => [l.price, l.qty]));
  for (const d of recorded.slice(3, upTo + 1)) {
    for (const [side, levels] of [[bids, d.bids], [asks, d.asks]] as const)
      for (const l of levels) {
        if (l.qty === 0) side.delete(l.price);
        else side.set(l.price, l.qty);
      }
  }
  const bestBid = Math.max(...bids.keys());
  const bestAsk = Math.min(...asks.keys());
  const mid = (bestBid + bestAsk) / 2;
  const sum = (m: Map<number, number>, inside: (p: number) => boolean) => [...m].filter(([p]) => inside(p)).reduce((s, [p, q]) => s + p * q, 0);
  return { bestBid, bestAsk, bid: sum(bids, (p) => p >= mid * 0.99), ask: sum(asks, (p) => p <= mid * 1.01) };
}

test('recorded futures depth frames and /fapi/v1/depth snapshot parse: U, u, pu, E, levels', () => {
  assert.equal(recorded.length, 15);
  assert.deepEqual([recorded[0]!.symbol, recorded[0]!.firstUpdateId, recorded[0]!.lastUpdateId, recorded[0]!.prevLastUpdateId, recorded[0]!.ts], ['SUSHIUSDT', 600859599090, 600859600917, 600859598061, 1626992741037]);
  assert.deepEqual(recorded[0]!.bids[1], { price: 7.609, qty: 0 }, 'quantity 0 kept: a removal');
  for (let i = 1; i < recorded.length; i++) {
    assert.equal(recorded[i]!.prevLastUpdateId, recorded[i - 1]!.lastUpdateId, 'pu = previous u, as recorded');
    assert.ok(recorded[i]!.firstUpdateId > recorded[i - 1]!.lastUpdateId + 1, 'U skips ids: spot’s U = u + 1 never holds');
  }
  assert.equal(snapshot.lastUpdateId, 600859605926);
  assert.deepEqual([snapshot.bids.length, snapshot.bids[0], snapshot.asks[0]], [20, { price: 7.611, qty: 6 }, { price: 7.612, qty: 297 }]);
  assert.throws(() => parseFuturesFrame(JSON.stringify({ stream: 'sushiusdt@depth@100ms', data: { ...JSON.parse(fixtureText('binance_futures/ws_combined_depthUpdate_100ms_SUSHIUSDT.json')).data, pu: 'x' } })), /pu/);
});

test('futures rules on the recorded session: u < lastUpdateId dropped, U = lastUpdateId first, pu chain applied to the end = the venue’s bookTicker; spot’s rule would resync', async () => {
  // the snapshot (lastUpdateId 600859605926) arrives after the first five diffs were buffered, as it did
  const r = await replay(FUTURES_RULES, [snapshot], recorded.slice(0, 5));
  assert.equal(r.book.live, true);
  assert.deepEqual(r.resyncs, []);
  // diffs 0–2 (u < 600859605926) dropped; diff 3 (U = 600859605926 ≤ lastUpdateId ≤ u) first; diff 4 continues by pu
  assert.equal(r.books.length, 1);
  for (const d of recorded.slice(5)) r.book.onDiff(d, 0);
  assert.deepEqual(r.resyncs, [], 'the whole recorded session continues');
  assert.equal(r.books.length, 11);
  const last = r.books.at(-1)!;
  const want = oracle(14);
  // the recording's next sushiusdt@bookTicker (u 600859633461): bid 7.6110, ask 7.6120
  assert.deepEqual([last.bestBid, last.bestAsk], [7.611, 7.612]);
  assert.deepEqual([last.bestBid, last.bestAsk], [want.bestBid, want.bestAsk]);
  assert.ok(Math.abs(last.bidDepth1pct! - want.bid) < 1e-9 * want.bid && Math.abs(last.askDepth1pct! - want.ask) < 1e-9 * want.ask, 'depth within 1 % as replayed by hand');
  assert.equal(last.ts, recorded[14]!.ts);

  // spot's rule on the same frames: diff 4's U is not diff 3's u + 1 → a resync on every event
  const spot = await replay(SPOT_RULES, [snapshot], recorded.slice(0, 5));
  assert.deepEqual(spot.resyncs, ['gap'], 'the futures sequence is not spot’s');
  spot.book.stop();

  // a lost frame: diff 13 arrives after diff 11 (pu ≠ previous u) → resync, a second snapshot (taken
  // within diff 13: U ≤ its lastUpdateId ≤ u; its levels are not what is under test here)
  const g = await replay(FUTURES_RULES, [snapshot, { ...snapshot, lastUpdateId: recorded[13]!.firstUpdateId }], recorded.slice(0, 12));
  assert.deepEqual(g.resyncs, []);
  g.book.onDiff(recorded[13]!, 0);
  assert.deepEqual(g.resyncs, ['gap']);
  await waitFor(() => g.book.live, 2000, 'live again');
  assert.equal(g.asked(), 2);
  g.book.onDiff(recorded[14]!, 0); // continues diff 13, the first after the new snapshot
  assert.deepEqual(g.resyncs, ['gap'], 'no further resync');
  g.book.stop();

  // a diff that crosses the book: resync, and no book handed on for it
  const before = r.books.length;
  r.book.onDiff({ ...recorded[14]!, firstUpdateId: recorded[14]!.lastUpdateId + 5, lastUpdateId: recorded[14]!.lastUpdateId + 9, prevLastUpdateId: recorded[14]!.lastUpdateId, bids: [{ price: 7.62, qty: 1 }], asks: [] }, 0);
  assert.deepEqual(r.resyncs, ['crossed']);
  assert.equal(r.books.length, before, 'the crossed book was not handed on');
  assert.ok(r.books.every((b) => b.bestBid < b.bestAsk));
  r.book.stop();
});

test('a snapshot older than the stream is fetched again after a growing pause, not in a loop that drains REST weight', async () => {
  const times: number[] = [];
  const stale = { ...snapshot, lastUpdateId: recorded[3]!.firstUpdateId - 1000 };
  const book = new DiffBook({
    exchange: 'binance-futures',
    symbol: 'SUSHI/USDT:USDT',
    assetType: 'crypto',
    rules: FUTURES_RULES,
    // an immediate answer (no network time): only the book's own pause spaces the fetches
    snapshot: async () => {
      times.push(Date.now());
      return times.length <= 3 ? stale : snapshot;
    },
    onBook: () => {},
    onResync: (r) => assert.fail(r),
    onError: (err) => assert.fail(String(err)),
  });
  book.onDiff(recorded[3]!, 0);
  book.onDiff(recorded[4]!, 0);
  await waitFor(() => book.live, 10_000, 'live once the snapshot caught up');
  assert.equal(times.length, 4);
  // 250 ms, then 500 ms: a loaded machine can only make the gaps longer
  assert.ok(times[1]! - times[0]! >= 240 && times[2]! - times[1]! >= 490, `fetched at +${times.map((t) => t - times[0]!).join(', +')} ms`);
  book.stop();
});

// ---------------------------------------------------------------- through the core into InfluxDB

let influx: InfluxServer;
let sink: InfluxSink;
let influxql: InfluxQLClient;
const cleanup: (() => Promise<void>)[] = [];
const log = createLogger('binance-futures-depth-test', 'silent');

before(async () => {
  influx = await startInflux();
  const cfg = influxConfigFromEnv({ INFLUX_URL: influx.url, INFLUX_TOKEN: '', INFLUX_ORG: '', INFLUX_API: 'v1' });
  await bootstrapInflux(cfg, log);
  sink = createInfluxSink(cfg, { log, registry: new Registry(), flushIntervalMs: 200 });
  influxql = createInfluxQLClient(cfg);
});

after(async () => {
  for (const f of cleanup.reverse()) await f();
  await sink?.close();
  await influx?.stop();
});

async function rows(q: string): Promise<Record<string, unknown>[]> {
  const res = await influx.query(q, 'markets');
  const s = res.results[0]?.series?.[0] as { columns: string[]; values: unknown[][] } | undefined;
  return (s?.values ?? []).map((v) => Object.fromEntries(s!.columns.map((c, i) => [c, v[i]])));
}

test('DEPTH_BOOKS perpetual through the core into InfluxDB: order_book rows with depth once a second; a pu gap resyncs it alone (counted); a crossed diff is counted and never stored', async () => {
  const fake = await new BinanceFuturesFake({ candleMs: 600, stepsPerCandle: 6 }).listen();
  const core = new MarketCore({ sink, influxql, indicators: { seed() {}, onClosedCandle: () => ({}), drop() {} }, log });
  const coreRegistry = new Registry();
  core.metrics = createMarketMetrics(coreRegistry, () => core.lastTicks());
  const h = harness({ BINANCE_FUTURES_WS_URL: fake.wsUrl, BINANCE_FUTURES_REST_URL: fake.restUrl, BACKFILL_HOURS: '0', DEPTH_BOOKS: 'binance-futures:BTC/USDT:USDT' }, { influxql, sink });
  const handed: BookSummary[] = [];
  h.ctx.out = {
    ...core.out,
    book: (b) => {
      handed.push(b);
      core.out.book!(b);
    },
  };
  const src = createBinanceFuturesSource(h.ctx);
  cleanup.push(async () => {
    await src.stop();
    await core.stop();
    await fake.close();
  });
  const watch = perps('BTC/USDT:USDT', 'ETH/USDT:USDT');
  core.setWatch(watch);
  src.setWatch(watch);
  const startedAt = Date.now();
  await src.start();
  await waitFor(() => fake.connections[0]?.streams.has('btcusdt@depth@100ms'), 5000, 'depth stream subscribed');
  assert.ok(!fake.connections[0]!.streams.has('ethusdt@depth@100ms'), 'no depth for ETH');
  const btcBooks = () => handed.filter((b) => b.symbol === 'BTC/USDT:USDT');

  /** The latest book handed over equals the exchange's, summarised as the feeder does. */
  const matches = async () => {
    fake.pause();
    await new Promise((r) => setTimeout(r, 300));
    const b = fake.depthBook('BTCUSDT')!;
    const mid = (b.bids[0]![0] + b.asks[0]![0]) / 2;
    const sum = (side: [number, number][], inside: (p: number) => boolean) => side.filter(([p]) => inside(p)).reduce((s, [p, q]) => s + p * q, 0);
    const got = btcBooks().at(-1)!;
    assert.deepEqual([got.bestBid, got.bestAsk], [b.bids[0]![0], b.asks[0]![0]]);
    const bid = sum(b.bids, (p) => p >= mid * 0.99);
    assert.ok(Math.abs(got.bidDepth1pct! - bid) < 1e-6 * bid, `bid depth ${got.bidDepth1pct} vs ${bid}`);
    fake.resume();
  };

  await waitFor(() => btcBooks().length >= 5, 10_000, 'BTC books with depth');
  await matches();
  const snapshots = () => fake.http.requestsTo('/fapi/v1/depth');
  assert.equal(snapshots().length, 1, 'one snapshot');
  assert.equal(snapshots()[0]!.query.get('limit'), '1000');

  const resyncs = (reason: string) => h.metric('market_book_resyncs_total', { exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', reason });
  let n = btcBooks().length;
  fake.skipDepthUpdate('BTCUSDT');
  await waitFor(async () => (await resyncs('gap')) === 1, 5000, 'gap resync counted');
  await waitFor(() => snapshots().length === 2, 5000, 'a second snapshot');
  await waitFor(() => btcBooks().length > n + 3, 5000, 'books again');
  await matches();

  n = btcBooks().length;
  fake.sendCrossedDepthUpdate('BTCUSDT');
  await waitFor(async () => (await resyncs('crossed')) === 1, 5000, 'crossed resync counted');
  await waitFor(() => btcBooks().length > n + 3, 5000, 'books again');
  await matches();

  assert.ok(snapshots().every((r) => r.query.get('symbol') === 'BTCUSDT'), 'ETH never resynced');
  const all = (await h.registry.getMetricsAsJSON()).find((m) => m.name === 'market_book_resyncs_total')!.values;
  assert.equal(await h.metric('market_book_resyncs_total'), 2, `two resyncs in all: ${JSON.stringify(all)}`);
  assert.ok(handed.every((b) => b.bestBid < b.bestAsk), 'no crossed book handed to the core');
  const rejected = (await coreRegistry.getMetricsAsJSON()).find((m) => m.name === 'market_events_rejected_total');
  assert.ok(!(rejected?.values as { labels: { reason?: string } }[] | undefined)?.some((v) => v.labels.reason === 'crossed'), 'the core saw no crossed book either');

  await src.stop();
  await core.stop();
  const elapsedS = (Date.now() - startedAt) / 1000;
  await sink.flush();
  const where = (symbol: string) => `WHERE "exchange"='binance-futures' AND "symbol"='${symbol}'`;
  const btc = await rows(`SELECT "best_bid","best_ask","spread_bps","bid_depth_1pct","ask_depth_1pct","imbalance","asset_type" FROM "order_book" ${where('BTC/USDT:USDT')}`);
  assert.ok(btc.length >= 3, `${btc.length} BTC order_book rows`);
  assert.ok(btc.length <= Math.ceil(elapsedS) + 1, `at most one row a second: ${btc.length} rows in ${elapsedS.toFixed(1)} s`);
  for (const r of btc) {
    assert.ok((r.best_bid as number) < (r.best_ask as number), `stored book crossed: ${JSON.stringify(r)}`);
    assert.ok((r.bid_depth_1pct as number) > 0 && (r.ask_depth_1pct as number) > 0, 'depth stored');
    assert.ok(Math.abs(r.imbalance as number) <= 1 && (r.spread_bps as number) > 0);
    assert.equal(r.asset_type, 'crypto');
  }
  // every stored row is a book the source handed over (the latest of its second)
  for (const r of btc) assert.ok(handed.some((b) => b.symbol === 'BTC/USDT:USDT' && b.bestBid === r.best_bid && b.bestAsk === r.best_ask && b.bidDepth1pct === r.bid_depth_1pct), `row ${String(r.time)} was handed over`);
  const eth = await rows(`SELECT "best_bid","best_ask","bid_depth_1pct" FROM "order_book" ${where('ETH/USDT:USDT')}`);
  assert.ok(eth.length > 0, 'ETH top of book from bookTicker');
  assert.ok(eth.every((r) => r.bid_depth_1pct === null && (r.best_bid as number) < (r.best_ask as number)), 'ETH: top of book only');
});
