// Shared rig for the process-level scenarios: a real InfluxDB 1.x, the local Binance server, the market
// feeder as a real process, and assertions on what InfluxDB holds compared with what the exchange closed.
import assert from 'node:assert/strict';
import { BinanceFake, type InfluxServer, unreachablePolledSources } from '@mt/testing';

export const MINUTE = 60_000;

export interface Row {
  time: number;
  [k: string]: unknown;
}

export async function select(influx: InfluxServer, q: string, db = 'markets'): Promise<Row[]> {
  const res = await influx.query(q, db);
  const s = res.results[0]?.series?.[0];
  if (!s) return [];
  return s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) as Row);
}

export const storedCandles = (influx: InfluxServer, symbol: string) =>
  select(influx, `SELECT * FROM "candles" WHERE "symbol"='${symbol}' AND time > 0 ORDER BY time`);

export async function lastStored(influx: InfluxServer, symbol: string): Promise<number> {
  const rows = await select(influx, `SELECT last("close") FROM "candles" WHERE "symbol"='${symbol}' AND time > 0`);
  return rows[0]?.time ?? 0;
}

/** A Binance fake on the current minute (inside retention) with fast candles. */
export function binanceFake(symbols: string[], over: ConstructorParameters<typeof BinanceFake>[0] = {}): Promise<BinanceFake> {
  return new BinanceFake({
    symbols: symbols.map((s) => s.replace('/', '')),
    startTime: Math.floor(Date.now() / MINUTE) * MINUTE,
    historyMinutes: 120,
    candleMs: 200,
    ...over,
  }).listen();
}

/** Market feeder env: only Binance is live; polled sources and Alertmanager point at a dead port. */
export async function feederEnv(influx: InfluxServer, fake: BinanceFake, symbols: string[], over: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    WATCH_SYMBOLS: symbols.map((s) => `${s}:crypto`).join(','),
    BINANCE_WS_URL: fake.wsUrl,
    BINANCE_REST_URL: fake.restUrl,
    BACKFILL_HOURS: '0.5',
    BINANCE_STALE_MS: '2000',
    ...(await unreachablePolledSources()),
    LOG_LEVEL: 'info',
    ...over,
  };
}

/**
 * Between the first stored candle and `upTo`: every candle the exchange closed is stored exactly once
 * with the exchange's values. Returns how many were compared.
 */
export async function assertGapFree(influx: InfluxServer, fake: BinanceFake, symbol: string, upTo: number): Promise<number> {
  const rows = (await storedCandles(influx, symbol)).filter((r) => r.time <= upTo);
  assert.ok(rows.length > 0, `${symbol}: no candles stored`);
  const expected = fake.closedCandles(symbol, rows[0]!.time).filter((c) => c.openTime <= upTo);
  const got = new Set(rows.map((r) => r.time));
  const missing = expected.filter((c) => !got.has(c.openTime)).map((c) => new Date(c.openTime).toISOString());
  assert.deepEqual(missing, [], `${symbol}: missing candles`);
  assert.equal(rows.length, expected.length, `${symbol}: stored ${rows.length}, exchange closed ${expected.length}`);
  for (const [i, c] of expected.entries()) {
    const r = rows[i]!;
    assert.deepEqual([r.time, r.open, r.high, r.low, r.close, r.volume, r.trades], [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.trades], `${symbol} candle ${new Date(c.openTime).toISOString()}`);
  }
  return rows.length;
}

/**
 * assertGapFree for every symbol once the feeder has settled: after a restart the backfill of one
 * symbol may still be in flight while another's live candles already reached `upTo`.
 */
export async function eventuallyGapFree(influx: InfluxServer, fake: BinanceFake, symbols: string[], upTo: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      for (const s of symbols) await assertGapFree(influx, fake, s, upTo);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
