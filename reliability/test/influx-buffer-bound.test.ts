// The sink's buffer bound at the process level: the market feeder at full rate (16 symbols, a candle every
// 100 ms, ~340 points/s) with INFLUX_MAX_BUFFER_POINTS=10000 (the minimum) while the real InfluxDB is down
// for 45 s (~15 000 points) → the buffer never holds more than the bound plus the one batch on the wire,
// the oldest points are the ones dropped and every one is counted
// (influx_points_dropped_total{reason="buffer_full"}); what was kept is written after recovery: the stored
// candles miss one stretch from the outage's start — one hole per symbol, no second gap behind the first
// batch written after recovery — and nothing after it, and no more than was counted as dropped. When InfluxDB is back the sink's /ping probe ends its backoff
// (docs/INFLUXDB.md "Failure handling"): the backlog is written and the dropping stops within ~2 s, so
// what is kept of the outage is what the buffer held at its end, not a part cut short by a retry up to
// the backoff's cap later.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, startInflux, startService, waitFor, type BinanceFake, type InfluxServer, type RunningService } from '@mt/testing';
import { MINUTE, binanceFake, feederEnv, lastStored, storedCandles } from './helpers.js';

const SYMBOLS = ['BTC', 'ETH', 'BNB', 'SOL', 'XRP', 'ADA', 'DOGE', 'LTC', 'DOT', 'LINK', 'TRX', 'AVAX', 'ATOM', 'XLM', 'ETC', 'BCH'].map((s) => `${s}/USDT`);
const BOUND = 10_000;
/** The sink's batchSize (INFLUX_SINK_DEFAULTS): one batch on the wire is outside the bound. */
const BATCH = 5000;
const CANDLE_MS = 100;
/** After InfluxDB answers its /ping again: the probe interval (1 s) + writing the backlog. */
const RECOVERY_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: InfluxServer;
let fake: BinanceFake;
let feeder: RunningService;

before(async () => {
  influx = await startInflux();
  fake = await binanceFake(SYMBOLS, { candleMs: CANDLE_MS, historyMinutes: 60 });
  feeder = await startService('market-feeder', await feederEnv(influx, fake, SYMBOLS, { INFLUX_MAX_BUFFER_POINTS: String(BOUND) }));
  for (const s of SYMBOLS) await waitFor(async () => (await lastStored(influx, s)) > fake.historyStart(), 60_000, `${s} stored`);
  // and every symbol's start-up backfill done, so none of it is left to land in the middle of the outage
  for (const s of SYMBOLS) await waitFor(async () => metricValue(await feeder.metrics(), 'market_candles_backfilled_total', { symbol: s }) > 0, 60_000, `${s} backfilled`);
});

after(async () => {
  await feeder?.kill();
  await fake?.close();
  await influx?.stop();
});

test('InfluxDB down 45 s with a 10 000-point bound: buffer bounded, oldest dropped and counted, the rest stored', { timeout: 200_000 }, async () => {
  const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await feeder.metrics(), name, labels);
  await waitFor(async () => (await metric('influx_buffer_points')) < 1000, 60_000, 'steady state');
  const before = Object.fromEntries(await Promise.all(SYMBOLS.map(async (s) => [s, await lastStored(influx, s)] as const)));
  await influx.stop();
  let maxBuffered = 0;
  // the drop rate once the buffer is full: every point that arrives evicts one (any bucket's arrival, the
  // raw bucket's oldest: the fullest)
  let full: { at: number; dropped: number } | undefined;
  for (const end = Date.now() + 45_000; Date.now() < end; await sleep(1000)) {
    const text = await feeder.metrics();
    const buffered = metricValue(text, 'influx_buffer_points');
    maxBuffered = Math.max(maxBuffered, buffered);
    if (!full && buffered >= BOUND * 0.99) full = { at: Date.now(), dropped: metricValue(text, 'influx_points_dropped_total', { reason: 'buffer_full' }) };
  }
  // the newest candle of the outage (what a trader wants kept is the end of it) and what the buffer holds
  // of the raw bucket then (the rest of the bound is the 5m/1h buckets)
  const lastOfOutage = fake.lastClosedOpenTime();
  const atEnd = await feeder.metrics();
  const outageEnd = Date.now();
  const rawHeld = metricValue(atEnd, 'influx_buffer_points', { bucket: 'markets/raw' });
  const dropRate = (metricValue(atEnd, 'influx_points_dropped_total', { reason: 'buffer_full' }) - full!.dropped) / (outageEnd - full!.at); // points/ms
  await influx.start(); // returns once influxd answers /ping
  const back = Date.now();
  // after InfluxDB is back: when the last point was dropped and when the backlog was written
  let lastDrop = back;
  let drained = 0;
  for (let d = -1; Date.now() < back + 10_000; await sleep(200)) {
    const text = await feeder.metrics();
    const [nowDropped, buffered] = [metricValue(text, 'influx_points_dropped_total', { reason: 'buffer_full' }), metricValue(text, 'influx_buffer_points')];
    if (d >= 0 && nowDropped > d) lastDrop = Date.now();
    d = nowDropped;
    if (!drained && buffered < 1000) drained = Date.now();
  }
  const dropped = await metric('influx_points_dropped_total', { reason: 'buffer_full' });
  const droppedRaw = await metric('influx_points_dropped_total', { reason: 'buffer_full', bucket: 'markets/raw' });
  const target = fake.lastClosedOpenTime() + MINUTE;
  for (const s of SYMBOLS) await waitFor(async () => (await lastStored(influx, s)) >= target, 60_000, `${s} caught up`);
  await waitFor(async () => (await metric('influx_buffer_points')) < 1000, 60_000, 'drained');

  assert.ok(maxBuffered <= BOUND + BATCH, `buffer held ${maxBuffered} points (bound ${BOUND} + one batch of ${BATCH})`);
  assert.ok(maxBuffered >= BOUND * 0.9, `the bound was reached (${maxBuffered})`);
  assert.ok(dropped > 0, 'drops counted');
  // InfluxDB answers: the probe ends the sink's backoff, the backlog is written and the dropping stops
  assert.ok(lastDrop - back <= RECOVERY_MS, `dropping went on ${lastDrop - back} ms after InfluxDB was back`);
  assert.ok(drained > 0 && drained - back <= RECOVERY_MS, `backlog written ${drained - back} ms after InfluxDB was back`);
  const kept: Record<string, number> = {};
  let missingTotal = 0;
  for (const s of SYMBOLS) {
    const expected = fake.closedCandles(s, before[s]!).filter((c) => c.openTime <= target).map((c) => c.openTime);
    const missingNow = async () => {
      const stored = new Set((await storedCandles(influx, s)).map((r) => r.time));
      return expected.filter((t) => !stored.has(t));
    };
    // "drained" leaves up to 1000 points queued: under load the last of the kept ones may still be on their way
    await waitFor(async () => ((await missingNow()).every((t) => t <= lastOfOutage) ? true : undefined), 30_000, `${s}: the kept candles stored`).catch(() => undefined);
    const missing = await missingNow();
    missingTotal += missing.length;
    // the oldest queued were dropped: a hole from the outage's start (a failed batch is queued again at the
    // head, so it is the first to go); nothing after the outage is missing, and no second gap: the batch on
    // the wire after recovery is outside the bound, so what arrives meanwhile evicts nothing behind it.
    assert.ok(missing.length > 0, `${s}: candles of the outage's start were dropped`);
    const i0 = expected.indexOf(missing[0]!);
    assert.ok(i0 <= 30, `${s}: the hole starts at the outage's start (candle ${i0} of it)`);
    const holes = missing.map((t) => expected.indexOf(t)).filter((i, k, all) => k === 0 || i !== all[k - 1]! + 1);
    assert.deepEqual(holes, [i0], `${s}: one hole (${missing.length} candles from ${i0}); a later one starts at candle ${holes[1]} of ${expected.length}`);
    const late = missing.filter((t) => t > lastOfOutage).map((t) => expected.indexOf(t));
    assert.deepEqual(late, [], `${s}: nothing after the outage missing (outage ended at candle ${expected.indexOf(lastOfOutage)} of ${expected.length}; hole from ${i0}, ${missing.length} missing)`);
    kept[s] = expected.filter((t) => t >= missing[0]! && t <= lastOfOutage).length - missing.length;
  }
  // every missing candle is a dropped point (indicators and ticks were dropped with them)
  assert.ok(missingTotal <= dropped, `${missingTotal} candles missing, ${dropped} points counted as dropped`);
  // What is kept of the outage is what the buffer held at its end, less only what kept arriving (at the
  // outage's drop rate) until InfluxDB was back and RECOVERY_MS after. Raw points per candle from this
  // run's own hole (the raw bucket's drops are its oldest, whole candles); 5 candles of slack for the
  // hole's edges.
  const pointsPerCandle = droppedRaw / missingTotal;
  const held = rawHeld / pointsPerCandle / SYMBOLS.length;
  const lost = (dropRate * (back - outageEnd + RECOVERY_MS)) / pointsPerCandle / SYMBOLS.length;
  const minKept = Math.floor(held - lost - 5);
  const report = {
    scenario: 'influx-buffer-bound',
    bound: BOUND,
    maxBuffered,
    droppedBufferFull: dropped,
    candlesMissing: missingTotal,
    influxStartMs: back - outageEnd,
    lastDropAfterBackMs: lastDrop - back,
    writtenAfterBackMs: drained - back,
    heldCandles: Math.round(held),
    keptCandles: Math.min(...Object.values(kept)),
    minKept,
  };
  console.log(JSON.stringify(report));
  for (const s of SYMBOLS) assert.ok(kept[s]! >= minKept, `${s}: ${kept[s]} candles of the outage's end kept, the buffer held ${held.toFixed(0)} (at least ${minKept} expected)`);
});
