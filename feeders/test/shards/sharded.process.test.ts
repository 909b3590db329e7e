// Sharded market feeders as real processes (docs/DEPLOYMENT.md, "Sharded market feeders"): three feeders
// (`FEEDER_SHARD=0/3`, `1/3`, and `FEEDER_SHARDS=3` with a StatefulSet hostname) share one watch set from
// the watchlist API's PostgreSQL, against the local Binance server and a real InfluxDB.
// Oracles, none of them the hash: which feeder receives ticks of which symbol (its own /metrics), the
// exchange's closed candles, and the candle points every feeder reports having written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BinanceFake,
  metricValue,
  startInflux,
  startPostgres,
  startService,
  unreachablePolledSources,
  waitFor,
  type InfluxServer,
  type PostgresServer,
  type RunningService,
} from '@mt/testing';

const MINUTE = 60_000;
const TOKEN = 'sharded-feeders-token-0123456789';
// twelve real Binance pairs; the split among three shards is whatever the hash makes of them
const SYMBOLS = ['BTC', 'ETH', 'BNB', 'SOL', 'XRP', 'ADA', 'DOGE', 'AVAX', 'DOT', 'LINK', 'LTC', 'TRX'].map((b) => `${b}/USDT`);

let influx: InfluxServer;
let pg: PostgresServer;
let fake: BinanceFake;
let api: RunningService;
const feeders: RunningService[] = [];
let baseEnv: Record<string, string>;

before(async () => {
  [influx, pg, fake] = await Promise.all([
    startInflux(),
    startPostgres(),
    new BinanceFake({ symbols: SYMBOLS.map((s) => s.replace('/', '')), startTime: Math.floor(Date.now() / MINUTE) * MINUTE, historyMinutes: 120, candleMs: 200 }).listen(),
  ]);
  const databaseUrl = await pg.createDatabase(`shards_${process.pid}`);
  api = await startService('watchlist-api', { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 20_000, 'API migrated');
  const res = await fetch(`${api.url}/api/watchlists`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'majors', items: SYMBOLS.map((symbol) => ({ symbol, asset_type: 'crypto' })) }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  baseEnv = {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: databaseUrl,
    BINANCE_WS_URL: fake.wsUrl,
    BINANCE_REST_URL: fake.restUrl,
    BACKFILL_HOURS: '0.5',
    ...(await unreachablePolledSources()),
  };
});

after(async () => {
  await Promise.allSettled([...feeders.map((f) => f.stop()), api?.stop()]);
  await Promise.allSettled([fake?.close(), influx?.stop(), pg?.stop()]);
});

/** The symbols a feeder receives ticks for, from its own /metrics. */
async function ticking(f: RunningService): Promise<string[]> {
  const lines = (await f.metrics()).split('\n').filter((l) => l.startsWith('market_last_tick_age_seconds{'));
  return SYMBOLS.filter((s) => lines.some((l) => l.includes(`symbol="${s}"`)));
}

/** Which feeder ticks which symbol; waits until every symbol ticks somewhere. */
async function owners(fs: RunningService[]): Promise<Map<string, number[]>> {
  return waitFor(
    async () => {
      const m = new Map<string, number[]>();
      for (const [i, f] of fs.entries()) for (const s of await ticking(f)) m.set(s, [...(m.get(s) ?? []), i]);
      return m.size === SYMBOLS.length ? m : undefined;
    },
    60_000,
    'every symbol ticking on some feeder',
  );
}

async function storedCandleTimes(symbol: string): Promise<number[]> {
  // explicit bounds: the simulated clock runs ahead of the wall clock, past InfluxQL's default now() bound
  const res = await influx.query(`SELECT "close" FROM "candles" WHERE "symbol"='${symbol}' AND time >= ${fake.historyStart()}ms AND time <= ${fake.now() + 3600_000}ms`, 'markets');
  return (res.results[0]?.series?.[0]?.values ?? []).map((v) => Number(v[0]));
}

/** Candles stored in every timeframe's retention policy (1m in raw; 5m, 1h, 1d built from them: docs/INFLUXDB.md, "Timeframes"). */
async function storedCandleCount(): Promise<number> {
  let n = 0;
  for (const rp of ['raw', '5m', '1h']) {
    const res = await influx.query(`SELECT count("close") FROM "markets"."${rp}"."candles" WHERE time >= 0 AND time <= ${fake.now() + 2 * 86_400_000}ms GROUP BY *`, 'markets');
    for (const s of res.results[0]?.series ?? []) n += s.values.reduce((a, v) => a + Number(v[1]), 0);
  }
  return n;
}

/** Every symbol's stored candles equal the exchange's closed ones from its first stored up to `upTo`: nothing missing, nothing extra. */
async function assertGapFree(upTo: number): Promise<number> {
  let total = 0;
  for (const s of SYMBOLS) {
    const got = (await storedCandleTimes(s)).filter((t) => t <= upTo);
    assert.ok(got.length > 0, `${s}: no candles stored`);
    const want = fake.closedCandles(s, got[0]).map((c) => c.openTime).filter((t) => t <= upTo);
    const missing = want.filter((t) => !got.includes(t));
    assert.deepEqual(missing.map((t) => new Date(t).toISOString()), [], `${s}: missing candles`);
    assert.equal(got.length, want.length, `${s}: stored ${got.length}, the exchange closed ${want.length}`);
    total += got.length;
  }
  return total;
}

/** Wait until every symbol has its candles stored up to the exchange's last closed one. */
async function caughtUp(minCandles: number): Promise<number> {
  return waitFor(
    async () => {
      const last = fake.lastClosedOpenTime();
      for (const s of SYMBOLS) {
        const t = await storedCandleTimes(s);
        if (t.length < minCandles || t[t.length - 1] !== last) return undefined;
      }
      return last;
    },
    90_000,
    `every symbol stored up to the last closed candle (≥ ${minCandles})`,
  );
}

const candlePoints = async (fs: RunningService[]) => (await Promise.all(fs.map(async (f) => metricValue(await f.metrics(), 'market_points_total', { measurement: 'candles' })))).reduce((a, b) => a + b, 0);

test('three sharded feeders: each symbol on exactly one, every candle stored once, a killed shard backfills, 3 → 4 moves only what the new shard takes', async (t) => {
  const shardEnvs: Record<string, string>[] = [{ FEEDER_SHARD: '0/3' }, { FEEDER_SHARD: '1/3' }, { FEEDER_SHARDS: '3', HOSTNAME: 'market-feeder-2' }];
  feeders.push(...(await Promise.all(shardEnvs.map((e) => startService('market-feeder', { ...baseEnv, ...e })))));

  let before3: Map<string, number[]>;
  await t.test('each symbol is collected by exactly one feeder, and every feeder collects some', async () => {
    before3 = await owners(feeders);
    for (const [s, o] of before3) assert.equal(o.length, 1, `${s} ticks on feeders ${o.join(', ')}`);
    for (const [i, f] of feeders.entries()) {
      const m = await f.metrics();
      assert.equal(metricValue(m, 'market_watch_items', { scope: 'all' }), SYMBOLS.length, `feeder ${i} sees the whole watch set`);
      const owned = [...before3.values()].filter((o) => o[0] === i).length;
      assert.ok(owned > 0, `feeder ${i} collects something`);
      assert.equal(metricValue(m, 'market_watch_items', { scope: 'owned' }), owned, `feeder ${i}: owned items = the symbols it ticks`);
    }
    // the Fear & Greed index is polled by shard 0 alone
    const fng = await Promise.all(feeders.map(async (f) => (await f.metrics()).includes('source="fear_greed"')));
    assert.deepEqual(fng, [true, false, false]);
  });

  await t.test('every candle is written by exactly one feeder and stored once, gap-free', async () => {
    await caughtUp(40);
    fake.pause();
    try {
      const last = await caughtUp(40);
      // the sink flushes every 250 ms; the counters count what the core handed it
      await new Promise((r) => setTimeout(r, 1000));
      const stored1m = await assertGapFree(last);
      const stored = await storedCandleCount();
      assert.ok(stored >= stored1m, `${stored} candles in all timeframes, ${stored1m} of 1 minute`);
      assert.equal(await candlePoints(feeders), stored, 'candle points written by the three feeders (every timeframe) = candles stored');
    } finally {
      fake.resume();
    }
  });

  await t.test('a shard killed (SIGKILL) and restarted backfills its symbols: no gap', async () => {
    const victim = feeders[1]!;
    await victim.kill();
    const killedAt = fake.lastClosedOpenTime();
    await waitFor(() => fake.lastClosedOpenTime() >= killedAt + 20 * MINUTE || undefined, 30_000, '20 candles closed while shard 1 is down');
    await victim.restart();
    const last = await caughtUp(60);
    // live candles can be stored before the backfill of the outage has run: gap-free once it has (a hole never filled still fails, named)
    await waitFor(() => assertGapFree(last), 60_000, 'gap-free');
    const after = await owners(feeders);
    assert.deepEqual(after, before3, 'the restarted shard took back the same symbols');
  });

  await t.test('3 → 4 shards: only the symbols the new shard takes move, and they stay gap-free', async () => {
    await Promise.all(feeders.map((f) => f.stop()));
    const old = feeders.splice(0);
    const stoppedAt = fake.lastClosedOpenTime();
    feeders.push(...(await Promise.all([0, 1, 2, 3].map((i) => startService('market-feeder', { ...baseEnv, FEEDER_SHARD: `${i}/4` })))));
    assert.equal(old.length, 3);
    const after4 = await owners(feeders);
    for (const [s, o] of after4) assert.equal(o.length, 1, `${s} ticks on feeders ${o.join(', ')}`);
    const moved = SYMBOLS.filter((s) => after4.get(s)![0] !== before3.get(s)![0]);
    assert.ok(
      moved.every((s) => after4.get(s)![0] === 3),
      `a symbol that moved went to the new shard: ${moved.map((s) => `${s} ${before3.get(s)} → ${after4.get(s)}`).join(', ')}`,
    );
    assert.ok(moved.length > 0 && moved.length < SYMBOLS.length / 2, `${moved.length} of ${SYMBOLS.length} moved`);
    const last = await caughtUp(60);
    assert.ok(last > stoppedAt);
    // live candles can be stored before the backfill of the outage has run: gap-free once it has (a hole never filled still fails, named)
    await waitFor(() => assertGapFree(last), 60_000, 'gap-free');
  });
});
