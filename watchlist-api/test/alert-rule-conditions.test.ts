// Alert rules with the conditions and noise control of docs/ALERTING.md through app.inject() against a real
// PostgreSQL: old rules unchanged, every new condition accepted, invalid combinations a 400 naming the
// field, PATCH re-validated against the stored rule, and the feeders' watch-set query reads it all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadWatchSet, markRuleFired } from '@mt/common';
import { startPostgres, type PostgresServer } from '@mt/testing';
import type { App } from '../src/app.js';
import { call, testApp, uniqueDbName } from './helpers.js';

let server: PostgresServer;
let app: App;
let url: string;

before(async () => {
  server = await startPostgres();
  url = await server.createDatabase(uniqueDbName('conditions'));
  app = await testApp(url);
});
after(async () => {
  await app?.close();
  await server?.stop();
});

interface Rule {
  id: string;
  condition: string;
  threshold: number | null;
  timeframe: string | null;
  params: Record<string, unknown>;
  trigger: string;
  hysteresis_pct: number;
  expires_at: string | null;
  muted_until: string | null;
  fired_at: string | null;
  cooldown_seconds: number;
  severity: string;
}
interface Problem {
  status: number;
  errors?: { field: string; message: string }[];
}

const future = new Date(Date.now() + 86_400_000).toISOString();

test('a rule in the old shape is created and answered as before, with the new fields at their defaults', async () => {
  const res = await call<Rule>(app, 'POST', '/api/alert-rules', { symbol: 'BTC/USDT', condition: 'above', threshold: 65000 });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const { id, ...rest } = res.body;
  assert.ok(id);
  assert.deepEqual(
    { condition: rest.condition, threshold: rest.threshold, cooldown_seconds: rest.cooldown_seconds, severity: rest.severity },
    { condition: 'above', threshold: 65000, cooldown_seconds: 300, severity: 'warning' },
  );
  assert.deepEqual(
    { timeframe: rest.timeframe, params: rest.params, trigger: rest.trigger, hysteresis_pct: rest.hysteresis_pct, expires_at: rest.expires_at, muted_until: rest.muted_until },
    { timeframe: null, params: {}, trigger: 'every_time', hysteresis_pct: 0, expires_at: null, muted_until: null },
  );
});

test('every new condition is accepted in its documented shape', async () => {
  const bodies = [
    { condition: 'crosses_above', threshold: 70000, hysteresis_pct: 0.5, trigger: 'once_per_bar', timeframe: '5m' },
    { condition: 'crosses_below', threshold: 60000, trigger: 'once' },
    { condition: 'rsi_above', threshold: 70, timeframe: '1h', params: { period: 14 } },
    { condition: 'rsi_below', threshold: 30 },
    { condition: 'macd_cross_up', timeframe: '1d' },
    { condition: 'macd_cross_down' },
    { condition: 'bollinger_break_up', timeframe: '5m' },
    { condition: 'bollinger_break_down' },
    { condition: 'volume_spike', params: { k: 3, n: 20 } },
    { condition: 'funding_above', threshold: 0.0005 },
    { condition: 'funding_below', threshold: -0.0005 },
    { condition: 'fear_greed_above', threshold: 75 },
    { condition: 'fear_greed_below', threshold: 25, hysteresis_pct: 10 },
    { condition: 'news_sentiment_above', threshold: 0.5, window_seconds: 3600 },
    { condition: 'news_sentiment_below', threshold: -0.3 },
    { condition: 'news_keyword', params: { keyword: 'ETF' }, expires_at: future, muted_until: future },
    { condition: 'feed_stale', params: { seconds: 120 }, severity: 'critical' },
  ];
  for (const b of bodies) {
    const res = await call<Rule>(app, 'POST', '/api/alert-rules', { symbol: 'BTC/USDT', ...b });
    assert.equal(res.status, 201, `${b.condition}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.condition, b.condition);
    if ('params' in b) assert.deepEqual(res.body.params, b.params);
    if ('expires_at' in b) assert.equal(Date.parse(res.body.expires_at!), Date.parse(future));
  }
});

test('invalid combinations are 400 problems naming the field', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ condition: 'rsi_above' }, 'threshold'],
    [{ condition: 'rsi_above', threshold: 120 }, 'threshold'],
    [{ condition: 'rsi_above', threshold: 70, params: { period: 7 } }, 'params.period'],
    [{ condition: 'rsi_above', threshold: 70, params: { k: 3 } }, 'params.k'],
    [{ condition: 'macd_cross_up', threshold: 1 }, 'threshold'],
    [{ condition: 'news_keyword' }, 'params.keyword'],
    [{ condition: 'news_keyword', params: { keyword: '' } }, 'params.keyword'],
    [{ condition: 'news_sentiment_below', threshold: -2 }, 'threshold'],
    [{ condition: 'fear_greed_below', threshold: 0 }, 'threshold'],
    [{ condition: 'funding_above', threshold: 5 }, 'threshold'],
    [{ condition: 'volume_spike', params: { k: 0.5 } }, 'params.k'],
    [{ condition: 'volume_spike', hysteresis_pct: 5 }, 'hysteresis_pct'],
    [{ condition: 'crosses_above', threshold: 100, timeframe: '5m' }, 'timeframe'],
    [{ condition: 'crosses_above', threshold: 100, timeframe: '2m' }, 'timeframe'],
    [{ condition: 'crosses_above', threshold: 100, trigger: 'always' }, 'trigger'],
    [{ condition: 'crosses_above', threshold: 100, hysteresis_pct: 80 }, 'hysteresis_pct'],
    [{ condition: 'crosses_above', threshold: 100, expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
    [{ condition: 'crosses_above', threshold: 100, muted_until: 'tomorrow' }, 'muted_until'],
    [{ condition: 'crosses_above', threshold: 100, params: { colour: 'red' } }, 'params.colour'],
    [{ condition: 'feed_stale', params: { seconds: 1 } }, 'params.seconds'],
    [{ condition: 'sideways', threshold: 1 }, 'condition'],
  ];
  for (const [b, field] of cases) {
    const res = await call<Problem>(app, 'POST', '/api/alert-rules', { symbol: 'BTC/USDT', ...b });
    assert.equal(res.status, 400, `${JSON.stringify(b)} → ${res.status}`);
    assert.ok(
      res.body.errors?.some((e) => e.field === field),
      `${JSON.stringify(b)} names ${field}: ${JSON.stringify(res.body.errors)}`,
    );
  }
});

test('PATCH mutes and tunes a rule, and is validated against the stored rule', async () => {
  const created = await call<Rule>(app, 'POST', '/api/alert-rules', { symbol: 'ETH/USDT', condition: 'rsi_below', threshold: 30, timeframe: '5m' });
  const id = created.body.id;
  const muted = await call<Rule>(app, 'PATCH', `/api/alert-rules/${id}`, { muted_until: future, hysteresis_pct: 5 });
  assert.equal(muted.status, 200, JSON.stringify(muted.body));
  assert.equal(Date.parse(muted.body.muted_until!), Date.parse(future));
  assert.equal(muted.body.hysteresis_pct, 5);
  assert.equal(muted.body.timeframe, '5m', 'untouched fields kept');
  const unmuted = await call<Rule>(app, 'PATCH', `/api/alert-rules/${id}`, { muted_until: null });
  assert.equal(unmuted.body.muted_until, null);
  // to a condition without threshold: the stored threshold must go too
  const bad = await call<Problem>(app, 'PATCH', `/api/alert-rules/${id}`, { condition: 'macd_cross_down' });
  assert.equal(bad.status, 400);
  assert.ok(bad.body.errors?.some((e) => e.field === 'threshold'), JSON.stringify(bad.body));
  const ok = await call<Rule>(app, 'PATCH', `/api/alert-rules/${id}`, { condition: 'macd_cross_down', threshold: null, hysteresis_pct: 0 });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.threshold, null);
});

test('the feeders read every new field with the watch set', async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const set = await loadWatchSet(client);
    const kw = set.rules.find((r) => r.condition === 'news_keyword')!;
    assert.deepEqual(kw.params, { keyword: 'ETF' });
    assert.equal(kw.threshold, null);
    assert.equal(Date.parse(kw.expires_at!), Date.parse(future));
    assert.equal(Date.parse(kw.muted_until!), Date.parse(future));
    const cross = set.rules.find((r) => r.condition === 'crosses_above')!;
    assert.deepEqual([cross.timeframe, cross.trigger, cross.hysteresis_pct], ['5m', 'once_per_bar', 0.5]);
    const old = set.rules.find((r) => r.condition === 'above')!;
    assert.deepEqual([old.threshold, old.trigger, old.hysteresis_pct, old.expires_at, old.muted_until], [65000, 'every_time', 0, null, null]);
  } finally {
    await client.end();
  }
});

test('trigger once: fired_at stored by the feeder is shown; only PATCH fired_at null clears it (re-arm)', async () => {
  const created = await call<Rule>(app, 'POST', '/api/alert-rules', { symbol: 'SOL/USDT', condition: 'crosses_above', threshold: 200, trigger: 'once' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.fired_at, null, 'not fired yet');
  const id = created.body.id;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const at = Date.UTC(2026, 10, 25, 9, 30, 1);
    assert.equal(await markRuleFired(client, id, at), true);
    assert.equal(await markRuleFired(client, id, at + 60_000), true, 'a second write keeps the first time');
    assert.equal(await markRuleFired(client, '00000000-0000-4000-8000-000000000000', at), false, 'a deleted rule');
    const shown = await call<Rule>(app, 'GET', `/api/alert-rules/${id}`);
    assert.equal(shown.body.fired_at, new Date(at).toISOString());
    assert.equal(Date.parse((await loadWatchSet(client)).rules.find((r) => r.id === id)?.fired_at ?? ''), at, 'the feeders load it');
    // a PATCH of other fields keeps it; a client cannot set it, only clear it
    const tuned = await call<Rule>(app, 'PATCH', `/api/alert-rules/${id}`, { muted_until: future });
    assert.equal(tuned.body.fired_at, new Date(at).toISOString());
    const set = await call<Problem>(app, 'PATCH', `/api/alert-rules/${id}`, { fired_at: new Date(at).toISOString() });
    assert.equal(set.status, 400);
    assert.ok(set.body.errors?.some((e) => e.field === 'fired_at'), JSON.stringify(set.body));
    const rearmed = await call<Rule>(app, 'PATCH', `/api/alert-rules/${id}`, { fired_at: null });
    assert.equal(rearmed.status, 200, JSON.stringify(rearmed.body));
    assert.equal(rearmed.body.fired_at, null);
  } finally {
    await client.end();
  }
});
