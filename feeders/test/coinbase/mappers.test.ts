// Pure mappers on the recorded Coinbase Exchange frames and REST bodies (testing/fixtures/coinbase).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '@mt/common';
import { fixtureJson, fixtureText } from '@mt/testing';
import { parseCandleRow, parseFrame, tickerBook, toTick, tradeTick } from '../../src/market/coinbase/mappers.js';

const frame = (name: string) => fixtureText(`coinbase/${name}`);

test('match and last_match: trade id, exchange time to the ms, price and size', () => {
  const m = parseFrame(frame('ws_feed_match_BTC-USD_2022-01-07.json'));
  assert.deepEqual(m, { kind: 'match', product: 'BTC-USD', tradeId: 260823760, ts: Date.UTC(2022, 0, 7, 19, 54, 43, 295), price: 41801.67, size: 0.0234701, last: false });
  assert.deepEqual(tradeTick('BTC/USD', m as Extract<typeof m, { kind: 'match' }>, 7), {
    exchange: 'coinbase',
    symbol: 'BTC/USD',
    assetType: 'crypto',
    receivedAt: 7,
    ts: Date.UTC(2022, 0, 7, 19, 54, 43, 295),
    price: 41801.67,
  });
  const l = parseFrame(frame('ws_feed_last_match_BAND-GBP_2021-04-17.json'));
  assert.deepEqual(l, { kind: 'match', product: 'BAND-GBP', tradeId: 881613, ts: Date.UTC(2021, 3, 17, 16, 43, 30, 244), price: 14.7775, size: 0.04, last: true });
});

test('ticker → tick (24 h change from open_24h, volume in the quote currency) and top of book', () => {
  const t = parseFrame(frame('ws_feed_ticker_BAND-GBP_2021-04-17.json'));
  assert.equal(t.kind, 'ticker');
  if (t.kind !== 'ticker') return;
  const tick = toTick('BAND/GBP', t, 5);
  assert.equal(tick.exchange, 'coinbase');
  assert.equal(tick.ts, Date.UTC(2021, 3, 17, 16, 43, 30, 244));
  assert.equal(tick.price, 14.7775);
  assert.equal(tick.bid, 14.755);
  assert.equal(tick.ask, 14.806);
  assert.equal(tick.high24h, 16.55);
  assert.equal(tick.low24h, 14.3691);
  assert.ok(Math.abs(tick.changePct24h! - ((14.7775 - 14.6647) / 14.6647) * 100) < 1e-12);
  assert.ok(Math.abs(tick.volume24h! - 94381.28 * 14.7775) < 1e-6);
  assert.deepEqual(tickerBook('BAND/GBP', t, 5), { exchange: 'coinbase', symbol: 'BAND/GBP', assetType: 'crypto', ts: tick.ts, receivedAt: 5, bestBid: 14.755, bestAsk: 14.806 });
});

test('heartbeat, subscriptions ack (cumulative), error, level2 snapshot and l2update', () => {
  assert.deepEqual(parseFrame(frame('docs_ws_feed_heartbeat.json')), { kind: 'heartbeat', product: 'BTC-USD', ts: Date.UTC(2014, 10, 7, 8, 19, 28, 464), lastTradeId: 20 });
  const s = parseFrame(frame('ws_feed_subscriptions_level2_ticker_matches_2021-04-17.json'));
  assert.equal(s.kind, 'subscriptions');
  if (s.kind === 'subscriptions') {
    assert.deepEqual(
      s.channels.map((c) => [c.name, c.products.length]),
      [
        ['ticker', 10],
        ['matches', 10],
        ['level2', 10],
      ],
    );
  }
  assert.deepEqual(parseFrame(frame('ws_feed_error_failed_to_subscribe_delisted.json')), { kind: 'error', message: 'Failed to subscribe', reason: 'LOOM-USDC is delisted' });
  const snap = parseFrame(frame('ws_feed_snapshot_level2_BAND-GBP_2021-04-17.json'));
  assert.equal(snap.kind, 'snapshot');
  if (snap.kind === 'snapshot') {
    assert.equal(snap.asks.length, 166);
    assert.equal(snap.bids.length, 152);
    assert.deepEqual(snap.asks[0], [14.8024, 12.77]);
  }
  assert.deepEqual(parseFrame(frame('ws_feed_l2update_DASH-BTC_remove_level_2021-04-17.json')), {
    kind: 'l2update',
    product: 'DASH-BTC',
    ts: Date.UTC(2021, 3, 17, 16, 43, 54, 922),
    changes: [['buy', 0.00617231, 0]],
  });
});

test('REST candle row [time s, low, high, open, close, volume] → open time in ms and named fields', () => {
  const rows = fixtureJson<unknown[]>('coinbase/rest_candles_BTC-USDT_3600_2024-03-13.json');
  assert.deepEqual(parseCandleRow(rows[0]), { openTime: 1710327600_000, low: 73241.5, high: 73402.47, open: 73243.33, close: 73370.65, volume: 1.56794406 });
  assert.throws(() => parseCandleRow([1710327600.5, 1, 2, 1, 2, 3]), ParseError);
  assert.throws(() => parseCandleRow([1710327600, 1, 2, 1]), ParseError);
});

test('bad frames throw ParseError with a countable reason, never anything else', () => {
  const cases: [string, string][] = [
    ['{"type":"match","trade_id":1', 'invalid_json'],
    ['[1,2]', 'unknown_event'],
    [JSON.stringify({ ...fixtureJson<object>('coinbase/ws_feed_match_BTC-USD_2022-01-07.json'), price: 'x' }), 'invalid_field'],
    [JSON.stringify({ ...fixtureJson<object>('coinbase/ws_feed_match_BTC-USD_2022-01-07.json'), time: 'yesterday' }), 'invalid_field'],
    [JSON.stringify({ ...fixtureJson<object>('coinbase/ws_feed_ticker_BAND-GBP_2021-04-17.json'), product_id: undefined }), 'invalid_field'],
    [JSON.stringify({ type: 'l2update', product_id: 'X-Y', changes: [['up', '1', '2']], time: '2021-04-17T16:43:54.922281Z' }), 'invalid_field'],
    [JSON.stringify({ type: 'someNewType' }), 'unknown_event'],
  ];
  for (const [text, reason] of cases) {
    assert.throws(
      () => parseFrame(text),
      (e: unknown) => e instanceof ParseError && e.reason === reason,
      text,
    );
  }
  // documented types we do not use are not errors
  assert.deepEqual(parseFrame('{"type":"status","products":[],"currencies":[]}'), { kind: 'other', type: 'status' });
});
