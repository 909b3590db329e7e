import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux } from '../src/real/influxdb.js';

test('launches a private InfluxDB, survives stop/start with its data', async () => {
  const influx = await startInflux();
  try {
    await influx.query('CREATE DATABASE t');
    const w = await fetch(`${influx.url}/write?db=t&precision=ms`, { method: 'POST', body: 'm,k=v f=1.5 1700000000000' });
    assert.equal(w.status, 204);
    await influx.stop();
    await assert.rejects(fetch(`${influx.url}/ping`));
    await influx.start();
    const r = await influx.query('SELECT f FROM m', 't');
    assert.deepEqual(r.results[0]?.series?.[0]?.values, [[1700000000000, 1.5]]);
  } finally {
    await influx.stop();
  }
});
