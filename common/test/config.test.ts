import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { parseConfig, ConfigError, int, url, influxEnv, urlList, splitList, shardEnv } from '../src/config.js';

const schema = z.object({ ...influxEnv, METRICS_PORT: int(9464, 1, 65535), BINANCE_WS_URL: url('wss://stream.binance.com:9443') });

test('defaults apply when variables are unset', () => {
  const c = parseConfig(schema, {});
  assert.equal(c.METRICS_PORT, 9464);
  assert.equal(c.INFLUX_API, 'v2');
  assert.equal(c.BINANCE_WS_URL, 'wss://stream.binance.com:9443');
});

test('a malformed variable is named in the error', () => {
  assert.throws(
    () => parseConfig(schema, { METRICS_PORT: 'abc', INFLUX_API: 'v3' }),
    (err: unknown) => err instanceof ConfigError && /METRICS_PORT/.test(err.message) && /INFLUX_API/.test(err.message),
  );
});

test('loadConfig exits non-zero with one line naming the variable', () => {
  const code = `import { loadConfig, int } from './common/src/config.ts'; import { z } from 'zod';
    loadConfig(z.object({ METRICS_PORT: int(9464, 1, 65535) })); console.log('started');`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, METRICS_PORT: '99999' },
    encoding: 'utf8',
  });
  assert.equal(res.status, 1);
  assert.doesNotMatch(res.stdout, /started/);
  const lines = res.stderr.trim().split('\n');
  assert.equal(lines.length, 1, res.stderr);
  assert.match(lines[0]!, /^config error: METRICS_PORT: /);
});

test('a URL list (ALERTMANAGER_URL: one Alertmanager or every peer of a cluster) keeps the one-URL form and checks each element', () => {
  const s = z.object({ ALERTMANAGER_URL: urlList('http://alertmanager:9093') });
  assert.equal(parseConfig(s, {}).ALERTMANAGER_URL, 'http://alertmanager:9093');
  assert.equal(parseConfig(s, { ALERTMANAGER_URL: 'http://am:9093' }).ALERTMANAGER_URL, 'http://am:9093');
  const list = parseConfig(s, { ALERTMANAGER_URL: 'http://am-0:9093, http://am-1:9093,http://am-2:9093' }).ALERTMANAGER_URL;
  assert.deepEqual(splitList(list), ['http://am-0:9093', 'http://am-1:9093', 'http://am-2:9093']);
  assert.throws(() => parseConfig(s, { ALERTMANAGER_URL: 'http://am-0:9093,am-1' }), (err: unknown) => err instanceof ConfigError && /ALERTMANAGER_URL: .*am-1/.test(err.message));
  assert.throws(() => parseConfig(s, { ALERTMANAGER_URL: ' , ' }), /ALERTMANAGER_URL/);
});

test('FEEDER_SHARD / FEEDER_SHARDS: a bad spec is refused, naming the variable', () => {
  const s = z.object(shardEnv);
  const ok = parseConfig(s, { FEEDER_SHARD: '1/3' });
  assert.equal(ok.FEEDER_SHARD, '1/3');
  assert.equal(ok.FEEDER_SHARDS, undefined);
  assert.throws(() => parseConfig(s, { FEEDER_SHARD: '3/3' }), (err: unknown) => err instanceof ConfigError && /FEEDER_SHARD: .*INDEX must be below COUNT/.test(err.message));
  assert.throws(() => parseConfig(s, { FEEDER_SHARDS: '0' }), /FEEDER_SHARDS/);
});
