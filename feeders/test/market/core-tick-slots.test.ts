// The core's per-symbol slot keeps the alerts' handle of each symbol (docs/ALERTING.md "Evaluation cost"):
// these tests replace the rule set and the watch set while ticks flow and check that what is stored as
// alert_events is what the current rules say, i.e. that no tick goes through a handle of an older set.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { AlertRule, InfluxQLClient, InfluxSink, WatchItem } from '@mt/common';
import type { Point } from '@influxdata/influxdb-client';
import { HttpFake } from '@mt/testing';
import { MarketCore } from '../../src/market/core.js';
import { createPriceAlerts } from '../../src/market/alerts/index.js';
import type { MarketConfig } from '../../src/market/config.js';
import { MemorySink, tick } from './helpers.js';

const log = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
const S = 1000;
const noHistory: InfluxQLClient = { query: async () => [] };
const toClose: { close(): Promise<void> | void }[] = [];
after(async () => {
  for (const c of toClose.reverse()) await c.close();
});

function rule(over: Partial<AlertRule>): AlertRule {
  return { id: 'r', symbol: 'BTC/USDT', condition: 'above', threshold: 100, window_seconds: null, cooldown_seconds: 0, severity: 'warning', ...over };
}

const watched = (symbol: string): WatchItem => ({ exchange: 'binance', symbol, asset_type: 'crypto' });

async function setup() {
  const am = await new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen();
  toClose.push(am);
  // alert_events as written (line protocol: the message field holds spaces MemorySink's reader does not take)
  const events: string[] = [];
  const eventSink = { write: (_b: string, p: Point | Point[]) => events.push(...(Array.isArray(p) ? p : [p]).map((x) => x.toLineProtocol() ?? '')) };
  const alerts = createPriceAlerts({
    cfg: { ALERTMANAGER_URL: am.url, GRAFANA_URL: 'http://grafana.local:3000' } as MarketConfig,
    log,
    registry: new Registry(),
    sink: eventSink as unknown as InfluxSink,
  });
  toClose.push(alerts);
  const core = new MarketCore({ sink: new MemorySink(), influxql: noHistory, indicators: { seed() {}, onClosedCandle: () => ({}), drop() {} }, alerts, log });
  toClose.push({ close: () => core.stop() });
  let ts = T0;
  const feed = (symbol: string, prices: number[]) => {
    for (const price of prices) core.out.tick(tick({ symbol, ts: (ts += S), price }));
  };
  /** The stored alert_events: rule, symbol, price. */
  const fired = () =>
    events
      .filter((l) => l.startsWith('alert_events,'))
      .map((l) => `${/rule_id=([^,\s]+)/.exec(l)?.[1]}:${/symbol=([^,\s]+)/.exec(l)?.[1]}:${Number(/[ ,]price=([-\d.e]+)/.exec(l)?.[1])}`);
  return { core, alerts, feed, fired };
}

test('rules replaced while ticks flow: each symbol is evaluated against its own rules of the new set', async () => {
  const { alerts, feed, fired } = await setup();
  // ETH ticks before it has a rule (its slot holds "no rules"), BTC has one
  alerts.setRules([rule({ id: 'a', symbol: 'BTC/USDT', threshold: 100 })]);
  feed('ETH/USDT', [50, 51]);
  feed('BTC/USDT', [99, 101]);
  assert.deepEqual(fired(), ['a:BTC/USDT:101']);
  // the new set lists ETH first: its symbols' rows are in another order than the handles the core holds
  alerts.setRules([rule({ id: 'e', symbol: 'ETH/USDT', condition: 'above', threshold: 52 }), rule({ id: 'b', symbol: 'BTC/USDT', condition: 'below', threshold: 90 })]);
  feed('BTC/USDT', [95]);
  feed('ETH/USDT', [51.5]);
  feed('BTC/USDT', [89, 88]);
  feed('ETH/USDT', [53]);
  assert.deepEqual(fired(), ['a:BTC/USDT:101', 'b:BTC/USDT:89', 'e:ETH/USDT:53']);
  // every rule removed: nothing fires, nothing is evaluated through an old handle
  alerts.setRules([]);
  feed('BTC/USDT', [91, 85]);
  feed('ETH/USDT', [50, 60]);
  assert.equal(fired().length, 3);
});

test('a symbol that leaves the watch set and comes back while ticks flow keeps its rules', async () => {
  const { core, alerts, feed, fired } = await setup();
  alerts.setRules([rule({ id: 'x', symbol: 'BTC/USDT', threshold: 100 }), rule({ id: 'y', symbol: 'ETH/USDT', threshold: 10 })]);
  feed('BTC/USDT', [99]);
  feed('ETH/USDT', [9]);
  core.setWatch([watched('ETH/USDT')]);
  feed('ETH/USDT', [11]);
  core.setWatch([watched('ETH/USDT'), watched('BTC/USDT')]);
  // BTC's rule remembers its last evaluation (99, below): the crossing fires
  feed('BTC/USDT', [101]);
  // and the rule set is replaced between two of its ticks
  alerts.setRules([rule({ id: 'y', symbol: 'ETH/USDT', threshold: 10 }), rule({ id: 'x2', symbol: 'BTC/USDT', condition: 'below', threshold: 100 })]);
  feed('BTC/USDT', [102, 98]);
  assert.deepEqual(fired(), ['y:ETH/USDT:11', 'x:BTC/USDT:101', 'x2:BTC/USDT:98']);
});
