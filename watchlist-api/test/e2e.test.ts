// End to end, every piece a real process or server: watchlist API + market feeder (both as `npm run`
// would start them), PostgreSQL, InfluxDB 1.x and the local Binance server. POST an item → the feeder
// subscribes on the open connection (no reconnect) and its first point is in InfluxDB within one second;
// DELETE → it unsubscribes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BinanceFake,
  unreachablePolledSources,
  startInflux,
  startPostgres,
  startService,
  waitFor,
  type InfluxServer,
  type PostgresServer,
  type RunningService,
} from '@mt/testing';
import { TOKEN, uniqueDbName } from './helpers.js';

let pg: PostgresServer;
let influx: InfluxServer;
let fake: BinanceFake;
let api: RunningService;
let feeder: RunningService;

before(async () => {
  [pg, influx, fake] = await Promise.all([startPostgres(), startInflux(), new BinanceFake({ symbols: ['BTCUSDT', 'ETHUSDT'], historyMinutes: 30 }).listen()]);
  const databaseUrl = await pg.createDatabase(uniqueDbName('e2e'));
  api = await startService('watchlist-api', { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 20_000, 'API ready (migrated)');
  feeder = await startService('market-feeder', {
    DATABASE_URL: databaseUrl,
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    BINANCE_WS_URL: fake.wsUrl,
    BINANCE_REST_URL: fake.restUrl,
    BACKFILL_HOURS: '0.1',
    ...(await unreachablePolledSources()),
  });
});

after(async () => {
  await Promise.allSettled([feeder?.stop(), api?.stop()]);
  await Promise.allSettled([fake?.close(), influx?.stop(), pg?.stop()]);
});

const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const subscribed = () => new Set(fake.openConnections().flatMap((c) => [...c.streams]));
const btcStreams = () => [...subscribed()].filter((s) => s.startsWith('btcusdt@'));

async function firstPointAt(symbol: string): Promise<number | undefined> {
  const res = await influx.query(`SELECT "price" FROM "market_data" WHERE "symbol"='${symbol}' LIMIT 1`, 'markets');
  return res.results[0]?.series?.[0] ? Date.now() : undefined;
}

test('POST an item → subscribed and first point stored within 1 s; DELETE → unsubscribed', async () => {
  // wait until the feeder's listener has loaded the (empty) set, so the POST below is a live change
  await waitFor(() => feeder.logs().some((l) => l.msg === 'watch set: listening for changes'), 20_000, 'feeder listening');
  assert.deepEqual(btcStreams(), []);
  assert.equal(await firstPointAt('BTC/USDT'), undefined);

  // ETH/USDT stays watched throughout, so the DELETE below must be a real unsubscribe on a live connection
  const w = await fetch(`${api.url}/api/watchlists`, { method: 'POST', headers, body: JSON.stringify({ name: 'e2e', items: [{ symbol: 'ETHUSDT', asset_type: 'crypto' }] }) });
  assert.equal(w.status, 201);
  const { id } = (await w.json()) as { id: string };
  await waitFor(() => subscribed().has('ethusdt@kline_1m'), 10_000, 'ETH/USDT subscribed');
  const conn = fake.openConnections();
  assert.equal(conn.length, 1);

  const res = await fetch(`${api.url}/api/watchlists/${id}/items`, { method: 'POST', headers, body: JSON.stringify({ symbol: 'btc/usdt', asset_type: 'crypto' }) });
  const committed = Date.now();
  assert.equal(res.status, 201);
  const item = (await res.json()) as { id: string };

  const stored = await waitFor(() => firstPointAt('BTC/USDT'), 10_000, 'first BTC/USDT point', 20);
  const ms = stored - committed;
  console.log(`POST → first market_data point in InfluxDB: ${ms} ms; streams: ${btcStreams().join(' ')}`);
  assert.ok(ms < 1000, `first point after ${ms} ms`);
  assert.ok(btcStreams().length > 0, 'the feeder subscribed to btcusdt streams');
  assert.equal(fake.connections.length, 1, 'no new connection: subscribed on the open one');
  const sub = conn[0]!.control.find((c) => c.method === 'SUBSCRIBE' && JSON.stringify(c.params).includes('btcusdt@'));
  assert.ok(sub, `SUBSCRIBE on the open connection: ${JSON.stringify(conn[0]!.control.map((c) => c.raw))}`);

  const del = await fetch(`${api.url}/api/watchlists/${id}/items/${item.id}`, { method: 'DELETE', headers });
  const deleted = Date.now();
  assert.equal(del.status, 204);
  await waitFor(() => btcStreams().length === 0, 10_000, 'btcusdt unsubscribed', 20);
  const unsubMs = Date.now() - deleted;
  console.log(`DELETE → unsubscribed: ${unsubMs} ms`);
  assert.ok(unsubMs < 1000, `unsubscribed after ${unsubMs} ms`);
  assert.ok([...subscribed()].some((s) => s.startsWith('ethusdt@')), 'ETH/USDT is still subscribed');
  assert.ok(fake.connections.every((c) => c.closeReason === undefined), 'no connection was dropped to get there');
});
