// Price-alert tests pause the Binance fake wherever their feeder happens to be and ask for an upward crossing
// ahead. From an arbitrary start the fake's price can fall for hours, so none exists within the search (a CI
// run failed that way); from `risingStartTime` one must exist wherever the pause falls in the first 300 minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFake } from '../src/index.js';

const MINUTE = 60_000;

test('from risingStartTime every pause in the first 300 minutes has an upward crossing, and it is the first candle above the threshold', () => {
  const base = Date.parse('2026-11-26T06:00:00Z');
  for (let i = 0; i < 8; i++) {
    const from = base + i * 7919 * MINUTE + 12_345;
    const start = BinanceFake.risingStartTime(from);
    assert.equal(start % MINUTE, 0, 'minute aligned');
    assert.ok(start >= from && start < from + 18 * 3600_000, `start ${new Date(start).toISOString()} within one drift period after ${new Date(from).toISOString()}`);
    const fake = new BinanceFake({ symbols: ['BTCUSDT'], startTime: start, autoStart: false });
    fake.advance(); // one step into the start candle
    for (let minute = 0; minute <= 300; minute += 7) {
      if (minute > 0) for (let s = 0; s < 7 * 3; s++) fake.advance(); // 7 candles of 3 steps, by hand
      const now = Math.floor(fake.now() / MINUTE) * MINUTE;
      const { threshold, crossingCandle } = fake.upwardCrossing('BTCUSDT');
      assert.ok(crossingCandle < 200, `crossing ${crossingCandle} candles ahead`);
      for (let k = 0; k < crossingCandle; k++) assert.ok(fake.candle('BTCUSDT', now + k * MINUTE).high < threshold, `candle +${k} stays under ${threshold}`);
      assert.ok(fake.candle('BTCUSDT', now + crossingCandle * MINUTE).high > threshold, `candle +${crossingCandle} trades above ${threshold}`);
    }
  }
});
