// The one candle ledger (docs/STREAMING.md "Candles"): with a watermark (Binance, USDⓈ-M, Kraken: the
// Backfiller raises it) and without one (Coinbase: quiet minutes have no candle, `keepMs` bounds memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CandleLedger, MINUTE } from '../../src/market/stream/backfill.js';

const T = Date.UTC(2026, 10, 26, 7, 0);

test('watermark ledger: each open time once; at or below the watermark refused; the watermark closes runs', () => {
  const l = new CandleLedger();
  assert.equal(l.accept('BTC/USDT', T + 2 * MINUTE), true);
  assert.equal(l.accept('BTC/USDT', T + 2 * MINUTE), false, 'a repeat');
  assert.equal(l.has('BTC/USDT', T + 2 * MINUTE), true);
  assert.equal(l.has('BTC/USDT', T + MINUTE), false);
  l.raiseWatermark('BTC/USDT', T + MINUTE);
  assert.equal(l.watermark('BTC/USDT'), T + 2 * MINUTE, 'the accepted minute right after it joins the run');
  assert.equal(l.accept('BTC/USDT', T), false, 'below the watermark');
  assert.equal(l.has('BTC/USDT', T), true);
  assert.equal(l.has('ETH/USDT', T), false, 'per symbol');
  l.forget('BTC/USDT');
  assert.equal(l.accept('BTC/USDT', T), true, 'forgotten: starts over');
});

test('keepMs ledger (no watermark): quiet minutes leave holes, each open time still once; older than keepMs forgotten', () => {
  const keepMs = 60 * MINUTE;
  const l = new CandleLedger({ keepMs });
  // every minute traded for 4 hours, then two trades 3 minutes apart with quiet minutes between
  for (let m = 0; m < 240; m++) assert.equal(l.accept('BTC/USD', T + m * MINUTE), true);
  assert.equal(l.accept('BTC/USD', T + 243 * MINUTE), true);
  for (let m = 200; m < 240; m++) assert.equal(l.accept('BTC/USD', T + m * MINUTE), false, `minute ${m} again`);
  assert.equal(l.watermark('BTC/USD'), undefined);
  assert.equal(l.has('BTC/USD', T + 243 * MINUTE), true);
  assert.equal(l.has('BTC/USD', T + 241 * MINUTE), false, 'a quiet minute');
  assert.equal(l.accept('BTC/USD', T + 241 * MINUTE), true, 'a quiet minute REST later shows a candle for');
  assert.equal(l.has('BTC/USD', T), false, 'more than keepMs behind the newest: forgotten');
});
