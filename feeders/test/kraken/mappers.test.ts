// Pure Kraken mappers and the book checksum on the recorded frames and docs examples (testing/fixtures/kraken).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '@mt/common';
import { fixtureJson, fixtureText } from '@mt/testing';
import { OrderBook } from '../../src/market/book/index.js';
import { flatCandle, parseFrame, parseOhlcBody, parseTime, toCandle, toTick, type KrakenEvent } from '../../src/market/kraken/mappers.js';
import { checksumDigits, checksumInput, krakenChecksum, plainDecimal, toChecksumLevels } from '../../src/market/kraken/checksum.js';

const frame = (name: string) => fixtureText(`kraken/${name}`);
function book(ev: KrakenEvent) {
  assert.equal(ev.kind, 'book');
  return ev as Extract<KrakenEvent, { kind: 'book' }>;
}

test('book checksum: the docs worked example (BTC/USD, trailing zeros on the wire) gives 3310070434; JSON.parse digits would not', () => {
  const text = frame('ws_v2_book_snapshot_BTC-USD_checksum_docs_example.json');
  const ev = book(parseFrame(text));
  assert.equal(ev.snapshot, true);
  const [row] = ev.rows;
  assert.equal(row!.checksum, 3310070434);
  const b = new OrderBook({ depth: 10, checksum: krakenChecksum() });
  b.apply(toChecksumLevels(row!.bids), toChecksumLevels(row!.asks));
  assert.equal(b.bestBid!.price, 45283.5);
  assert.equal(b.bestAsk!.price, 45285.2);
  assert.equal(b.checksum(), 3310070434);
  // the documented string, asks then bids
  assert.ok(checksumInput(b.top('bid'), b.top('ask')).startsWith('452852100000452864154571953'));
  // What a plain JSON.parse leaves (0.1, 45281): a different CRC, i.e. the reason for the raw-digit parse.
  const lossy = (JSON.parse(text) as { data: { bids: { price: number; qty: number }[]; asks: { price: number; qty: number }[] }[] }).data[0]!;
  const naive = new OrderBook({ checksum: krakenChecksum() });
  naive.apply(lossy.bids, lossy.asks);
  assert.notEqual(naive.checksum(), 3310070434);
});

test('book checksum chain: MATIC/USD docs snapshot 2439117997 then its update 2114181697, with the pair precision (4, 8) restoring the zeros the page dropped', () => {
  const p = { price: 4, qty: 8 };
  const b = new OrderBook({ depth: 10, checksum: krakenChecksum() });
  const snap = book(parseFrame(frame('ws_v2_book_snapshot_MATIC-USD_docs_example.json'))).rows[0]!;
  b.apply(toChecksumLevels(snap.bids, p), toChecksumLevels(snap.asks, p));
  assert.equal(b.verify(snap.checksum), true, 'snapshot');
  const upd = book(parseFrame(frame('ws_v2_book_update_MATIC-USD_docs_example.json')));
  assert.equal(upd.snapshot, false);
  const u = upd.rows[0]!;
  b.apply(toChecksumLevels(u.bids, p), toChecksumLevels(u.asks, p));
  assert.equal(b.top('bid')[9]!.qty, 1098.3947558);
  assert.equal(b.verify(u.checksum), true, 'update');
  assert.equal(u.ts, Date.parse('2023-10-06T17:35:55.440Z'));
  // without the precision the page's digits do not verify: the precision matters
  const plain = new OrderBook({ depth: 10, checksum: krakenChecksum() });
  const again = book(parseFrame(frame('ws_v2_book_snapshot_MATIC-USD_docs_example.json'))).rows[0]!;
  plain.apply(toChecksumLevels(again.bids), toChecksumLevels(again.asks));
  assert.equal(plain.verify(snap.checksum), false);
});

test('the recorded live update (BTC/USD 2024-05-19): exact wire digits kept for the checksum, numbers parsed', () => {
  const u = book(parseFrame(frame('ws_v2_book_update_BTC-USD_checksum_2024-05-19.json'))).rows[0]!;
  assert.deepEqual(u.asks, [{ price: 66732.5, qty: 5.48256063, text: '66732.5 5.48256063' }]);
  assert.deepEqual(u.bids, []);
  assert.equal(u.checksum, 2855135483);
  assert.equal(u.ts, Date.parse('2024-05-19T16:32:26.777Z'));
  assert.equal(checksumInput([], toChecksumLevels(u.asks)), '667325548256063');
});

test('checksum digits: exponent literals expanded exactly, precision pads, leading zeros go', () => {
  assert.equal(plainDecimal('1.5e-7'), '0.00000015');
  assert.equal(plainDecimal('2E3'), '2000');
  assert.equal(plainDecimal('12.5e1'), '125');
  assert.equal(checksumDigits('0.00100000'), '100000');
  assert.equal(checksumDigits('45281.0'), '452810');
  assert.equal(checksumDigits('0.566', 4), '5660');
  assert.equal(checksumDigits('1e-8', 8), '1');
});

test('ohlc: the recorded BTC/USDT snapshot (9-digit fractions, a minute without trades absent) and the docs update', () => {
  const ev = parseFrame(frame('ws_v2_ohlc_snapshot_BTC-USDT_interval1_2026-09-10.json'));
  assert.equal(ev.kind, 'ohlc');
  if (ev.kind !== 'ohlc') return;
  assert.equal(ev.snapshot, true);
  assert.deepEqual(
    ev.rows.map((r) => r.k.openTime),
    [Date.parse('2026-09-10T17:40:00Z'), Date.parse('2026-09-10T17:41:00Z'), Date.parse('2026-09-10T17:43:00Z')],
  );
  const r = ev.rows[2]!;
  assert.equal(r.symbol, 'BTC/USDT');
  assert.equal(r.interval, 1);
  assert.deepEqual(
    { ...r.k, quoteVolume: Math.round(r.k.quoteVolume * 1e6) / 1e6 },
    { openTime: Date.parse('2026-09-10T17:43:00Z'), closeTime: Date.parse('2026-09-10T17:43:59.999Z'), open: 77351.6, high: 77351.6, low: 77327.3, close: 77340.1, volume: 1.29749671, quoteVolume: Math.round(77343.9 * 1.29749671 * 1e6) / 1e6, trades: 17 },
  );
  const c = toCandle('BTC/USDT', r.k, 5);
  assert.equal(c.exchange, 'kraken');
  assert.equal(c.interval, '1m');
  assert.equal(c.closed, true);
  const u = parseFrame(frame('ws_v2_ohlc_update_MATIC-USD_interval5_docs_example.json'));
  assert.ok(u.kind === 'ohlc' && !u.snapshot && u.rows[0]!.interval === 5 && u.rows[0]!.k.closeTime === Date.parse('2023-10-04T16:30:00Z') - 1);
  assert.equal(parseFrame(frame('ws_v2_ohlc_snapshot_ALGO-USD_interval5_docs_example.json')).kind, 'ohlc');
});

test('ticker: recorded BTC/USD snapshot and docs update → a tick with bid/ask, quote volume, 24 h change', () => {
  const ev = parseFrame(frame('ws_v2_ticker_snapshot_BTC-USD_2026-01-26.json'));
  assert.equal(ev.kind, 'ticker');
  if (ev.kind !== 'ticker') return;
  const t = toTick('BTC/USD', ev.rows[0]!, 7);
  assert.deepEqual(t, {
    exchange: 'kraken',
    symbol: 'BTC/USD',
    assetType: 'crypto',
    receivedAt: 7,
    ts: Date.parse('2026-01-26T12:31:08.210Z'),
    price: 87794.1,
    bid: 87794,
    ask: 87794.1,
    high24h: 88822,
    low24h: 86007,
    volume24h: 2617.38647876 * 87264.8,
    changePct24h: -0.85,
  });
  const u = parseFrame(frame('ws_v2_ticker_update_ALGO-USD_docs_example.json'));
  assert.ok(u.kind === 'ticker' && u.rows[0]!.symbol === 'ALGO/USD' && u.rows[0]!.ask === 0.10035);
});

test('control frames: acks (success and error), heartbeat, status with a >2^53 connection id', () => {
  assert.deepEqual(parseFrame(frame('ws_v2_subscribe_ack_book_ETH-USD_depth10_2025-05-06.json')), { kind: 'ack', method: 'subscribe', success: true, channel: 'book', symbol: 'ETH/USD' });
  assert.deepEqual(parseFrame(frame('ws_v2_subscribe_ack_ohlc_ALGO-USD_docs_example.json')), { kind: 'ack', method: 'subscribe', success: true, channel: 'ohlc', symbol: 'ALGO/USD' });
  assert.deepEqual(parseFrame(frame('ws_v2_unsubscribe_ack_book_ALGO-USD_docs_example.json')), { kind: 'ack', method: 'unsubscribe', success: true, channel: 'book', symbol: 'ALGO/USD' });
  assert.deepEqual(parseFrame(frame('ws_v2_error_subscribe_currency_pair_not_supported_2026-09-10.json')), {
    kind: 'ack',
    method: 'subscribe',
    success: false,
    symbol: 'XBT/USDT',
    error: 'Currency pair not supported XBT/USDT',
  });
  assert.deepEqual(parseFrame(frame('ws_v2_error_subscribe_invalid_session.json')), { kind: 'ack', method: 'subscribe', success: false, error: 'ESession:Invalid session' });
  assert.deepEqual(parseFrame(frame('ws_v2_heartbeat_docs_example.json')), { kind: 'heartbeat' });
  assert.deepEqual(parseFrame(frame('ws_v2_status_update_online.json')), { kind: 'status', system: 'online' });
});

test('bad frames: a ParseError with a reason, never anything else', () => {
  const reason = (text: string) => {
    try {
      parseFrame(text);
    } catch (err) {
      assert.ok(err instanceof ParseError, String(err));
      return err.reason;
    }
    return 'parsed';
  };
  assert.equal(reason('{"channel":"ohlc"'), 'invalid_json');
  assert.equal(reason('[1,2]'), 'unknown_event');
  assert.equal(reason('{"channel":"spread","data":[]}'), 'unknown_event');
  assert.equal(reason('{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","open":"x"}]}'), 'invalid_field');
  assert.equal(reason('{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","open":1,"high":1,"low":1,"close":1,"trades":1,"volume":1,"vwap":1,"interval_begin":"yesterday","interval":1}]}'), 'invalid_field');
  assert.equal(reason('{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":-1,"qty":1}],"asks":[],"checksum":1}]}'), 'invalid_field');
  assert.equal(reason('{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"px":1}],"asks":[],"checksum":1}]}'), 'invalid_field');
  assert.equal(reason('{"channel":"ticker","type":"update","data":"nope"}'), 'invalid_field');
});

test('REST OHLC: committed rows only (the current minute after `last` left out), count-0 rows flat; the error body', () => {
  const page = parseOhlcBody(fixtureJson('kraken/rest_OHLC_USDCUSD_interval1_2023-11-14_result_with_last.json'));
  assert.equal(page.last, 1699977300_000);
  assert.equal(page.rows.length, 9);
  assert.equal(page.rows.at(-1)!.openTime, 1699977300_000);
  assert.deepEqual(page.rows[0], { openTime: 1699976820_000, closeTime: 1699976879_999, open: 1.0001, high: 1.0001, low: 1, close: 1, volume: 87.7614, quoteVolume: 87.7614, trades: 6 });
  // a minute without trades is what flatCandle builds from the previous close
  assert.deepEqual(page.rows[1], flatCandle(1699976880_000, page.rows[0]!.close));
  assert.deepEqual(page.rows[2], flatCandle(1699976940_000, page.rows[1]!.close));
  assert.throws(() => parseOhlcBody(fixtureJson('kraken/rest_error_EQuery_unknown_asset_pair.json')), ParseError);
});

test('RFC 3339 times with 0, 6 and 9 fractional digits', () => {
  assert.equal(parseTime('2026-09-10T17:40:00Z', 't', {}), Date.parse('2026-09-10T17:40:00Z'));
  assert.equal(parseTime('2026-09-10T17:40:00.123456Z', 't', {}), Date.parse('2026-09-10T17:40:00.123Z'));
  assert.equal(parseTime('2026-09-10T17:40:00.105760475Z', 't', {}), Date.parse('2026-09-10T17:40:00.105Z'));
  assert.throws(() => parseTime('2026-09-10 17:40', 't', {}), ParseError);
});

test('a book level whose exponent would spell out millions of digits is a bad frame, not a crash', () => {
  const frame = (qty: string) =>
    `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":${qty}}],"asks":[],"checksum":1,"timestamp":"2026-01-01T00:00:01.000000Z"}]}`;
  // JSON reads 1e-999999999 as 0 (a delete), but the checksum spelling of its digits cannot be built
  assert.throws(() => parseFrame(frame('1e-999999999')), (e: unknown) => e instanceof ParseError && e.reason === 'invalid_field');
  assert.throws(() => parseFrame(frame('2E+400')), ParseError);
  // a small exponent is still a number like any other
  const ev = parseFrame(frame('1.5e-7'));
  assert.equal(ev.kind === 'book' && ev.rows[0]!.bids[0]!.qty, 1.5e-7);
  assert.equal(checksumDigits('1.5e-7'), '15');
});

test('RFC 3339 times: fractions without digits, stray characters and impossible dates are rejected', () => {
  for (const bad of ['2026-09-10T17:40:00.Z', '2026-09-10T17:40:00.1x2Z', '2026-09-10T17:40:00', '2026-09-10T17:40:00z', ' 2026-09-10T17:40:00Z', '2026-13-10T17:40:00Z', '2026-09-10T17:60:00Z', '']) {
    assert.throws(() => parseTime(bad, 't', {}), ParseError, bad);
  }
  assert.equal(parseTime('2026-09-10T17:40:00.5Z', 't', {}), Date.parse('2026-09-10T17:40:00.500Z'));
  assert.equal(parseTime('2026-09-10T17:40:00.05Z', 't', {}), Date.parse('2026-09-10T17:40:00.050Z'));
  // the same second again (a cached one) and the next one
  assert.equal(parseTime('2026-09-10T17:40:00.999Z', 't', {}), Date.parse('2026-09-10T17:40:00.999Z'));
  assert.equal(parseTime('2026-09-10T17:40:01Z', 't', {}), Date.parse('2026-09-10T17:40:01Z'));
});
