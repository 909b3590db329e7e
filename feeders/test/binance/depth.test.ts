// Binance spot order books (docs/ORDER_BOOKS.md, "Binance spot"): the recorded depth frames and snapshot
// parse; the lastUpdateId rules on the recorded diff sequence; then against the local Binance server a
// DEPTH_BOOKS symbol keeps an L2 book equal to the exchange's, a lost diff resyncs that symbol alone
// (counted), other symbols get top of book only, and no crossed book is ever handed on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFake, fixtureJson, fixtureText, waitFor } from '@mt/testing';
import { createBinanceSource } from '../../src/market/binance/index.js';
import { parseDepthSnapshot, parseFrame } from '../../src/market/binance/mappers.js';
import { DiffBook, type DepthDiff, type DepthSnapshot } from '../../src/market/binance/depth.js';
import type { MarketComponent } from '../../src/market/context.js';
import type { BookSummary } from '../../src/market/types.js';
import { crypto, harness } from './harness.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

const recorded = fixtureText('binance_depth/ws_combined_depth_100ms_NKNUSDT_diff_sequence_12frames.txt')
  .split('\n')
  .filter(Boolean)
  .map((l) => parseFrame(l));

test('recorded depth frames and snapshot parse: update ids, levels, quantity 0 kept as a removal', () => {
  assert.equal(recorded.length, 12);
  const diffs = recorded.map((e) => {
    assert.equal(e.kind, 'depth');
    return e as Extract<typeof e, { kind: 'depth' }>;
  });
  assert.deepEqual([diffs[0]!.symbol, diffs[0]!.firstUpdateId, diffs[0]!.lastUpdateId, diffs[0]!.ts], ['NKNUSDT', 499869750, 499869752, 1633998512068]);
  assert.deepEqual(diffs[0]!.bids[0], { price: 0.3513, qty: 6195 });
  for (let i = 1; i < diffs.length; i++) assert.equal(diffs[i]!.firstUpdateId, diffs[i - 1]!.lastUpdateId + 1, 'contiguous as recorded');
  assert.ok(diffs.some((d) => d.asks.some((l) => l.qty === 0)), 'a removal (quantity 0) in the recording');
  const snap = parseDepthSnapshot(fixtureJson('binance_depth/rest_api_v3_depth_limit10_snapshot_lastUpdateId_5373619641.json'));
  assert.equal(snap.lastUpdateId, 5373619641);
  assert.equal(snap.bids.length, 10);
  assert.deepEqual([snap.bids[0], snap.asks[0]], [{ price: 1.126, qty: 21246.4 }, { price: 1.127, qty: 88657.7 }]);
  assert.throws(() => parseDepthSnapshot({ lastUpdateId: 1, bids: [['x', '1']], asks: [] }), /not a number/);
});

test('lastUpdateId rules on the recorded sequence: older diffs dropped, the first straddles, a gap resyncs', async () => {
  const diffs = recorded.map((e) => e as Extract<typeof e, { kind: 'depth' }>) as DepthDiff[];
  // a snapshot taken mid-sequence (its levels are not part of the rules under test)
  const snapshots: DepthSnapshot[] = [
    { lastUpdateId: 499869753, bids: [{ price: 0.34, qty: 1 }], asks: [{ price: 0.36, qty: 1 }] },
    { lastUpdateId: diffs[8]!.lastUpdateId, bids: [{ price: 0.34, qty: 2 }], asks: [{ price: 0.36, qty: 2 }] },
  ];
  let asked = 0;
  const books: BookSummary[] = [];
  const resyncs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const book = new DiffBook({
    exchange: 'binance',
    symbol: 'NKN/USDT',
    assetType: 'crypto',
    snapshot: async () => {
      if (asked === 0) await gate; // the first snapshot arrives after three diffs were buffered
      return snapshots[Math.min(asked++, snapshots.length - 1)]!;
    },
    onBook: (b) => books.push(b),
    onResync: (r) => resyncs.push(r),
    onError: (err) => assert.fail(String(err)),
  });
  for (const d of diffs.slice(0, 3)) book.onDiff(d, 0);
  release();
  await waitFor(() => book.live, 1000, 'live after the snapshot');
  // diff 0 (u 499869752 ≤ 499869753) dropped; diff 1 (U 499869753 ≤ 499869754 ≤ u 499869754) first; diff 2 continues
  assert.equal(books.length, 1, 'one book after the buffered diffs');
  assert.deepEqual(books[0]!.bestBid, 0.352, 'diff 2 set the best bid 0.35200000');
  for (const d of diffs.slice(3, 6)) book.onDiff(d, 0);
  assert.equal(books.length, 4);
  book.onDiff(diffs[1]!, 0); // an old one again (two sockets overlapping): ignored
  assert.equal(books.length, 4);
  book.onDiff(diffs[7]!, 0); // diff 6 lost: a gap
  assert.deepEqual(resyncs, ['gap']);
  await waitFor(() => book.live, 1000, 'live again');
  assert.equal(asked, 2, 'a second snapshot');
  book.onDiff(diffs[9]!, 0); // after the new snapshot (lastUpdateId = diff 8's u): the first straddling one
  assert.equal(book.live, true);
  assert.deepEqual(resyncs, ['gap'], 'no further resync');
  book.stop();
});

test('DEPTH_BOOKS symbol: L2 book equal to the exchange’s, a lost diff resyncs it alone; others top of book; never crossed', async () => {
  const fake = await new BinanceFake({ candleMs: 600, stepsPerCandle: 6 }).listen();
  const h = harness({ BINANCE_WS_URL: fake.wsUrl, BINANCE_REST_URL: fake.restUrl, BACKFILL_HOURS: '0', DEPTH_BOOKS: 'binance:BTC/USDT' });
  const src: MarketComponent = createBinanceSource(h.ctx);
  cleanup.push(async () => {
    await src.stop();
    await fake.close();
  });
  src.setWatch(crypto('BTC/USDT', 'ETH/USDT'));
  await src.start();
  await waitFor(() => fake.connections[0]?.streams.has('btcusdt@depth@100ms'), 5000, 'depth stream subscribed');
  assert.ok(!fake.connections[0]!.streams.has('ethusdt@depth@100ms'), 'no depth for ETH');

  /** The exchange's book summarised as the feeder does (levels within 1 % of the mid). */
  const expected = () => {
    const b = fake.depthBook('BTCUSDT')!;
    const mid = (b.bids[0]![0] + b.asks[0]![0]) / 2;
    const sum = (side: [number, number][], inside: (p: number) => boolean) => side.filter(([p]) => inside(p)).reduce((s, [p, q]) => s + p * q, 0);
    return { bestBid: b.bids[0]![0], bestAsk: b.asks[0]![0], bid: sum(b.bids, (p) => p >= mid * 0.99), ask: sum(b.asks, (p) => p <= mid * 1.01) };
  };
  const matches = async () => {
    fake.pause();
    await new Promise((r) => setTimeout(r, 300));
    const want = expected();
    const got = h.books.filter((b) => b.symbol === 'BTC/USDT').at(-1)!;
    assert.equal(got.bestBid, want.bestBid);
    assert.equal(got.bestAsk, want.bestAsk);
    assert.ok(Math.abs(got.bidDepth1pct! - want.bid) < 1e-6 * want.bid, `bid depth ${got.bidDepth1pct} vs ${want.bid}`);
    assert.ok(Math.abs(got.askDepth1pct! - want.ask) < 1e-6 * want.ask, `ask depth ${got.askDepth1pct} vs ${want.ask}`);
    assert.ok(got.imbalance! >= -1 && got.imbalance! <= 1);
    fake.resume();
  };

  await waitFor(() => h.books.filter((b) => b.symbol === 'BTC/USDT' && b.bidDepth1pct !== undefined).length >= 5, 10_000, 'BTC books with depth');
  await matches();
  assert.equal(fake.http.requestsTo('/api/v3/depth').length, 1, 'one snapshot');

  const depthBefore = h.books.filter((b) => b.symbol === 'BTC/USDT').length;
  fake.skipDepthUpdate('BTCUSDT');
  await waitFor(async () => (await h.metric('market_book_resyncs_total', { exchange: 'binance', symbol: 'BTC/USDT', reason: 'gap' })) === 1, 5000, 'resync counted');
  await waitFor(() => fake.http.requestsTo('/api/v3/depth').length === 2, 5000, 'a second snapshot');
  await waitFor(() => h.books.filter((b) => b.symbol === 'BTC/USDT').length > depthBefore + 3, 5000, 'books again');
  await matches();

  assert.ok(fake.http.requestsTo('/api/v3/depth').every((r) => r.query.get('symbol') === 'BTCUSDT'), 'ETH never resynced');
  assert.equal(await h.metric('market_book_resyncs_total'), 1, 'one resync in all');
  const eth = h.books.filter((b) => b.symbol === 'ETH/USDT');
  assert.ok(eth.length > 0, 'ETH top of book from bookTicker');
  assert.ok(eth.every((b) => b.bidDepth1pct === undefined && b.imbalance === undefined), 'top of book only');
  assert.ok(h.books.every((b) => b.bestBid < b.bestAsk), 'no crossed or locked book handed on');
});
