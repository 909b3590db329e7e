// GET /api/alert-events against a real InfluxDB 1.x holding alert_events points written as line protocol
// (the layout of docs/INFLUXDB.md), and a real PostgreSQL for the rest of the app.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startPostgres, type InfluxServer, type PostgresServer } from '@mt/testing';
import type { App } from '../src/app.js';
import { call, testApp, uniqueDbName } from './helpers.js';

let pg: PostgresServer;
let influx: InfluxServer;
let app: App;
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

interface Event {
  time: string;
  symbol: string;
  rule_id: string;
  severity: string;
  condition: string;
  threshold: number | null;
  price: number | null;
  value: number | null;
  message: string;
}

before(async () => {
  [pg, influx] = await Promise.all([startPostgres(), startInflux()]);
  // the layout the feeders bootstrap: database markets, default retention policy raw (docs/INFLUXDB.md)
  await influx.query('CREATE DATABASE "markets" WITH DURATION 7d NAME "raw"');
  const lines = [
    `alert_events,rule_id=r1,severity=warning,symbol=BTC/USDT condition="above",threshold=65000,price=65012.5,message="BTC/USDT crossed above 65000.00" ${T0}`,
    `alert_events,rule_id=r2,severity=critical,symbol=ETH/USDT condition="rsi_above",threshold=70,price=3012.25,value=71.5,message="ETH/USDT RSI \\"hot\\"" ${T0 + 60_000}`,
    `alert_events,rule_id=r3,severity=info,symbol=BTC/USDT condition="news_keyword",price=65100,message="BTC/USDT news: ETF" ${T0 + 120_000}`,
  ];
  const res = await fetch(`${influx.url}/write?db=markets&precision=ms`, { method: 'POST', body: lines.join('\n') });
  assert.equal(res.status, 204, await res.text());
  app = await testApp(await pg.createDatabase(uniqueDbName('events')), { INFLUX_URL: influx.url, INFLUX_API: 'v1' });
});
after(async () => {
  await app?.close();
  await Promise.allSettled([influx?.stop(), pg?.stop()]);
});

test('lists fired alerts newest first with every stored field', async () => {
  const res = await call<{ data: Event[] }>(app, 'GET', `/api/alert-events?since=${new Date(T0 - 1000).toISOString()}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(
    res.body.data.map((e) => e.rule_id),
    ['r3', 'r2', 'r1'],
  );
  assert.deepEqual(res.body.data[1], {
    time: new Date(T0 + 60_000).toISOString(),
    symbol: 'ETH/USDT',
    rule_id: 'r2',
    severity: 'critical',
    condition: 'rsi_above',
    threshold: 70,
    price: 3012.25,
    value: 71.5,
    message: 'ETH/USDT RSI "hot"',
  });
  assert.equal(res.body.data[0]!.threshold, null, 'a condition without threshold');
});

test('symbol (any accepted spelling), since and limit filter', async () => {
  const since = new Date(T0 - 1000).toISOString();
  const btc = await call<{ data: Event[] }>(app, 'GET', `/api/alert-events?symbol=btcusdt&since=${since}`);
  assert.deepEqual(
    btc.body.data.map((e) => e.rule_id),
    ['r3', 'r1'],
  );
  const later = await call<{ data: Event[] }>(app, 'GET', `/api/alert-events?since=${encodeURIComponent(new Date(T0 + 60_000).toISOString())}`);
  assert.deepEqual(
    later.body.data.map((e) => e.rule_id),
    ['r3', 'r2'],
  );
  const one = await call<{ data: Event[] }>(app, 'GET', `/api/alert-events?since=${since}&limit=1`);
  assert.deepEqual(
    one.body.data.map((e) => e.rule_id),
    ['r3'],
  );
  const injected = await call<{ data: Event[] }>(app, 'GET', `/api/alert-events?since=${since}&symbol=${encodeURIComponent("X' OR symbol='BTC/USDT")}`);
  assert.equal(injected.status, 400, 'not a symbol');
});

test('invalid parameters are 400 problems naming the field', async () => {
  for (const [q, field] of [
    ['since=yesterday', 'since'],
    ['limit=0', 'limit'],
    ['limit=5000', 'limit'],
    ['colour=red', 'colour'],
  ] as const) {
    const res = await call<{ errors: { field: string }[] }>(app, 'GET', `/api/alert-events?${q}`);
    assert.equal(res.status, 400, q);
    assert.match(String(res.headers['content-type']), /problem\+json/);
    assert.ok(
      res.body.errors.some((e) => e.field === field),
      `${q}: ${JSON.stringify(res.body)}`,
    );
  }
});

test('the default window is the raw retention (7 days): old events are not listed', async () => {
  // T0 is a fixed date; "now" is later than T0 + 7 days only when the clock says so
  const res = await call<{ data: Event[] }>(app, 'GET', '/api/alert-events');
  assert.equal(res.status, 200);
  const expected = Date.now() - 7 * 86_400_000 <= T0 ? 3 : 0;
  assert.equal(res.body.data.length, expected);
});

test('InfluxDB down → 503 problem with Retry-After, and it answers again when InfluxDB is back', async () => {
  await influx.stop();
  try {
    const res = await call(app, 'GET', `/api/alert-events?since=${new Date(T0 - 1000).toISOString()}`);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.match(String(res.headers['content-type']), /problem\+json/);
    assert.equal(res.headers['retry-after'], '2');
  } finally {
    await influx.start();
  }
  const res = await call<{ data: Event[] }>(app, 'GET', `/api/alert-events?since=${new Date(T0 - 1000).toISOString()}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.data.length, 3);
});

test('the route is in the OpenAPI document', async () => {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  const doc = JSON.parse(res.body) as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
  const get = doc.paths['/api/alert-events']?.get;
  assert.ok(get, 'documented');
  assert.deepEqual(get.parameters?.map((p) => p.name).sort(), ['limit', 'since', 'symbol']);
});

test('backtest: a stored or draft rule over stored candles; invalid requests are 400 problems naming the field', async () => {
  // three closed 1-minute candles with RSI 60, 75, 65, 80 → rsi_above 70 crosses at the 2nd and 4th
  const tags = 'asset_type=crypto,exchange=binance,interval=1m,symbol=BTC/USDT';
  const lines = [60, 75, 65, 80].flatMap((rsi, i) => [
    `candles,${tags} close=${100 + i},volume=1 ${T0 + i * 60_000}`,
    `indicators,${tags} rsi_14=${rsi} ${T0 + i * 60_000}`,
  ]);
  const w = await fetch(`${influx.url}/write?db=markets&precision=ms`, { method: 'POST', body: lines.join('\n') });
  assert.equal(w.status, 204);
  const to = new Date(T0 + 10 * 60_000).toISOString();
  const draft = { symbol: 'BTC/USDT', condition: 'rsi_above', threshold: 70, cooldown_seconds: 0 };
  const res = await call<{ fires: { time: string; price: number; value: number }[]; replayed: { bars: number } }>(app, 'POST', '/api/alert-rules/backtest', { rule: draft, days: 1, to });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.fires, [
    { time: new Date(T0 + 2 * 60_000).toISOString(), price: 101, value: 75 },
    { time: new Date(T0 + 4 * 60_000).toISOString(), price: 103, value: 80 },
  ]);
  assert.equal(res.body.replayed.bars, 4);
  const stored = await call<{ id: string }>(app, 'POST', '/api/alert-rules', { ...draft, cooldown_seconds: 180 });
  const byId = await call<{ fires: { time: string }[] }>(app, 'POST', '/api/alert-rules/backtest', { rule_id: stored.body.id, days: 1, to });
  assert.deepEqual(
    byId.body.fires.map((f) => f.time),
    [new Date(T0 + 2 * 60_000).toISOString()],
    'the stored rule’s cooldown swallows the second crossing',
  );

  for (const [body, field] of [
    [{ days: 1 }, 'rule'],
    [{ rule: draft, rule_id: stored.body.id }, 'rule_id'],
    [{ rule: { ...draft, threshold: 170 } }, 'rule.threshold'],
    [{ rule: draft, days: 0 }, 'days'],
    [{ rule: draft, days: 400 }, 'days'],
    [{ rule: draft, to: 'now' }, 'to'],
  ] as const) {
    const r = await call<{ errors?: { field: string }[] }>(app, 'POST', '/api/alert-rules/backtest', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.ok(
      r.body.errors?.some((e) => e.field === field),
      `${JSON.stringify(body)} names ${field}: ${JSON.stringify(r.body.errors)}`,
    );
  }
  const missing = await call(app, 'POST', '/api/alert-rules/backtest', { rule_id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(missing.status, 404);
});

test('backtest of a news rule: each story about the asset once (news_story_assets), keyword on whole words', async () => {
  await influx.query('CREATE DATABASE "news" WITH DURATION 90d NAME "raw"');
  const story = (asset: string, id: string, title: string, sentiment: number, t: number, outlets = 1) =>
    `news_story_assets,related_asset=${asset} story="${id}",title="${title}",url="https://example.org/${id}",sources="rss",publishers="example.org",outlets=${outlets}i,articles=${outlets}i,assets="${asset}",rank=1,sentiment_score=${sentiment} ${t}`;
  const lines = [
    story('BTC', 's1', 'Spot bitcoin ETF sees record inflows', 0.6, T0 + 30_000),
    story('BTC', 's2', 'Bitcoin miners sell ETFs shares', -0.2, T0 + 90_000),
    story('ETH', 's3', 'Ether ETF filing', 0.1, T0 + 100_000),
    // the first story, rewritten as a second outlet joins: same point, not a second story
    story('BTC', 's1', 'Spot bitcoin ETF sees record inflows', 0.5, T0 + 30_000, 2),
  ];
  const w = await fetch(`${influx.url}/write?db=news&precision=ms`, { method: 'POST', body: lines.join('\n') });
  assert.equal(w.status, 204, await w.text());
  const res = await call<{ fires: { time: string; price: number | null }[]; replayed: { articles: number } }>(app, 'POST', '/api/alert-rules/backtest', {
    rule: { symbol: 'BTC/USDT', condition: 'news_keyword', params: { keyword: 'ETF' }, cooldown_seconds: 0 },
    days: 1,
    to: new Date(T0 + 10 * 60_000).toISOString(),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.replayed.articles, 2, 'two BTC stories');
  assert.deepEqual(
    res.body.fires.map((f) => f.time),
    [new Date(T0 + 30_000).toISOString()],
  );
  assert.equal(res.body.fires[0]!.price, null, 'no candle closed before it: no price known');
});
