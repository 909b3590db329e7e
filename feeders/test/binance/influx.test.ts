// The acceptance scenario with a real InfluxDB: many simulated minutes while the server drops the
// connection every couple of seconds (plus a stall and a serverShutdown), then the feeder stopped for a
// while and started again (a fresh process state: it finds the last stored candle in InfluxDB) →
// zero missing and zero duplicated 1 m candles, values as the exchange has them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFake, waitFor, type FakeCandle } from '@mt/testing';
import { candlePoint } from '@mt/common';
import { createBinanceSource } from '../../src/market/binance/index.js';
import { compareCandles, crypto, harness, type Harness } from './harness.js';
import { venueInflux } from '../venue-influx.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT'];
const db = venueInflux('binance-influx-test');

async function storedCandles(symbol: string) {
  const res = await db.influx.query(`SELECT "open","high","low","close","volume","quote_volume","trades" FROM "candles" WHERE "symbol"='${symbol}' AND "interval"='1m' AND "exchange"='binance'`, 'markets');
  return (res.results[0]?.series?.[0]?.values ?? []) as [number, number, number, number, number, number, number, number][];
}

function assertSameAsExchange(rows: Awaited<ReturnType<typeof storedCandles>>, want: FakeCandle[], what: string) {
  assert.deepEqual(
    compareCandles(
      want.map((c) => c.openTime),
      rows.map((x) => x[0]),
    ),
    { missing: [], duplicated: [], extra: [] },
    what,
  );
  for (const [t, o, hi, lo, c, v, q, n] of rows) {
    const x = want.find((w) => w.openTime === t)!;
    assert.deepEqual([o, hi, lo, c, v, q, n], [x.open, x.high, x.low, x.close, x.volume, x.quoteVolume, x.trades], `${what}: candle ${t}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('drops every 2 s over ~100 simulated minutes and a restart: InfluxDB holds every closed candle exactly once', async () => {
  const fake = await new BinanceFake({ candleMs: 120, pingIntervalMs: 1000 }).listen();
  db.fakes.push(fake);
  const env = { BINANCE_WS_URL: fake.wsUrl, BINANCE_REST_URL: fake.restUrl, BACKFILL_HOURS: '0.5', BINANCE_STALE_MS: '1500' };

  const run = async (h: Harness, ms: number, faults: (i: number) => void) => {
    const src = createBinanceSource(h.ctx);
    db.sources.push(src);
    src.setWatch(crypto(...SYMBOLS));
    await src.start();
    for (let i = 0; Date.now() < start + ms; i++) {
      await sleep(2000);
      faults(i);
    }
    return src;
  };
  let start = Date.now();
  const h1 = harness(env, { influxql: db.influxql, sink: db.sink });
  const src1 = await run(h1, 10_000, (i) => {
    if (i === 2) fake.stallAll();
    else if (i === 3) fake.serverShutdown(800);
    else fake.dropAll();
  });
  await src1.stop();
  await db.sink.flush();
  const stoppedAt = fake.lastClosedOpenTime();

  // Down for ~15 simulated minutes, then a new process state.
  await sleep(1800);
  start = Date.now();
  const h2 = harness(env, { influxql: db.influxql, sink: db.sink });
  await run(h2, 5000, () => fake.dropAll());
  await sleep(1000);
  fake.pause();
  const last = fake.lastClosedOpenTime();
  assert.ok(last - stoppedAt >= 10 * 60_000, 'the feeder was down for 10+ simulated minutes');
  await waitFor(() => SYMBOLS.every((s) => h2.candles.some((c) => c.symbol === s && c.openTime === last)), 10_000, 'last candle handed over');
  await db.sink.flush();

  const handed = [...h1.candles, ...h2.candles];
  for (const symbol of SYMBOLS) {
    const rows = await storedCandles(symbol);
    const want: FakeCandle[] = fake.closedCandles(symbol, rows[0]![0]);
    // Backfill reached BACKFILL_HOURS (30 min) back from the first live candle.
    assert.ok(want.length >= 100, `${want.length} simulated minutes`);
    assertSameAsExchange(rows, want, `${symbol} in InfluxDB`);
    // InfluxDB would silently merge a doubled point, so the write side is checked too: each candle handed over once.
    const mine = handed.filter((c) => c.symbol === symbol).map((c) => c.openTime);
    assert.deepEqual(compareCandles(want.map((c) => c.openTime), mine), { missing: [], duplicated: [], extra: [] }, `${symbol} handed to the sink`);
  }
  const written = (await db.sinkRegistry.getSingleMetricAsString('influx_points_written_total')).match(/bucket="markets\/raw"} (\d+)/);
  assert.equal(Number(written?.[1]), handed.length, 'points written = candles handed over');
  assert.ok((await h1.metric('feeder_reconnects_total', { source: 'binance_ws' })) >= 3);
  assert.ok((await h2.metric('market_candles_backfilled_total')) >= 2 * 10, 'the restart backfilled the downtime');
});

test('a hole left in storage (killed before a reconnect backfill finished) is found and filled at start', async () => {
  const fake = await new BinanceFake({ candleMs: 150 }).listen();
  db.fakes.push(fake);
  const S = fake.o.startTime;
  const symbol = 'SOL/USDT';
  // Stored by an earlier run: 20 candles before the live start, with 3 missing in the middle.
  const hole = [S - 15 * 60_000, S - 14 * 60_000, S - 13 * 60_000];
  for (const c of fake.closedCandles(symbol, S - 20 * 60_000).filter((c) => c.openTime < S && !hole.includes(c.openTime))) {
    db.sink.write('markets/raw', candlePoint({ ...c, symbol, exchange: 'binance', assetType: 'crypto', interval: '1m' }));
  }
  await db.sink.flush();
  assert.equal((await storedCandles(symbol)).length, 17);

  const h = harness({ BINANCE_WS_URL: fake.wsUrl, BINANCE_REST_URL: fake.restUrl, BACKFILL_HOURS: '0.5' }, { influxql: db.influxql, sink: db.sink });
  const src = createBinanceSource(h.ctx);
  db.sources.push(src);
  src.setWatch(crypto(symbol));
  await src.start();
  await sleep(1500);
  fake.pause();
  const last = fake.lastClosedOpenTime();
  await waitFor(() => h.candles.some((c) => c.openTime === last), 10_000, 'last candle');
  await db.sink.flush();
  assertSameAsExchange(await storedCandles(symbol), fake.closedCandles(symbol, S - 20 * 60_000), 'SOL/USDT in InfluxDB');
  for (const t of hole) assert.equal(h.candles.filter((c) => c.openTime === t).length, 1, `hole ${t} filled once`);
  assert.ok(!h.candles.some((c) => c.openTime < hole[0]!), 'nothing before the hole fetched again');
});
