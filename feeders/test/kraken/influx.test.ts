// Kraken on a real InfluxDB: many simulated minutes (minutes without trades among them) while the fake
// drops connections, stalls one, closes them for maintenance, answers REST with errors and corrupts a
// book checksum; then the source stopped and a fresh one started (a new process: it resumes from what
// InfluxDB holds) → every 1 m candle stored exactly once with the exchange's values, the resync counted,
// no crossed book stored, depth stored for the DEPTH_BOOKS symbol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KrakenFake, waitFor, type KrakenFakeCandle } from '@mt/testing';
import { createKrakenSource } from '../../src/market/kraken/index.js';
import { candlePoint } from '@mt/common';
import { compareCandles } from '../binance/harness.js';
import { harness, kraken, type KrakenHarness } from './harness.js';
import { venueInflux } from '../venue-influx.js';

const SYMBOLS = ['BTC/USD', 'ETH/USD'];
const db = venueInflux('kraken-influx-test');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function storedCandles(symbol: string) {
  const res = await db.influx.query(`SELECT "open","high","low","close","volume","quote_volume","trades" FROM "candles" WHERE "symbol"='${symbol}' AND "interval"='1m' AND "exchange"='kraken'`, 'markets');
  return (res.results[0]?.series?.[0]?.values ?? []) as [number, number, number, number, number, number, number, number][];
}

function assertSameAsExchange(rows: Awaited<ReturnType<typeof storedCandles>>, want: KrakenFakeCandle[], what: string) {
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

test('drops, a stall, maintenance closes, REST errors and a restart: InfluxDB holds every 1 m candle once, as Kraken has it; books resync alone, never stored crossed', async () => {
  const fake = await new KrakenFake({ candleMs: 120, heartbeatMs: 200 }).listen();
  db.fakes.push(fake);
  const env = { KRAKEN_WS_URL: fake.wsUrl, KRAKEN_REST_URL: fake.restUrl, KRAKEN_REST_INTERVAL_MS: '50', BACKFILL_HOURS: '0.5', KRAKEN_STALE_MS: '1200', DEPTH_BOOKS: 'kraken:ETH/USD', KRAKEN_BOOK_DEPTH: '25' };

  let start = Date.now();
  const run = async (h: KrakenHarness, ms: number, faults: (i: number) => void) => {
    const src = createKrakenSource(h.ctx);
    db.sources.push(src);
    src.setWatch(kraken(...SYMBOLS));
    await src.start();
    for (let i = 0; Date.now() < start + ms; i++) {
      await sleep(1800);
      faults(i);
    }
    return src;
  };
  const h1 = harness(env, { influxql: db.influxql, sink: db.sink });
  const src1 = await run(h1, 11_000, (i) => {
    if (i === 0) fake.corruptChecksum('ETH/USD');
    else if (i === 1) fake.stallAll();
    else if (i === 2) {
      fake.failRest('EService:Unavailable', 2);
      fake.closeAll();
    } else if (i === 3) fake.loseBookUpdate('ETH/USD');
    else fake.dropAll();
  });
  await waitFor(async () => (await h1.metric('market_book_resyncs_total', { exchange: 'kraken', symbol: 'ETH/USD', reason: 'checksum' })) >= 2, 10_000, 'both book faults seen');
  await src1.stop();
  h1.store.flush();
  await db.sink.flush();
  const stoppedAt = fake.lastClosedOpenTime();

  // down for ~12 simulated minutes, then a fresh process state
  await sleep(1500);
  start = Date.now();
  const h2 = harness(env, { influxql: db.influxql, sink: db.sink });
  await run(h2, 5000, () => fake.dropAll());
  await sleep(800);
  fake.pause();
  const last = fake.lastClosedOpenTime();
  assert.ok(last - stoppedAt >= 8 * 60_000, 'the source was down for 8+ simulated minutes');
  // the last minute closes on the next minute's first update: step the market by hand
  for (let i = 0; i < 3 * fake.o.stepsPerCandle && !SYMBOLS.every((s) => h2.candles.some((c) => c.symbol === s && c.openTime === last)); i++) {
    fake.advance();
    await sleep(150);
  }
  await waitFor(() => SYMBOLS.every((s) => h2.candles.some((c) => c.symbol === s && c.openTime === last)), 10_000, 'last candle handed over');
  h2.store.flush();
  await db.sink.flush();

  const handed = [...h1.candles, ...h2.candles];
  for (const symbol of SYMBOLS) {
    const rows = (await storedCandles(symbol)).filter((r) => r[0] <= last);
    const want = fake.closedCandles(symbol, rows[0]![0]).filter((c) => c.openTime <= last);
    assert.ok(want.length >= 60, `${want.length} simulated minutes`);
    assert.ok(want.some((c) => c.trades === 0), 'minutes without trades among them');
    assertSameAsExchange(rows, want, `${symbol} in InfluxDB`);
    // InfluxDB would merge a doubled point silently: each candle was handed over once
    const mine = handed.filter((c) => c.symbol === symbol && c.openTime <= last).map((c) => c.openTime);
    assert.deepEqual(compareCandles(want.map((c) => c.openTime), mine), { missing: [], duplicated: [], extra: [] }, `${symbol} handed to the sink`);
  }
  assert.ok((await h1.metric('feeder_reconnects_total', { source: 'kraken_ws' })) >= 3, 'reconnects counted');
  assert.ok((await h2.metric('market_candles_backfilled_total', { exchange: 'kraken' })) >= 2 * 8, 'the restart backfilled the downtime');
  assert.ok((await h1.metric('feeder_source_errors_total', { source: 'kraken_rest' })) >= 1, 'REST errors counted (and retried)');
  assert.equal(await h1.metric('market_book_resyncs_total', { exchange: 'kraken', symbol: 'BTC/USD' }), 0, 'the other symbol never resynced');

  const books = (await db.influx.query(`SELECT "best_bid","best_ask","bid_depth_1pct","ask_depth_1pct","imbalance" FROM "order_book" WHERE "exchange"='kraken' GROUP BY "symbol"`, 'markets')).results[0]?.series ?? [];
  const bySymbol = new Map(books.map((s) => [s.tags!.symbol, s.values as (number | null)[][]]));
  assert.ok((bySymbol.get('ETH/USD')?.length ?? 0) >= 5 && (bySymbol.get('BTC/USD')?.length ?? 0) >= 5, 'books stored for both');
  for (const [, rows] of bySymbol) for (const r of rows) assert.ok(r[1]! < r[2]!, `stored book not crossed: ${JSON.stringify(r)}`);
  assert.ok(bySymbol.get('ETH/USD')!.every((r) => r[3]! > 0 && r[4]! > 0 && r[5]! >= -1 && r[5]! <= 1), 'depth and imbalance for the DEPTH_BOOKS symbol');
  assert.ok(bySymbol.get('BTC/USD')!.every((r) => r[3] === null), 'top of book only for the other');
  assert.ok(h1.books.every((b) => b.bestBid < b.bestAsk), 'no crossed book handed to the core');
});

test('a hole left in storage (killed before a reconnect backfill finished) is found and filled at start, nothing before it fetched again', async () => {
  const fake = await new KrakenFake({ candleMs: 150, symbols: ['SOL/USD'] }).listen();
  db.fakes.push(fake);
  const S = fake.o.startTime;
  const symbol = 'SOL/USD';
  const hole = [S - 15 * 60_000, S - 14 * 60_000, S - 13 * 60_000];
  for (const c of fake.closedCandles(symbol, S - 20 * 60_000).filter((c) => c.openTime < S && !hole.includes(c.openTime))) {
    db.sink.write('markets/raw', candlePoint({ ...c, exchange: 'kraken', assetType: 'crypto', interval: '1m' }));
  }
  await db.sink.flush();
  assert.equal((await storedCandles(symbol)).length, 17);
  const h = harness({ KRAKEN_WS_URL: fake.wsUrl, KRAKEN_REST_URL: fake.restUrl, KRAKEN_REST_INTERVAL_MS: '50', BACKFILL_HOURS: '0.5' }, { influxql: db.influxql, sink: db.sink });
  const src = createKrakenSource(h.ctx);
  db.sources.push(src);
  src.setWatch(kraken(symbol));
  await src.start();
  await sleep(1500);
  fake.pause();
  const last = fake.lastClosedOpenTime();
  for (let i = 0; i < 3 * fake.o.stepsPerCandle && !h.candles.some((c) => c.openTime === last); i++) {
    fake.advance();
    await sleep(150);
  }
  await waitFor(() => h.candles.some((c) => c.openTime === last), 10_000, 'last candle');
  // The loop above may advance the fake past `last` while the source lags (machine load): compare up to
  // `last` on both sides, and wait until every such candle is stored; the deadline's miss is reported by
  // the assertion below, which names the missing minutes.
  const want = fake.closedCandles(symbol, S - 20 * 60_000).filter((c) => c.openTime <= last);
  await waitFor(
    async () => {
      await db.sink.flush();
      const stored = new Set((await storedCandles(symbol)).map((r) => r[0]));
      return want.every((c) => stored.has(c.openTime));
    },
    15_000,
    'every candle up to the last stored',
  ).catch(() => undefined);
  assertSameAsExchange((await storedCandles(symbol)).filter((r) => r[0] <= last), want, 'SOL/USD in InfluxDB');
  for (const t of hole) assert.equal(h.candles.filter((c) => c.openTime === t).length, 1, `hole ${t} filled once`);
  assert.ok(!h.candles.some((c) => c.openTime < hole[0]!), 'nothing before the hole fetched again');
});
