// The market feeder as a real process (`startService`, the same entry point as `npm run market-feeder`)
// against a real InfluxDB 1.x and the local Binance server, whose simulated 1-minute candles close every
// 200 ms: the stored layout is the contract, SIGKILL + restart leaves no missing or duplicate candle,
// SIGTERM exits 0 with everything flushed (even while InfluxDB is stalled), /metrics has what ops need.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IndicatorEngine } from '../../src/market/indicators/index.js';
import type { Candle } from '../../src/market/types.js';
import { AlternativeMeFake, BinanceFake, CoinGeckoFake, fixtureJson, metricValue, startInflux, startService, waitFor, type InfluxServer, type RunningService, unreachablePolledSources } from '@mt/testing';

const MINUTE = 60_000;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT'];

let influx: InfluxServer;
let fake: BinanceFake;
let coingecko: CoinGeckoFake;
let fng: AlternativeMeFake;
let env: Record<string, string>;

before(async () => {
  influx = await startInflux();
  // Simulated time starts at the current minute, so candles are inside the 7 d retention of markets/raw.
  fake = await new BinanceFake({
    symbols: SYMBOLS.map((s) => s.replace('/', '')),
    startTime: Math.floor(Date.now() / MINUTE) * MINUTE,
    historyMinutes: 120,
    candleMs: 200,
  }).listen();
  coingecko = await new CoinGeckoFake().listen();
  // Fear & Greed answers 500 throughout: it must fail alone
  fng = await new AlternativeMeFake().listen();
  fng.fail({ kind: 'status', status: 500 }, { times: 1_000_000 });
  env = {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    WATCH_SYMBOLS: SYMBOLS.map((s) => `${s}:crypto`).join(','),
    BINANCE_WS_URL: fake.wsUrl,
    BINANCE_REST_URL: fake.restUrl,
    BACKFILL_HOURS: '1', // 60 candles over REST at the first start: every indicator is warm at once
    ...(await unreachablePolledSources()),
    COINGECKO_URL: `${coingecko.url}/api/v3`,
    COINGECKO_POLL_MS: '1000',
    FEAR_GREED_URL: fng.fngUrl,
    FEAR_GREED_POLL_MS: '1000',
  };
});

after(async () => {
  await coingecko?.close();
  await fng?.close();
  await fake?.close();
  await influx?.stop();
});

interface Row {
  time: number;
  [k: string]: unknown;
}

async function select(q: string): Promise<Row[]> {
  const res = await influx.query(q, 'markets');
  const s = res.results[0]?.series?.[0];
  if (!s) return [];
  return s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) as Row);
}

const storedCandles = (symbol: string) => select(`SELECT * FROM "candles" WHERE "symbol"='${symbol}' ORDER BY time`);

/** Every stored candle of `symbol` equals the exchange's, and none is missing between the first stored and `upTo`. */
async function assertGapFree(symbol: string, upTo: number): Promise<number> {
  const rows = (await storedCandles(symbol)).filter((r) => r.time <= upTo);
  assert.ok(rows.length > 0, `${symbol}: no candles stored`);
  const first = rows[0]!.time;
  const expected = fake.closedCandles(symbol, first).filter((c) => c.openTime <= upTo);
  const got = rows.map((r) => r.time);
  const missing = expected.map((c) => c.openTime).filter((t) => !got.includes(t));
  assert.deepEqual(missing.map((t) => new Date(t).toISOString()), [], `${symbol}: missing candles`);
  assert.equal(new Set(got).size, got.length, `${symbol}: duplicate open times`);
  assert.equal(rows.length, expected.length, `${symbol}: stored ${rows.length}, exchange closed ${expected.length}`);
  for (const [i, c] of expected.entries()) {
    const r = rows[i]!;
    assert.deepEqual(
      [r.time, r.open, r.high, r.low, r.close, r.volume, r.quote_volume, r.trades, r.exchange, r.asset_type, r.interval],
      [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.quoteVolume, c.trades, 'binance', 'crypto', '1m'],
      `${symbol} candle ${new Date(c.openTime).toISOString()}`,
    );
  }
  return rows.length;
}

const INDICATOR_FIELDS = ['sma_20', 'ema_50', 'rsi_14', 'macd', 'macd_signal', 'macd_hist', 'bb_upper', 'bb_middle', 'bb_lower'] as const;

/**
 * The stored indicators equal one uninterrupted series over every stored candle: the restarted feeder
 * warmed up from storage instead of starting cold. (Stored history stays under the warm-up depth here.)
 */
async function assertIndicatorsContinuous(symbol: string, upTo: number): Promise<void> {
  const candles = (await storedCandles(symbol)).filter((r) => r.time <= upTo);
  assert.ok(candles.length < 200, 'history within the warm-up depth');
  const engine = new IndicatorEngine();
  const expected = new Map(
    candles.map((r) => {
      const c = { openTime: r.time, close: r.close as number, closed: true } as Candle;
      return [r.time, engine.onClosedCandle(symbol, c) as Record<string, number | undefined>];
    }),
  );
  const stored = (await select(`SELECT * FROM "indicators" WHERE "symbol"='${symbol}' ORDER BY time`)).filter((r) => r.time <= upTo);
  // a candle acknowledged just before the SIGKILL may have lost its indicators point; never more than that
  const defined = [...expected.values()].filter((v) => Object.keys(v).length > 0).length;
  assert.ok(defined > 50 && stored.length >= defined - 2, `indicators for ${stored.length} of ${defined} candles`);
  for (const r of stored) {
    const want = expected.get(r.time);
    assert.ok(want, `indicators at ${new Date(r.time).toISOString()} without a candle`);
    for (const f of INDICATOR_FIELDS) {
      const w = want[f];
      const got = r[f] as number | null;
      if (w === undefined) assert.equal(got, null, `${f} before warm`);
      else assert.ok(got !== null && Math.abs(got - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${new Date(r.time).toISOString()} ${f}: stored ${got}, expected ${w}`);
    }
  }
}

async function fieldTypes(measurement: string): Promise<Record<string, string>> {
  const res = await influx.query(`SHOW FIELD KEYS FROM "${measurement}"`, 'markets');
  return Object.fromEntries((res.results[0]?.series?.[0]?.values ?? []).map((v) => [String(v[0]), String(v[1])]));
}

async function tagKeys(measurement: string): Promise<string[]> {
  const res = await influx.query(`SHOW TAG KEYS FROM "${measurement}"`, 'markets');
  return (res.results[0]?.series?.[0]?.values ?? []).map((v) => String(v[0])).sort();
}

async function lastStored(symbol: string): Promise<number> {
  const rows = await select(`SELECT last("close") FROM "candles" WHERE "symbol"='${symbol}'`);
  return rows[0]?.time ?? 0;
}

test('a bad variable stops the feeder at start-up with one line naming it', async () => {
  const err = await startService('market-feeder', { ...env, BINANCE_WS_URL: 'not a url', BINANCE_STALE_MS: 'soon' }, { timeoutMs: 20_000 }).then(
    async (svc) => {
      await svc.kill();
      return undefined;
    },
    (e: Error) => e,
  );
  assert.ok(err, 'the feeder must not start');
  assert.match(err.message, /exited with 1 during start-up/);
  const log = err.message.split('log: ')[1]!.trim().split('\n');
  assert.equal(log.length, 1, `one line, got:\n${log.join('\n')}`);
  assert.match(log[0]!, /^config error: .*BINANCE_WS_URL.*BINANCE_STALE_MS|^config error: .*BINANCE_STALE_MS.*BINANCE_WS_URL/);
});

test('market feeder process: contract layout, metrics, SIGKILL + restart without gaps, SIGTERM flushes', async (t) => {
  let svc: RunningService | undefined;
  try {
    svc = await startService('market-feeder', env);
    const feeder = svc;

    await t.test('candles, indicators and market_data are stored per the contract', async () => {
      await waitFor(async () => (await storedCandles('ETH/USDT')).length >= 70 && (await storedCandles('BTC/USDT')).length >= 70, 30_000, '70 candles per symbol');
      assert.deepEqual(await fieldTypes('candles'), {
        close: 'float',
        high: 'float',
        low: 'float',
        open: 'float',
        quote_volume: 'float',
        trades: 'integer',
        volume: 'float',
      });
      assert.deepEqual(await tagKeys('candles'), ['asset_type', 'exchange', 'interval', 'symbol']);
      assert.deepEqual(await tagKeys('market_data'), ['asset_type', 'exchange', 'symbol']);
      const md = await fieldTypes('market_data');
      for (const f of ['price', 'bid', 'ask', 'volume_24h', 'change_pct_24h', 'high_24h', 'low_24h']) assert.equal(md[f], 'float', `market_data.${f}: ${JSON.stringify(md)}`);
      assert.deepEqual(await tagKeys('indicators'), ['asset_type', 'exchange', 'interval', 'symbol']);
      const ind = await fieldTypes('indicators');
      for (const f of INDICATOR_FIELDS) {
        assert.equal(ind[f], 'float', `indicators.${f}: ${JSON.stringify(ind)}`);
      }
      // one indicators point per stored candle at most, at the candle's open time
      // (indicators read first: a candle and its indicators may land between two reads, never the indicators alone)
      const indTimes = (await select(`SELECT "sma_20" FROM "indicators" WHERE "symbol"='BTC/USDT'`)).map((r) => r.time);
      const candleTimes = new Set((await storedCandles('BTC/USDT')).map((r) => r.time));
      assert.ok(indTimes.length > 0, 'indicators stored');
      const orphans = indTimes.filter((x) => !candleTimes.has(x));
      assert.deepEqual(orphans, [], 'every indicators point at a stored candle’s open time');
      // at most one market_data point per symbol per second
      for (const s of SYMBOLS) {
        // explicit bounds: simulated time runs ahead of the wall clock, past InfluxQL's default now() bound
        const range = `time >= ${fake.historyStart()}ms AND time <= ${fake.now() + 3600_000}ms`;
        const perSecond = await select(`SELECT count("price") FROM "market_data" WHERE "symbol"='${s}' AND ${range} GROUP BY time(1s) fill(none)`);
        assert.ok(perSecond.length > 0, `${s}: market_data stored`);
        assert.ok(
          perSecond.every((r) => r.count === 1),
          `${s}: ${JSON.stringify(perSecond.filter((r) => r.count !== 1))}`,
        );
      }
      const md0 = (await select(`SELECT * FROM "market_data" WHERE "symbol"='BTC/USDT' ORDER BY time DESC LIMIT 1`))[0]!;
      assert.equal(md0.exchange, 'binance');
      assert.equal(md0.asset_type, 'crypto');
      assert.equal(typeof md0.price, 'number');
      // CoinGecko's market cap (recorded /coins/markets) joined onto the crypto symbols' market_data
      const caps = new Map(fixtureJson<{ symbol: string; market_cap: number }[]>('coingecko/coins_markets_vs_usd_2023-01-08_first10.json').map((c) => [c.symbol, c.market_cap]));
      for (const [s, base] of [
        ['BTC/USDT', 'btc'],
        ['ETH/USDT', 'eth'],
      ] as const) {
        await waitFor(async () => (await select(`SELECT "market_cap" FROM "market_data" WHERE "symbol"='${s}' AND "market_cap" > 0`)).length > 0, 10_000, `${s} market_cap`);
        const rows = await select(`SELECT "market_cap" FROM "market_data" WHERE "symbol"='${s}' AND "market_cap" > 0`);
        assert.ok(rows.every((r) => r.market_cap === caps.get(base)), `${s}: ${JSON.stringify(rows.slice(0, 3))}`);
      }
      assert.equal((await fieldTypes('market_data')).market_cap, 'float');
    });

    await t.test('malformed frames, unknown events and a dropped connection are counted and survived', async () => {
      fake.sendMalformed();
      fake.sendUnknownEvent();
      fake.dropAll();
      await waitFor(async () => metricValue(await feeder.metrics(), 'feeder_reconnects_total', { source: 'binance_ws' }) >= 1, 15_000, 'a reconnect');
      const before = await lastStored('BTC/USDT');
      await waitFor(async () => (await lastStored('BTC/USDT')) > before + 3 * MINUTE, 15_000, 'candles after the reconnect');
    });

    await t.test('/metrics exposes what the dashboards and alerts use', async () => {
      const m = await feeder.metrics();
      assert.ok(metricValue(m, 'feeder_messages_total', { source: 'binance_ws' }) > 0, 'messages per source');
      assert.ok(metricValue(m, 'feeder_parse_errors_total', { source: 'binance_ws' }) >= 1, 'parse errors');
      assert.ok(metricValue(m, 'feeder_reconnects_total', { source: 'binance_ws' }) >= 1, 'reconnects');
      assert.ok(metricValue(m, 'market_subscribed_streams') >= SYMBOLS.length, 'subscribed streams');
      for (const s of SYMBOLS) assert.match(m, new RegExp(`market_last_tick_age_seconds\\{[^}]*symbol="${s.replace('/', '\\/')}"`), 'tick age per symbol');
      assert.ok(metricValue(m, 'market_candles_backfilled_total') > 0, 'backfilled candles');
      assert.match(m, /# TYPE market_gaps_detected_total counter/, 'gaps');
      assert.ok(metricValue(m, 'influx_points_written_total', { bucket: 'markets/raw' }) > 0, 'points written');
      assert.match(m, /# TYPE influx_points_dropped_total counter/, 'points dropped');
      assert.ok(metricValue(m, 'influx_write_duration_seconds_count', { bucket: 'markets/raw' }) > 0, 'write latency');
      assert.match(m, /service="market-feeder"/);
      // Yahoo (unreachable) and Fear & Greed (HTTP 500) fail alone (and /healthz says so); the others go on
      const res = await fetch(`${feeder.url}/healthz`);
      const health = (await res.json()) as { ok: boolean; degraded: boolean; influx: { ok: boolean }; sources: Record<string, boolean>; components: Record<string, unknown> };
      assert.equal(res.status, 200, `a failing source degrades, it does not fail the feeder: ${JSON.stringify(health)}`);
      assert.equal(health.ok, true);
      assert.equal(health.degraded, true);
      assert.equal(health.influx.ok, true);
      assert.equal(health.sources.binance_ws, true);
      assert.equal(health.sources.coingecko, true);
      assert.equal(health.sources.fear_greed, false);
      assert.ok(metricValue(m, 'feeder_source_errors_total', { source: 'fear_greed', kind: 'http_5xx' }) >= 1, 'fear & greed failures counted');
      assert.ok(health.components.binance, 'details per component');
    });

    await t.test('the exchange drops the connection every 1.5 s for 40 simulated minutes: zero missing, zero duplicate candles', async () => {
      const from = fake.lastClosedOpenTime();
      const before = metricValue(await feeder.metrics(), 'feeder_reconnects_total', { source: 'binance_ws' });
      let drops = 0;
      while (fake.lastClosedOpenTime() < from + 40 * MINUTE) {
        await new Promise((r) => setTimeout(r, 1500));
        drops += fake.dropAll() > 0 ? 1 : 0;
      }
      const target = fake.lastClosedOpenTime() + 2 * MINUTE;
      for (const s of SYMBOLS) await waitFor(async () => (await lastStored(s)) >= target, 20_000, `${s} caught up`);
      // a symbol's live candles can be stored while its backfill still waits behind another symbol's:
      // gap-free once the backfill is done (a candle never stored still fails, naming the hole)
      for (const s of SYMBOLS) await waitFor(() => assertGapFree(s, target), 60_000, `${s} gap-free`);
      assert.ok(drops >= 3, `drops: ${drops}`);
      assert.ok(metricValue(await feeder.metrics(), 'feeder_reconnects_total', { source: 'binance_ws' }) >= before + drops - 1, 'every drop reconnected');
    });

    await t.test('SIGKILL while candles keep closing, restart: zero missing, zero duplicate candles after backfill', async () => {
      await feeder.kill();
      const killedAt = await lastStored('BTC/USDT');
      // the exchange goes on: ~15 simulated minutes close while the feeder is down
      await waitFor(() => fake.lastClosedOpenTime() >= killedAt + 15 * MINUTE, 10_000, 'candles closing while down');
      await feeder.restart();
      const target = fake.lastClosedOpenTime() + 3 * MINUTE;
      for (const s of SYMBOLS) await waitFor(async () => (await lastStored(s)) >= target, 30_000, `${s} caught up`);
      // a symbol's live candles can be stored while its backfill still waits behind another symbol's:
      // gap-free once the backfill is done (a candle never stored still fails, naming the hole)
      for (const s of SYMBOLS) await waitFor(() => assertGapFree(s, target), 60_000, `${s} gap-free`);
      const m = await feeder.metrics();
      assert.ok(metricValue(m, 'market_candles_backfilled_total') >= 15, 'the outage was backfilled over REST');
      await assertIndicatorsContinuous('BTC/USDT', target);
    });

    await t.test('SIGTERM exits 0 and flushes what InfluxDB had not acknowledged yet', async () => {
      influx.pause(); // writes now queue in the feeder
      try {
        const from = fake.lastClosedOpenTime();
        await waitFor(() => fake.lastClosedOpenTime() >= from + 5 * MINUTE, 10_000, 'candles closing while InfluxDB is stalled');
        fake.pause();
        await new Promise((r) => setTimeout(r, 500)); // last frames reach the feeder
        const closed = fake.lastClosedOpenTime();
        const code = feeder.stop();
        await new Promise((r) => setTimeout(r, 1000));
        influx.resume();
        assert.equal(await code, 0, 'exit code');
        for (const s of SYMBOLS) await assertGapFree(s, closed);
        for (const s of SYMBOLS) assert.equal(await lastStored(s), closed, `${s}: the last closed candle was flushed`);
        const lines = feeder.logs();
        assert.ok(lines.some((l) => l.msg === 'shutdown complete' && l.ok === true), 'clean shutdown logged');
      } finally {
        influx.resume();
        fake.resume();
      }
    });
  } finally {
    await svc?.kill();
  }
});
