// A symbol added through the real watchlist API (PostgreSQL NOTIFY) reaches the running market feeder:
// subscribed on the open Binance connection (no reconnect) and its first market_data point stored in
// InfluxDB within one second (the contract's bound). Every piece is real except the exchange.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BinanceFake,
  freePort,
  startInflux,
  startPostgres,
  startService,
  waitFor,
  type InfluxServer,
  type PostgresServer,
  type RunningService,
} from '@mt/testing';

const MINUTE = 60_000;
const TOKEN = 'feeder-live-watch-test-token';

let influx: InfluxServer;
let pg: PostgresServer;
let fake: BinanceFake;
let api: RunningService | undefined;
let feeder: RunningService | undefined;

before(async () => {
  [influx, pg] = await Promise.all([startInflux(), startPostgres()]);
  fake = await new BinanceFake({ startTime: Math.floor(Date.now() / MINUTE) * MINUTE, historyMinutes: 30, candleMs: 200 }).listen();
});

after(async () => {
  await feeder?.kill();
  await api?.kill();
  await fake?.close();
  await Promise.all([influx?.stop(), pg?.stop()]);
});

async function call(method: string, path: string, body?: unknown): Promise<{ id: string }> {
  const res = await fetch(`${api!.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { id: string };
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function firstMarketData(symbol: string): Promise<number | undefined> {
  const res = await influx.query(`SELECT first("price") FROM "market_data" WHERE "symbol"='${symbol}'`, 'markets');
  return res.results[0]?.series?.[0]?.values[0]?.[0] as number | undefined;
}

test('a symbol added to a watchlist is subscribed on the open connection and stored within one second', async () => {
  const databaseUrl = await pg.createDatabase('watch_live');
  api = await startService('watchlist-api', { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN }, { waitHealthy: true });
  const wl = await call('POST', '/watchlists', { name: 'crypto' });
  await call('POST', `/watchlists/${wl.id}/items`, { symbol: 'BTC/USDT', asset_type: 'crypto' });

  const dead = `http://127.0.0.1:${await freePort()}`;
  feeder = await startService('market-feeder', {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: databaseUrl,
    BINANCE_WS_URL: fake.wsUrl,
    BINANCE_REST_URL: fake.restUrl,
    BACKFILL_HOURS: '0.1',
    YAHOO_URL: dead,
    YAHOO_COOKIE_URL: dead,
    COINGECKO_URL: dead,
    FEAR_GREED_URL: dead,
    ALERTMANAGER_URL: dead,
  });
  await waitFor(() => firstMarketData('BTC/USDT'), 20_000, 'BTC/USDT stored');
  const conns = fake.openConnections();
  assert.equal(conns.length, 1, 'one connection for one symbol');
  const total = fake.connections.length;

  const t0 = Date.now();
  await call('POST', `/watchlists/${wl.id}/items`, { symbol: 'ETH/USDT', asset_type: 'crypto' });
  // poll InfluxDB tightly: the bound is about when the point is queryable
  await waitFor(() => firstMarketData('ETH/USDT'), 5_000, 'ETH/USDT stored', 20);
  const elapsed = Date.now() - t0;
  console.log(`# watchlist add → first ETH/USDT point queryable in InfluxDB: ${elapsed} ms`);
  assert.ok(elapsed <= 1000, `first point after ${elapsed} ms`);

  assert.equal(fake.connections.length, total, 'no new connection');
  const sub = conns[0]!.control.find((c) => c.method === 'SUBSCRIBE' && JSON.stringify(c.params).includes('ethusdt@'));
  assert.ok(sub, `SUBSCRIBE on the open connection: ${JSON.stringify(conns[0]!.control.map((c) => c.raw))}`);
  assert.ok(conns[0]!.streams.has('ethusdt@kline_1m'));
});
