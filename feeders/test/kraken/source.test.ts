// The Kraken source on the fake, in-process: live subscribe/unsubscribe from the watch set over the open
// socket (no reconnect), bad frames counted and dropped without losing the stream, a refused pair counted,
// a DEPTH_BOOKS symbol added live gets its book, ticks and top of book for the others.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { KrakenFake, waitFor } from '@mt/testing';
import { createKrakenSource } from '../../src/market/kraken/index.js';
import type { MarketComponent } from '../../src/market/context.js';
import { harness, kraken } from './harness.js';

const fakes: KrakenFake[] = [];
const sources: MarketComponent[] = [];
after(async () => {
  for (const s of sources) await s.stop();
  for (const f of fakes) await f.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const subs = (fake: KrakenFake, channel: string) => [...(fake.openConnections()[0]?.subs.get(channel) ?? [])].sort();

test('watch-set changes subscribe and unsubscribe live on the open socket; bad frames are counted and dropped', async () => {
  const fake = await new KrakenFake({ candleMs: 200, symbols: ['BTC/USD', 'ETH/USD', 'SOL/USD'] }).listen();
  fakes.push(fake);
  const h = harness({ KRAKEN_WS_URL: fake.wsUrl, KRAKEN_REST_URL: fake.restUrl, KRAKEN_REST_INTERVAL_MS: '50', BACKFILL_HOURS: '0.1', DEPTH_BOOKS: 'kraken:SOL/USD', KRAKEN_BOOK_DEPTH: '10' });
  const src = createKrakenSource(h.ctx);
  sources.push(src);
  src.setWatch(kraken('BTC/USD'));
  await src.start();
  await waitFor(() => h.ticks.some((t) => t.symbol === 'BTC/USD'), 5000, 'BTC ticks');
  assert.deepEqual(subs(fake, 'ohlc'), ['BTC/USD']);
  assert.deepEqual(subs(fake, 'book'), [], 'no book for a symbol outside DEPTH_BOOKS');

  src.setWatch(kraken('BTC/USD', 'ETH/USD', 'SOL/USD'));
  await waitFor(() => subs(fake, 'ticker').length === 3 && subs(fake, 'book').length === 1, 5000, 'added live');
  assert.deepEqual(subs(fake, 'book'), ['SOL/USD']);
  assert.equal(fake.openConnections()[0]!.bookDepth.get('SOL/USD'), 10);
  await waitFor(() => h.books.some((b) => b.symbol === 'SOL/USD' && b.bidDepth1pct !== undefined) && h.ticks.some((t) => t.symbol === 'ETH/USD'), 5000, 'SOL book, ETH ticks');

  src.setWatch(kraken('ETH/USD', 'SOL/USD'));
  await waitFor(() => subs(fake, 'ohlc').join() === 'ETH/USD,SOL/USD' && subs(fake, 'ticker').join() === 'ETH/USD,SOL/USD', 5000, 'BTC removed live');
  assert.equal(fake.connections.length, 1, 'all of it over the one socket');
  const btcTicks = h.ticks.filter((t) => t.symbol === 'BTC/USD').length;

  // every message we sent is one of Kraken's, paced under the message-rate limit
  const control = fake.connections[0]!.control;
  assert.ok(control.every((m) => m.method === 'subscribe' || m.method === 'unsubscribe'));
  assert.ok(control.some((m) => m.method === 'unsubscribe' && m.params?.channel === 'ohlc' && JSON.stringify(m.params.symbol) === '["BTC/USD"]'));
  assert.ok(control.every((m) => m.params?.channel !== 'ohlc' || m.params.interval === 1));
  assert.deepEqual(fake.connections[0]!.errorsSent, [], 'Kraken accepted every request');

  const sent = fake.sendMalformed();
  await waitFor(async () => (await h.metric('feeder_parse_errors_total', { source: 'kraken_ws' })) >= sent, 5000, 'bad frames counted');
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'kraken_ws', reason: 'invalid_json' }), 2);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'kraken_ws', reason: 'unknown_event' }), 1);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'kraken_ws', reason: 'invalid_field' }), 2);
  const ticksBefore = h.ticks.length;
  await waitFor(() => h.ticks.length > ticksBefore + 3, 5000, 'the stream goes on after bad frames');
  assert.equal(fake.connections.length, 1, 'no reconnect for bad frames');
  await sleep(300);
  assert.equal(h.ticks.filter((t) => t.symbol === 'BTC/USD').length, btcTicks, 'nothing more for the removed symbol');
  assert.ok(h.ticks.every((t) => Number.isFinite(t.price) && t.exchange === 'kraken'));

  // a corrupted checksum: that book alone is resubscribed on the same socket and streams again
  const booksBefore = h.books.filter((b) => b.symbol === 'SOL/USD').length;
  fake.corruptChecksum('SOL/USD');
  await waitFor(async () => (await h.metric('market_book_resyncs_total', { exchange: 'kraken', symbol: 'SOL/USD', reason: 'checksum' })) === 1, 5000, 'resync counted');
  await waitFor(() => control.filter((m) => m.params?.channel === 'book').length === 3, 5000, 'book unsubscribed and subscribed again');
  assert.deepEqual(
    control.filter((m) => m.params?.channel === 'book').map((m) => [m.method, JSON.stringify(m.params!.symbol), m.params!.depth]),
    [
      ['subscribe', '["SOL/USD"]', 10],
      ['unsubscribe', '["SOL/USD"]', 10],
      ['subscribe', '["SOL/USD"]', 10],
    ],
  );
  await waitFor(() => h.books.filter((b) => b.symbol === 'SOL/USD').length > booksBefore + 3, 5000, 'the book streams again');
  assert.equal(fake.connections.length, 1, 'no reconnect for a resync');
  assert.deepEqual(fake.connections[0]!.errorsSent, []);
});

test('a pair Kraken refuses is counted as a request error; the others stream on', async () => {
  const fake = await new KrakenFake({ candleMs: 200, symbols: ['BTC/USD'] }).listen();
  fakes.push(fake);
  const h = harness({ KRAKEN_WS_URL: fake.wsUrl, KRAKEN_REST_URL: fake.restUrl, KRAKEN_REST_INTERVAL_MS: '50', BACKFILL_HOURS: '0.1' });
  const src = createKrakenSource(h.ctx);
  sources.push(src);
  src.setWatch(kraken('BTC/USD', 'NOPE/USD'));
  await src.start();
  await waitFor(async () => (await h.metric('feeder_source_errors_total', { source: 'kraken_ws', kind: 'request_error' })) >= 2, 5000, 'refusals counted');
  assert.ok(fake.connections[0]!.errorsSent.includes('Currency pair not supported NOPE/USD'));
  await waitFor(() => h.ticks.some((t) => t.symbol === 'BTC/USD'), 5000, 'BTC streams on');
});
