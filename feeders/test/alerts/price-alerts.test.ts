import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { AlertRule } from '@mt/common';
import { createLogger } from '@mt/common';
import { HttpFake, freePort, waitFor, metricValue } from '@mt/testing';
import { RuleEvaluator, PriceWindow, toPostableAlert, createPriceAlerts, AlertSender, type PostableAlert } from '../../src/market/alerts/index.js';
import { MAX_WINDOW_SAMPLES } from '../../src/market/alerts/evaluate.js';
import type { MarketConfig } from '../../src/market/config.js';
import { tick } from '../market/helpers.js';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
const S = 1000;

function rule(over: Partial<AlertRule> = {}): AlertRule {
  return { id: 'r1', symbol: 'BTC/USDT', condition: 'above', threshold: 100, window_seconds: null, cooldown_seconds: 60, severity: 'warning', ...over };
}

/** Feed prices one second apart from `start`; returns the indexes of ticks that fired, with rule ids. */
function feed(ev: RuleEvaluator, prices: number[], start = T0, symbol = 'BTC/USDT', stepMs = S): string[] {
  const fired: string[] = [];
  prices.forEach((p, i) => {
    for (const f of ev.onTick(symbol, start + i * stepMs, p)) fired.push(`${i}:${f.rule.id}`);
  });
  return fired;
}

describe('price rule evaluation', () => {
  test('above fires on the crossing only, not while it stays above, and not on the first evaluation', () => {
    const ev = new RuleEvaluator();
    ev.setRules([rule({ cooldown_seconds: 0 })]);
    // starts above: no fire (no crossing seen); drops below, crosses up at 3, stays up
    assert.deepEqual(feed(ev, [105, 99, 98, 101, 103, 110]), ['3:r1']);
  });

  test('a crossing inside the cooldown is swallowed; after the cooldown a new crossing fires', () => {
    const ev = new RuleEvaluator();
    ev.setRules([rule({ cooldown_seconds: 10 })]);
    // 1 s steps: cross at 1 (fires, quiet until 11 s), recross at 3 (swallowed), stays up until 12 (no new crossing),
    // down at 13, up at 14 → fires
    const prices = [99, 101, 99, 102, 102, 102, 102, 102, 102, 102, 102, 102, 102, 99, 101];
    assert.deepEqual(feed(ev, prices), ['1:r1', '14:r1']);
  });

  test('below fires when the price falls under the threshold', () => {
    const ev = new RuleEvaluator();
    ev.setRules([rule({ id: 'b', condition: 'below', threshold: 50, cooldown_seconds: 0 })]);
    assert.deepEqual(feed(ev, [51, 50, 49.99, 48, 51, 49]), ['2:b', '5:b']);
  });

  test('rules only see ticks of their own symbol', () => {
    const ev = new RuleEvaluator();
    ev.setRules([rule()]);
    assert.deepEqual(feed(ev, [99, 101], T0, 'ETH/USDT'), []);
    assert.deepEqual(feed(ev, [99, 101], T0 + 10 * S), ['1:r1']);
  });

  test('pct_change measures from the oldest price inside the window, both directions', () => {
    const ev = new RuleEvaluator();
    ev.setRules([
      rule({ id: 'up', condition: 'pct_change', threshold: 5.5, window_seconds: 10, cooldown_seconds: 0 }),
      rule({ id: 'down', condition: 'pct_change', threshold: -5, window_seconds: 10, cooldown_seconds: 0 }),
    ]);
    // +5% at 6 s (below 5.5), +6% at 8 s vs 100 → up fires
    assert.deepEqual(feed(ev, [100, 101, 102, 103, 103, 104, 105, 105, 106]), ['8:up']);
    const f = ev.onTick('BTC/USDT', T0 + 9 * S, 106)[0];
    assert.equal(f, undefined, 'still true: no second firing');
    // a fall: 95 at 11 s vs 101 (the oldest price since 1 s) = -5.9%
    assert.deepEqual(
      ev.onTick('BTC/USDT', T0 + 11 * S, 95).map((x) => x.rule.id),
      ['down'],
    );
  });

  test('pct_change forgets prices older than the window', () => {
    const ev = new RuleEvaluator();
    ev.setRules([rule({ id: 'up', condition: 'pct_change', threshold: 5, window_seconds: 10, cooldown_seconds: 0 })]);
    // a slow climb: 100 → 110 over 40 s, never 5% within any 10 s window
    const slow = Array.from({ length: 41 }, (_, i) => 100 + i * 0.25);
    assert.deepEqual(feed(ev, slow), []);
    // then a fast jump: measured against the price 10 s earlier (108 at 32 s), not the 100 of 42 s ago
    const fires = ev.onTick('BTC/USDT', T0 + 42 * S, 116.6);
    assert.equal(fires.length, 1);
    assert.equal(fires[0]!.reference, 108);
    assert.ok(Math.abs(fires[0]!.changePct! - ((116.6 - 108) / 108) * 100) < 1e-9, `changePct ${fires[0]!.changePct}`);
  });

  test('the per-symbol window stays bounded under a burst of ticks', () => {
    const w = new PriceWindow(60_000);
    for (let i = 0; i < 200_000; i++) w.add(T0 + i, 100 + (i % 7));
    assert.ok(w.size <= MAX_WINDOW_SAMPLES + 2, `size ${w.size}`);
    assert.ok(w.size > MAX_WINDOW_SAMPLES / 2, `window still covered: ${w.size}`);
    const oldest = w.oldestSince(T0 + 200_000 - 60_000)!;
    assert.ok(oldest.ts >= T0 + 200_000 - 60_000 && oldest.ts < T0 + 200_000 - 59_000, `oldest ${oldest.ts - T0}`);
  });

  test('reloading rules keeps the state of unchanged rules and resets changed ones', () => {
    const ev = new RuleEvaluator();
    const a = rule({ id: 'a', cooldown_seconds: 0 });
    const b = rule({ id: 'b', threshold: 200, cooldown_seconds: 0 });
    ev.setRules([a, b]);
    assert.deepEqual(feed(ev, [99, 101]), ['1:a']);
    // same definitions (new objects, as a reload from the API delivers them) + a changed b: a stays "above"
    ev.setRules([{ ...a }, { ...b, threshold: 100.5 }]);
    assert.deepEqual(feed(ev, [102], T0 + 2 * S), [], 'a is still above: no new crossing; b starts fresh (first evaluation)');
    assert.deepEqual(feed(ev, [99, 103], T0 + 3 * S), ['1:a', '1:b']);
    // a removed: it never fires again; c added
    ev.setRules([{ ...b, threshold: 100.5 }, rule({ id: 'c', condition: 'below', threshold: 90, cooldown_seconds: 0 })]);
    assert.deepEqual(feed(ev, [95, 89, 103], T0 + 5 * S), ['1:c', '2:b']);
    assert.equal(ev.ruleCount, 2);
  });

  test('a reload during a cooldown keeps the cooldown', () => {
    const ev = new RuleEvaluator();
    const a = rule({ id: 'a', cooldown_seconds: 60 });
    ev.setRules([a]);
    assert.deepEqual(feed(ev, [99, 101]), ['1:a']);
    ev.setRules([{ ...a }]);
    assert.deepEqual(feed(ev, [99, 101], T0 + 2 * S), [], 'still cooling down');
  });

  test('the alert carries the contract labels and a readable description with price, threshold, time and link', () => {
    const ev = new RuleEvaluator();
    ev.setRules([rule({ id: '42', threshold: 65000, severity: 'critical', cooldown_seconds: 300 })]);
    ev.onTick('BTC/USDT', T0, 64990);
    const [f] = ev.onTick('BTC/USDT', T0 + S, 65012.5);
    const a = toPostableAlert(f!, { grafanaUrl: 'https://grafana.example/' });
    assert.deepEqual(a.labels, { alertname: 'PriceAlert', symbol: 'BTC/USDT', rule_id: '42', severity: 'critical', fired_at: '2026-11-25T09:00:01.000Z' });
    assert.match(a.annotations.description!, /65012\.50.*65000\.00.*2026-11-25T09:00:01\.000Z/);
    assert.match(a.annotations.summary!, /BTC\/USDT above 65000\.00: 65012\.50/);
    const link = new URL(a.annotations.grafana_url!);
    assert.equal(link.pathname, '/d/asset-detail');
    assert.equal(link.searchParams.get('var-symbol'), 'BTC/USDT');
    assert.equal(a.startsAt, '2026-11-25T09:00:01.000Z');
    assert.equal(Date.parse(a.endsAt) - Date.parse(a.startsAt), 300_000, 'active for the cooldown');
  });
});

function cfg(amUrl: string): MarketConfig {
  return { ALERTMANAGER_URL: amUrl, GRAFANA_URL: 'http://grafana.local:3000' } as MarketConfig;
}

function fakeAlertmanager(): HttpFake {
  // Alertmanager answers 200 with an empty body to a valid postableAlerts array
  return new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' }));
}

function posted(am: HttpFake): PostableAlert[] {
  return am.requestsTo('/api/v2/alerts').flatMap((r) => JSON.parse(r.body) as PostableAlert[]);
}

describe('price alerts delivery', () => {
  const log = createLogger('test', 'silent');
  const toClose: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const c of toClose) await c.close();
  });

  test('posts a JSON array of postable alerts to /api/v2/alerts and counts sent', async () => {
    const am = await fakeAlertmanager().listen();
    toClose.push(am);
    const registry = new Registry();
    const pa = createPriceAlerts({ cfg: cfg(am.url), log, registry });
    pa.setRules([rule({ id: '7', severity: 'critical' })]);
    pa.onTick(tick({ ts: T0, price: 99 }));
    pa.onTick(tick({ ts: T0 + S, price: 101 }));
    pa.onTick(tick({ ts: T0 + 2 * S, price: 102 }));
    await waitFor(() => posted(am).length >= 1, 5000, 'alert posted');
    await pa.close();
    const req = am.requestsTo('/api/v2/alerts')[0]!;
    assert.match(String(req.headers['content-type']), /application\/json/);
    const body = JSON.parse(req.body) as PostableAlert[];
    assert.ok(Array.isArray(body));
    assert.equal(posted(am).length, 1, 'one crossing, one alert');
    assert.equal(body[0]!.labels.rule_id, '7');
    const m = await registry.metrics();
    assert.equal(metricValue(m, 'market_price_alerts_total', { severity: 'critical', outcome: 'sent' }), 1);
  });

  test('Alertmanager down: the alert is queued and delivered exactly once when it comes back', async () => {
    const port = await freePort();
    const registry = new Registry();
    const pa = createPriceAlerts({ cfg: cfg(`http://127.0.0.1:${port}`), log, registry });
    pa.setRules([rule({ id: 'q' })]);
    pa.onTick(tick({ ts: T0, price: 99 }));
    pa.onTick(tick({ ts: T0 + S, price: 101 }));
    await waitFor(async () => metricValue(await registry.metrics(), 'market_price_alerts_total', { outcome: 'queued' }) === 1, 5000, 'queued');
    assert.equal(metricValue(await registry.metrics(), 'market_price_alerts_queued'), 1);
    const am = await fakeAlertmanager().listen(port);
    toClose.push(am);
    await waitFor(async () => metricValue(await registry.metrics(), 'market_price_alerts_total', { outcome: 'sent' }) === 1, 15_000, 'delivered');
    await pa.close();
    assert.equal(posted(am).length, 1);
    assert.equal(posted(am)[0]!.labels.rule_id, 'q');
    assert.ok(Date.parse(posted(am)[0]!.endsAt) > Date.now(), 'endsAt set at delivery: still active');
    const m = await registry.metrics();
    assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'failed' }), 0);
    assert.equal(metricValue(m, 'market_price_alerts_queued'), 0);
  });

  test('a 5xx is retried; a 400 is given up (failed) without retrying', async () => {
    const am = await fakeAlertmanager().listen();
    toClose.push(am);
    am.fail({ kind: 'status', status: 503 }, { times: 2 });
    const registry = new Registry();
    const pa = createPriceAlerts({ cfg: cfg(am.url), log, registry });
    pa.setRules([rule({ id: 'x' })]);
    pa.onTick(tick({ ts: T0, price: 99 }));
    pa.onTick(tick({ ts: T0 + S, price: 101 }));
    await waitFor(async () => metricValue(await registry.metrics(), 'market_price_alerts_total', { outcome: 'sent' }) === 1, 15_000, 'delivered after 503s');
    assert.equal(am.requestsTo('/api/v2/alerts').length, 3);

    am.fail({ kind: 'status', status: 400, body: { code: 400, message: 'bad' } });
    pa.onTick(tick({ ts: T0 + 2 * S, price: 99 }));
    pa.onTick(tick({ ts: T0 + 200 * S, price: 101 }));
    await waitFor(async () => metricValue(await registry.metrics(), 'market_price_alerts_total', { outcome: 'failed' }) === 1, 5000, 'failed');
    await pa.close();
    assert.equal(am.requestsTo('/api/v2/alerts').length, 4, 'no retry after 400');
  });

  test('close() gives up after its deadline and counts what is left as failed', async () => {
    const port = await freePort();
    const registry = new Registry();
    const pa = createPriceAlerts({ cfg: cfg(`http://127.0.0.1:${port}`), log, registry }, { closeDeadlineMs: 300 });
    pa.setRules([rule({ id: 'z' })]);
    pa.onTick(tick({ ts: T0, price: 99 }));
    pa.onTick(tick({ ts: T0 + S, price: 101 }));
    await pa.close();
    const m = await registry.metrics();
    assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'queued' }), 1);
    assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'failed' }), 1);
  });

  test('the queue is bounded: the oldest alert is dropped (failed) when it is full; sends after close fail', async () => {
    const port = await freePort();
    const outcomes: string[] = [];
    const sender = new AlertSender({ url: `http://127.0.0.1:${port}`, log, maxQueue: 2, onOutcome: (_s, o) => outcomes.push(o) });
    const alert = (id: string): PostableAlert => ({ labels: { alertname: 'PriceAlert', rule_id: id, severity: 'info' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: '' });
    sender.send(alert('1'), 60_000);
    sender.send(alert('2'), 60_000);
    sender.send(alert('3'), 60_000);
    assert.equal(sender.queued, 2);
    assert.deepEqual(outcomes, ['failed']);
    await sender.close(200);
    sender.send(alert('4'), 60_000);
    assert.equal(outcomes.filter((o) => o === 'failed').length, 4);
    assert.equal(sender.queued, 0);
  });

  test('bad rules are ignored and ticks with a bad price never throw', async () => {
    const registry = new Registry();
    const pa = createPriceAlerts({ cfg: cfg('http://127.0.0.1:9'), log, registry });
    pa.setRules([
      rule(),
      rule({ id: 'nan', threshold: Number.NaN }),
      rule({ id: 'cond', condition: 'sideways' as AlertRule['condition'] }),
      rule({ id: '', symbol: 'X' }),
    ]);
    assert.equal(metricValue(await registry.metrics(), 'market_price_alert_rules'), 1);
    pa.onTick(tick({ ts: T0, price: Number.NaN }));
    pa.onTick(tick({ ts: T0, price: 99, symbol: 'UNKNOWN' }));
  });
});
