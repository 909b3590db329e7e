// Every route through app.inject() against a real PostgreSQL: CRUD, validation, auth, pagination,
// concurrency, injection-shaped input, limits, migrations, metrics and the OpenAPI document.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { ConfigError, parseConfig } from '@mt/common';
import { metricValue, startPostgres, type PostgresServer } from '@mt/testing';
import type { App } from '../src/app.js';
import { configSchema } from '../src/config.js';
import { Db, migrate } from '../src/db.js';
import { auth, call, testApp, TOKEN, uniqueDbName } from './helpers.js';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { in: string; field: string; message: string }[];
}
interface ItemBody {
  id: string;
  symbol: string;
  asset_type: string;
  exchange: string;
}
interface WatchlistBody {
  id: string;
  name: string;
  description: string | null;
  items: ItemBody[];
}
interface Page<T> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}

const MISSING = '00000000-0000-4000-8000-000000000000';

let pg: PostgresServer;
let app: App;

before(async () => {
  pg = await startPostgres();
  app = await testApp(await pg.createDatabase(uniqueDbName('routes')));
});
after(async () => {
  await app?.close();
  await pg?.stop();
});

function assertProblem(res: { status: number; body: unknown; headers: Record<string, unknown> }, status: number): Problem {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const p = res.body as Problem;
  assert.equal(p.status, status);
  assert.equal(typeof p.title, 'string');
  assert.ok(p.detail.length > 0);
  return p;
}

async function newWatchlist(name = 'wl', items: unknown[] = []): Promise<WatchlistBody> {
  const res = await call<WatchlistBody>(app, 'POST', '/api/watchlists', { name, items });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

describe('auth', () => {
  const routes: [string, string][] = [
    ['GET', '/api/watchlists'],
    ['POST', '/api/watchlists'],
    ['GET', `/api/watchlists/${MISSING}`],
    ['PATCH', `/api/watchlists/${MISSING}`],
    ['DELETE', `/api/watchlists/${MISSING}`],
    ['POST', `/api/watchlists/${MISSING}/items`],
    ['DELETE', `/api/watchlists/${MISSING}/items/${MISSING}`],
    ['GET', '/api/alert-rules'],
    ['POST', '/api/alert-rules'],
    ['GET', `/api/alert-rules/${MISSING}`],
    ['PATCH', `/api/alert-rules/${MISSING}`],
    ['DELETE', `/api/alert-rules/${MISSING}`],
    ['GET', '/api/no-such-route'],
  ];
  const badHeaders: [string, Record<string, string>][] = [
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ['token prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['token plus suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['basic scheme', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }],
    ['bare token', { authorization: TOKEN }],
    ['empty bearer', { authorization: 'Bearer ' }],
  ];
  test('every /api route answers 401 problem without the right bearer token', async () => {
    for (const [method, url] of routes) {
      for (const [what, headers] of badHeaders) {
        const res = await app.inject({ method: method as 'GET', url, headers, payload: method === 'POST' || method === 'PATCH' ? {} : undefined });
        assert.equal(res.statusCode, 401, `${method} ${url} with ${what}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="watchlist-api"');
        assert.equal(res.json<Problem>().status, 401);
      }
    }
  });
  test('the token is accepted case-insensitively on the scheme; ops routes need no token', async () => {
    assert.equal((await call(app, 'GET', '/api/watchlists', undefined, { authorization: `bearer ${TOKEN}` })).status, 200);
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      assert.equal((await app.inject({ url })).statusCode, 200, url);
    }
    assert.equal((await app.inject({ url: '/docs' })).statusCode < 400, true);
  });
});

describe('watchlists', () => {
  test('create normalises symbols, derives the exchange, and get/list/patch/delete round-trip', async () => {
    const created = await call<WatchlistBody>(app, 'POST', '/api/watchlists', {
      name: '  Majors  ',
      description: 'core',
      items: [
        { symbol: 'btc/usdt', asset_type: 'crypto' },
        { symbol: 'ethusdt', asset_type: 'crypto', exchange: 'binance' },
        { symbol: 'EURUSD=X', asset_type: 'forex' },
        { symbol: 'aapl', asset_type: 'stock' },
        { symbol: '^gspc', asset_type: 'index' },
        { symbol: 'BTC/USDT', asset_type: 'crypto' },
      ],
    });
    assert.equal(created.status, 201);
    const w = created.body;
    assert.equal(w.name, 'Majors');
    assert.equal(w.description, 'core');
    assert.deepEqual(
      w.items.map((i) => [i.symbol, i.asset_type, i.exchange]),
      [
        ['BTC/USDT', 'crypto', 'binance'],
        ['ETH/USDT', 'crypto', 'binance'],
        ['EUR/USD', 'forex', 'yahoo'],
        ['AAPL', 'stock', 'yahoo'],
        ['^GSPC', 'index', 'yahoo'],
      ],
      'the duplicate BTC/USDT in the initial list collapses to one item',
    );

    const got = await call<WatchlistBody>(app, 'GET', `/api/watchlists/${w.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, w);

    const listed = await call<Page<WatchlistBody>>(app, 'GET', '/api/watchlists?limit=100');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.data.find((x) => x.id === w.id),
      w,
    );

    const renamed = await call<WatchlistBody>(app, 'PATCH', `/api/watchlists/${w.id}`, { name: 'Renamed' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'Renamed');
    assert.equal(renamed.body.description, 'core', 'a field not sent is unchanged');
    const cleared = await call<WatchlistBody>(app, 'PATCH', `/api/watchlists/${w.id}`, { description: null });
    assert.equal(cleared.body.description, null);
    assert.equal(cleared.body.name, 'Renamed');
    assert.equal(cleared.body.items.length, 5);

    const del = await app.inject({ method: 'DELETE', url: `/api/watchlists/${w.id}`, headers: auth });
    assert.equal(del.statusCode, 204);
    assert.equal(del.body, '');
    assertProblem(await call(app, 'GET', `/api/watchlists/${w.id}`), 404);
    assertProblem(await call(app, 'DELETE', `/api/watchlists/${w.id}`), 404);
    assertProblem(await call(app, 'PATCH', `/api/watchlists/${w.id}`, { name: 'x' }), 404);
  });

  test('items: add, duplicate (any spelling) is 409, delete, and 404s', async () => {
    const w = await newWatchlist('items');
    const added = await call<ItemBody>(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol: 'solusdt', asset_type: 'crypto' });
    assert.equal(added.status, 201);
    assert.deepEqual({ ...added.body, id: '' }, { id: '', symbol: 'SOL/USDT', asset_type: 'crypto', exchange: 'binance', created_at: (added.body as unknown as { created_at: string }).created_at });
    for (const symbol of ['SOL/USDT', 'sol/usdt', 'SOLUSDT']) {
      const p = assertProblem(await call(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol, asset_type: 'crypto' }), 409);
      assert.match(p.detail, /already/);
    }
    // the same instrument in another watchlist is fine
    const other = await newWatchlist('other');
    assert.equal((await call(app, 'POST', `/api/watchlists/${other.id}/items`, { symbol: 'SOL/USDT', asset_type: 'crypto' })).status, 201);

    assertProblem(await call(app, 'POST', `/api/watchlists/${MISSING}/items`, { symbol: 'AAPL', asset_type: 'stock' }), 404);
    assertProblem(await call(app, 'DELETE', `/api/watchlists/${other.id}/items/${added.body.id}`), 404);

    // a JSON content type without a body (as many clients send on DELETE) is fine
    const del = await app.inject({ method: 'DELETE', url: `/api/watchlists/${w.id}/items/${added.body.id}`, headers: { ...auth, 'content-type': 'application/json' } });
    assert.equal(del.statusCode, 204);
    assertProblem(await call(app, 'DELETE', `/api/watchlists/${w.id}/items/${added.body.id}`), 404);
    assert.deepEqual((await call<WatchlistBody>(app, 'GET', `/api/watchlists/${w.id}`)).body.items, []);
    // deleted: can be added again
    assert.equal((await call(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol: 'SOL/USDT', asset_type: 'crypto' })).status, 201);
  });

  test('a crypto item may name any crypto venue: one symbol on two venues is two items, twice on one venue is 409', async () => {
    const created = await call<WatchlistBody>(app, 'POST', '/api/watchlists', {
      name: 'venues',
      items: [
        { symbol: 'BTC/USD', asset_type: 'crypto', exchange: 'kraken' },
        { symbol: 'BTC-USD', asset_type: 'crypto', exchange: 'coinbase' },
        { symbol: 'XBTUSD', asset_type: 'crypto', exchange: 'kraken' },
      ],
    });
    assert.equal(created.status, 201);
    const w = created.body;
    assert.deepEqual(
      w.items.map((i) => [i.exchange, i.symbol]),
      [
        ['kraken', 'BTC/USD'],
        ['coinbase', 'BTC/USD'],
      ],
      "Kraken's XBTUSD is BTC/USD: the initial duplicate collapses",
    );
    const added: [string, string, string][] = [
      ['xdg/usd', 'kraken', 'DOGE/USD'],
      ['btcusdt', 'binance-futures', 'BTC/USDT:USDT'],
      ['BTC/USDT', 'binance', 'BTC/USDT'],
    ];
    for (const [symbol, exchange, want] of added) {
      const r = await call<ItemBody>(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol, asset_type: 'crypto', exchange });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual([r.body.exchange, r.body.symbol, r.body.asset_type], [exchange, want, 'crypto']);
    }
    // the same instrument on the same venue, in any spelling that venue accepts: 409
    for (const [symbol, exchange] of [['XBT/USD', 'kraken'], ['XXBTZUSD', 'kraken'], ['btc-usd', 'coinbase'], ['BTC/USDT:USDT', 'binance-futures'], ['BTC/USDT', 'binance-futures'], ['btcusdt', undefined]]) {
      const p = assertProblem(await call(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol, asset_type: 'crypto', exchange }), 409);
      assert.match(p.detail, /already in watchlist/, `${exchange} ${symbol}`);
    }
    const got = await call<WatchlistBody>(app, 'GET', `/api/watchlists/${w.id}`);
    assert.deepEqual(
      got.body.items.map((i) => `${i.exchange}:${i.symbol}`),
      ['kraken:BTC/USD', 'coinbase:BTC/USD', 'kraken:DOGE/USD', 'binance-futures:BTC/USDT:USDT', 'binance:BTC/USDT'],
    );
    // the OpenAPI document lists the venues
    const doc = (await app.inject({ url: '/openapi.json' })).json<{ components?: unknown; paths: unknown }>();
    const text = JSON.stringify(doc);
    for (const v of ['binance-futures', 'coinbase', 'kraken', 'yahoo']) assert.ok(text.includes(`"${v}"`), v);
  });

  test('concurrent adds of the same item: exactly one 201, the rest 409', async () => {
    const w = await newWatchlist('race');
    const results = await Promise.all(
      ['BTC/USDT', 'btcusdt', 'btc/usdt', 'BTCUSDT', 'Btc/Usdt'].map((symbol) => call(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol, asset_type: 'crypto' })),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
    assert.equal((await call<WatchlistBody>(app, 'GET', `/api/watchlists/${w.id}`)).body.items.length, 1);
  });

  test('SQL-injection-shaped and unusual strings are stored and returned literally', async () => {
    const names = [`Robert'); DROP TABLE watchlists;--`, `x' OR '1'='1`, '"; SELECT pg_sleep(5); --', '$1 $$ \\x00 ∑ 😀', '<script>alert(1)</script>'];
    for (const name of names) {
      const res = await call<WatchlistBody>(app, 'POST', '/api/watchlists', { name, description: `${name} -- /* */` });
      assert.equal(res.status, 201);
      const got = await call<WatchlistBody>(app, 'GET', `/api/watchlists/${res.body.id}`);
      assert.equal(got.body.name, name);
      assert.equal(got.body.description, `${name} -- /* */`);
    }
    // the tables are intact
    assert.equal((await call(app, 'GET', '/api/watchlists')).status, 200);
    const rule = await call<{ symbol: string }>(app, 'POST', '/api/alert-rules', { symbol: "BTC/USDT'--", condition: 'above', threshold: 1 });
    assertProblem(rule, 400);
  });

  test('limit/offset pagination is stable and complete', async () => {
    const p0 = await call<Page<WatchlistBody>>(app, 'GET', '/api/watchlists?limit=100');
    for (let i = 0; i < 5; i++) await newWatchlist(`page-${i}`);
    const total = p0.body.total + 5;
    const seen: string[] = [];
    for (let offset = 0; offset < total; offset += 2) {
      const res = await call<Page<WatchlistBody>>(app, 'GET', `/api/watchlists?limit=2&offset=${offset}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.total, total);
      assert.equal(res.body.limit, 2);
      assert.equal(res.body.offset, offset);
      assert.ok(res.body.data.length <= 2);
      seen.push(...res.body.data.map((w) => w.id));
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total, 'no row twice across pages');
    const past = await call<Page<WatchlistBody>>(app, 'GET', `/api/watchlists?offset=${total}`);
    assert.deepEqual(past.body.data, []);
    const dflt = await call<Page<WatchlistBody>>(app, 'GET', '/api/watchlists');
    assert.equal(dflt.body.limit, 50);
    assert.equal(dflt.body.offset, 0);
  });
});

describe('alert rules', () => {
  test('create with defaults, get, list, patch, delete', async () => {
    const res = await call<Record<string, unknown>>(app, 'POST', '/api/alert-rules', { symbol: 'btc/usdt', condition: 'above', threshold: 70000 });
    assert.equal(res.status, 201);
    const r = res.body;
    assert.equal(r.symbol, 'BTC/USDT');
    assert.equal(r.threshold, 70000);
    assert.equal(r.window_seconds, null);
    assert.equal(r.cooldown_seconds, 300);
    assert.equal(r.severity, 'warning');

    const fx = await call<Record<string, unknown>>(app, 'POST', '/api/alert-rules', {
      symbol: 'EURUSD=X',
      condition: 'pct_change',
      threshold: -1.5,
      window_seconds: 3600,
      cooldown_seconds: 0,
      severity: 'critical',
    });
    assert.equal(fx.status, 201);
    assert.equal(fx.body.symbol, 'EUR/USD');
    assert.equal(fx.body.threshold, -1.5);

    assert.deepEqual((await call(app, 'GET', `/api/alert-rules/${String(r.id)}`)).body, r);
    const list = await call<Page<Record<string, unknown>>>(app, 'GET', '/api/alert-rules?limit=1&offset=1');
    assert.equal(list.status, 200);
    assert.equal(list.body.total, 2);
    assert.deepEqual(list.body.data.map((x) => x.id), [fx.body.id]);

    const patched = await call<Record<string, unknown>>(app, 'PATCH', `/api/alert-rules/${String(r.id)}`, { condition: 'pct_change', threshold: 5, window_seconds: 300 });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.condition, 'pct_change');
    assert.equal(patched.body.window_seconds, 300);
    assert.equal(patched.body.symbol, 'BTC/USDT');
    const sev = await call<Record<string, unknown>>(app, 'PATCH', `/api/alert-rules/${String(r.id)}`, { severity: 'info', window_seconds: 60 });
    assert.equal(sev.body.severity, 'info');
    assert.equal(sev.body.condition, 'pct_change');

    assert.equal((await app.inject({ method: 'DELETE', url: `/api/alert-rules/${String(r.id)}`, headers: auth })).statusCode, 204);
    assertProblem(await call(app, 'GET', `/api/alert-rules/${String(r.id)}`), 404);
    assertProblem(await call(app, 'PATCH', `/api/alert-rules/${String(r.id)}`, { severity: 'info' }), 404);
    assertProblem(await call(app, 'DELETE', `/api/alert-rules/${String(r.id)}`), 404);
  });

  test('a rule symbol is stored as the feeders name it: a Binance pair without its slash becomes BTC/USDT', async () => {
    for (const [given, stored] of [['btcusdt', 'BTC/USDT'], ['ETHBTC', 'ETH/BTC'], ['GOOGL', 'GOOGL'], ['^GSPC', '^GSPC']]) {
      const res = await call<{ id: string; symbol: string }>(app, 'POST', '/api/alert-rules', { symbol: given, condition: 'above', threshold: 1 });
      assert.equal(res.status, 201, given);
      assert.equal(res.body.symbol, stored, given);
      assert.equal((await app.inject({ method: 'DELETE', url: `/api/alert-rules/${res.body.id}`, headers: auth })).statusCode, 204);
    }
  });

  test('a patch that breaks the cross-field rules is a 400 naming the field', async () => {
    const r = await call<{ id: string }>(app, 'POST', '/api/alert-rules', { symbol: 'AAPL', condition: 'pct_change', threshold: 2, window_seconds: 60 });
    const p = assertProblem(await call(app, 'PATCH', `/api/alert-rules/${r.body.id}`, { window_seconds: null }), 400);
    assert.deepEqual(p.errors?.map((e) => e.field), ['window_seconds']);
    const q = assertProblem(await call(app, 'PATCH', `/api/alert-rules/${r.body.id}`, { condition: 'below', threshold: -3 }), 400);
    assert.deepEqual(q.errors?.map((e) => e.field), ['threshold']);
    // unchanged after the rejected patches
    const got = await call<Record<string, unknown>>(app, 'GET', `/api/alert-rules/${r.body.id}`);
    assert.equal(got.body.window_seconds, 60);
    assert.equal(got.body.condition, 'pct_change');
  });
});

describe('validation errors: 400 problem naming the failing field', () => {
  const wl = () => newWatchlist('validation');
  const long = (n: number) => 'x'.repeat(n);
  const cases: { what: string; method: 'POST' | 'PATCH' | 'GET' | 'DELETE'; url: (id: string) => string; body?: unknown; fields: string[]; in?: string }[] = [
    { what: 'watchlist without name', method: 'POST', url: () => '/api/watchlists', body: {}, fields: ['name'] },
    { what: 'blank name', method: 'POST', url: () => '/api/watchlists', body: { name: '   ' }, fields: ['name'] },
    { what: 'name too long', method: 'POST', url: () => '/api/watchlists', body: { name: long(101) }, fields: ['name'] },
    { what: 'name not a string', method: 'POST', url: () => '/api/watchlists', body: { name: 42 }, fields: ['name'] },
    { what: 'description too long', method: 'POST', url: () => '/api/watchlists', body: { name: 'a', description: long(1001) }, fields: ['description'] },
    { what: 'unknown watchlist field', method: 'POST', url: () => '/api/watchlists', body: { name: 'a', owner: 'me' }, fields: ['owner'] },
    { what: 'too many initial items', method: 'POST', url: () => '/api/watchlists', body: { name: 'a', items: Array.from({ length: 201 }, () => ({ symbol: 'AAPL', asset_type: 'stock' })) }, fields: ['items'] },
    { what: 'bad initial item', method: 'POST', url: () => '/api/watchlists', body: { name: 'a', items: [{ symbol: 'AAPL', asset_type: 'bond' }] }, fields: ['items.0.asset_type'] },
    { what: 'unknown field in an item', method: 'POST', url: () => '/api/watchlists', body: { name: 'a', items: [{ symbol: 'AAPL', asset_type: 'stock', qty: 1 }] }, fields: ['items.0.qty'] },
    { what: 'array body', method: 'POST', url: () => '/api/watchlists', body: [{ name: 'a' }], fields: ['(root)'] },
    { what: 'empty patch', method: 'PATCH', url: (id) => `/api/watchlists/${id}`, body: {}, fields: ['(root)'] },
    { what: 'unknown patch field', method: 'PATCH', url: (id) => `/api/watchlists/${id}`, body: { name: 'a', items: [] }, fields: ['items'] },
    { what: 'id not a uuid', method: 'GET', url: () => '/api/watchlists/1', fields: ['id'], in: 'params' },
    { what: 'injection-shaped id', method: 'DELETE', url: () => `/api/watchlists/${encodeURIComponent("1' OR '1'='1")}`, fields: ['id'], in: 'params' },
    { what: 'item id not a uuid', method: 'DELETE', url: (id) => `/api/watchlists/${id}/items/abc`, fields: ['itemId'], in: 'params' },
    { what: 'limit 0', method: 'GET', url: () => '/api/watchlists?limit=0', fields: ['limit'], in: 'querystring' },
    { what: 'limit 101', method: 'GET', url: () => '/api/alert-rules?limit=101', fields: ['limit'], in: 'querystring' },
    { what: 'limit not a number', method: 'GET', url: () => '/api/watchlists?limit=ten', fields: ['limit'], in: 'querystring' },
    { what: 'negative offset', method: 'GET', url: () => '/api/alert-rules?offset=-1', fields: ['offset'], in: 'querystring' },
    { what: 'fractional offset', method: 'GET', url: () => '/api/watchlists?offset=1.5', fields: ['offset'], in: 'querystring' },
    { what: 'item without symbol', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { asset_type: 'crypto' }, fields: ['symbol'] },
    { what: 'item without asset_type', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'AAPL' }, fields: ['asset_type'] },
    { what: 'asset_type outside the set', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'AAPL', asset_type: 'etf' }, fields: ['asset_type'] },
    { what: 'crypto symbol without quote', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'BITCOIN', asset_type: 'crypto' }, fields: ['symbol'] },
    { what: 'forex not a pair', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'EURO', asset_type: 'forex' }, fields: ['symbol'] },
    { what: 'index without caret', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'GSPC', asset_type: 'index' }, fields: ['symbol'] },
    { what: 'stock with spaces', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'AA PL', asset_type: 'stock' }, fields: ['symbol'] },
    { what: 'symbol too long', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: long(33), asset_type: 'stock' }, fields: ['symbol'] },
    { what: 'empty symbol', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: '', asset_type: 'stock' }, fields: ['symbol'] },
    { what: 'exchange not matching the asset type', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'yahoo' }, fields: ['exchange'] },
    { what: 'unknown exchange', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'AAPL', asset_type: 'stock', exchange: 'nyse' }, fields: ['exchange'] },
    { what: 'a crypto venue for a stock', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'AAPL', asset_type: 'stock', exchange: 'kraken' }, fields: ['exchange'] },
    { what: 'a venue name in the wrong case', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'BTC/USD', asset_type: 'crypto', exchange: 'Kraken' }, fields: ['exchange'] },
    { what: 'a perpetual on a spot venue', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'BTC/USDT:USDT', asset_type: 'crypto', exchange: 'binance' }, fields: ['symbol'] },
    { what: 'a coin-margined perpetual on binance-futures', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'BTC/USD:BTC', asset_type: 'crypto', exchange: 'binance-futures' }, fields: ['symbol'] },
    { what: 'an unknown venue in an initial item', method: 'POST', url: () => '/api/watchlists', body: { name: 'a', items: [{ symbol: 'BTC/USD', asset_type: 'crypto', exchange: 'bitstamp' }] }, fields: ['items.0.exchange'] },
    { what: 'unknown item field', method: 'POST', url: (id) => `/api/watchlists/${id}/items`, body: { symbol: 'AAPL', asset_type: 'stock', note: 'x' }, fields: ['note'] },
    { what: 'rule without threshold', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'above' }, fields: ['threshold'] },
    { what: 'rule threshold as string', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'above', threshold: '100' }, fields: ['threshold'] },
    { what: 'rule condition outside the set', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'crosses', threshold: 1 }, fields: ['condition'] },
    { what: 'price threshold not positive', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'below', threshold: 0 }, fields: ['threshold'] },
    { what: 'pct_change without window', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'pct_change', threshold: 2 }, fields: ['window_seconds'] },
    { what: 'pct_change of 0', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'pct_change', threshold: 0, window_seconds: 60 }, fields: ['threshold'] },
    { what: 'window too short', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'pct_change', threshold: 1, window_seconds: 5 }, fields: ['window_seconds'] },
    { what: 'fractional window', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'pct_change', threshold: 1, window_seconds: 60.5 }, fields: ['window_seconds'] },
    { what: 'negative cooldown', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'above', threshold: 1, cooldown_seconds: -1 }, fields: ['cooldown_seconds'] },
    { what: 'severity outside the set', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'above', threshold: 1, severity: 'page' }, fields: ['severity'] },
    { what: 'rule symbol with odd characters', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL; --', condition: 'above', threshold: 1 }, fields: ['symbol'] },
    { what: 'unknown rule field', method: 'POST', url: () => '/api/alert-rules', body: { symbol: 'AAPL', condition: 'above', threshold: 1, enabled: true }, fields: ['enabled'] },
    { what: 'empty rule patch', method: 'PATCH', url: () => `/api/alert-rules/${MISSING}`, body: {}, fields: ['(root)'] },
    { what: 'rule patch with unknown field', method: 'PATCH', url: () => `/api/alert-rules/${MISSING}`, body: { severity: 'info', id: MISSING }, fields: ['id'] },
  ];
  test(`${cases.length} invalid requests`, async () => {
    const w = await wl();
    for (const c of cases) {
      const res = await call(app, c.method, c.url(w.id), c.body);
      const p = assertProblem(res, 400);
      assert.ok(p.errors?.length, c.what);
      assert.deepEqual([...new Set(p.errors.map((e) => e.field))], c.fields, `${c.what}: ${JSON.stringify(p.errors)}`);
      assert.ok(p.errors.every((e) => e.in === (c.in ?? 'body') && e.message.length > 0), c.what);
    }
    // nothing invalid was stored
    assert.deepEqual((await call<WatchlistBody>(app, 'GET', `/api/watchlists/${w.id}`)).body.items, []);
  });

  test('malformed JSON, wrong content type, oversized body and unknown routes are problems too', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/watchlists', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":' });
    assert.equal(bad.statusCode, 400);
    assert.match(String(bad.headers['content-type']), /problem\+json/);
    const text = await app.inject({ method: 'POST', url: '/api/watchlists', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<name>a</name>' });
    assert.equal(text.statusCode, 415);
    assert.match(String(text.headers['content-type']), /problem\+json/);
    const big = await app.inject({ method: 'POST', url: '/api/watchlists', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'a', description: 'x'.repeat(70_000) }) });
    assert.equal(big.statusCode, 413);
    assert.match(String(big.headers['content-type']), /problem\+json/);
    const empty = await app.inject({ method: 'POST', url: '/api/watchlists', headers: { ...auth, 'content-type': 'application/json' } });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(empty.json<Problem>().errors?.map((e) => e.field), ['(root)']);
    assertProblem(await call(app, 'GET', '/api/nothing-here'), 404);
    assertProblem(await call(app, 'GET', '/nothing-here'), 404);
  });
});

test('a body over the limit answered 413 while the client is still sending it, on a connection that stays usable', async () => {
  const a = await testApp(await pg.createDatabase(uniqueDbName('oversize')));
  await a.listen({ port: 0, host: '127.0.0.1' });
  const sock = net.connect((a.server.address() as AddressInfo).port, '127.0.0.1');
  try {
    let got = '';
    sock.setEncoding('latin1').on('data', (d: string) => (got += d));
    /** The next whole answer (head and Content-Length body) taken from what has arrived. */
    const answer = async () => {
      for (let i = 0; i < 200; i++) {
        const end = got.indexOf('\r\n\r\n');
        const length = end < 0 ? NaN : Number(/content-length: *(\d+)/i.exec(got.slice(0, end))?.[1]);
        if (end >= 0 && got.length >= end + 4 + length) {
          const head = got.slice(0, end);
          const body = got.slice(end + 4, end + 4 + length);
          got = got.slice(end + 4 + length);
          return { status: Number(head.split(' ')[1]), head: head.toLowerCase(), body };
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no whole answer; got ${JSON.stringify(got.slice(0, 200))}, socket ${sock.destroyed ? 'closed' : 'open'}`);
    };
    const body = Buffer.from(JSON.stringify({ name: 'x'.repeat(1_000_000) }));
    sock.write(`POST /api/watchlists HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    sock.write(body.subarray(0, 65_536));
    const big = await answer();
    assert.equal(big.status, 413);
    assert.match(big.head, /content-type: application\/problem\+json/);
    assert.doesNotMatch(big.head, /connection: close/);
    // the rest of the body, then another request on the same connection
    sock.write(body.subarray(65_536));
    sock.write(`GET /api/watchlists HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    const next = await answer();
    assert.equal(next.status, 200, next.body);
  } finally {
    sock.destroy();
    await a.close();
  }
});

describe('limits', () => {
  test('item, watchlist and rule counts are bounded (422), also under concurrency', async () => {
    const small = await testApp(await pg.createDatabase(uniqueDbName('limits')), { MAX_ITEMS_PER_WATCHLIST: '3', MAX_WATCHLISTS: '2', MAX_ALERT_RULES: '1' });
    try {
      const w = await call<WatchlistBody>(small, 'POST', '/api/watchlists', { name: 'a' });
      const adds = await Promise.all(['AAPL', 'MSFT', 'NVDA', 'TSLA', 'AMZN'].map((symbol) => call(small, 'POST', `/api/watchlists/${w.body.id}/items`, { symbol, asset_type: 'stock' })));
      assert.deepEqual(adds.map((r) => r.status).sort(), [201, 201, 201, 422, 422]);
      assert.equal((await call<WatchlistBody>(small, 'GET', `/api/watchlists/${w.body.id}`)).body.items.length, 3);
      const tooMany = Array.from({ length: 4 }, (_, i) => ({ symbol: `T${i}`, asset_type: 'stock' }));
      assertProblem(await call(small, 'POST', '/api/watchlists', { name: 'b', items: tooMany }), 422);
      const lists = await Promise.all([1, 2, 3].map((i) => call(small, 'POST', '/api/watchlists', { name: `n${i}` })));
      assert.deepEqual(lists.map((r) => r.status).sort(), [201, 422, 422]);
      assert.equal((await call(small, 'POST', '/api/alert-rules', { symbol: 'AAPL', condition: 'above', threshold: 1 })).status, 201);
      assertProblem(await call(small, 'POST', '/api/alert-rules', { symbol: 'AAPL', condition: 'above', threshold: 2 }), 422);
    } finally {
      await small.close();
    }
  });
});

describe('operations', () => {
  test('OpenAPI document lists every route with its methods, schemas, problems and bearer security', async () => {
    const res = await app.inject({ url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json<{
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }>; requestBody?: unknown; parameters?: { name: string; in: string }[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    }>();
    assert.match(doc.openapi, /^3\.0\.\d$/);
    assert.ok(doc.info.title);
    const expected: Record<string, string[]> = {
      '/healthz': ['get'],
      '/readyz': ['get'],
      '/api/watchlists': ['get', 'post'],
      '/api/watchlists/{id}': ['get', 'patch', 'delete'],
      '/api/watchlists/{id}/items': ['post'],
      '/api/watchlists/{id}/items/{itemId}': ['delete'],
      '/api/alert-rules': ['get', 'post'],
      '/api/alert-rules/{id}': ['get', 'patch', 'delete'],
      '/api/alert-rules/backtest': ['post'],
      '/api/alert-events': ['get'],
      '/api/layouts': ['get', 'post'],
      '/api/layouts/{id}': ['get', 'patch', 'delete'],
      '/api/account': ['get'],
      '/api/account/token/rotate': ['post'],
      '/api/accounts': ['get', 'post'],
      '/api/accounts/{id}': ['get', 'patch'],
      '/api/accounts/{id}/tokens': ['post'],
      '/api/accounts/{id}/tokens/{tokenId}': ['delete'],
      '/auth/login': ['get', 'post'],
      '/auth/logout': ['get'],
      '/l/{code}': ['get'],
      '/l/{code}/{n}': ['get'],
    };
    assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(expected).sort());
    for (const [p, methods] of Object.entries(expected)) {
      assert.deepEqual(Object.keys(doc.paths[p]!).sort(), [...methods].sort(), p);
      for (const m of methods) {
        const op = doc.paths[p]![m]!;
        const codes = Object.keys(op.responses);
        // a success: 2xx, or the redirect of the sign-in and short-link routes
        assert.ok(codes.some((c) => c.startsWith('2') || (!p.startsWith('/api/') && /^30[23]$/.test(c))), `${m} ${p} documents a success`);
        if (p.startsWith('/api/')) {
          assert.deepEqual(op.security, [{ bearerAuth: [] }], `${m} ${p}`);
          assert.ok(op.responses['401']?.content?.['application/problem+json'], `${m} ${p} documents 401 as problem+json`);
          assert.ok(op.responses['400']?.content?.['application/problem+json'], `${m} ${p} documents 400`);
        }
        if (m === 'post' || m === 'patch') assert.ok(op.requestBody, `${m} ${p} has a request body schema`);
        for (const param of p.match(/\{(\w+)\}/g) ?? []) {
          assert.ok(op.parameters?.some((x) => x.in === 'path' && `{${x.name}}` === param), `${m} ${p} documents ${param}`);
        }
      }
    }
    assert.ok(doc.components.securitySchemes.bearerAuth);
    // structurally sound: every response has a description, every $ref resolves inside the document
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (typeof o.$ref === 'string') {
        const target = o.$ref.replace(/^#\//, '').split('/').reduce<unknown>((n, k) => (n as Record<string, unknown> | undefined)?.[k], doc);
        assert.ok(target, `${at}: dangling $ref ${o.$ref}`);
      }
      if (/\/responses\/\w+$/.test(at)) assert.equal(typeof o.description, 'string', `${at} has a description`);
      for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`);
    };
    walk(doc, '#');
    const ui = await app.inject({ url: '/docs/' });
    assert.equal(ui.statusCode, 200);
    assert.match(ui.body, /swagger/i);
  });

  test('readiness and liveness', async () => {
    assert.deepEqual((await app.inject({ url: '/healthz' })).json(), { ok: true });
    assert.deepEqual((await app.inject({ url: '/readyz' })).json(), { ok: true, database: 'up' });
  });

  test('metrics: latency by route template and status, notifications per committed change', async () => {
    const before = metricValue((await app.inject({ url: '/metrics' })).body, 'watchlist_notify_total');
    const w = await newWatchlist('metrics');
    await call(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol: 'AAPL', asset_type: 'stock' });
    await call(app, 'POST', `/api/watchlists/${w.id}/items`, { symbol: 'AAPL', asset_type: 'stock' }); // 409: rolled back, no notify
    await call(app, 'GET', `/api/watchlists/${w.id}`);
    await call(app, 'GET', `/api/watchlists/${MISSING}`);
    const text = (await app.inject({ url: '/metrics' })).body;
    assert.equal(metricValue(text, 'watchlist_notify_total') - before, 2);
    assert.ok(metricValue(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/watchlists/:id', status_code: '200' }) >= 1);
    assert.ok(metricValue(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/watchlists/:id', status_code: '404' }) >= 1);
    assert.ok(metricValue(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/watchlists/:id/items', status_code: '409' }) >= 1);
    assert.ok(!text.includes(w.id), 'no raw ids in labels');
  });

  test('migrations: recorded once, re-running is a no-op, concurrent runs on a fresh database are safe', async () => {
    const url = await pg.createDatabase(uniqueDbName('migrate'));
    const dbs = [1, 2, 3].map(() => new Db(url, { max: 2, queryTimeoutMs: 5000, onIdleError: () => {} }));
    try {
      // every file of migrations/ (001_init.sql, 002_alert_rule_conditions.sql, 004_alert_rule_fired_at.sql, …)
      const files = readdirSync(new URL('../migrations/', import.meta.url)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
      assert.ok(files.includes('001_init.sql') && files.includes('004_alert_rule_fired_at.sql'), files.join());
      const applied = await Promise.all(dbs.map((d) => migrate(d)));
      assert.deepEqual(applied.flat().sort(), files, 'exactly one runner applied each');
      assert.deepEqual(await migrate(dbs[0]!), []);
      const rows = await dbs[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.rows, files.map((f) => ({ version: parseInt(f, 10) })));
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  test('config: API_TOKEN is required outside tests and must be long enough', () => {
    assert.throws(() => parseConfig(configSchema, { NODE_ENV: 'production' }), (e: unknown) => e instanceof ConfigError && /API_TOKEN/.test(e.message));
    assert.throws(() => parseConfig(configSchema, { NODE_ENV: 'production', API_TOKEN: 'short' }), /API_TOKEN/);
    assert.equal(parseConfig(configSchema, { NODE_ENV: 'production', API_TOKEN: TOKEN }).PORT, 8000);
    assert.throws(() => parseConfig(configSchema, { API_TOKEN: TOKEN, PORT: 'eighty' }), /PORT/);
  });
});
