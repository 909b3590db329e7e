// Fallback sources end to end against local servers speaking each protocol with recorded bodies: Yahoo
// (YahooFake) refusing in each way it does — 401 on the crumb flow, 429, down — puts its symbols on Alpha
// Vantage (stocks, indices) and ExchangeRate-API (forex); the points stored through the real feeder core
// carry the fallback's `source` tag; when Yahoo serves again the fallbacks stop asking. Alpha Vantage's
// 25 requests a day are spread over the day and its "Note" answer ends the day's requests.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { AlphaVantageFake, ExchangeRateFake, YahooFake } from '@mt/testing';
import type { WatchItem } from '@mt/common';
import { YahooSource } from '../../src/market/yahoo/index.js';
import { AlphaVantageSource } from '../../src/market/alphavantage/index.js';
import { ExchangeRateSource } from '../../src/market/exchangerate/index.js';
import { PrimaryHealth } from '../../src/market/fallback/primary.js';
import { MarketCore } from '../../src/market/core.js';
import { harness } from '../polled/harness.js';
import { MemorySink } from '../market/helpers.js';

const WATCH: WatchItem[] = [
  { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' },
  { symbol: 'EUR/USD', asset_type: 'forex', exchange: 'yahoo' },
  { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' },
];

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function setup(now: () => number = Date.now) {
  const yahoo = await new YahooFake().listen();
  // Alpha Vantage's recorded quote (MSFT, 2018-10-05) filed under the watched stock
  const av = (await new AlphaVantageFake('av-key').listen()).alias('AAPL');
  const er = await new ExchangeRateFake('er-key').listen();
  const h = harness();
  const sink = new MemorySink();
  const core = new MarketCore({ sink, influxql: { query: async () => [] }, indicators: { seed() {}, onClosedCandle: () => ({}), drop() {} }, log: h.log, throttleMs: 0 });
  const primary = new PrimaryHealth(h.log);
  const deps = { log: h.log, metrics: h.metrics, out: core.out, intervalMs: 60_000 };
  const ys = new YahooSource({ ...deps, baseUrl: yahoo.url, cookieUrl: `${yahoo.url}/`, primary, timeoutMs: 1000 });
  const avs = new AlphaVantageSource({ ...deps, baseUrl: av.url, apiKey: 'av-key', dailyLimit: 25, primary, now });
  const ers = new ExchangeRateSource({ ...deps, baseUrl: er.url, apiKey: 'er-key', primary, now, jitterMs: () => 60_000 });
  for (const s of [ys, avs, ers]) s.setWatch(WATCH);
  stops.push(async () => {
    for (const s of [ys, avs, ers]) await s.stop();
    await core.stop();
    for (const f of [yahoo, av, er]) await f.close();
  });
  const stored = () => sink.of('market_data').map((p) => ({ symbol: p.tags.symbol, exchange: p.tags.exchange, source: p.tags.source, price: Number(p.fields.price), chg: p.fields.change_pct_24h }));
  return { yahoo, av, er, primary, ys, avs, ers, sink, stored, h };
}

const refusals: [string, (y: YahooFake) => void][] = [
  ['401 on the crumb flow (quote and chart refused)', (y) => y.fail({ kind: 'status', status: 401, body: '{"finance":{"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}' }, { times: 1000 })],
  ['429 Too Many Requests', (y) => y.fail({ kind: 'status', status: 429, body: 'Too Many Requests', retryAfter: 1 }, { times: 1000 })],
  ['down (connections dropped)', (y) => y.fail({ kind: 'drop' }, { times: 1000 })],
  ['hanging (the poll times out)', (y) => y.fail({ kind: 'stall', ms: 3000 }, { times: 1000 })],
];

for (const [name, refuse] of refusals) {
  test(`Yahoo ${name}: stock from Alpha Vantage, forex from ExchangeRate-API, tagged; Yahoo back → back to Yahoo`, async () => {
    const { yahoo, av, er, primary, ys, avs, ers, stored } = await setup();
    assert.equal((await ys.poller.pollOnce()).ok, true);
    assert.deepEqual(primary.failingOf(['stock', 'index', 'forex']), []);
    assert.equal((await avs.poller.pollOnce()).ok, true);
    assert.equal((await ers.poller.pollOnce()).ok, true);
    assert.equal(av.requests.length + er.requests.length, 0, 'nothing failing: no fallback request');
    const fromYahoo = stored().length;

    refuse(yahoo);
    assert.equal((await ys.poller.pollOnce()).ok, false);
    assert.deepEqual(primary.failingOf(['stock', 'index', 'forex']).map((i) => i.symbol), ['AAPL', 'EUR/USD']);
    assert.equal((await avs.poller.pollOnce()).ok, true);
    assert.equal((await ers.poller.pollOnce()).ok, true);
    const fallback = stored().slice(fromYahoo);
    assert.deepEqual(fallback, [
      // the recorded GLOBAL_QUOTE: "05. price" 112.1300, "10. change percent" "-0.5852%"
      { symbol: 'AAPL', exchange: 'yahoo', source: 'alphavantage', price: 112.13, chg: '-0.5852' },
      // the recorded rates per USD: EUR 0.8415 → EUR/USD = 1 / 0.8415; no day's change (no daily candle here)
      { symbol: 'EUR/USD', exchange: 'yahoo', source: 'exchangerate', price: 1 / 0.8415, chg: undefined },
    ]);
    assert.equal(av.requestsTo('/query')[0]!.query.get('symbol'), 'AAPL');
    assert.equal(av.requestsTo('/query')[0]!.query.get('apikey'), 'av-key');
    assert.deepEqual(er.requests.map((r) => r.path), ['/v6/er-key/latest/USD']);

    yahoo.clearFaults();
    assert.equal((await ys.poller.pollOnce()).ok, true);
    assert.deepEqual(primary.failingOf(['stock', 'index', 'forex']), [], 'served again: fallback off');
    const [avBefore, erBefore] = [av.requests.length, er.requests.length];
    assert.equal((await avs.poller.pollOnce()).ok, true);
    assert.equal((await ers.poller.pollOnce()).ok, true);
    assert.deepEqual([av.requests.length, er.requests.length], [avBefore, erBefore], 'no fallback request once Yahoo serves');
    const after = stored().slice(fromYahoo + 2);
    assert.ok(after.length >= 1 && after.every((p) => p.source === undefined && p.exchange === 'yahoo'), JSON.stringify(after));
  });
}

test('per symbol: a symbol Yahoo still serves stays on Yahoo while another falls back', async () => {
  const { yahoo, av, primary, ys, avs, stored } = await setup();
  // the quote endpoint refuses; the chart answers for EUR/USD but fails for AAPL
  yahoo.refuseQuotes = true;
  yahoo.fail({ kind: 'status', status: 503, body: 'unavailable' }, { times: 1000, path: '/v8/finance/chart/AAPL' });
  assert.equal((await ys.poller.pollOnce()).ok, true);
  assert.deepEqual(primary.failingOf(['stock', 'forex']).map((i) => i.symbol), ['AAPL']);
  await avs.poller.pollOnce();
  assert.deepEqual(av.requestsTo('/query').map((r) => r.query.get('symbol')), ['AAPL']);
  assert.deepEqual(
    stored().map((p) => [p.symbol, p.source ?? 'yahoo']),
    [
      ['EUR/USD', 'yahoo'],
      ['AAPL', 'alphavantage'],
    ],
  );
});

test("Alpha Vantage: at most 25 requests a UTC day, one every 57.6 min; its 'Note' answer ends the day's requests", async () => {
  let now = Date.UTC(2026, 10, 26);
  const { yahoo, av, avs, ys } = await setup(() => now);
  yahoo.fail({ kind: 'status', status: 429, body: '' }, { times: 100_000 });
  await ys.poller.pollOnce();
  // a day of checks once a minute
  for (let m = 0; m < 1440; m++, now += 60_000) await avs.poller.pollOnce();
  const sent = av.requestsTo('/query');
  assert.equal(sent.length, 25);
  assert.equal(avs.budget.left(now - 1), 0);
  assert.equal(avs.budget.spacingMs, 3_456_000);
  // the next UTC day, once 57.6 min have passed since the last request (23:12): allowed again
  now += 10 * 60_000;
  await avs.poller.pollOnce();
  assert.equal(av.requestsTo('/query').length, 26);

  // the provider's rate-limit answer: an error (not a quote), and nothing more asked that day
  av.limited = true;
  now += 3_456_000;
  const res = await avs.poller.pollOnce();
  assert.equal(res.ok, false);
  assert.match(String((res as { err: Error }).err.message), /429.*Thank you for using Alpha Vantage/);
  assert.equal(avs.budget.left(now), 0);
  for (let i = 0; i < 5; i++, now += 3_456_000) await avs.poller.pollOnce();
  assert.equal(av.requestsTo('/query').length, 27, 'no request after the Note the same day');
});

test('ExchangeRate-API: asked again only after its next update (+ jitter), at most hourly; quota-reached is an error', async () => {
  const rec = 1624233601; // the recording's time_last_update_unix; next update 1624320001
  let now = rec * 1000 + 3_600_000;
  const { yahoo, er, ers, ys, sink } = await setup(() => now);
  yahoo.fail({ kind: 'drop' }, { times: 100_000 });
  await ys.poller.pollOnce();
  for (let m = 0; m < 120; m++, now += 60_000) assert.equal((await ers.poller.pollOnce()).ok, true);
  assert.equal(er.requests.length, 1, 'the rates hold until the next update');
  const eur = sink.of('market_data').filter((p) => p.tags.symbol === 'EUR/USD');
  assert.equal(eur.length, 1, 'the same rate is stored once');
  assert.equal(eur[0]!.ts, rec * 1000, "at the provider's update time: its true age");
  now = 1624320001 * 1000 + 59_000;
  await ers.poller.pollOnce();
  assert.equal(er.requests.length, 1, 'not before next update + jitter (60 s here)');
  now += 2000;
  er.quotaReached = true;
  const res = await ers.poller.pollOnce();
  assert.equal(res.ok, false);
  assert.match(String((res as { err: Error }).err.message), /429: quota-reached/);
  assert.equal(er.requests.length, 2);
  now += 30 * 60_000;
  await ers.poller.pollOnce();
  assert.equal(er.requests.length, 2, 'after a failure, an hour before the next request');
});
