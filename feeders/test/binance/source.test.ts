// The Binance source against the local Binance server (testing/src/fakes/binance.ts): live
// (un)subscribe, pacing and connection spreading, reconnects, REST 429/418, bad frames.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFake, waitFor } from '@mt/testing';
import { createBinanceSource } from '../../src/market/binance/index.js';
import { ConnectBudget } from '../../src/market/stream/index.js';
import type { MarketComponent } from '../../src/market/context.js';
import { compareCandles, crypto, harness, type Harness } from './harness.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function setup(
  fakeOpts: ConstructorParameters<typeof BinanceFake>[0],
  env: Record<string, string> = {},
): Promise<{ fake: BinanceFake; h: Harness; src: MarketComponent }> {
  const fake = await new BinanceFake(fakeOpts).listen();
  const h = harness({ BINANCE_WS_URL: fake.wsUrl, BINANCE_REST_URL: fake.restUrl, BACKFILL_HOURS: '0', ...env });
  const src = createBinanceSource(h.ctx);
  cleanup.push(async () => {
    await src.stop();
    await fake.close();
  });
  return { fake, h, src };
}

/** Candles handed downstream for `symbol` vs every candle the exchange closed from `from` on. */
function audit(fake: BinanceFake, h: Harness, symbol: string, from: number) {
  const want = fake.closedCandles(symbol, from).map((c) => c.openTime);
  const got = h.candles.filter((c) => c.symbol === symbol && c.openTime >= from).map((c) => c.openTime);
  return compareCandles(want, got);
}

test('a symbol added at run time is SUBSCRIBEd on the open connection (no reconnect); first tick within 1 s; removal UNSUBSCRIBEs', async () => {
  const { fake, h, src } = await setup({ candleMs: 300 });
  src.setWatch([...crypto('BTC/USDT'), { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' }]);
  await src.start();
  await waitFor(() => h.ticks.some((t) => t.symbol === 'BTC/USDT'), 5000, 'BTC tick');
  assert.equal(fake.connections.length, 1);
  assert.deepEqual([...fake.connections[0]!.streams].sort(), ['btcusdt@bookTicker', 'btcusdt@kline_1m', 'btcusdt@ticker', 'btcusdt@trade']);

  const added = Date.now();
  src.setWatch(crypto('BTC/USDT', 'ETH/USDT'));
  const first = await waitFor(() => h.ticks.find((t) => t.symbol === 'ETH/USDT'), 3000, 'ETH tick');
  const latency = first.receivedAt - added;
  assert.ok(latency < 1000, `first ETH tick after ${latency} ms`);
  assert.equal(fake.connections.length, 1, 'no new connection');
  const sub = fake.connections[0]!.control.find((c) => c.method === 'SUBSCRIBE')!;
  assert.deepEqual((sub.params as string[]).sort(), ['ethusdt@bookTicker', 'ethusdt@kline_1m', 'ethusdt@ticker', 'ethusdt@trade']);

  src.setWatch(crypto('ETH/USDT'));
  await waitFor(() => fake.connections[0]!.control.some((c) => c.method === 'UNSUBSCRIBE'), 2000, 'UNSUBSCRIBE');
  await waitFor(() => !fake.connections[0]!.streams.has('btcusdt@trade'), 2000, 'btc streams gone');
  assert.equal(fake.connections.length, 1);
  assert.equal(await h.metric('market_subscribed_streams'), 4);
  assert.equal(await h.metric('market_ws_connections'), 1);
});

test('more than 1024 streams → two connections; control messages stay under 5/s while adding many symbols', async () => {
  // A slow market clock: 400 symbols' worth of frames is a lot for a shared 2-core machine.
  const { fake, h, src } = await setup({ candleMs: 30_000, stepsPerCandle: 10 }, { BINANCE_STALE_MS: '60000' });
  const syms = Array.from({ length: 300 }, (_, i) => `S${i}/USDT`);
  src.setWatch(crypto(...syms));
  await src.start();
  await waitFor(() => fake.openConnections().length === 2 && fake.openConnections().every((c) => c.control.length > 0), 10_000, 'two connections');
  const more = Array.from({ length: 100 }, (_, i) => `T${i}/USDT`);
  src.setWatch(crypto(...syms, ...more));
  await waitFor(() => fake.openConnections().reduce((n, c) => n + c.streams.size, 0) === 1600, 15_000, 'all 1600 streams subscribed');
  const conns = fake.openConnections();
  assert.equal(fake.connections.length, 2, 'two connections, none cut');
  for (const c of conns) {
    assert.ok(c.streams.size <= 1024, `${c.streams.size} streams on one connection`);
    assert.ok(c.maxIncomingPerSecond <= 5, `${c.maxIncomingPerSecond} messages in one second`);
    assert.equal(c.errors.length, 0);
  }
  assert.equal(await h.metric('market_subscribed_streams'), 1600);
  await waitFor(async () => (await h.metric('market_ws_connections')) === 2, 5000, 'gauge');
});

test('reconnects after a drop, a stall and serverShutdown (overlapping roll) with no candle lost or doubled', async () => {
  // Pings every 0.5 s and a 1.2 s pong deadline: a client that did not pong would be cut.
  const { fake, h, src } = await setup({ candleMs: 200, pingIntervalMs: 500, pongTimeoutMs: 1200 }, { BINANCE_STALE_MS: '1500', BACKFILL_HOURS: '0.2' });
  src.setWatch(crypto('BTC/USDT', 'ETH/USDT'));
  await src.start();
  await waitFor(() => h.candles.length >= 6, 10_000, 'candles');

  fake.dropAll();
  await waitFor(() => fake.openConnections().length === 1 && fake.connections.length === 2, 10_000, 'reconnect after drop');
  fake.stallAll();
  await waitFor(() => fake.connections.length === 3 && fake.openConnections().length === 1, 10_000, 'reconnect after stall');
  assert.equal(fake.connections[1]!.closeReason, 'client');
  await new Promise((r) => setTimeout(r, 600));
  fake.serverShutdown(1500);
  await waitFor(() => fake.connections.length === 4, 5000, 'rolled connection');
  await waitFor(() => fake.connections[2]!.closedAt !== undefined, 5000, 'old connection closed');
  // The new socket was open before the old one went away: an overlap, not a gap.
  assert.ok(fake.connections[3]!.openedAt <= fake.connections[2]!.closedAt!);
  assert.equal(fake.connections[2]!.closeReason, 'client', 'the client closed the old socket itself after the new one was live');

  await new Promise((r) => setTimeout(r, 1000));
  fake.pause();
  const last = fake.lastClosedOpenTime();
  await waitFor(() => ['BTC/USDT', 'ETH/USDT'].every((s) => h.candles.some((c) => c.symbol === s && c.openTime === last)), 10_000, 'last candle');
  const from = h.candles.filter((c) => c.symbol === 'BTC/USDT').reduce((m, c) => Math.min(m, c.openTime), Infinity);
  for (const s of ['BTC/USDT', 'ETH/USDT']) {
    const r = audit(fake, h, s, from);
    assert.deepEqual(r, { missing: [], duplicated: [], extra: [] }, s);
  }
  // Values as the exchange has them, whether live or backfilled.
  for (const c of h.candles.filter((x) => x.symbol === 'ETH/USDT')) {
    const x = fake.candle('ETHUSDT', c.openTime);
    assert.deepEqual([c.open, c.high, c.low, c.close, c.volume, c.trades], [x.open, x.high, x.low, x.close, x.volume, x.trades]);
  }
  assert.ok(fake.connections.every((c) => c.closeReason !== 'pong_timeout' && c.closeReason !== 'rate_limit'));
  assert.ok(fake.connections.reduce((n, c) => n + c.pongs, 0) > 0, 'pings were answered');
  assert.ok((await h.metric('feeder_reconnects_total', { source: 'binance_ws' })) >= 2);
  assert.ok((await h.metric('feeder_source_errors_total', { source: 'binance_ws', kind: 'timeout' })) >= 1);
  assert.ok((await h.metric('market_gaps_detected_total', { kind: 'trade_id' })) >= 1);
  assert.ok((await h.metric('market_candles_backfilled_total')) > 0);
});

test('REST 429 then 418: Retry-After (seconds) honoured, counted, backfill completes', async () => {
  const { fake, h, src } = await setup({ candleMs: 400 }, { BACKFILL_HOURS: '0.5' });
  fake.failRest(429, { retryAfterSec: 1 });
  fake.failRest(418, { retryAfterSec: 2 });
  src.setWatch(crypto('BTC/USDT'));
  await src.start();
  await waitFor(() => fake.http.requestsTo('/api/v3/klines').length >= 3, 15_000, 'three klines requests');
  const reqs = fake.http.requestsTo('/api/v3/klines');
  assert.ok(reqs[1]!.at - reqs[0]!.at >= 1000, `waited ${reqs[1]!.at - reqs[0]!.at} ms after 429 (Retry-After: 1)`);
  assert.ok(reqs[2]!.at - reqs[1]!.at >= 2000, `waited ${reqs[2]!.at - reqs[1]!.at} ms after 418 (Retry-After: 2)`);
  await waitFor(async () => (await h.metric('market_candles_backfilled_total', { symbol: 'BTC/USDT' })) >= 30, 5000, '30 backfilled candles');
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'binance_rest', kind: 'http_429' }), 1);
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'binance_rest', kind: 'http_418' }), 1);
  const from = Math.min(...h.candles.map((c) => c.openTime));
  await new Promise((r) => setTimeout(r, 800));
  fake.pause();
  const last = fake.lastClosedOpenTime();
  await waitFor(() => h.candles.some((c) => c.openTime === last), 5000, 'last candle');
  assert.deepEqual(audit(fake, h, 'BTC/USDT', from), { missing: [], duplicated: [], extra: [] });
});

test('malformed frames and unknown event types are counted and logged, and the stream goes on', async () => {
  const { fake, h, src } = await setup({ candleMs: 300 });
  src.setWatch(crypto('BTC/USDT'));
  await src.start();
  await waitFor(() => h.ticks.length > 0, 5000, 'ticks');
  fake.sendMalformed();
  fake.sendUnknownEvent();
  const n = h.ticks.length;
  await waitFor(() => h.ticks.length > n + 5, 5000, 'ticks after bad frames');
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'binance_ws', reason: 'invalid_json' }), 2);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'binance_ws', reason: 'invalid_field' }), 2);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'binance_ws', reason: 'unknown_event' }), 1);
  assert.equal(fake.connections.length, 1, 'no reconnect needed');
});

test('refused upgrades are retried with backoff; the connection is rolled (overlapping) before its maximum age', async () => {
  const { fake, h, src } = await setup({ candleMs: 200 }, { BINANCE_MAX_CONNECTION_AGE_MS: '10000' });
  fake.refuseConnections(2, 503);
  src.setWatch(crypto('BTC/USDT'));
  await src.start();
  await waitFor(() => fake.connections.length === 1, 10_000, 'connected after two refusals');
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'binance_ws', kind: 'http_503' }), 2);
  const firstLive = (await waitFor(() => h.candles[0], 5000, 'a live candle')).openTime;
  await waitFor(() => fake.connections.length === 2 && fake.connections[0]!.closedAt !== undefined, 15_000, 'rolled at max age');
  const [old, fresh] = fake.connections as [(typeof fake.connections)[0], (typeof fake.connections)[0]];
  assert.ok(fresh.openedAt <= old.closedAt!, 'the new socket opened before the old one closed');
  assert.equal(old.closeReason, 'client');
  assert.ok(old.closedAt! - old.openedAt < 10_000 + 3000, 'rolled at about the configured age');
  await new Promise((r) => setTimeout(r, 1000));
  fake.pause();
  const last = fake.lastClosedOpenTime();
  await waitFor(() => h.candles.some((c) => c.openTime === last), 5000, 'last candle');
  assert.deepEqual(audit(fake, h, 'BTC/USDT', firstLive), { missing: [], duplicated: [], extra: [] });
  // The overlap alone kept the series whole: nothing needed fetching over REST.
  assert.equal(await h.metric('market_candles_backfilled_total'), 0);
});

test('connection attempts stay within the budget (Binance: 300 per 5 minutes)', async () => {
  const budget = new ConnectBudget(2, 400);
  const ac = new AbortController();
  const t0 = Date.now();
  await budget.take(ac.signal);
  await budget.take(ac.signal);
  await budget.take(ac.signal);
  assert.ok(Date.now() - t0 >= 400, 'the third attempt waited for the window');
});
