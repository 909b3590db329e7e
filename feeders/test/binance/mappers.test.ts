// Pure mappers on the recorded Binance frames (testing/fixtures/binance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '@mt/common';
import { fixtureJson, fixtureText } from '@mt/testing';
import { parseFrame, parseKlineRow, toCandle, toTick } from '../../src/market/binance/mappers.js';

const frame = (name: string) => fixtureText(`binance/${name}`);

test('trade, aggTrade: price and exchange time; trade id kept for continuity', () => {
  const t = parseFrame(frame('ws_combined_trade.json'));
  assert.deepEqual(t, { kind: 'trade', symbol: 'BTCUSDT', ts: 1592591955765, tradeId: 343719861, price: 9302 });
  assert.deepEqual(toTick('BTC/USDT', t, 1000), { exchange: 'binance', symbol: 'BTC/USDT', assetType: 'crypto', receivedAt: 1000, ts: 1592591955765, price: 9302 });
  const a = parseFrame(frame('ws_combined_aggTrade.json'));
  assert.deepEqual(a, { kind: 'aggTrade', symbol: 'BTCUSDT', ts: 1592584651516, firstTradeId: 343675554, lastTradeId: 343675554, price: 9319 });
  // The current raw format (no b/a) parses the same way.
  assert.equal(parseFrame(frame('ws_raw_trade_payload_docs_current_format.json')).kind, 'trade');
});

test('bookTicker (no event type): bid/ask, price = last trade, else mid, ts = receive time', () => {
  const b = parseFrame(frame('ws_combined_bookTicker.json'));
  assert.deepEqual(b, { kind: 'book', symbol: 'NKNUSDT', updateId: 499869768, bid: 0.3521, ask: 0.3526 });
  assert.equal(toTick('NKN/USDT', b, 5, 0.35)!.price, 0.35);
  const mid = toTick('NKN/USDT', b, 5)!;
  assert.ok(Math.abs(mid.price - 0.35235) < 1e-12);
  assert.equal(mid.ts, 5);
  assert.equal(mid.bid, 0.3521);
});

test('24hrTicker and 24hrMiniTicker → 24 h stats', () => {
  const t = toTick('BTC/USDT', parseFrame(frame('ws_combined_24hrTicker.json')), 1)!;
  assert.deepEqual(t, {
    exchange: 'binance',
    symbol: 'BTC/USDT',
    assetType: 'crypto',
    receivedAt: 1,
    ts: 1592593727005,
    price: 9318.48,
    high24h: 9438.3,
    low24h: 9215.79,
    volume24h: 455442476.1853462,
    changePct24h: -0.693,
    bid: 9318.18,
    ask: 9318.47,
  });
  const m = toTick('BTC/USDT', parseFrame(frame('ws_combined_24hrMiniTicker.json')), 1)!;
  assert.equal(m.price, 10456.56);
  assert.ok(Math.abs(m.changePct24h! - ((10456.56 - 10884.9) / 10884.9) * 100) < 1e-9);
  assert.equal(m.bid, undefined);
});

test('kline → Candle with open time, closed flag; REST kline row → the same fields', () => {
  const k = parseFrame(frame('ws_combined_kline_1m.json'));
  assert.equal(k.kind, 'kline');
  if (k.kind !== 'kline') return;
  assert.equal(k.closed, false);
  const c = toCandle('BTC/USDT', k.k, k.closed, 7);
  assert.deepEqual(c, {
    exchange: 'binance',
    symbol: 'BTC/USDT',
    assetType: 'crypto',
    interval: '1m',
    openTime: 1601630220000,
    closeTime: 1601630279999,
    open: 10437.32,
    high: 10441.8,
    low: 10437.32,
    close: 10441.8,
    volume: 20.639574,
    quoteVolume: 215452.69236872,
    trades: 183,
    closed: false,
    receivedAt: 7,
  });
  const rows = fixtureJson<unknown[]>('binance/rest_klines_BTCUSDT_1m_startTime_endTime.json');
  assert.deepEqual(parseKlineRow(rows[0]), {
    openTime: 1588740120000,
    closeTime: 1588740179999,
    open: 9033.34,
    high: 9039.99,
    low: 9032.75,
    close: 9033.15,
    volume: 31.192968,
    quoteVolume: 281893.08800082,
    trades: 282,
  });
});

test('serverShutdown, control answers and error frames', () => {
  assert.deepEqual(parseFrame(frame('ws_combined_serverShutdown_docs.json')), { kind: 'shutdown', ts: 1770123456789 });
  assert.deepEqual(parseFrame(frame('ws_control_subscribe_response.json')), { kind: 'result', id: 1, result: null });
  assert.deepEqual(parseFrame(frame('ws_control_list_subscriptions_response.json')), { kind: 'result', id: 3, result: ['btcusdt@aggTrade'] });
  assert.deepEqual(parseFrame(frame('ws_error_invalid_stream.json')), { kind: 'error', id: 2, code: 2, msg: 'Invalid request: invalid stream' });
});

test('malformed frames and unknown events throw ParseError with a reason, nothing else', () => {
  const reason = (text: string) => {
    try {
      parseFrame(text);
    } catch (err) {
      assert.ok(err instanceof ParseError, `ParseError for ${text}`);
      return err.reason;
    }
    assert.fail(`no error for ${text}`);
  };
  assert.equal(reason('{"stream":"btcusdt@trade","data":{"e":"trade","E":15'), 'invalid_json');
  // an event type the client does not know: a recorded depthUpdate renamed
  assert.equal(reason(frame('ws_combined_depthUpdate_100ms.json').replace('"depthUpdate"', '"someNewEvent"')), 'unknown_event');
  assert.equal(reason(fixtureText('binance/ws_raw_miniTicker_arr.json')), 'unknown_event');
  assert.equal(reason('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"abc","T":1}}'), 'invalid_field');
  assert.equal(reason('{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT"}}'), 'invalid_field');
  assert.equal(reason('null'), 'unknown_event');
  assert.throws(() => parseKlineRow({ not: 'a row' }), ParseError);
});
