// The Binance USDⓈ-M futures source against the local futures server (testing/src/fakes/binance-futures.ts):
// live (un)subscribe, drops/stalls/serverShutdown with 0 missing and 0 doubled candles, REST 429/418 with
// Retry-After, open interest polled per symbol, funding and liquidations as the exchange sent them, bad frames.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFuturesFake, waitFor } from '@mt/testing';
import { createBinanceFuturesSource } from '../../src/market/binance-futures/index.js';
import type { MarketComponent } from '../../src/market/context.js';
import { compareCandles } from '../binance/harness.js';
import { futuresHarness, perps, type FuturesHarness } from './harness.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function setup(
  fakeOpts: ConstructorParameters<typeof BinanceFuturesFake>[0],
  env: Record<string, string> = {},
): Promise<{ fake: BinanceFuturesFake; h: FuturesHarness; src: MarketComponent }> {
  const fake = await new BinanceFuturesFake(fakeOpts).listen();
  const h = futuresHarness({ BINANCE_FUTURES_WS_URL: fake.wsUrl, BINANCE_FUTURES_REST_URL: fake.restUrl, BACKFILL_HOURS: '0', ...env });
  const src = createBinanceFuturesSource(h.ctx);
  cleanup.push(async () => {
    await src.stop();
    await fake.close();
  });
  return { fake, h, src };
}

function audit(fake: BinanceFuturesFake, h: FuturesHarness, symbol: string, from: number) {
  const want = fake.closedCandles(symbol.split(':')[0]!, from).map((c) => c.openTime);
  const got = h.candles.filter((c) => c.symbol === symbol && c.openTime >= from).map((c) => c.openTime);
  return compareCandles(want, got);
}

/** Every funding event handed over for `symbol` equals one the exchange sent, none twice. */
function assertFundingAsSent(fake: BinanceFuturesFake, h: FuturesHarness, symbol: string) {
  const rest = symbol.split(':')[0]!.replace('/', '');
  const sent = new Map(fake.sent.funding.filter((f) => f.symbol === rest).map((f) => [f.E, f]));
  const got = h.funding.filter((f) => f.symbol === symbol);
  assert.ok(got.length > 0, `funding for ${symbol}`);
  assert.equal(new Set(got.map((f) => f.ts)).size, got.length, `no funding event twice for ${symbol}`);
  for (const f of got) {
    const s = sent.get(f.ts);
    assert.ok(s, `funding at ${f.ts} was sent`);
    assert.deepEqual([f.markPrice, f.indexPrice, f.fundingRate, f.nextFundingTime], [s.markPrice, s.indexPrice, s.fundingRate, s.nextFundingTime]);
  }
  return { got: got.length, sent: sent.size };
}

test('a perpetual added at run time is SUBSCRIBEd on the open connection (6 streams); removal UNSUBSCRIBEs; its events stop', async () => {
  const { fake, h, src } = await setup({ candleMs: 300 });
  src.setWatch([...perps('BTC/USDT:USDT'), { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' }]);
  await src.start();
  await waitFor(() => h.ticks.some((t) => t.symbol === 'BTC/USDT:USDT'), 5000, 'BTC perp tick');
  assert.equal(fake.connections.length, 1);
  assert.deepEqual([...fake.connections[0]!.streams].sort(), [
    'btcusdt@aggTrade',
    'btcusdt@bookTicker',
    'btcusdt@forceOrder',
    'btcusdt@kline_1m',
    'btcusdt@markPrice@1s',
    'btcusdt@ticker',
  ]);
  assert.ok(h.ticks.every((t) => t.exchange === 'binance-futures' && t.symbol === 'BTC/USDT:USDT'), 'the spot item is not this venue’s');

  src.setWatch(perps('BTC/USDT:USDT', 'ETH/USDT:USDT'));
  await waitFor(() => h.funding.some((f) => f.symbol === 'ETH/USDT:USDT') && h.books.some((b) => b.symbol === 'ETH/USDT:USDT'), 3000, 'ETH funding and book');
  await waitFor(() => h.liquidations.some((l) => l.symbol === 'ETH/USDT:USDT'), 3000, 'ETH liquidation');
  assert.equal(fake.connections.length, 1, 'no new connection');
  const sub = fake.connections[0]!.control.find((c) => c.method === 'SUBSCRIBE')!;
  assert.equal((sub.params as string[]).length, 6);

  src.setWatch(perps('ETH/USDT:USDT'));
  await waitFor(() => !fake.connections[0]!.streams.has('btcusdt@markPrice@1s'), 2000, 'btc streams unsubscribed');
  await new Promise((r) => setTimeout(r, 200));
  const n = h.funding.filter((f) => f.symbol === 'BTC/USDT:USDT').length;
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(h.funding.filter((f) => f.symbol === 'BTC/USDT:USDT').length, n, 'no BTC funding after the unwatch');
  assert.ok(fake.connections[0]!.errors.length === 0 && fake.connections.length === 1);
  assert.ok(fake.connections[0]!.maxIncomingPerSecond <= 10);
});

test('drop, stall and serverShutdown (overlapping roll): 0 missing, 0 doubled candles equal to the exchange’s; funding and liquidations as sent, none twice', async () => {
  const { fake, h, src } = await setup({ candleMs: 200, pingIntervalMs: 500, pongTimeoutMs: 1200 }, { BINANCE_STALE_MS: '1500', BACKFILL_HOURS: '0.2' });
  const syms = ['BTC/USDT:USDT', 'ETH/USDT:USDT'];
  src.setWatch(perps(...syms));
  await src.start();
  await waitFor(() => h.candles.length >= 6, 10_000, 'candles');

  fake.dropAll();
  await waitFor(() => fake.openConnections().length === 1 && fake.connections.length === 2, 10_000, 'reconnect after drop');
  fake.stallAll();
  await waitFor(() => fake.connections.length === 3 && fake.openConnections().length === 1, 10_000, 'reconnect after stall');
  await new Promise((r) => setTimeout(r, 600));
  fake.serverShutdown(1500);
  await waitFor(() => fake.connections.length === 4, 5000, 'rolled connection');
  await waitFor(() => fake.connections[2]!.closedAt !== undefined, 5000, 'old connection closed');
  assert.ok(fake.connections[3]!.openedAt <= fake.connections[2]!.closedAt!, 'the new socket opened before the old one closed');

  await new Promise((r) => setTimeout(r, 1000));
  fake.pause();
  const last = fake.lastClosedOpenTime();
  await waitFor(() => syms.every((s) => h.candles.some((c) => c.symbol === s && c.openTime === last)), 10_000, 'last candle');
  const from = h.candles.filter((c) => c.symbol === syms[0]).reduce((m, c) => Math.min(m, c.openTime), Infinity);
  for (const s of syms) {
    assert.deepEqual(audit(fake, h, s, from), { missing: [], duplicated: [], extra: [] }, s);
    for (const c of h.candles.filter((x) => x.symbol === s)) {
      const x = fake.candle(s.split(':')[0]!, c.openTime);
      assert.deepEqual([c.exchange, c.open, c.high, c.low, c.close, c.volume, c.quoteVolume, c.trades], ['binance-futures', x.open, x.high, x.low, x.close, x.volume, x.quoteVolume, x.trades]);
    }
    assertFundingAsSent(fake, h, s);
    const rest = s.split(':')[0]!.replace('/', '');
    const liqs = h.liquidations.filter((l) => l.symbol === s);
    assert.equal(new Set(liqs.map((l) => l.ts)).size, liqs.length, 'no liquidation twice');
    for (const l of liqs) {
      const x = fake.sent.liquidations.find((y) => y.symbol === rest && y.T === l.ts);
      assert.ok(x, `liquidation at ${l.ts} was sent`);
      assert.deepEqual([l.side, l.price, l.quantity, l.value], [x.side.toLowerCase(), x.averagePrice, x.filledQty, x.averagePrice * x.filledQty]);
    }
  }
  assert.ok(fake.connections.every((c) => c.closeReason !== 'pong_timeout' && c.closeReason !== 'rate_limit'));
  assert.ok((await h.metric('feeder_reconnects_total', { source: 'binance_futures_ws' })) >= 2);
  assert.ok((await h.metric('feeder_source_errors_total', { source: 'binance_futures_ws', kind: 'timeout' })) >= 1);
  assert.ok((await h.metric('market_candles_backfilled_total')) > 0);
});

test('REST 429 then 418 on /fapi/v1/klines: Retry-After (seconds) honoured, counted, backfill completes gap-free', async () => {
  const { fake, h, src } = await setup({ candleMs: 400 }, { BACKFILL_HOURS: '0.5' });
  fake.failRest(429, { retryAfterSec: 1 });
  fake.failRest(418, { retryAfterSec: 2 });
  src.setWatch(perps('BTC/USDT:USDT'));
  await src.start();
  await waitFor(() => fake.http.requestsTo('/fapi/v1/klines').length >= 3, 15_000, 'three klines requests');
  const reqs = fake.http.requestsTo('/fapi/v1/klines');
  assert.ok(reqs[1]!.at - reqs[0]!.at >= 1000, `waited ${reqs[1]!.at - reqs[0]!.at} ms after 429 (Retry-After: 1)`);
  assert.ok(reqs[2]!.at - reqs[1]!.at >= 2000, `waited ${reqs[2]!.at - reqs[1]!.at} ms after 418 (Retry-After: 2)`);
  await waitFor(async () => (await h.metric('market_candles_backfilled_total', { symbol: 'BTC/USDT:USDT' })) >= 30, 5000, '30 backfilled candles');
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'binance_futures_rest', kind: 'http_429' }), 1);
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'binance_futures_rest', kind: 'http_418' }), 1);
  const from = Math.min(...h.candles.map((c) => c.openTime));
  await new Promise((r) => setTimeout(r, 800));
  fake.pause();
  const last = fake.lastClosedOpenTime();
  await waitFor(() => h.candles.some((c) => c.openTime === last), 5000, 'last candle');
  assert.deepEqual(audit(fake, h, 'BTC/USDT:USDT', from), { missing: [], duplicated: [], extra: [] });
  assert.equal(reqs[0]!.query.get('limit'), '1000', 'one page per request (weight 5)');
});

test('open interest: each perpetual polled once per period, spread over it, values as answered, valued at the latest mark price; a 429 waits Retry-After', async () => {
  const { fake, h, src } = await setup({ candleMs: 300 }, { BINANCE_FUTURES_OI_POLL_MS: '1200' });
  const syms = ['BTC/USDT:USDT', 'ETH/USDT:USDT', 'SOL/USDT:USDT'];
  src.setWatch(perps(...syms));
  await src.start();
  await waitFor(() => syms.every((s) => h.openInterest.filter((o) => o.symbol === s).length >= 2), 10_000, 'two rounds of open interest');
  const reqs = fake.http.requestsTo('/fapi/v1/openInterest');
  // three symbols in a 1.2 s period: one request every ~400 ms, not a burst per round (each loop step takes
  // at least its 400 ms slot, so 6 requests span ≥ 2 s less the first one's latency; a loaded machine delays)
  assert.ok(reqs.length >= 6 && reqs[5]!.at - reqs[0]!.at >= 1200, `6 requests within ${reqs[5]!.at - reqs[0]!.at} ms`);
  for (const o of h.openInterest) {
    const sent = fake.sent.openInterest.find((x) => x.symbol === o.symbol.split(':')[0]!.replace('/', '') && x.time === o.ts);
    assert.ok(sent, `open interest at ${o.ts} was answered`);
    assert.equal(o.openInterest, sent.openInterest);
    if (o.openInterestValue !== undefined) {
      const marks = fake.sent.funding.filter((f) => `${f.symbol}` === sent.symbol).map((f) => f.markPrice);
      assert.ok(marks.some((mp) => Math.abs(o.openInterestValue! - sent.openInterest * mp) < 1e-6 * o.openInterestValue!), 'valued at a mark price the exchange sent');
    }
  }
  assert.ok(h.openInterest.some((o) => o.openInterestValue !== undefined), 'valued once mark prices arrived');

  fake.failRest(429, { retryAfterSec: 2, path: '/fapi/v1/openInterest' });
  const before = fake.http.requestsTo('/fapi/v1/openInterest').length;
  await waitFor(() => fake.http.requestsTo('/fapi/v1/openInterest').length >= before + 2, 10_000, 'retry after 429');
  const after429 = fake.http.requestsTo('/fapi/v1/openInterest').slice(before);
  assert.ok(after429[1]!.at - after429[0]!.at >= 2000, `waited ${after429[1]!.at - after429[0]!.at} ms after 429 (Retry-After: 2)`);
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'binance_futures_rest', kind: 'http_429' }), 1);
});

test('an unknown perpetual: its open interest answer (-1121, HTTP 400) is counted on every round; the others go on', async () => {
  const { fake, h, src } = await setup({ candleMs: 300, symbols: ['BTCUSDT'] }, { BINANCE_FUTURES_OI_POLL_MS: '1000' });
  src.setWatch(perps('BTC/USDT:USDT', 'NOPE/USDT:USDT'));
  await src.start();
  await waitFor(() => h.openInterest.filter((o) => o.symbol === 'BTC/USDT:USDT').length >= 3, 10_000, 'BTC open interest keeps coming');
  assert.ok(h.openInterest.every((o) => o.symbol === 'BTC/USDT:USDT'));
  assert.ok((await h.metric('feeder_source_errors_total', { source: 'binance_futures_rest', kind: 'http_400' })) >= 2);
  assert.ok(fake.http.requestsTo('/fapi/v1/openInterest').some((r) => r.query.get('symbol') === 'NOPEUSDT'));
});

test('malformed frames and unknown events are counted and dropped; the stream goes on without a reconnect', async () => {
  const { fake, h, src } = await setup({ candleMs: 300 });
  src.setWatch(perps('BTC/USDT:USDT'));
  await src.start();
  await waitFor(() => h.funding.length > 0, 5000, 'funding');
  const funding = h.funding.length;
  fake.sendMalformed();
  // an event type the feeder does not know (a real depthUpdate, renamed), and a diff of a perpetual without
  // a depth book (not in DEPTH_BOOKS): neither is handed on; only the first is a parse error
  fake.broadcastRaw('{"stream":"btcusdt@someNewEvent","data":{"e":"someNewEvent","E":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]}}');
  fake.broadcastRaw('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]}}');
  const n = h.ticks.length;
  await waitFor(() => h.ticks.length > n + 5 && h.funding.length > funding + 2, 5000, 'events after bad frames');
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'binance_futures_ws', reason: 'invalid_json' }), 2);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'binance_futures_ws', reason: 'invalid_field' }), 2);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'binance_futures_ws', reason: 'unknown_event' }), 1);
  assert.ok(h.funding.every((f) => Number.isFinite(f.fundingRate) && Number.isFinite(f.markPrice)), 'nothing of a bad frame was handed on');
  assert.equal(fake.connections.length, 1, 'no reconnect needed');
});
