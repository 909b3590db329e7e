// A demo-style run (`npm run demo`'s polled-source fakes, the replay server for Binance, the market
// feeder as a process, a real InfluxDB 1.x with the demo's watch set) stores recent points for every
// polled source: Yahoo quotes for the stock, the FX pair and the index (World indices, FX cross rates),
// Yahoo candles, CoinGecko's market cap and the Fear & Greed reading — none dropped as older than
// markets/raw keeps (7 d), which is what the recorded 2021–2025 stamps gave before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startService, waitFor, type InfluxServer, type RunningService } from '@mt/testing';
import { ReplayServer, replayFeederEnv } from '../replay.js';
import { DEMO_YAHOO_WATCH, startDemoPolledSources, type DemoPolledSources } from '../demo-sources.js';

const now = Date.now();
let influx: InfluxServer;
let replay: ReplayServer;
let polled: DemoPolledSources;
let feeder: RunningService;

before(async () => {
  [influx, replay, polled] = await Promise.all([startInflux(), new ReplayServer({ rate: 50 }).listen(), startDemoPolledSources(now)]);
  const env = await replayFeederEnv(replay, influx.url, 2, { ...polled.env, YAHOO_POLL_MS: '1000' });
  feeder = await startService('market-feeder', { ...env, WATCH_SYMBOLS: `${env.WATCH_SYMBOLS},${DEMO_YAHOO_WATCH}` });
});

after(async () => {
  await feeder?.kill();
  await Promise.allSettled([polled?.close(), replay?.close(), influx?.stop()]);
});

/** Time (ms) of the newest point matching the query, or undefined. */
async function newest(q: string, rp = 'raw'): Promise<number | undefined> {
  const r = await influx.query(q.replace('FROM "', `FROM "${rp}"."`), 'markets');
  const v = r.results[0]?.series?.[0]?.values[0]?.[0];
  return v === undefined ? undefined : Number(v);
}

test('every polled source of the demo stores points the dashboards read (recent, inside raw’s 7 days)', async () => {
  const checks: [string, string, number, string?][] = [
    ['Yahoo stock quote (AAPL)', `SELECT last("price") FROM "market_data" WHERE "symbol"='AAPL'`, 3600_000],
    ['Yahoo FX quote (EUR/USD)', `SELECT last("price") FROM "market_data" WHERE "symbol"='EUR/USD' AND "asset_type"='forex'`, 3600_000],
    ['Yahoo index (^SP500TR)', `SELECT last("price") FROM "market_data" WHERE "symbol"='^SP500TR' AND "asset_type"='index'`, 86400_000],
    ['Yahoo 1-minute candles (AMZN)', `SELECT last("close") FROM "candles" WHERE "symbol"='AMZN' AND "interval"='1m'`, 3600_000],
    ['Yahoo daily candles (^SP500TR)', `SELECT last("close") FROM "candles" WHERE "symbol"='^SP500TR' AND "interval"='1d'`, 2 * 86400_000, '1h'],
    ['CoinGecko market cap', `SELECT last("market_cap") FROM "market_data" WHERE "asset_type"='crypto'`, 3600_000],
    ['Fear & Greed', `SELECT last("value") FROM "fear_greed"`, 86400_000],
  ];
  const missing = async () => {
    const out: string[] = [];
    for (const [what, q, maxAge, rp] of checks) {
      const t = await newest(q, rp);
      if (t === undefined || t < now - maxAge) out.push(`${what}: ${t === undefined ? 'none' : new Date(t).toISOString()}`);
    }
    return out;
  };
  await waitFor(async () => (await missing()).length === 0, 60_000, 'a recent point of every polled source').catch(async (err: unknown) => {
    assert.fail(`${String(err)}\n${(await missing()).join('\n')}`);
  });
  // and none in the future: a replayed time is never ahead of the run
  for (const [what, q, , rp] of checks) assert.ok((await newest(q, rp))! <= Date.now(), `${what} not in the future`);
});
