// The API as a real process (`npm run watchlist-api` equivalent): starts while PostgreSQL is still
// down (liveness up, readiness and /api 503), migrates in the background once it is up, shuts down
// cleanly on SIGTERM, and refuses to start without API_TOKEN outside tests.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, startPostgres, startService, waitFor, type PostgresServer, type RunningService } from '@mt/testing';
import { TOKEN, uniqueDbName } from './helpers.js';

let pg: PostgresServer | undefined;
let api: RunningService | undefined;
after(async () => {
  await api?.kill();
  await pg?.stop();
});

test('starts before PostgreSQL, becomes ready by itself, serves, and exits 0 on SIGTERM', async () => {
  pg = await startPostgres();
  const url = await pg.createDatabase(uniqueDbName('server'));
  await pg.stop();
  api = await startService('watchlist-api', { DATABASE_URL: url, API_TOKEN: TOKEN, LOG_LEVEL: 'info' });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${api.url}/readyz`)).status, 503);
  const early = await fetch(`${api.url}/api/watchlists`, { headers });
  assert.equal(early.status, 503);
  assert.match(early.headers.get('content-type') ?? '', /^application\/problem\+json/);

  await pg.start();
  await waitFor(async () => (await fetch(`${api!.url}/readyz`)).status === 200, 20_000, 'readiness after PostgreSQL came up');
  const created = await fetch(`${api.url}/api/watchlists`, { method: 'POST', headers, body: JSON.stringify({ name: 'proc', items: [{ symbol: 'BTCUSDT', asset_type: 'crypto' }] }) });
  assert.equal(created.status, 201);
  assert.equal(((await created.json()) as { items: { symbol: string }[] }).items[0]?.symbol, 'BTC/USDT');
  assert.equal(metricValue(await api.metrics(), 'watchlist_notify_total'), 1);
  assert.equal((await fetch(`${api.url}/openapi.json`)).status, 200);

  assert.equal(await api.stop(), 0);
  const logs = api.logs();
  assert.ok(logs.some((l) => l.msg === 'migrations applied'));
  assert.ok(logs.some((l) => l.msg === 'shutdown complete' && l.ok === true));
});

test('refuses to start without API_TOKEN outside tests', async () => {
  await assert.rejects(
    startService('watchlist-api', { NODE_ENV: 'production', DATABASE_URL: 'postgres://127.0.0.1:1/x' }, { timeoutMs: 8_000 }),
    /exited with 1[\s\S]*API_TOKEN/,
  );
});
