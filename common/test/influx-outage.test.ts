// InfluxDB stopped for 30 s while a feeder keeps writing: the sink retries (no attempt limit) and
// every point is in the database afterwards, with nothing counted as dropped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Point } from '@influxdata/influxdb-client';
import { pino } from 'pino';
import { startInflux, type InfluxServer } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, type InfluxConfig } from '../src/index.js';
import { freshRegistry, metric, silentLog } from './helpers/influx.js';

let influx: InfluxServer | undefined;
after(async () => {
  await influx?.stop();
});

test('InfluxDB stopped for 30 s while writing continuously → every point present afterwards, none dropped', { timeout: 120_000 }, async () => {
  influx = await startInflux();
  const cfg: InfluxConfig = { url: influx.url, token: '', org: '', api: 'v1' };
  await bootstrapInflux(cfg, silentLog);
  const registry = freshRegistry();
  const logs: { msg: string; component?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l) as { msg: string }) });
  const sink = createInfluxSink(cfg, { log, registry });
  const t0 = Date.now() - 3_600_000;
  let n = 0;
  // ~50 points/s, as a feeder would: write() is called from a timer and never awaits the sink
  const writer = setInterval(() => {
    sink.write('markets/raw', new Point('outage').tag('symbol', 'BTCUSDT').intField('seq', n).floatField('price', 100 + n / 8).timestamp(new Date(t0 + n)));
    n++;
  }, 20);
  try {
    await new Promise((r) => setTimeout(r, 3000));
    await influx.stop();
    const stoppedAt = n;
    await new Promise((r) => setTimeout(r, 30_000));
    assert.ok(n - stoppedAt > 1000, `kept writing during the outage (${n - stoppedAt} points)`);
    await influx.start();
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    clearInterval(writer);
  }
  await sink.flush();
  const rows = await createInfluxQLClient(cfg).query('markets', 'SELECT seq, price FROM outage ORDER BY time ASC');
  assert.deepEqual(
    rows[0]!.values,
    Array.from({ length: n }, (_, i) => [t0 + i, i, 100 + i / 8]),
  );
  assert.equal(await metric(registry, 'influx_points_written_total', { bucket: 'markets/raw' }), n);
  assert.equal(await metric(registry, 'influx_points_dropped_total'), 0);
  assert.ok((await metric(registry, 'influx_write_errors_total', { bucket: 'markets/raw', status: 'transport' })) > 0);
  // ~30 retries over the outage, but the log says it once per 30 s, plus one line on recovery
  const failures = logs.filter((l) => l.msg === 'influx write failed, retrying');
  assert.ok(failures.length >= 1 && failures.length <= 3, `${failures.length} failure lines`);
  assert.ok(failures.every((l) => l.component === 'influx'));
  assert.equal(logs.filter((l) => l.msg === 'influx writes recovered').length, 1);
  await sink.close();
});
