// The live push: API change → NOTIFY → the feeders' LISTEN source (common/src/watchset/pg.ts) delivers
// the new full set within one second; a dropped listener and a PostgreSQL restart are survived, with
// the API answering 503 meanwhile and recovering by itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Backoff, createLogger, PgWatchSet, type WatchSet } from '@mt/common';
import { freePort, startPostgres, waitFor, type PostgresServer } from '@mt/testing';
import type { App } from '../src/app.js';
import { call, testApp, uniqueDbName } from './helpers.js';

const log = createLogger('test', 'silent');

/** Records every delivered set with its arrival time. */
class Recorder {
  readonly sets: { at: number; set: WatchSet }[] = [];
  readonly onChange = (set: WatchSet) => this.sets.push({ at: Date.now(), set });
  /** The first set delivered after index `from` that satisfies `pred`. */
  next(pred: (s: WatchSet) => boolean, from: number, timeoutMs = 10_000) {
    return waitFor(() => this.sets.slice(from).find((x) => pred(x.set)), timeoutMs, 'a matching watch set', 10);
  }
}
const symbols = (s: WatchSet) => s.items.map((i) => `${i.exchange}:${i.symbol}`).sort();

let server: PostgresServer;
let app: App;
let url: string;
const latencies: number[] = [];

before(async () => {
  server = await startPostgres();
  url = await server.createDatabase(uniqueDbName('push'));
  app = await testApp(url);
});
after(async () => {
  if (latencies.length) console.log(`NOTIFY → onChange latency ms: ${latencies.join(', ')} (max ${Math.max(...latencies)})`);
  await app?.close();
  await server?.stop();
});

/** POST/DELETE through the API and wait for the set that reflects it; asserts the one-second contract. */
async function changeAndExpect(rec: Recorder, change: () => Promise<{ status: number }>, expected: number, pred: (s: WatchSet) => boolean) {
  const from = rec.sets.length;
  const res = await change();
  assert.equal(res.status, expected);
  const committedAt = Date.now();
  const got = await rec.next(pred, from, 5_000);
  const ms = got.at - committedAt;
  latencies.push(ms);
  assert.ok(ms < 1000, `delivered ${ms} ms after the commit`);
  return got.set;
}

describe('LISTEN/NOTIFY watch-set source', () => {
  test('initial full set merged with WATCH_SYMBOLS, then every change within one second', async () => {
    const w = await call<{ id: string }>(app, 'POST', '/api/watchlists', { name: 'p', items: [{ symbol: 'ETHUSDT', asset_type: 'crypto' }] });
    const rec = new Recorder();
    const src = new PgWatchSet({ databaseUrl: url, fixed: [{ symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' }], log });
    try {
      await src.start(rec.onChange);
      assert.equal(rec.sets.length, 1, 'start resolves after the first delivery');
      assert.deepEqual(symbols(rec.sets[0]!.set), ['binance:ETH/USDT', 'yahoo:AAPL']);

      const added = await changeAndExpect(
        rec,
        () => call(app, 'POST', `/api/watchlists/${w.body.id}/items`, { symbol: 'btc/usdt', asset_type: 'crypto' }),
        201,
        (s) => symbols(s).includes('binance:BTC/USDT'),
      );
      assert.deepEqual(symbols(added), ['binance:BTC/USDT', 'binance:ETH/USDT', 'yahoo:AAPL']);
      assert.deepEqual(added.items.find((i) => i.symbol === 'BTC/USDT'), { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' });

      // the same symbols in a second watchlist: the union holds each once (an unchanged set is not re-delivered)
      const w2 = await call<{ id: string }>(app, 'POST', '/api/watchlists', { name: 'q', items: [{ symbol: 'BTC/USDT', asset_type: 'crypto' }, { symbol: 'aapl', asset_type: 'stock' }] });
      assert.equal(w2.status, 201);

      let rule: { id: string } | undefined;
      const withRule = await changeAndExpect(
        rec,
        async () => {
          const r = await call<{ id: string }>(app, 'POST', '/api/alert-rules', { symbol: 'BTC/USDT', condition: 'above', threshold: 100000, severity: 'critical' });
          rule = r.body;
          return r;
        },
        201,
        (s) => s.rules.length === 1,
      );
      assert.deepEqual(withRule.rules, [
        {
          id: rule!.id,
          symbol: 'BTC/USDT',
          condition: 'above',
          threshold: 100000,
          window_seconds: null,
          cooldown_seconds: 300,
          severity: 'critical',
          // the fields added with issue 17, at the defaults that mean "as before"
          timeframe: null,
          params: {},
          trigger: 'every_time',
          hysteresis_pct: 0,
          expires_at: null,
          muted_until: null,
          // trigger once's stored firing (migration 004): none
          fired_at: null,
        },
      ]);

      await changeAndExpect(rec, () => call(app, 'PATCH', `/api/alert-rules/${rule!.id}`, { threshold: 90000.5 }), 200, (s) => s.rules[0]?.threshold === 90000.5);
      await changeAndExpect(rec, () => call(app, 'DELETE', `/api/alert-rules/${rule!.id}`), 204, (s) => s.rules.length === 0);

      // deleting BTC/USDT from one list keeps it (still in w2); deleting w2 removes it
      const wl = await call<{ items: { id: string; symbol: string }[] }>(app, 'GET', `/api/watchlists/${w.body.id}`);
      const btc = wl.body.items.find((i) => i.symbol === 'BTC/USDT')!;
      const n = rec.sets.length;
      assert.equal((await call(app, 'DELETE', `/api/watchlists/${w.body.id}/items/${btc.id}`)).status, 204);
      await changeAndExpect(rec, () => call(app, 'DELETE', `/api/watchlists/${w2.body.id}`), 204, (s) => !symbols(s).includes('binance:BTC/USDT'));
      assert.ok(rec.sets.slice(n).every((x) => x.set.items.some((i) => i.symbol === 'ETH/USDT')));
      assert.deepEqual(symbols(rec.sets.at(-1)!.set), ['binance:ETH/USDT', 'yahoo:AAPL'], 'fixed AAPL stays although its list row is gone');
    } finally {
      await src.stop();
    }
  });

  test('a notification missed while the listener was disconnected is caught by the reload on reconnect', async () => {
    const w = await call<{ id: string }>(app, 'POST', '/api/watchlists', { name: 'missed' });
    const rec = new Recorder();
    // fixed 600 ms reconnect delay: the change below certainly lands while the listener is away
    const src = new PgWatchSet({ databaseUrl: url, log, backoff: new Backoff({ initialMs: 600, jitter: 0, maxMs: 600 }) });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await src.start(rec.onChange);
      const from = rec.sets.length;
      const killedAt = Date.now();
      const killed = await admin.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'watchset-listener'");
      assert.deepEqual(killed.rows, [{ ok: true }]);
      assert.equal((await call(app, 'POST', `/api/watchlists/${w.body.id}/items`, { symbol: 'MSFT', asset_type: 'stock' })).status, 201);
      const got = await rec.next((s) => symbols(s).includes('yahoo:MSFT'), from);
      assert.ok(got.at - killedAt >= 550, 'delivered by the reload after the (600 ms delayed) reconnect, not by a NOTIFY');
      // and it listens again
      await changeAndExpect(rec, () => call(app, 'POST', `/api/watchlists/${w.body.id}/items`, { symbol: 'NVDA', asset_type: 'stock' }), 201, (s) => symbols(s).includes('yahoo:NVDA'));
    } finally {
      await admin.end();
      await src.stop();
    }
  });

  test('PostgreSQL unreachable at start: the fixed items are delivered and start() does not block', async () => {
    const rec = new Recorder();
    const src = new PgWatchSet({ databaseUrl: `postgres://postgres@127.0.0.1:${await freePort()}/none`, fixed: [{ symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' }], log });
    try {
      await src.start(rec.onChange);
      assert.deepEqual(rec.sets.map((x) => symbols(x.set)), [['binance:BTC/USDT']]);
    } finally {
      await src.stop();
    }
  });

  test('PostgreSQL restart: API answers 503 meanwhile and recovers; the listener reconnects and reloads', async () => {
    const w = await call<{ id: string }>(app, 'POST', '/api/watchlists', { name: 'restart' });
    const rec = new Recorder();
    const src = new PgWatchSet({ databaseUrl: url, log, backoff: new Backoff({ initialMs: 100, maxMs: 500 }) });
    try {
      await src.start(rec.onChange);
      await server.stop();

      const down = await call<{ status: number; detail: string }>(app, 'GET', '/api/watchlists');
      assert.equal(down.status, 503);
      assert.match(String(down.headers['content-type']), /^application\/problem\+json/);
      assert.equal(down.headers['retry-after'], '2');
      assert.equal(down.body.status, 503);
      assert.equal((await call(app, 'POST', `/api/watchlists/${w.body.id}/items`, { symbol: 'AMD', asset_type: 'stock' })).status, 503);
      assert.equal((await app.inject({ url: '/readyz' })).statusCode, 503);
      assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);

      await server.start();
      // recovers by itself: no restart of the app
      await waitFor(async () => (await call(app, 'GET', '/api/watchlists')).status === 200, 10_000, 'API to recover');
      assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);

      // committed right after the restart, possibly before the listener is back: the reconnect reload brings it
      const from = rec.sets.length;
      assert.equal((await call(app, 'POST', `/api/watchlists/${w.body.id}/items`, { symbol: 'AMD', asset_type: 'stock' })).status, 201);
      await rec.next((s) => symbols(s).includes('yahoo:AMD'), from);
      // listening again: the next change is pushed within one second
      await changeAndExpect(rec, () => call(app, 'POST', `/api/watchlists/${w.body.id}/items`, { symbol: 'INTC', asset_type: 'stock' }), 201, (s) => symbols(s).includes('yahoo:INTC'));
    } finally {
      await src.stop();
    }
  });

  test('PostgreSQL stalled (SIGSTOP): requests end in 503 within the query timeout instead of hanging, then recover', async () => {
    const quick = await testApp(url, { DB_QUERY_TIMEOUT_MS: '300' });
    try {
      assert.equal((await call(quick, 'GET', '/api/watchlists')).status, 200);
      server.pause();
      try {
        const started = Date.now();
        const res = await call(quick, 'GET', '/api/alert-rules');
        assert.equal(res.status, 503, JSON.stringify(res.body));
        assert.ok(Date.now() - started < 5_000, 'bounded by DB_QUERY_TIMEOUT_MS / the connect timeout');
        assert.equal((await quick.inject({ url: '/readyz' })).statusCode, 503);
      } finally {
        server.resume();
      }
      await waitFor(async () => (await call(quick, 'GET', '/api/alert-rules')).status === 200, 10_000, 'recovery after the stall');
    } finally {
      await quick.close();
    }
  });
});
