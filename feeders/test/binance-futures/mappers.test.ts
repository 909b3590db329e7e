// The futures mappers on real recorded frames and REST bodies (testing/fixtures/SOURCES.md, "Binance USDⓈ-M futures").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '@mt/common';
import { fixtureJson, fixtureText } from '@mt/testing';
import {
  futuresBook,
  futuresCandle,
  futuresFunding,
  futuresLiquidation,
  futuresOpenInterest,
  futuresTick,
  parseFuturesFrame,
  parseOpenInterest,
  type FuturesEvent,
} from '../../src/market/binance-futures/mappers.js';
import { parseKlineRow } from '../../src/market/binance/mappers.js';

const frame = (name: string) => parseFuturesFrame(fixtureText(`binance_futures/${name}`).trim());
function as<K extends FuturesEvent['kind']>(ev: FuturesEvent, kind: K): Extract<FuturesEvent, { kind: K }> {
  assert.equal(ev.kind, kind);
  return ev as Extract<FuturesEvent, { kind: K }>;
}

test('closed 1m kline (recorded x:true frame, 791 ms after the minute) → the candle as Binance closed it', () => {
  const ev = as(frame('ws_combined_kline_1m_closed_CTKUSDT.json'), 'kline');
  assert.equal(ev.closed, true);
  assert.equal(ev.interval, '1m');
  const c = futuresCandle('CTK/USDT:USDT', ev.k, 5);
  assert.deepEqual(c, {
    exchange: 'binance-futures',
    symbol: 'CTK/USDT:USDT',
    assetType: 'crypto',
    interval: '1m',
    openTime: 1626992700000,
    closeTime: 1626992759999,
    open: 1.01,
    high: 1.012,
    low: 1.01,
    close: 1.012,
    volume: 11074,
    quoteVolume: 11193.49,
    trades: 86,
    closed: true,
    receivedAt: 5,
  });
  assert.equal(as(frame('ws_combined_kline_1m_open_CTKUSDT.json'), 'kline').closed, false);
  assert.equal(as(frame('ws_combined_kline_1m_closed_BTCUSDT_gocryptotrader.json'), 'kline').k.close, 86000);
});

test('aggTrade (2021 and today\'s frame with nq/st) → a trade tick at the trade time', () => {
  const a = as(frame('ws_combined_aggTrade_CTKUSDT.json'), 'aggTrade');
  assert.deepEqual(futuresTick('CTK/USDT:USDT', a, 9), { exchange: 'binance-futures', symbol: 'CTK/USDT:USDT', assetType: 'crypto', receivedAt: 9, ts: 1626992741421, price: 1.011 });
  const b = as(frame('ws_combined_aggTrade_BTCUSDT_gocryptotrader.json'), 'aggTrade');
  assert.equal(b.price, 86000);
  assert.equal(b.aggId, 3476465318);
});

test('futures bookTicker (has e, E, T) → top of book at the event time and a tick priced at the last trade', () => {
  const ev = as(frame('ws_combined_bookTicker_SUSHIUSDT.json'), 'book');
  assert.deepEqual(futuresBook('SUSHI/USDT:USDT', ev, 3), {
    exchange: 'binance-futures',
    symbol: 'SUSHI/USDT:USDT',
    assetType: 'crypto',
    ts: 1626992741017,
    receivedAt: 3,
    bestBid: 7.611,
    bestAsk: 7.612,
  });
  assert.equal(futuresTick('SUSHI/USDT:USDT', ev, 3, 7.6)!.price, 7.6);
  assert.equal(futuresTick('SUSHI/USDT:USDT', ev, 3)!.price, (7.611 + 7.612) / 2);
});

test('markPriceUpdate → funding: mark, index, rate and next funding time; the 2019 frame without an index too', () => {
  const now = as(frame('ws_combined_markPrice_1s_BTCUSDT_gocryptotrader.json'), 'markPrice');
  assert.deepEqual(futuresFunding('BTC/USDT:USDT', now, 1, 8), {
    exchange: 'binance-futures',
    symbol: 'BTC/USDT:USDT',
    assetType: 'crypto',
    ts: 1791283239000,
    receivedAt: 1,
    markPrice: 86026.4,
    fundingRate: -0.00003629,
    nextFundingTime: 1791302400000,
    fundingIntervalHours: 8,
    indexPrice: 86059.26913043,
  });
  assert.equal(futuresFunding('LPT/USDT:USDT', now, 1, 4).fundingIntervalHours, 4, 'the interval fundingInfo gives');
  const f2020 = futuresFunding('BTC/USDT:USDT', as(frame('ws_combined_markPrice_1s_BTCUSDT_2020-08-16_tardis_reencoded.json'), 'markPrice'), 1, 8);
  assert.deepEqual([f2020.markPrice, f2020.indexPrice, f2020.fundingRate, f2020.nextFundingTime], [11857.56, 11851.86949091, 0.0001564, 1597564800000]);
  const f2019 = futuresFunding('BTC/USDT:USDT', as(frame('ws_combined_markPrice_3s_BTCUSDT_2019-10-01_no_index_tardis_reencoded.json'), 'markPrice'), 1, 8);
  assert.equal(f2019.indexPrice, undefined);
  assert.ok(!('indexPrice' in f2019), 'no index field at all rather than an undefined one');
  assert.equal(f2019.fundingRate, 0.0001);
});

test('forceOrder → liquidation: the order side, the average fill price and the filled quantity, value = price × quantity', () => {
  const rec = futuresLiquidation('BTC/USDT:USDT', as(frame('ws_combined_forceOrder_BTCUSDT_gocryptotrader.json'), 'liquidation'), 2);
  assert.deepEqual(rec, {
    exchange: 'binance-futures',
    symbol: 'BTC/USDT:USDT',
    assetType: 'crypto',
    ts: 1791285205175,
    receivedAt: 2,
    side: 'sell',
    price: 86012.3,
    quantity: 0.042,
    value: 86012.3 * 0.042,
  });
  // docs example: the raw (uncombined) form
  const docs = futuresLiquidation('BTC/USDT:USDT', as(frame('ws_raw_forceOrder_docs_example.json'), 'liquidation'), 2);
  assert.deepEqual([docs.side, docs.price, docs.quantity, docs.ts], ['sell', 9910, 0.014, 1568014460893]);
});

test('futures 24hrTicker (no best bid/ask) → a 24 h stats tick', () => {
  const t = futuresTick('BTC/USDT:USDT', frame('ws_combined_24hrTicker_BTCUSDT_gocryptotrader.json'), 4)!;
  assert.deepEqual(t, {
    exchange: 'binance-futures',
    symbol: 'BTC/USDT:USDT',
    assetType: 'crypto',
    receivedAt: 4,
    ts: 1791283239234,
    price: 86026.4,
    high24h: 86683.9,
    low24h: 84910,
    volume24h: 10238568766.13,
    changePct24h: 0.012,
  });
});

test('REST: /fapi/v1/openInterest bodies (recorder-sorted and wire order) and /fapi/v1/klines rows', () => {
  for (const f of ['rest_fapi_v1_openInterest_BTCUSDT_gocryptotrader.json', 'rest_fapi_v1_openInterest_BTCUSDT_quoted_live.json']) {
    const oi = parseOpenInterest(fixtureJson(`binance_futures/${f}`));
    assert.equal(oi.symbol, 'BTCUSDT');
    assert.ok(oi.openInterest > 80_000 && Number.isFinite(oi.time), f);
  }
  const oi = parseOpenInterest(fixtureJson('binance_futures/rest_fapi_v1_openInterest_BTCUSDT_gocryptotrader.json'));
  assert.deepEqual(futuresOpenInterest('BTC/USDT:USDT', oi, 7, 73835.15293103), {
    exchange: 'binance-futures',
    symbol: 'BTC/USDT:USDT',
    assetType: 'crypto',
    ts: 1773684938390,
    receivedAt: 7,
    openInterest: 88750.945,
    openInterestValue: 88750.945 * 73835.15293103,
  });
  assert.ok(!('openInterestValue' in futuresOpenInterest('BTC/USDT:USDT', oi, 7)), 'no value before a mark price is known');
  const rows = fixtureJson<unknown[]>('binance_futures/rest_fapi_v1_klines_BTCUSDT_5m_gocryptotrader.json').map(parseKlineRow);
  assert.deepEqual(rows[0], { openTime: 1772889000000, closeTime: 1772889299999, open: 67974.9, high: 68013.6, low: 67962.8, close: 68000, volume: 85.724, quoteVolume: 5828589.3761, trades: 3599 });
  assert.throws(() => parseOpenInterest({ code: -1121, msg: 'Invalid symbol.' }), ParseError);
});

test('bad frames are ParseErrors with a reason, never another exception', () => {
  const reasons = (text: string) => {
    try {
      parseFuturesFrame(text);
      return 'parsed';
    } catch (err) {
      assert.ok(err instanceof ParseError, String(err));
      return err.reason;
    }
  };
  assert.equal(reasons('{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate"'), 'invalid_json');
  assert.equal(reasons(JSON.stringify({ stream: 'x', data: { e: 'markPriceUpdate', E: 1, s: 'BTCUSDT', p: '1', r: 'n/a', T: 2 } })), 'invalid_field');
  assert.equal(reasons(JSON.stringify({ stream: 'x', data: { e: 'forceOrder', E: 1 } })), 'invalid_field');
  assert.equal(reasons(JSON.stringify({ stream: 'x', data: { e: 'forceOrder', E: 1, o: { s: 'BTCUSDT', S: 'HOLD', ap: '1', z: '1', T: 1 } } })), 'invalid_field');
  // spot's bookTicker has no `e`: on fstream that is not a known frame
  assert.equal(reasons(fixtureText('binance/ws_combined_bookTicker.json').trim()), 'unknown_event');
  // an event type we do not know (the recorded depth diff, renamed): counted as unknown, not mistaken for another event
  assert.equal(reasons(fixtureText('binance_futures/ws_combined_depthUpdate_100ms_SUSHIUSDT.json').trim().replace('"depthUpdate"', '"someNewEvent"')), 'unknown_event');
  // the depth diff itself is mapped, `pu` included (binance-futures/depth.ts)
  assert.deepEqual(parseFuturesFrame(fixtureText('binance_futures/ws_combined_depthUpdate_100ms_SUSHIUSDT.json').trim()), {
    kind: 'depth',
    symbol: 'SUSHIUSDT',
    ts: 1626992741037,
    firstUpdateId: 600859599090,
    lastUpdateId: 600859600917,
    prevLastUpdateId: 600859598061,
    bids: [
      { price: 7.504, qty: 813 },
      { price: 7.609, qty: 0 },
      { price: 7.611, qty: 2 },
    ],
    asks: [
      { price: 7.615, qty: 1563 },
      { price: 7.622, qty: 3284 },
    ],
  });
  assert.equal(reasons(JSON.stringify({ stream: 'x', data: { e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: 1, u: 2, b: [], a: [] } })), 'invalid_field', 'a diff without pu');
  assert.equal(reasons('[1,2]'), 'unknown_event');
  assert.deepEqual(parseFuturesFrame('{"result":null,"id":3}'), { kind: 'result', id: 3, result: null });
});
