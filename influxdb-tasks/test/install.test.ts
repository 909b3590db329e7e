// The installer as the stack runs it: a process configured by environment only, against a fresh real
// InfluxDB 1.x — creates the contract's databases (shared bootstrap), the CQs and rp_config; exit 0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInflux, type InfluxServer } from '@mt/testing';
import { continuousQueries, RP_BY_RANGE } from '../src/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('install entry point', () => {
  let influx: InfluxServer;
  before(async () => {
    influx = await startInflux();
  });
  after(async () => influx?.stop());

  const run = () =>
    spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'influxdb-tasks/src/install.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, INFLUX_URL: influx.url, INFLUX_API: 'v1', INFLUX_TOKEN: 'unused-by-1.x', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('installs on an empty server and again on an installed one', async () => {
    for (let i = 0; i < 2; i++) {
      const r = run();
      assert.equal(r.status, 0, r.stderr + r.stdout);
    }
    const dbs = (await influx.query('SHOW DATABASES')).results[0]!.series![0]!.values.map((v) => v[0]);
    // the one-shot bootstraps every bucket, infra and custom included (docs/INFLUXDB.md "Buckets")
    assert.deepEqual(['custom', 'infra', 'markets', 'news'].filter((d) => dbs.includes(d)), ['custom', 'infra', 'markets', 'news']);
    const cqs = (await influx.query('SHOW CONTINUOUS QUERIES')).results[0]!.series!.find((s) => s.name === 'markets')!;
    assert.deepEqual(cqs.values.map((v) => v[0]).sort(), continuousQueries().map((c) => c.name).sort());
    const rc = await influx.query('SELECT count("rp") FROM "1h"."rp_config"', 'markets');
    assert.equal(rc.results[0]!.series![0]!.values[0]![1], RP_BY_RANGE.length);
  });
});
