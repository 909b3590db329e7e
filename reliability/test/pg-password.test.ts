// A PostgreSQL password with `/ @ : # %` works end to end, with the real PostgreSQL requiring it
// (scram-sha-256): the watchlist API and the market feeder's watch-set listener get DATABASE_URL without
// a password plus PGPASSWORD_FILE (what compose passes), or a percent-encoded DATABASE_URL; a change
// made through the API reaches the feeder by NOTIFY. A raw unencoded URL is refused with one line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BinanceFake, startInflux, startPostgres, startService, tmpDir, waitFor, type InfluxServer, type PostgresServer, type RunningService } from '@mt/testing';
import { pgConnectionString } from '@mt/common';
import { feederEnv } from './helpers.js';

const PASSWORD = 'p/ss@w:rd#%40 ?x';
const TOKEN = 'pg-password-api-token-0123456789';
let pg: PostgresServer;
let influx: InfluxServer;
let binance: BinanceFake;
let dbUrl: string;
let dbUrlNoPassword: string;
let pwFile: string;
const running: RunningService[] = [];

before(async () => {
  [pg, influx, binance] = await Promise.all([
    startPostgres({ password: PASSWORD }),
    startInflux(),
    new BinanceFake({ symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], historyMinutes: 5 }).listen(),
  ]);
  dbUrl = await pg.createDatabase(`pgpw_${process.pid}`);
  dbUrlNoPassword = `postgres://postgres@127.0.0.1:${pg.port}/pgpw_${process.pid}`;
  const dir = tmpDir('pgpw');
  pwFile = path.join(dir, 'password');
  writeFileSync(pwFile, `${PASSWORD}\n`);
});
after(async () => {
  await Promise.allSettled(running.map((s) => s.stop()));
  await Promise.allSettled([pg?.stop(), influx?.stop(), binance?.close()]);
});

test('the launcher really requires the password (no trust auth to hide a wrong one)', async () => {
  const { default: pgLib } = await import('pg');
  const wrong = new pgLib.Client({ connectionString: pgConnectionString(dbUrlNoPassword, 'wrong') });
  await assert.rejects(wrong.connect(), /password authentication failed/);
});

test('API (PGPASSWORD_FILE) and feeder watch set (PGPASSWORD_FILE, then a percent-encoded URL) with a `/@:#%` password', { timeout: 120_000 }, async () => {
  const api = await startService('watchlist-api', { NODE_ENV: 'production', DATABASE_URL: dbUrlNoPassword, PGPASSWORD_FILE: pwFile, API_TOKEN: TOKEN }, { waitHealthy: true });
  running.push(api);
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 'API migrated with the special-character password');

  const variants: Record<string, string>[] = [{ DATABASE_URL: dbUrlNoPassword, PGPASSWORD_FILE: pwFile }, { DATABASE_URL: dbUrl }];
  for (const env of variants) {
    const feeder = await startService('market-feeder', await feederEnv(influx, binance, ['BTC/USDT'], { ...env, NODE_ENV: 'production' }));
    running.push(feeder);
    await waitFor(() => feeder.logs().some((l) => l.msg === 'watch set: listening for changes'), 30_000, 'watch-set listener connected');
    const symbol = env.PGPASSWORD_FILE ? 'ETH/USDT' : 'SOL/USDT';
    const res = await fetch(`${api.url}/api/watchlists`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `wl ${symbol}`, items: [{ symbol, asset_type: 'crypto' }] }),
    });
    assert.equal(res.status, 201, await res.text());
    // the NOTIFY of the API's transaction reaches the listener, which reloads the set from the database
    const items = env.PGPASSWORD_FILE ? 2 : 3;
    await waitFor(() => feeder.logs().some((l) => l.msg === 'watch set changed' && l.items === items), 20_000, `feeder watch set with ${symbol}`);
    assert.ok(!feeder.logs().some((l) => /password authentication failed/.test(JSON.stringify(l))));
    await feeder.stop();
  }
});

test('an unencoded special-character password in DATABASE_URL is refused at start with one line naming DATABASE_URL', async () => {
  const raw = `postgres://postgres:${PASSWORD}@127.0.0.1:${pg.port}/x`;
  await assert.rejects(startService('watchlist-api', { NODE_ENV: 'production', DATABASE_URL: raw, API_TOKEN: TOKEN }, { timeoutMs: 15_000 }), /exited with 1[\s\S]*DATABASE_URL/);
});
