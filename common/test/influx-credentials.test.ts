// Least-privilege InfluxDB credentials (docs/DEPLOYMENT.md "Secrets") on the real InfluxDB 1.6 with auth
// enabled: the bootstrap, as admin, creates a read user (Grafana, the API) and a read+write user (the
// feeders); the read user cannot write, the write user can, through this project's own sink and query
// client (Basic auth from `user:password`); the feeders' own start-up bootstrap works with the write
// user; a second run changes nothing and keeps the passwords.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Point } from '@influxdata/influxdb-client';
import { pino } from 'pino';
import { startInflux, type InfluxServer } from '@mt/testing';
import { bootstrapInflux, createInfluxQLClient, createInfluxSink, DATA_BUCKETS, ensureScopedCredentials, RETENTION, type InfluxConfig } from '../src/index.js';
import { freshRegistry, silentLog } from './helpers/influx.js';

const ADMIN = { user: 'admin', password: "adm'n p@ss:w/rd" };
let influx: InfluxServer;
let admin: InfluxConfig;
let dir: string;
const feedersFile = () => path.join(dir, 'feeders-token');
const grafanaFile = () => path.join(dir, 'grafana-token');

before(async () => {
  influx = await startInflux({ admin: ADMIN });
  admin = { url: influx.url, token: `${ADMIN.user}:${ADMIN.password}`, org: '', api: 'v1' };
  dir = mkdtempSync(path.join(os.tmpdir(), 'mt-creds-'));
});
after(async () => {
  await influx?.stop();
});

function capturing() {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }), lines };
}

const write = (token: string | undefined, line: string) =>
  fetch(`${influx.url}/write?db=markets&rp=raw&precision=ms`, {
    method: 'POST',
    body: line,
    headers: token ? { authorization: `Basic ${Buffer.from(token).toString('base64')}` } : {},
  });

test('1.x with auth: the read user reads and cannot write; the write user writes (through the sink) and reads', { timeout: 90_000 }, async () => {
  // without credentials nothing is accepted: auth really is on
  assert.equal((await write(undefined, 'probe v=1')).status, 401);
  await bootstrapInflux(admin, silentLog);
  const first = capturing();
  await ensureScopedCredentials(admin, [{ name: 'feeders', access: 'write', file: feedersFile() }, { name: 'grafana', access: 'read', file: grafanaFile() }], first.log);
  const feeders = readFileSync(feedersFile(), 'utf8').trim();
  const grafana = readFileSync(grafanaFile(), 'utf8').trim();
  assert.match(feeders, /^mt_feeders:[A-Za-z0-9_-]{43}$/);
  assert.match(grafana, /^mt_grafana:[A-Za-z0-9_-]{43}$/);

  const reader: InfluxConfig = { ...admin, token: grafana };
  const writer: InfluxConfig = { ...admin, token: feeders };
  // the feeders run the bucket bootstrap at start-up too: as the write user it finds everything in place
  const feederStart = capturing();
  await bootstrapInflux(writer, feederStart.log, { timeoutMs: 10_000, buckets: DATA_BUCKETS });
  assert.deepEqual(feederStart.lines.find((l) => Array.isArray(l.changes))?.changes, []);

  // the write user, through the project's own sink (Basic auth from user:password)
  const sink = createInfluxSink(writer, { log: silentLog, registry: freshRegistry(), flushIntervalMs: 50 });
  sink.write('markets/raw', new Point('ticks').tag('symbol', 'BTC/USDT').floatField('price', 42_000.5).timestamp(new Date(Date.now() - 1000)));
  await sink.close();
  const rows = await createInfluxQLClient(reader).query('markets', 'SELECT "price" FROM "ticks"');
  assert.deepEqual(rows[0]?.values.map((v) => v[1]), [42_000.5], 'the reader sees what the writer wrote');
  assert.equal((await createInfluxQLClient(writer).query('markets', 'SELECT count("price") FROM "ticks"'))[0]?.values[0]?.[1], 1);

  // the read user cannot write, nor create or drop anything
  const refused = await write(grafana, 'ticks,symbol=ETH/USDT price=1');
  assert.equal(refused.status, 403, await refused.text());
  await assert.rejects(createInfluxQLClient(reader).query('markets', 'DROP MEASUREMENT "ticks"'), /not authorized|authoriz/i);
  assert.equal((await write(feeders, 'ticks,symbol=ETH/USDT price=1')).status, 204);
  // nor can the writer administer the server
  await assert.rejects(createInfluxQLClient(writer).query('', 'CREATE USER "x" WITH PASSWORD \'y\' WITH ALL PRIVILEGES'), /authoriz|admin/i);

  // second run: nothing changes, the same passwords stay valid
  const second = capturing();
  await ensureScopedCredentials(admin, [{ name: 'feeders', access: 'write', file: feedersFile() }, { name: 'grafana', access: 'read', file: grafanaFile() }], second.log);
  assert.deepEqual(second.lines.find((l) => Array.isArray(l.changes))?.changes, []);
  assert.equal(readFileSync(feedersFile(), 'utf8').trim(), feeders);
  assert.equal((await write(feeders, 'ticks,symbol=SOL/USDT price=2')).status, 204);
});

test('1.x: a read user that was given write access (drift) is brought back to read-only', { timeout: 60_000 }, async () => {
  await influx.query('GRANT ALL ON "markets" TO "mt_grafana"');
  const grafana = readFileSync(grafanaFile(), 'utf8').trim();
  assert.equal((await write(grafana, 'drift v=1')).status, 204, 'the drift is real');
  const run = capturing();
  await ensureScopedCredentials(admin, [{ name: 'grafana', access: 'read', file: grafanaFile() }], run.log);
  assert.deepEqual(run.lines.find((l) => Array.isArray(l.changes))?.changes, ['grant READ on markets to mt_grafana']);
  assert.equal((await write(grafana, 'drift v=2')).status, 403);
});

test('1.x: the user\'s own series — the custom token writes custom/raw only, Grafana\'s reader (every bucket) charts it', { timeout: 60_000 }, async () => {
  const customFile = path.join(dir, 'custom-token');
  await ensureScopedCredentials(
    admin,
    [
      { name: 'custom', access: 'write', file: customFile, buckets: ['custom/raw'] },
      { name: 'grafana', access: 'read', file: grafanaFile(), buckets: Object.keys(RETENTION) },
    ],
    silentLog,
  );
  const custom = readFileSync(customFile, 'utf8').trim();
  assert.match(custom, /^mt_custom:[A-Za-z0-9_-]{43}$/);
  const writeTo = (token: string, db: string, line: string) =>
    fetch(`${influx.url}/write?db=${db}&rp=raw&precision=s`, { method: 'POST', body: line, headers: { authorization: `Basic ${Buffer.from(token).toString('base64')}` } });
  // the documented write (docs/INFLUXDB.md "Your own series"): line protocol, seconds
  const at = Math.floor(Date.now() / 1000) - 60;
  const ok = await writeTo(custom, 'custom', `my_signal,symbol=BTC/USDT value=0.73 ${at}\nmy_signal,symbol=BTC/USDT value=0.81 ${at + 30}`);
  assert.equal(ok.status, 204, await ok.text());
  assert.equal((await writeTo(custom, 'markets', `ticks,symbol=BTC/USDT price=1 ${at}`)).status, 403, 'no write on market data');
  assert.equal((await writeTo(readFileSync(feedersFile(), 'utf8').trim(), 'custom', `my_signal v=1 ${at}`)).status, 403, 'the feeders cannot write the user\'s bucket');
  // what the provisioned "InfluxDB custom" datasource runs, with Grafana's read-only token
  const reader: InfluxConfig = { ...admin, token: readFileSync(grafanaFile(), 'utf8').trim() };
  const rows = await createInfluxQLClient(reader).query('custom', `SELECT "value" FROM "my_signal" WHERE "symbol" = 'BTC/USDT' AND time > now() - 1h`);
  assert.deepEqual(rows[0]?.values.map((v) => v[1]), [0.73, 0.81]);
  assert.equal((await writeTo(reader.token, 'custom', `my_signal v=1 ${at}`)).status, 403, 'Grafana only reads');
});
