// The Coinbase source in-process against the local Coinbase server: live subscribe/unsubscribe from the
// watch set on the open socket, bad and error frames counted and dropped, ticks and top of book.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { CoinbaseFake, waitFor } from '@mt/testing';
import type { WatchItem } from '@mt/common';
import { createCoinbaseSource, type CoinbaseSource } from '../../src/market/coinbase/index.js';
import type { BookSummary } from '../../src/market/types.js';
import { harness } from '../binance/harness.js';

const fakes: CoinbaseFake[] = [];
const sources: CoinbaseSource[] = [];
after(async () => {
  for (const s of sources) await s.stop();
  for (const f of fakes) await f.close();
});

const items = (...symbols: string[]): WatchItem[] => symbols.map((symbol) => ({ symbol, asset_type: 'crypto', exchange: 'coinbase' }));

async function setup(extraEnv: Record<string, string> = {}) {
  const fake = await new CoinbaseFake({ candleMs: 200 }).listen();
  fakes.push(fake);
  const h = harness({ COINBASE_WS_URL: fake.wsUrl, COINBASE_REST_URL: fake.restUrl, BACKFILL_HOURS: '0.2', COINBASE_REST_SETTLE_MS: '0', ...extraEnv });
  const books: BookSummary[] = [];
  h.ctx.out.book = (b) => books.push(b);
  const src = createCoinbaseSource(h.ctx);
  sources.push(src);
  return { fake, h, src, books };
}

test('watch-set changes subscribe and unsubscribe on the open socket, without reconnecting', async () => {
  const { fake, h, src } = await setup();
  src.setWatch([...items('BTC/USD'), { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' }]);
  await src.start();
  await waitFor(() => h.ticks.some((t) => t.symbol === 'BTC/USD'), 5000, 'BTC/USD ticks');
  src.setWatch(items('BTC/USD', 'ETH/USD'));
  await waitFor(() => h.ticks.some((t) => t.symbol === 'ETH/USD'), 5000, 'ETH/USD ticks after the change');
  src.setWatch(items('ETH/USD'));
  await waitFor(() => fake.openConnections()[0]?.subs.get('matches')?.has('BTC-USD') === false, 3000, 'BTC-USD unsubscribed');
  const cut = h.ticks.length;
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(!h.ticks.slice(cut).some((t) => t.symbol === 'BTC/USD'), 'no BTC/USD after the unsubscribe');
  assert.equal(fake.connections.length, 1, 'one connection throughout');
  const sent = fake.connections[0]!.inbound.map((m) => JSON.parse(m.raw) as { type: string; channels: { name: string; product_ids: string[] }[] });
  assert.deepEqual(
    sent.map((m) => [m.type, [...new Set(m.channels.flatMap((c) => c.product_ids))]]),
    [
      ['subscribe', ['BTC-USD']],
      ['subscribe', ['ETH-USD']],
      ['unsubscribe', ['BTC-USD']],
    ],
  );
  assert.deepEqual(sent[0]!.channels.map((c) => c.name).sort(), ['heartbeat', 'matches', 'ticker']);
  // the binance item is not this source's
  assert.ok(!h.ticks.some((t) => t.symbol === 'BTC/USDT'));
  // every tick carries the venue, unified symbols, and the ticker's fields
  const t = h.ticks.find((x) => x.symbol === 'ETH/USD' && x.bid !== undefined)!;
  assert.equal(t.exchange, 'coinbase');
  assert.ok(t.ask! > t.bid! && t.high24h! >= t.low24h! && Number.isFinite(t.changePct24h));
});

test('bad frames and error frames are counted and dropped; the stream and the candles go on', async () => {
  const { fake, h, src, books } = await setup();
  src.setWatch(items('BTC/USD'));
  await src.start();
  await waitFor(() => h.ticks.length > 3, 5000, 'ticks');
  const n = fake.sendMalformed('BTC-USD');
  fake.sendError('BTC-USDX is not a valid product');
  await waitFor(async () => (await h.metric('feeder_parse_errors_total', { source: 'coinbase_ws' })) === n, 3000, 'parse errors counted');
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'coinbase_ws', reason: 'invalid_json' }), 2);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'coinbase_ws', reason: 'unknown_event' }), 1);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'coinbase_ws', reason: 'invalid_field' }), 2);
  await waitFor(async () => (await h.metric('feeder_source_errors_total', { source: 'coinbase_ws', kind: 'request_error' })) === 1, 3000, 'error frame counted');
  // nothing from the bad frames reached the core; live data goes on
  assert.ok(!h.ticks.some((t) => !Number.isFinite(t.price)));
  const before = h.candles.length;
  await waitFor(() => h.candles.length > before + 2, 8000, 'candles keep coming');
  assert.equal(fake.connections.length, 1, 'no reconnect for bad frames');
  assert.ok(books.length > 0 && books.every((b) => b.bestBid < b.bestAsk && b.exchange === 'coinbase'), 'top of book from the ticker');
});

test('DEPTH_BOOKS: a maintained L2 book from level2_batch (snapshot + l2update) with depth and imbalance; a crossed copy resubscribes, never reaches the core', async () => {
  const { fake, h, src, books } = await setup({ DEPTH_BOOKS: 'coinbase:BTC/USD' });
  src.setWatch(items('BTC/USD', 'ETH/USD'));
  await src.start();
  await waitFor(() => books.filter((b) => b.symbol === 'BTC/USD').length > 5, 5000, 'BTC/USD books');
  const btc = books.filter((b) => b.symbol === 'BTC/USD');
  assert.ok(btc.every((b) => b.bidDepth1pct! > 0 && b.askDepth1pct! > 0 && Math.abs(b.imbalance!) <= 1 && b.bestBid < b.bestAsk), 'depth summaries');
  assert.ok(books.filter((b) => b.symbol === 'ETH/USD').every((b) => b.bidDepth1pct === undefined), 'ETH/USD: top of book only');
  const sub = fake.openConnections()[0]!.subs;
  assert.deepEqual([sub.get('level2_batch')?.has('BTC-USD'), sub.get('level2_batch')?.has('ETH-USD')], [true, false]);
  const cut = books.length;
  fake.corruptBook('BTC-USD');
  await waitFor(async () => (await h.metric('market_book_resyncs_total', { exchange: 'coinbase', symbol: 'BTC/USD', reason: 'crossed' })) === 1, 3000, 'resync counted');
  await waitFor(() => books.slice(cut).filter((b) => b.symbol === 'BTC/USD').length > 3, 5000, 'books after the resync');
  assert.ok(books.every((b) => b.bestBid < b.bestAsk), 'no crossed book handed on');
  const inbound = fake.connections[0]!.inbound.map((m) => m.raw);
  assert.ok(inbound.some((r) => r.includes('"unsubscribe"') && r.includes('level2_batch')), 'level2 dropped');
  assert.equal(inbound.filter((r) => r.includes('"subscribe"') && r.includes('level2_batch')).length, 2, 'and taken again for a new snapshot');
  assert.equal(fake.connections.length, 1);
});
