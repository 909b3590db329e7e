// `trigger: once` under a burst: the feeder's OnceFiredStore against a real PostgreSQL migrated by the
// watchlist API. Once-rules that fire while a write is in flight are stored together in the next write
// (one UPDATE, one NOTIFY: one reload of the feeders' watch set, not one per rule); every rule shows its
// firing's time in the API, and a restarted feeder (the evaluator loading the stored rules) does not fire
// them again; firings while PostgreSQL is down are stored once it is back (docs/ALERTING.md "Noise control").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createLogger, loadWatchSet } from '@mt/common';
import { startPostgres, startService, waitFor, type PostgresServer, type RunningService } from '@mt/testing';
import { OnceFiredStore, RuleEvaluator } from '../../src/market/alerts/index.js';
import { apiCaller } from './session.js';

const TOKEN = 'once-store-token-0123456789';
const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
let postgres: PostgresServer;
let api: RunningService;
let url: string;
let listener: pg.Client;
const notified: string[] = [];

before(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase(`once_store_${process.pid}`);
  api = await startService('watchlist-api', { DATABASE_URL: url, API_TOKEN: TOKEN, INFLUX_URL: 'http://127.0.0.1:9', INFLUX_API: 'v1' }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 20_000, 'API migrated');
  listener = new pg.Client({ connectionString: url });
  await listener.connect();
  listener.on('error', () => {}); // PostgreSQL's restart in the second test ends it
  listener.on('notification', (n) => notified.push(n.payload ?? ''));
  await listener.query('LISTEN watchset_changed');
});

after(async () => {
  await listener?.end().catch(() => {});
  await api?.stop();
  await postgres?.stop();
});

const call = apiCaller(() => api.url, TOKEN);
const onceRule = (i: number) => call<{ id: string }>('POST', '/api/alert-rules', { symbol: 'BTC/USDT', condition: 'crosses_above', threshold: 100 + i, trigger: 'once', cooldown_seconds: 0 });
const firedAt = async (id: string) => (await call<{ fired_at: string | null }>('GET', `/api/alert-rules/${id}`)).fired_at;
const firedNotices = () => notified.filter((p) => p === 'rule_fired').length;

test('a burst of once-rule firings during a write: all stored in the next write, none fires again after a restart', async () => {
  const warm = await onceRule(0);
  const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => onceRule(i + 1)));
  const store = new OnceFiredStore({ connectionString: url, log: createLogger('test', 'silent') });
  try {
    // the store's connection is open (a first firing stored)
    store.fired(warm.id, T0);
    await waitFor(async () => (await firedAt(warm.id)) ?? undefined, 10_000, 'first firing stored');
    await waitFor(() => firedNotices() >= 1 || undefined, 5_000, 'its NOTIFY');
    const noticesBefore = firedNotices();

    // PostgreSQL stalls with the burst's first write in flight; the rest of the burst fires meanwhile
    postgres.pause();
    try {
      store.fired(burst[0]!.id, T0 + 1_000);
      await new Promise((r) => setTimeout(r, 50));
      for (const [i, r] of burst.entries()) store.fired(r.id, T0 + 1_000 + i);
      assert.equal(store.unsaved, burst.length, 'nothing stored while PostgreSQL stalls');
    } finally {
      postgres.resume();
    }
    await waitFor(() => store.unsaved === 0 || undefined, 15_000, 'the burst stored');
    for (const [i, r] of burst.entries()) assert.equal(await firedAt(r.id), new Date(T0 + 1_000 + i).toISOString(), `rule ${i}: its firing's time`);
    await waitFor(() => firedNotices() >= noticesBefore + 2 || undefined, 5_000, 'the NOTIFYs');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(firedNotices() - noticesBefore, 2, '41 firings, two writes: the one in flight and one for the rest');
  } finally {
    await store.close();
  }

  // what a restarted feeder does: load the rules, evaluate ticks that cross every level (first tick records)
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rules } = await loadWatchSet(client);
    const ev = new RuleEvaluator();
    ev.setRules(rules, T0 + 60_000);
    const fired = [...ev.onTick('BTC/USDT', T0 + 61_000, 50), ...ev.onTick('BTC/USDT', T0 + 62_000, 200), ...ev.onTick('BTC/USDT', T0 + 63_000, 50), ...ev.onTick('BTC/USDT', T0 + 64_000, 200)];
    assert.deepEqual(fired.map((f) => f.rule.id), [], 'no stored once-rule fires again');
    // the control: the same rules re-armed do fire (the ticks do cross their levels)
    const rearmed = new RuleEvaluator();
    rearmed.setRules(rules.map((r) => ({ ...r, fired_at: null })), T0 + 60_000);
    rearmed.onTick('BTC/USDT', T0 + 61_000, 50);
    assert.equal(rearmed.onTick('BTC/USDT', T0 + 62_000, 200).length, burst.length + 1);
  } finally {
    await client.end();
  }
});

test('once-rules that fire while PostgreSQL is down are stored when it is back', async () => {
  const rules = await Promise.all(Array.from({ length: 5 }, (_, i) => onceRule(200 + i)));
  const store = new OnceFiredStore({ connectionString: url, log: createLogger('test', 'silent') });
  try {
    await postgres.stop();
    try {
      for (const [i, r] of rules.entries()) store.fired(r.id, T0 + 5_000 + i);
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(store.unsaved, rules.length);
    } finally {
      await postgres.start();
    }
    await waitFor(() => store.unsaved === 0 || undefined, 60_000, 'stored after the restart of PostgreSQL');
    for (const [i, r] of rules.entries()) assert.equal(await firedAt(r.id), new Date(T0 + 5_000 + i).toISOString());
  } finally {
    await store.close();
  }
});
