// The trade → 1 m candle state machine: which minutes it builds, which it hands to REST, and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINUTE, TradeCandles, type BuiltCandle } from '../../src/market/coinbase/trade-candles.js';

const T = 28_000_000 * MINUTE;

function machine() {
  const built: BuiltCandle[] = [];
  const fetched: [number, number, number[]][] = [];
  const boundaries: number[] = [];
  const tc = new TradeCandles({ built: (c) => built.push(c), fetch: (f, t, traded) => fetched.push([f, t, traded]), boundary: (m) => boundaries.push(m) }, { closeGraceMs: 0 });
  return { tc, built, fetched, boundaries, rel: (x: [number, number, number[]]) => [(x[0] - T) / MINUTE, (x[1] - T) / MINUTE, x[2].map((t) => (t - T) / MINUTE)] };
}

test('the first minute seen is the backfill boundary and goes to REST; later unbroken minutes are built', () => {
  const { tc, built, fetched, boundaries, rel } = machine();
  tc.trade(100, T + 50_000, 10, 0.5); // joined mid-minute: earlier trades of this minute unseen
  tc.trade(101, T + MINUTE + 1000, 11, 0.1);
  tc.trade(102, T + MINUTE + 2000, 9, 0.2);
  tc.trade(103, T + MINUTE + 3000, 10.5, 0.30000001);
  tc.clock(T + 2 * MINUTE); // heartbeat: minute 1 is over
  assert.deepEqual(boundaries, [T]);
  assert.deepEqual(fetched.map(rel), [[0, 1, [0]]]);
  assert.equal(built.length, 1);
  // the volume is summed in 1e-8 units: 0.1 + 0.2 + 0.30000001 exactly as the venue's decimal sum
  assert.deepEqual(built[0], { openTime: T + MINUTE, open: 11, high: 11, low: 9, close: 10.5, volume: 0.60000001, quoteVolume: 11 * 0.1 + 9 * 0.2 + 10.5 * 0.30000001, trades: 3 });
});

test('consecutive ids across quiet minutes: no candle and no REST for the minutes without trades', () => {
  const { tc, built, fetched } = machine();
  tc.trade(1, T + 1000, 10, 1);
  tc.trade(2, T + MINUTE + 1000, 10, 1);
  tc.trade(3, T + 5 * MINUTE + 1000, 12, 1); // minutes 2-4 quiet, ids say nothing was missed
  tc.clock(T + 6 * MINUTE);
  assert.equal(fetched.length, 1); // minute 0 only (first seen)
  assert.deepEqual(
    built.map((c) => (c.openTime - T) / MINUTE),
    [1, 5],
  );
});

test('an id gap makes the open minute and every minute up to the next trade a REST range', () => {
  const { tc, built, fetched, rel } = machine();
  tc.trade(1, T + 1000, 10, 1);
  tc.trade(2, T + MINUTE + 1000, 10, 1);
  assert.equal(tc.trade(5, T + MINUTE + 2000, 10, 1), 'gap'); // 3, 4 lost inside minute 1
  tc.trade(6, T + 3 * MINUTE + 1000, 10, 1);
  tc.trade(9, T + 4 * MINUTE + 1000, 10, 1); // 7, 8 lost: minutes 3 (dirty) and the gap before minute 4
  tc.trade(10, T + 4 * MINUTE + 2000, 10, 1);
  tc.clock(T + 5 * MINUTE);
  assert.deepEqual(fetched.map(rel), [
    [0, 1, [0]],
    [1, 2, [1]],
    [3, 4, [3]],
    [4, 5, [4]],
  ]);
  assert.deepEqual(built, []);
});

test('a socket loss taints the open minute and the time until the next trade, even when ids continue', () => {
  const { tc, built, fetched, rel } = machine();
  tc.trade(1, T + 1000, 10, 1);
  tc.trade(2, T + MINUTE + 1000, 10, 1);
  tc.socketLost();
  tc.clock(T + 2 * MINUTE); // the new socket's first heartbeat closes minute 1: tainted
  assert.equal(tc.trade(3, T + 4 * MINUTE + 1000, 10, 1), 'gap'); // continuity across the loss is not trusted
  tc.trade(4, T + 5 * MINUTE + 1000, 10, 1);
  tc.clock(T + 6 * MINUTE);
  assert.deepEqual(fetched.map(rel), [
    [0, 1, [0]],
    [1, 2, [1]],
    [2, 4, []],
    [4, 5, [4]],
  ]);
  assert.deepEqual(
    built.map((c) => (c.openTime - T) / MINUTE),
    [5],
  );
});

test('repeats (overlapping sockets, last_match after a resubscribe) are ignored', () => {
  const { tc, built } = machine();
  tc.trade(1, T + 1000, 10, 1);
  tc.trade(2, T + MINUTE + 1000, 10, 1);
  assert.equal(tc.trade(2, T + MINUTE + 1000, 10, 1), 'duplicate');
  assert.equal(tc.trade(1, T + 1000, 10, 1), 'duplicate');
  tc.trade(3, T + MINUTE + 2000, 11, 1);
  tc.clock(T + 2 * MINUTE);
  assert.equal(built.length, 1);
  assert.equal(built[0]!.trades, 2);
  assert.equal(built[0]!.volume, 2);
});

test('the clock closes a minute only once it is over, plus the grace', () => {
  const built: BuiltCandle[] = [];
  const tc = new TradeCandles({ built: (c) => built.push(c), fetch: () => {}, boundary: () => {} }, { closeGraceMs: 1000 });
  tc.trade(1, T + 1000, 10, 1);
  tc.trade(2, T + MINUTE + 1000, 10, 1);
  tc.clock(T + 2 * MINUTE + 500);
  assert.equal(built.length, 0);
  tc.clock(T + 2 * MINUTE + 1000);
  assert.equal(built.length, 1);
});

test('matches lost at the end of a minute: a ticker or heartbeat naming a later trade id keeps it from being built', () => {
  const { tc, built, fetched, rel } = machine();
  tc.trade(1, T + 1000, 10, 1);
  tc.trade(2, T + MINUTE + 1000, 10, 1);
  tc.hint(4, T + MINUTE + 50_000); // trades 3 and 4 of minute 1: their matches never came
  tc.clock(T + 2 * MINUTE);
  assert.equal(built.length, 0);
  assert.deepEqual(fetched.map(rel).at(-1), [1, 2, [1]]);
  // a hint for the next trade (its ticker ahead of its match) is no reason to distrust the minute
  tc.trade(5, T + 3 * MINUTE + 1000, 10, 1);
  tc.trade(6, T + 4 * MINUTE + 1000, 10, 1);
  tc.hint(7, T + 5 * MINUTE + 1000);
  tc.clock(T + 5 * MINUTE);
  assert.deepEqual(
    built.map((c) => (c.openTime - T) / MINUTE),
    [4],
  );
});
