// Fear & Greed end to end into a real InfluxDB 1.x (Debian influxd, INFLUX_API=v1) through the real sink:
// the `fear_greed` measurement exactly per the contract (value integer 0–100, classification string),
// and the same reading polled twice stored once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { AlternativeMeFake, fixtureJson, startInflux } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, type InfluxConfig } from '@mt/common';
import { FearGreedSource } from '../../src/market/feargreed/index.js';
import { harness } from '../polled/harness.js';

test('fear_greed stored exactly once per reading in markets/raw', { timeout: 60_000 }, async () => {
  const influx = await startInflux();
  const fake = await new AlternativeMeFake().listen();
  const h = harness();
  const cfg: InfluxConfig = { url: influx.url, token: '', org: '', api: 'v1' };
  const sink = createInfluxSink(cfg, { log: h.log, registry: new Registry() });
  const src = new FearGreedSource({ url: fake.fngUrl, intervalMs: 3_600_000, log: h.log, metrics: h.metrics, sink });
  try {
    await bootstrapInflux(cfg, h.log);
    // the recorded body with its day moved to today: markets/raw keeps 7 days, influxd drops older points
    const today = Math.floor(Date.now() / 86_400_000) * 86_400;
    const body = fixtureJson<{ data: Record<string, string>[] }>('alternative_me/fng_latest_2021-12-20.json');
    body.data[0]!.timestamp = String(today);
    fake.body = body;
    assert.deepEqual(await src.poller.pollOnce(), { ok: true });
    assert.deepEqual(await src.poller.pollOnce(), { ok: true });
    await sink.flush();

    const ql = createInfluxQLClient(cfg);
    const rows = await ql.query('markets', 'SELECT * FROM "markets"."raw"."fear_greed"');
    assert.deepEqual(rows[0]?.columns, ['time', 'classification', 'value']);
    assert.deepEqual(rows[0]?.values, [[today * 1000, 'Extreme Fear', 25]]);
    const types = await ql.query('markets', 'SHOW FIELD KEYS ON "markets" FROM "raw"."fear_greed"');
    assert.deepEqual(types[0]?.values, [
      ['classification', 'string'],
      ['value', 'integer'],
    ]);
  } finally {
    await src.stop();
    await sink.close();
    await fake.close();
    await influx.stop();
  }
});
