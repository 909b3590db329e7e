// The CQs as InfluxDB's own scheduler runs them: candles backfilled three hours late (an outage) are
// rolled into 5m by the installed CQ because candles look back 6 h, while market_data ticks that old are
// not recomputed (its lookback is 10 min).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapInflux, createLogger } from '@mt/common';
import { startInflux, waitFor, type InfluxServer } from '@mt/testing';
import { apply } from '../src/index.js';

const MIN = 60_000;
const log = createLogger('influxdb-tasks-test', 'silent');

describe('continuous queries run by influxd', () => {
  let influx: InfluxServer;
  before(async () => {
    influx = await startInflux({ cqRunInterval: '1s' });
    await bootstrapInflux({ url: influx.url, token: '', org: '', api: 'v1' }, log);
  });
  after(async () => influx?.stop());

  it('rolls up late candles within the lookback', async () => {
    const w = Math.floor((Date.now() - 3 * 60 * MIN) / (5 * MIN)) * 5 * MIN; // a 5 min window 3 h ago
    const tags = 'exchange=binance,symbol=BTC/USDT,asset_type=crypto';
    const lines = [0, 1, 2, 3, 4].flatMap((m) => [
      `candles,${tags},interval=1m open=${100 + m},high=${110 + m},low=${90 + m},close=${101 + m},volume=1,quote_volume=100,trades=${m + 1}i ${w + m * MIN}`,
      `market_data,${tags} price=${100 + m} ${w + m * MIN}`,
    ]);
    const recent = Math.floor(Date.now() / (5 * MIN)) * 5 * MIN - 5 * MIN + 1000; // in the last closed window
    lines.push(`market_data,${tags} price=200 ${recent}`);
    const res = await fetch(`${influx.url}/write?db=markets&rp=raw&precision=ms`, { method: 'POST', body: lines.join('\n') });
    assert.equal(res.status, 204);
    await apply({ url: influx.url, token: '', org: '', api: 'v1' }, log);

    const row = await waitFor(
      async () => (await influx.query('SELECT * FROM "5m"."candles"', 'markets')).results[0]?.series?.[0],
      30_000,
      'the scheduled CQ to write the 5m candle',
    );
    const get = (c: string) => row.values[0]![row.columns.indexOf(c)];
    assert.equal(row.values.length, 1);
    assert.deepEqual(
      { time: get('time'), open: get('open'), high: get('high'), low: get('low'), close: get('close'), volume: get('volume'), trades: get('trades') },
      { time: w, open: 100, high: 114, low: 90, close: 105, volume: 5, trades: 15 },
    );
    // once the market_data CQ has run (the recent tick is rolled up), the 3 h old ticks are still not
    const md = await waitFor(
      async () => (await influx.query('SELECT "price" FROM "5m"."market_data"', 'markets')).results[0]?.series?.[0],
      30_000,
      'the scheduled CQ to roll up the recent tick',
    );
    assert.deepEqual(md.values.map((v) => v[1]), [200], 'ticks older than the 10 min lookback are left alone');
  });
});
