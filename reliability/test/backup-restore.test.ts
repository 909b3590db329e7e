// scripts/backup → wipe → scripts/restore on the real InfluxDB 1.6 (with auth: `influxd backup/restore
// -portable` over its RPC port) and the real PostgreSQL (password auth, pg_dump/pg_restore), the scripts run
// as a user runs them (MT_BACKUP_TARGET=local: the same commands compose runs inside the containers).
// Oracle: every point of every measurement in every database/retention policy, the retention policies,
// and every row of every table are read before the backup and compared after the restore; a second
// restore over changed data gives back exactly the backup (nothing added, nothing duplicated).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, promisify } from 'node:util';
import pg from 'pg';
import { bootstrapInflux, createLogger, pgConnectionString } from '@mt/common';
import { startInflux, startPostgres, startService, waitFor, type InfluxServer, type PostgresServer } from '@mt/testing';
const silentLog = createLogger('test', 'silent');

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN = { user: 'admin', password: 'backup-admin-pw' };
const PG_PASSWORD = 'b@ck/up:pw#%';
const TOKEN = 'backup-restore-api-token-0123456789';
let influx: InfluxServer;
let pgs: PostgresServer;
let dbUrl: string;

before(async () => {
  [influx, pgs] = await Promise.all([startInflux({ admin: ADMIN }), startPostgres({ password: PG_PASSWORD })]);
  dbUrl = (await pgs.createDatabase(`backup_${process.pid}`)).replace(/:[^:@/]*@/, '@');
});
after(async () => {
  await Promise.allSettled([influx?.stop(), pgs?.stop()]);
});

const scriptEnv = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  MT_BACKUP_TARGET: 'local',
  INFLUX_API: 'v1',
  INFLUX_URL: influx.url,
  INFLUX_TOKEN: `${ADMIN.user}:${ADMIN.password}`,
  INFLUX_BACKUP_HOST: `127.0.0.1:${influx.rpcPort}`,
  DATABASE_URL: dbUrl,
  PGPASSWORD: PG_PASSWORD,
});
const script = (name: string, ...args: string[]) => run(path.join(ROOT, 'scripts', name), args, { env: scriptEnv(), maxBuffer: 16 << 20 });

/** Everything InfluxDB holds for our databases: retention policies and every point, per db/rp/measurement. */
async function influxContents(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const db of ['markets', 'news']) {
    const rps = (await influx.query(`SHOW RETENTION POLICIES ON "${db}"`)).results[0]?.series?.[0];
    out[`${db} rps`] = rps?.values;
    for (const [rp] of rps?.values ?? []) {
      const ms = (await influx.query(`SHOW MEASUREMENTS ON "${db}"`)).results[0]?.series?.[0]?.values ?? [];
      for (const [m] of ms) {
        const res = await influx.query(`SELECT * FROM "${db}"."${rp}"."${m}" GROUP BY *`, db);
        const series = res.results[0]?.series ?? [];
        if (series.length) out[`${db}/${rp}/${m}`] = series;
      }
    }
  }
  return out;
}

const pointCount = (c: Record<string, unknown>) =>
  Object.entries(c).filter(([k]) => k.includes('/')).reduce((n, [, s]) => n + (s as { values: unknown[] }[]).reduce((a, x) => a + x.values.length, 0), 0);

/** influxd applies restored shards just after `influxd restore` returns: compare until equal (bounded), then strictly. */
async function sameInflux(want: Record<string, unknown>, msg: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until && !isDeepStrictEqual(await influxContents(), want)) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await influxContents(), want, msg);
}

async function pgContents(): Promise<Record<string, unknown[]>> {
  const c = new pg.Client({ connectionString: pgConnectionString(dbUrl, PG_PASSWORD) });
  await c.connect();
  try {
    const tables = (await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.t);
    const out: Record<string, unknown[]> = {};
    for (const t of tables) out[t] = (await c.query(`SELECT * FROM "${t}" ORDER BY 1`)).rows;
    return out;
  } finally {
    await c.end();
  }
}

async function sql(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgConnectionString(dbUrl, PG_PASSWORD) });
  await c.connect();
  await c.query(q).finally(() => c.end());
}

async function write(db: string, rp: string, lines: string[]): Promise<void> {
  const res = await fetch(`${influx.url}/write?db=${db}&rp=${rp}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
    headers: { authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  assert.equal(res.status, 204, await res.text());
}

test('backup → wipe → restore gives back every point and every row; a restore over changed data gives back exactly the backup', { timeout: 240_000 }, async () => {
  // InfluxDB: the contract's databases and retention policies, points in each, several series and field types
  await bootstrapInflux({ url: influx.url, token: `${ADMIN.user}:${ADMIN.password}`, org: '', api: 'v1' }, silentLog);
  const t0 = Date.now() - 3 * 3600_000;
  const candles = Array.from({ length: 1500 }, (_, i) => `candles,symbol=${['BTC/USDT', 'ETH/USDT', 'AAPL'][i % 3]},interval=1m open=${100 + i},high=${101 + i}.5,low=${99 + i},close=${100.25 + i},volume=${i * 3}i,closed=true ${t0 + Math.floor(i / 3) * 60_000}`);
  await write('markets', 'raw', candles);
  await write('markets', '5m', Array.from({ length: 60 }, (_, i) => `candles,symbol=BTC/USDT,interval=5m close=${200 + i} ${t0 + i * 300_000}`));
  await write('markets', '1h', Array.from({ length: 3 }, (_, i) => `candles,symbol=BTC/USDT,interval=1h close=${300 + i} ${t0 + i * 3600_000}`));
  await write('news', 'raw', Array.from({ length: 40 }, (_, i) => `news,source=rss,sentiment_label=${i % 2 ? 'positive' : 'negative'} title="headline \\"${i}\\", with, commas",url="https://example.org/${i}",sentiment=${(i % 7) / 7 - 0.5} ${t0 + i * 1000}`));

  // PostgreSQL: the API's schema and rows made through the API
  const api = await startService('watchlist-api', { DATABASE_URL: dbUrl, PGPASSWORD: PG_PASSWORD, API_TOKEN: TOKEN, LOG_LEVEL: 'warn' }, { waitHealthy: true });
  try {
    await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 'API migrated');
    const post = async (p: string, body: unknown) => {
      const res = await fetch(`${api.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 201, await res.text());
    };
    for (let i = 0; i < 5; i++) await post('/api/watchlists', { name: `desk ${i} — "ünïcode"`, description: i % 2 ? null : `line1\nline2 ${i}`, items: [{ symbol: 'BTC/USDT', asset_type: 'crypto' }, { symbol: 'AAPL', asset_type: 'stock' }] });
    for (let i = 0; i < 4; i++) await post('/api/alert-rules', { symbol: 'BTC/USDT', condition: i % 2 ? 'above' : 'below', threshold: 50_000 + i * 0.5, cooldown_seconds: 600, severity: 'warning' });
  } finally {
    await api.stop();
  }

  const influxBefore = await influxContents();
  const pgBefore = await pgContents();
  assert.equal(pointCount(influxBefore), 1500 + 60 + 3 + 40);
  assert.equal(pgBefore.watchlists?.length, 5);
  assert.equal(pgBefore.watchlist_items?.length, 10);
  assert.equal(pgBefore.alert_rules?.length, 4);

  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'mt-backup-')), 'b1');
  const b = await script('backup', dir);
  assert.match(b.stderr, /backup complete/);
  assert.ok(statSync(path.join(dir, 'postgres.dump')).size > 1000);
  assert.ok(readdirSync(path.join(dir, 'influxdb')).some((f) => f.endsWith('.manifest')), 'a portable backup');
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'the backup directory is private');

  // wipe: both databases gone
  await influx.query('DROP DATABASE "markets"');
  await influx.query('DROP DATABASE "news"');
  await sql('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  assert.equal(pointCount(await influxContents()), 0);
  assert.deepEqual(await pgContents(), {});

  const r = await script('restore', dir);
  assert.match(r.stderr, /restore complete/);
  await sameInflux(influxBefore, 'every point and retention policy back');
  assert.deepEqual(await pgContents(), pgBefore, 'every row back');

  // changed since the backup: a new point, a deleted watchlist, a new rule → restore gives the backup exactly
  await write('markets', 'raw', [`candles,symbol=SOL/USDT,interval=1m close=1 ${Date.now() - 1000}`]);
  await sql(`DELETE FROM watchlists WHERE name LIKE 'desk 0%'`);
  await sql(`INSERT INTO alert_rules (symbol, condition, threshold, cooldown_seconds, severity) SELECT symbol, condition, threshold + 1, cooldown_seconds, severity FROM alert_rules LIMIT 1`);
  await script('restore', dir);
  await sameInflux(influxBefore, 'exactly the backup again');
  assert.deepEqual(await pgContents(), pgBefore);
  console.log(JSON.stringify({ scenario: 'backup-restore', points: pointCount(influxBefore), rows: Object.values(pgBefore).reduce((n, t) => n + t.length, 0) }));
});
