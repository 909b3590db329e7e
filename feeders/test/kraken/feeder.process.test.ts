// The market feeder as a real process collecting Kraken items (WATCH_SYMBOLS `kraken:BTC/USD:crypto`) from
// the local Kraken server into a real InfluxDB: drops, bad frames and a corrupted book checksum while it
// runs, then SIGKILL while minutes keep closing and a restart → zero missing, zero duplicate 1 m candles
// with the exchange's values, the resync counted on /metrics, no crossed book stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KrakenFake, metricValue, startInflux, startService, unreachablePolledSources, waitFor, type InfluxServer, type RunningService } from '@mt/testing';

const SYMBOLS = ['BTC/USD', 'ETH/USD'];
const MINUTE = 60_000;
let influx: InfluxServer;
let fake: KrakenFake;
let feeder: RunningService | undefined;

before(async () => {
  influx = await startInflux();
  fake = await new KrakenFake({ candleMs: 200, historyMinutes: 120, heartbeatMs: 300 }).listen();
});

after(async () => {
  await feeder?.kill();
  await fake?.close();
  await influx?.stop();
});

async function rows(q: string): Promise<Record<string, unknown>[]> {
  const s = (await influx.query(q, 'markets')).results[0]?.series?.[0];
  return s ? s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))) : [];
}
const candles = (symbol: string) => rows(`SELECT * FROM "candles" WHERE "exchange"='kraken' AND "symbol"='${symbol}' AND "interval"='1m' AND time > 0 ORDER BY time`);
const lastStored = async (symbol: string) => Number((await candles(symbol)).at(-1)?.time ?? 0);

async function assertGapFree(symbol: string, upTo: number): Promise<number> {
  const got = (await candles(symbol)).filter((r) => Number(r.time) <= upTo);
  assert.ok(got.length > 0, `${symbol}: nothing stored`);
  const want = fake.closedCandles(symbol, Number(got[0]!.time)).filter((c) => c.openTime <= upTo);
  assert.deepEqual(
    got.map((r) => [r.time, r.open, r.high, r.low, r.close, r.volume, r.quote_volume, r.trades]),
    want.map((c) => [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.quoteVolume, c.trades]),
    `${symbol}: stored candles = the exchange's`,
  );
  return got.length;
}

async function caughtUp(): Promise<number> {
  const target = fake.lastClosedOpenTime() + 2 * MINUTE;
  for (const s of SYMBOLS) await waitFor(async () => (await lastStored(s)) >= target, 30_000, `${s} caught up`);
  for (const s of SYMBOLS) {
    // after a restart the backfill of one symbol may still be in flight
    await waitFor(async () => (await assertGapFree(s, target).then(() => true, () => false)) || undefined, 20_000, `${s} gap-free`);
    await assertGapFree(s, target);
  }
  return target;
}

test('Kraken in the feeder process: faults, SIGKILL and restart leave every candle stored once; resyncs counted; no crossed book', async () => {
  feeder = await startService('market-feeder', {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    WATCH_SYMBOLS: SYMBOLS.map((s) => `kraken:${s}:crypto`).join(','),
    KRAKEN_WS_URL: fake.wsUrl,
    KRAKEN_REST_URL: fake.restUrl,
    KRAKEN_REST_INTERVAL_MS: '50',
    KRAKEN_STALE_MS: '1500',
    BACKFILL_HOURS: '0.5',
    DEPTH_BOOKS: 'kraken:ETH/USD',
    KRAKEN_BOOK_DEPTH: '25',
    ...(await unreachablePolledSources()),
    LOG_LEVEL: 'info',
  });
  await waitFor(async () => (await lastStored('BTC/USD')) > 0 && (await lastStored('ETH/USD')) > 0, 30_000, 'first candles');

  const sent = fake.sendMalformed();
  fake.corruptChecksum('ETH/USD');
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    fake.dropAll();
  }
  let m = await feeder.metrics();
  await waitFor(async () => metricValue((m = await feeder!.metrics()), 'market_book_resyncs_total', { exchange: 'kraken', symbol: 'ETH/USD', reason: 'checksum' }) >= 1, 10_000, 'resync counted');
  assert.ok(metricValue(m, 'feeder_parse_errors_total', { source: 'kraken_ws' }) >= sent, 'bad frames counted');
  assert.ok(metricValue(m, 'feeder_reconnects_total', { source: 'kraken_ws' }) >= 3, 'drops reconnected');
  await caughtUp();

  await feeder.kill();
  const killedAt = await lastStored('BTC/USD');
  await waitFor(() => fake.lastClosedOpenTime() >= killedAt + 15 * MINUTE, 15_000, 'minutes closing while down');
  await feeder.restart();
  const target = await caughtUp();
  assert.ok(metricValue(await feeder.metrics(), 'market_candles_backfilled_total', { exchange: 'kraken' }) >= 15, 'the outage came over REST');
  assert.ok(fake.closedCandles('BTC/USD', killedAt).filter((c) => c.openTime <= target).some((c) => c.trades === 0), 'minutes without trades among them');

  const books = await rows(`SELECT "best_bid","best_ask","bid_depth_1pct" FROM "order_book" WHERE "exchange"='kraken' AND "symbol"='ETH/USD' AND time > 0`);
  assert.ok(books.length >= 5, 'books stored');
  assert.ok(books.every((b) => Number(b.best_bid) < Number(b.best_ask) && Number(b.bid_depth_1pct) > 0), 'never crossed, with depth');
});
