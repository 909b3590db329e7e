// IndicatorEngine against an independent implementation (technicalindicators) on a long real-shaped series:
// the 60 real BTCUSDT 1 m closes of the klines fixture, extended deterministically by replaying their
// own minute-to-minute returns (sign flipped on every other pass so the series wanders but does not
// drift), with one flat stretch (a real thing on quiet minutes) to hit σ = 0 and "no losses" paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMA, EMA, RSI, MACD, BollingerBands } from 'technicalindicators';
import { fixtureJson } from '@mt/testing';
import { IndicatorEngine } from '../../src/market/indicators/index.js';
import type { Candle } from '../../src/market/types.js';

type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];
const rows = fixtureJson<KlineRow[]>('binance/rest_klines_BTCUSDT_1m_startTime_endTime.json');

function series(n: number): Candle[] {
  const real = rows.map((r) => Number(r[4]));
  const returns = real.slice(1).map((c, i) => c / real[i]!);
  const closes = [...real];
  for (let i = 0; closes.length < n; i++) {
    if (closes.length >= 600 && closes.length < 625) {
      closes.push(closes.at(-1)!); // flat stretch
      continue;
    }
    const pass = Math.floor(i / returns.length);
    const r = returns[i % returns.length]!;
    closes.push(closes.at(-1)! * (pass % 2 ? 1 / r : r));
  }
  const t0 = rows[0]![0];
  return closes.map((close, i) => ({
    exchange: 'binance',
    symbol: 'BTC/USDT',
    assetType: 'crypto',
    interval: '1m',
    openTime: t0 + i * 60_000,
    closeTime: t0 + i * 60_000 + 59_999,
    open: close,
    high: close,
    low: close,
    close,
    volume: 1,
    quoteVolume: close,
    trades: 1,
    closed: true,
    receivedAt: t0 + i * 60_000 + 60_000,
  }));
}

/** Reference output aligned to the input index (technicalindicators returns only the defined tail). */
function aligned<T>(out: T[], n: number): (T | undefined)[] {
  return [...new Array<undefined>(n - out.length).fill(undefined), ...out];
}

function close(actual: number | undefined, expected: number | undefined, tol: number, what: string): void {
  if (expected === undefined) return assert.equal(actual, undefined, `${what} should be absent`);
  assert.ok(actual !== undefined, `${what} missing (expected ${expected})`);
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

const N = 1500;
const candles = series(N);
const closes = candles.map((c) => c.close);
const ref = {
  sma: aligned(SMA.calculate({ period: 20, values: closes }), N),
  ema: aligned(EMA.calculate({ period: 50, values: closes }), N),
  // technicalindicators rounds RSI to 2 decimals (toFixed(2)); compared with that tolerance below
  rsi: aligned(RSI.calculate({ period: 14, values: closes }), N),
  // SimpleMA* false = EMA oscillator and EMA signal (the standard MACD; the library's default is SMA)
  macd: aligned(MACD.calculate({ values: closes, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false }), N),
  // the library's SD divides by the period: population σ, the same convention as ours
  bb: aligned(BollingerBands.calculate({ period: 20, stdDev: 2, values: closes }), N),
};

function checkAll(got: ReturnType<IndicatorEngine['onClosedCandle']>, i: number): void {
  const tol = 1e-9;
  close(got.sma_20, ref.sma[i], tol, `sma_20[${i}]`);
  close(got.ema_50, ref.ema[i], tol, `ema_50[${i}]`);
  const r = ref.rsi[i];
  if (r === undefined) assert.equal(got.rsi_14, undefined, `rsi_14[${i}] should be absent`);
  else assert.ok(got.rsi_14 !== undefined && Math.abs(got.rsi_14 - r) <= 0.005 + 1e-9, `rsi_14[${i}]: ${got.rsi_14} vs ${r}`);
  const m = ref.macd[i];
  close(got.macd, m?.MACD, tol, `macd[${i}]`);
  close(got.macd_signal, m?.signal, tol, `macd_signal[${i}]`);
  close(got.macd_hist, m?.histogram, tol, `macd_hist[${i}]`);
  const b = ref.bb[i];
  close(got.bb_middle, b?.middle, tol, `bb_middle[${i}]`);
  close(got.bb_upper, b?.upper, tol, `bb_upper[${i}]`);
  close(got.bb_lower, b?.lower, tol, `bb_lower[${i}]`);
}

test('every indicator matches the reference on every candle, absent until warm', () => {
  const eng = new IndicatorEngine();
  candles.forEach((c, i) => checkAll(eng.onClosedCandle('binance:BTC/USDT', c), i));
  // warm-up boundaries of the standard definitions
  const fresh = new IndicatorEngine();
  const at = candles.map((c) => fresh.onClosedCandle('k', c));
  assert.equal(at[18]!.sma_20, undefined);
  assert.notEqual(at[19]!.sma_20, undefined);
  assert.equal(at[13]!.rsi_14, undefined);
  assert.notEqual(at[14]!.rsi_14, undefined);
  assert.equal(at[24]!.macd, undefined);
  assert.notEqual(at[25]!.macd, undefined);
  assert.equal(at[32]!.macd_signal, undefined);
  assert.notEqual(at[33]!.macd_hist, undefined);
  assert.equal(at[48]!.ema_50, undefined);
  assert.notEqual(at[49]!.ema_50, undefined);
  assert.ok(Object.keys(at[IndicatorEngine.warmupCandles - 1]!).length === 9, 'all nine fields after warmupCandles');
  // the flat stretch: σ = 0 bands collapse onto the mean; Wilder's gain and loss decay by the same factor,
  // so RSI holds still
  const flat = at[624]!;
  close(flat.bb_upper, flat.bb_middle, 1e-12, 'bb_upper on a flat window');
  close(flat.rsi_14, at[601]!.rsi_14, 1e-9, 'rsi_14 on a flat stretch');
});

test('seed() then live candles gives the same values as one uninterrupted stream', () => {
  const eng = new IndicatorEngine();
  eng.seed('k', candles.slice(0, 700));
  for (let i = 700; i < N; i++) checkAll(eng.onClosedCandle('k', candles[i]!), i);
});

test('symbols are independent; duplicate, out-of-order and open candles are ignored', () => {
  const eng = new IndicatorEngine();
  for (let i = 0; i < 200; i++) {
    checkAll(eng.onClosedCandle('a', candles[i]!), i);
    eng.onClosedCandle('b', { ...candles[i]!, close: candles[i]!.close * 2 });
    // the same candle again (backfill overlapping the live stream) and an older one: no effect
    assert.deepEqual(eng.onClosedCandle('a', candles[i]!), {});
    if (i > 0) assert.deepEqual(eng.onClosedCandle('a', candles[i - 1]!), {});
    assert.deepEqual(eng.onClosedCandle('a', { ...candles[i + 1]!, closed: false }), {});
  }
  const b = eng.onClosedCandle('b', { ...candles[200]!, close: candles[200]!.close * 2 });
  close(b.sma_20, ref.sma[200]! * 2, 1e-9, 'scaled sma_20 of b');
  checkAll(eng.onClosedCandle('a', candles[200]!), 200);
});
