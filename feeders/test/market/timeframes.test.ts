// Timeframes in the market core (docs/INFLUXDB.md, "Timeframes"): 5m / 1h / 1d candles built from streamed
// closed 1-minute candles, stored once each in their timeframe's bucket, with indicators computed on
// that timeframe's closes — checked against an independent aggregation of the 1-minute series and
// against technicalindicators. Also: a bucket with a missing minute waits for its backfill, a restart
// continues open buckets from storage, Yahoo's own timeframes are not aggregated, and every closed
// candle is announced once with its indicators.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SMA, EMA, RSI, MACD, BollingerBands } from 'technicalindicators';
import { BUCKETS, type InfluxQLClient } from '@mt/common';
import { fixtureJson } from '@mt/testing';
import { MarketCore } from '../../src/market/core.js';
import { IndicatorEngine } from '../../src/market/indicators/index.js';
import type { Candle, IndicatorValues } from '../../src/market/types.js';
import { MemorySink, type Line } from './helpers.js';

const log = pino({ level: 'silent' });
const MIN = 60_000;
const DAY = 1440 * MIN;

type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];
const rows = fixtureJson<KlineRow[]>('binance/rest_klines_BTCUSDT_1m_startTime_endTime.json');

/**
 * `n` 1-minute candles from UTC midnight: the 60 real BTCUSDT klines of the fixture, then their own
 * minute-to-minute relative moves replayed (sign flipped every other pass) so the series wanders.
 */
function minutes(n: number, start: number): Candle[] {
  const real = rows.map((r) => ({ o: Number(r[1]), h: Number(r[2]), l: Number(r[3]), c: Number(r[4]), v: Number(r[5]), q: Number(r[7]), t: r[8] }));
  const out: Candle[] = [];
  let scale = 1;
  for (let i = 0; i < n; i++) {
    const k = real[i % real.length]!;
    const pass = Math.floor(i / real.length);
    if (i > 0 && i % real.length === 0) scale *= pass % 2 ? 0.97 : 1.04;
    out.push({
      exchange: 'binance',
      symbol: 'BTC/USDT',
      assetType: 'crypto',
      interval: '1m',
      openTime: start + i * MIN,
      closeTime: start + i * MIN + MIN - 1,
      open: k.o * scale,
      high: k.h * scale,
      low: k.l * scale,
      close: k.c * scale,
      volume: k.v,
      quoteVolume: k.q,
      trades: k.t,
      closed: true,
      receivedAt: start + (i + 1) * MIN,
    });
  }
  return out;
}

/** The oracle: Binance's relation between a kline of `ms` and its 1-minute klines, from complete buckets only. */
function aggregate(ms: number, src: Candle[]): { openTime: number; open: number; high: number; low: number; close: number; volume: number; trades: number }[] {
  const groups = new Map<number, Candle[]>();
  for (const c of src) {
    const b = Math.floor(c.openTime / ms) * ms;
    groups.set(b, [...(groups.get(b) ?? []), c]);
  }
  return [...groups.entries()]
    .filter(([, cs]) => cs.length === ms / MIN)
    .sort(([a], [b]) => a - b)
    .map(([openTime, cs]) => ({
      openTime,
      open: cs[0]!.open,
      high: Math.max(...cs.map((c) => c.high)),
      low: Math.min(...cs.map((c) => c.low)),
      close: cs.at(-1)!.close,
      volume: cs.reduce((s, c) => s + c.volume, 0),
      trades: cs.reduce((s, c) => s + c.trades, 0),
    }));
}

function setup(influxql: InfluxQLClient = { query: async () => [] }) {
  const sink = new MemorySink();
  const core = new MarketCore({ sink, influxql, indicators: new IndicatorEngine(), log });
  const announced: { c: Candle; v: IndicatorValues; recomputed: boolean }[] = [];
  core.onClosedCandle((c, v, { recomputed }) => announced.push({ c, v, recomputed }));
  return { core, sink, announced };
}

/** Stored lines of a measurement and interval, with the bucket each was written to. */
function stored(sink: MemorySink, measurement: string, interval: string): (Line & { bucket: string })[] {
  return sink.lines.map((l, i) => ({ ...l, bucket: sink.buckets[i]! })).filter((l) => l.measurement === measurement && l.tags.interval === interval);
}

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

const START = Date.UTC(2026, 10, 20); // a UTC midnight
const ONE_MIN = minutes(2 * 1440 + 30, START);

test('5m, 1h and 1d candles built from 1-minute candles: each once, in its bucket, equal to the aggregation', async () => {
  const { core, sink } = setup();
  for (const c of ONE_MIN) core.out.candle(c);
  await core.flush();
  for (const [interval, ms, bucket] of [
    ['5m', 5 * MIN, BUCKETS.markets5m],
    ['1h', 60 * MIN, BUCKETS.markets1h],
    ['1d', DAY, BUCKETS.markets1h],
  ] as const) {
    const want = aggregate(ms, ONE_MIN);
    const got = stored(sink, 'candles', interval);
    assert.equal(got.length, want.length, `${interval}: one candle per complete bucket`);
    assert.ok(got.every((l) => l.bucket === bucket), `${interval} candles in ${bucket}`);
    for (const [i, w] of want.entries()) {
      const g = got[i]!;
      assert.equal(g.ts, w.openTime, `${interval} open time`);
      near(Number(g.fields.open), w.open, `${interval} open`);
      near(Number(g.fields.high), w.high, `${interval} high`);
      near(Number(g.fields.low), w.low, `${interval} low`);
      near(Number(g.fields.close), w.close, `${interval} close`);
      near(Number(g.fields.volume), w.volume, `${interval} volume`);
      assert.equal(g.fields.trades, `${w.trades}i`, `${interval} trades`);
    }
  }
  // the last, unfinished 5-minute bucket (30 minutes past two days ends on a boundary: none here) and the
  // running day are never stored
  assert.equal(stored(sink, 'candles', '1d').length, 2);
  assert.ok(stored(sink, 'candles', '1m').every((l) => l.bucket === BUCKETS.marketsRaw));
});

test('indicators of each timeframe are computed on that timeframe’s closes (technicalindicators as oracle)', async () => {
  const { core, sink } = setup();
  for (const c of ONE_MIN) core.out.candle(c);
  await core.flush();
  for (const [interval, ms] of [
    ['1m', MIN],
    ['5m', 5 * MIN],
    ['1h', 60 * MIN],
  ] as const) {
    const bars = interval === '1m' ? ONE_MIN : aggregate(ms, ONE_MIN);
    const closes = bars.map((b) => b.close);
    const n = closes.length;
    const tail = <T>(out: T[]) => [...new Array<undefined>(n - out.length).fill(undefined), ...out];
    const ref = {
      sma_20: tail(SMA.calculate({ period: 20, values: closes })),
      ema_50: tail(EMA.calculate({ period: 50, values: closes })),
      rsi_14: tail(RSI.calculate({ period: 14, values: closes })),
      macd: tail(MACD.calculate({ values: closes, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false })),
      bb: tail(BollingerBands.calculate({ period: 20, stdDev: 2, values: closes })),
    };
    const got = new Map(stored(sink, 'indicators', interval).map((l) => [l.ts, l]));
    const bucket = interval === '1m' ? BUCKETS.marketsRaw : interval === '5m' ? BUCKETS.markets5m : BUCKETS.markets1h;
    assert.ok(stored(sink, 'indicators', interval).every((l) => l.bucket === bucket), `${interval} indicators in ${bucket}`);
    let checked = 0;
    for (const [i, b] of bars.entries()) {
      const g = got.get(b.openTime);
      const f = (k: string) => (g?.fields[k] === undefined ? undefined : Number(g.fields[k]));
      const want: Record<string, number | undefined> = {
        sma_20: ref.sma_20[i],
        ema_50: ref.ema_50[i],
        macd: ref.macd[i]?.MACD,
        macd_signal: ref.macd[i]?.signal,
        bb_upper: ref.bb[i]?.upper,
        bb_lower: ref.bb[i]?.lower,
      };
      for (const [k, w] of Object.entries(want)) {
        if (w === undefined) assert.equal(f(k), undefined, `${interval}[${i}] ${k} absent before warm`);
        else near(f(k)!, w, `${interval}[${i}] ${k}`);
      }
      const r = ref.rsi_14[i];
      // technicalindicators rounds RSI to 2 decimals
      if (r !== undefined) assert.ok(Math.abs(f('rsi_14')! - r) <= 0.005 + 1e-9, `${interval}[${i}] rsi_14: ${f('rsi_14')} vs ${r}`);
      if (want.macd_signal !== undefined) checked++;
    }
    assert.ok(checked > (interval === '1h' ? 10 : 100), `${interval}: ${checked} fully warm bars compared`);
  }
});

test('a missing minute holds its buckets back until the backfill brings it; nothing is stored twice', async () => {
  const { core, sink } = setup();
  const gap = ONE_MIN.slice(0, 180);
  const missing = gap[63]!; // 01:03: inside the 5m bucket 01:00 and the hour 01:00
  for (const c of gap) if (c !== missing) core.out.candle(c);
  await core.flush();
  const fives = () => stored(sink, 'candles', '5m').map((l) => l.ts);
  const hours = () => stored(sink, 'candles', '1h').map((l) => l.ts).sort((a, b) => a - b);
  assert.ok(!fives().includes(START + 60 * MIN), '01:00 5m bucket not stored without its 01:03 minute');
  assert.deepEqual(hours(), [START, START + 120 * MIN], 'hour 01:00 held back, 02:00 stored');
  core.out.candle(missing); // the backfill
  for (const c of gap.slice(100, 120)) core.out.candle(c); // a replay overlapping the live stream
  await core.flush();
  assert.ok(fives().includes(START + 60 * MIN));
  assert.deepEqual(hours(), [START, START + 60 * MIN, START + 120 * MIN]);
  assert.equal(new Set(fives()).size, fives().length, 'no 5m candle twice');
  assert.equal(fives().length, 36);
  const h1 = stored(sink, 'candles', '1h').find((l) => l.ts === START + 60 * MIN)!;
  near(Number(h1.fields.volume), aggregate(60 * MIN, gap)[1]!.volume, 'hour 01:00 volume with the backfilled minute');
});

test('after a restart the open buckets continue from the stored minutes; Yahoo candles are not aggregated', async () => {
  const before = ONE_MIN.slice(0, 62); // stopped at 01:02, inside the 5m bucket 01:00
  const after = ONE_MIN.slice(62, 125);
  const influxql: InfluxQLClient = {
    async query(_db, q) {
      if (!q.includes(`"interval"='1m'`)) return [];
      const cols = ['time', 'open', 'high', 'low', 'close', 'volume', 'quote_volume', 'trades'];
      const asRows = (cs: Candle[]) => cs.map((c) => [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.quoteVolume, c.trades]);
      // one warm-up read, latest first: indicator history and the minutes of the open buckets
      return [{ name: 'candles', columns: cols, values: asRows([...before].reverse()) }];
    },
  };
  const { core, sink } = setup(influxql);
  for (const c of after) core.out.candle(c);
  await core.flush();
  const fives = stored(sink, 'candles', '5m');
  assert.equal(fives[0]!.ts, START + 60 * MIN, 'the 01:00 bucket completed from 2 stored + 3 new minutes');
  const want = aggregate(5 * MIN, [...before, ...after]).find((b) => b.openTime === START + 60 * MIN)!;
  near(Number(fives[0]!.fields.open), want.open, 'open from the stored 01:00 minute');
  near(Number(fives[0]!.fields.high), want.high, 'high over all five minutes');
  const hours = stored(sink, 'candles', '1h');
  assert.deepEqual(hours.map((l) => l.ts), [START + 60 * MIN], 'hour 01:00 (2 stored + 58 new minutes); 00:00 was not this process’s to complete');
  near(Number(hours[0]!.fields.volume), aggregate(60 * MIN, ONE_MIN.slice(0, 120))[1]!.volume, 'hour 01:00 volume over stored and new minutes');

  const { core: core2, sink: sink2 } = setup();
  for (const c of ONE_MIN.slice(0, 120)) core2.out.candle({ ...c, exchange: 'yahoo', symbol: 'AAPL', assetType: 'stock' });
  await core2.flush();
  assert.equal(sink2.of('candles').length, 120);
  assert.ok(sink2.of('candles').every((l) => l.tags.interval === '1m'), 'Yahoo serves its own 5m / 1h / 1d');
});

test('every closed candle of every timeframe is announced once, with its indicators, in open-time order', async () => {
  const { core, announced } = setup();
  for (const c of ONE_MIN.slice(0, 600)) core.out.candle(c);
  await core.flush();
  for (const interval of ['1m', '5m', '1h'] as const) {
    const a = announced.filter((e) => e.c.interval === interval);
    const times = a.map((e) => e.c.openTime);
    assert.deepEqual(times, [...times].sort((x, y) => x - y), `${interval} in order`);
    assert.equal(new Set(times).size, times.length, `${interval} once each`);
    assert.equal(a.length, { '1m': 600, '5m': 120, '1h': 10 }[interval]);
    assert.ok(a.every((e) => !e.recomputed));
  }
  const last5 = announced.filter((e) => e.c.interval === '5m').at(-1)!;
  assert.ok(last5.v.rsi_14 !== undefined && last5.v.macd_hist !== undefined, 'a warm 5m candle carries its indicators');
});

test('restated candles (a split) are stored again over the old ones and the indicators recomputed from there', async () => {
  const { core, sink, announced } = setup();
  const daily = ONE_MIN.slice(0, 60).map((c, i) => ({ ...c, exchange: 'yahoo', symbol: 'AAPL', assetType: 'stock' as const, interval: '1d' as const, openTime: START + i * DAY, closeTime: START + (i + 1) * DAY - 1 }));
  for (const c of daily) core.out.candle(c);
  await core.flush();
  // a 4:1 split after bar 40: Yahoo now serves the bars before it divided by 4
  const adjusted = daily.map((c, i) => (i < 40 ? { ...c, open: c.open / 4, high: c.high / 4, low: c.low / 4, close: c.close / 4, volume: c.volume * 4 } : c));
  sink.lines.length = 0;
  sink.buckets.length = 0;
  core.out.restate!(adjusted.slice(0, 40));
  await core.flush();
  const rewritten = stored(sink, 'candles', '1d');
  assert.equal(rewritten.length, 40, 'each restated bar written again (same series and time: it replaces the old point)');
  near(Number(rewritten[0]!.fields.close), daily[0]!.close / 4, 'restated close');
  // the final indicator point of every bar equals a fresh engine over the adjusted series
  const fresh = new IndicatorEngine();
  const want = adjusted.map((c) => fresh.onClosedCandle('k', c));
  const last = new Map<number, Line>();
  for (const l of stored(sink, 'indicators', '1d')) last.set(l.ts, l);
  for (const [i, c] of adjusted.entries()) {
    const w = want[i]!;
    if (w.sma_20 === undefined) continue;
    near(Number(last.get(c.openTime)!.fields.sma_20), w.sma_20, `sma_20 of bar ${i}`);
    near(Number(last.get(c.openTime)!.fields.rsi_14), w.rsi_14!, `rsi_14 of bar ${i}`);
  }
  assert.ok(announced.some((e) => e.c.interval === '1d' && e.recomputed), 'listeners hear the recomputed values');
});
