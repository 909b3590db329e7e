// The Live switch (docs/GRAFANA_LIVE.md "The contract"): the market feeder as a real process against a real
// InfluxDB 1.x, the local Binance server and the Grafana Live push fake, with a valid token configured both
// times. GRAFANA_LIVE=off: ticks are stored, nothing reaches Grafana, one log line says Live is off and
// why, /healthz says off. The same feeder without the switch pushes (the fake and the token do work).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFake, GrafanaLiveFake, startInflux, startService, unreachablePolledSources, waitFor, type InfluxServer, type RunningService } from '@mt/testing';

const MINUTE = 60_000;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT'];
const TOKEN = 'glsa_live_switch';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: InfluxServer;
let fake: BinanceFake;
let grafana: GrafanaLiveFake;
let env: Record<string, string>;

before(async () => {
  influx = await startInflux();
  fake = await new BinanceFake({ symbols: SYMBOLS.map((s) => s.replace('/', '')), startTime: Math.floor(Date.now() / MINUTE) * MINUTE, historyMinutes: 10, candleMs: 200 }).listen();
  grafana = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  env = {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    WATCH_SYMBOLS: SYMBOLS.map((s) => `${s}:crypto`).join(','),
    BINANCE_WS_URL: fake.wsUrl,
    BINANCE_REST_URL: fake.restUrl,
    BACKFILL_HOURS: '0',
    ...(await unreachablePolledSources()),
    GRAFANA_LIVE_URL: grafana.url,
    GRAFANA_LIVE_TOKEN: TOKEN,
  };
});

after(async () => {
  await grafana?.close();
  await fake?.close();
  await influx?.stop();
});

async function storedTicks(since: number): Promise<number> {
  const res = await influx.query(`SELECT count("price") FROM "market_data" WHERE time >= ${since}ms`, 'markets');
  return Number(res.results[0]?.series?.[0]?.values[0]![1] ?? 0);
}

const healthz = async (svc: RunningService) => (await (await fetch(`${svc.url}/healthz`)).json()) as { grafanaLive?: Record<string, unknown> };

test('GRAFANA_LIVE=off with a valid token: ticks stored, no push, a log line, /healthz says off', async () => {
  const t0 = Date.now();
  const svc = await startService('market-feeder', { ...env, GRAFANA_LIVE: 'off' });
  try {
    await waitFor(async () => (await storedTicks(t0)) >= 10, 30_000, 'ticks stored');
    await sleep(2000); // a push would have gone out on the next turn of the event loop
    assert.equal(grafana.requests.length, 0, 'nothing sent to Grafana');
    const off = svc.logs().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Grafana Live off'));
    assert.equal(off.length, 1, 'one log line');
    assert.equal(off[0]!.reason, 'GRAFANA_LIVE=off');
    assert.deepEqual((await healthz(svc)).grafanaLive, { on: false, reason: 'GRAFANA_LIVE=off' });
  } finally {
    await svc.stop();
  }
});

test('the same feeder without the switch pushes: /healthz says on', async () => {
  const t0 = Date.now();
  const svc = await startService('market-feeder', env);
  try {
    await waitFor(async () => grafana.on('stream/markets/ticker').length > 0, 30_000, 'pushed');
    assert.ok((await storedTicks(t0)) > 0);
    assert.equal((await healthz(svc)).grafanaLive?.on, true);
    assert.ok(!svc.logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('Grafana Live off')));
  } finally {
    await svc.stop();
  }
});
