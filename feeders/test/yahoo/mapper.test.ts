// Yahoo mappers on the recorded payloads (testing/fixtures/yahoo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, type WatchItem } from '@mt/common';
import { fixtureJson } from '@mt/testing';
import { chartToTick, quoteResults, quoteToTick, stateFromTradingPeriods } from '../../src/market/yahoo/mapper.js';

const AAPL: WatchItem = { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' };
const EURUSD: WatchItem = { symbol: 'EUR/USD', asset_type: 'forex', exchange: 'yahoo' };
const RECV = 1_740_000_000_000;

test('v7 quote AAPL → tick with exchange time, bid/ask, day stats, market cap', () => {
  const [q] = quoteResults(fixtureJson('yahoo/quote_v7_AAPL.json'));
  assert.deepEqual(quoteToTick(q!, AAPL, RECV), {
    exchange: 'yahoo',
    symbol: 'AAPL',
    assetType: 'stock',
    ts: 1739566800_000,
    receivedAt: RECV,
    price: 244.6,
    bid: 244.44,
    ask: 253.37,
    volume24h: 40896227,
    changePct24h: 1.2710667,
    high24h: 245.41,
    low24h: 241,
    marketCap: 3674405863424,
    marketState: 'CLOSED',
  });
});

test('v7 quote EURUSD=X → EUR/USD forex tick without the meaningless zero volume', () => {
  const [q] = quoteResults(fixtureJson('yahoo/quote_v7_EURUSD_X.json'));
  const t = quoteToTick(q!, EURUSD, RECV);
  assert.equal(t.symbol, 'EUR/USD');
  assert.equal(t.assetType, 'forex');
  assert.equal(t.price, 1.0489877);
  assert.equal(t.ts, 1739789683_000);
  assert.equal(t.volume24h, undefined);
  assert.equal(t.bid, 1.0489877);
  assert.equal(t.changePct24h, -0.052457344);
});

test('v8 chart → tick from meta; a chart without bars (market closed) still gives the last price', () => {
  const body = fixtureJson<{ chart: { result: [{ meta: object; timestamp?: number[]; indicators: { quote: object[] } }] } }>(
    'yahoo/chart_v8_AAPL_1d_2020-01-01_2020-01-03.json',
  );
  const out = chartToTick(body, AAPL, RECV);
  assert.equal(out.kind, 'tick');
  assert.deepEqual(out.kind === 'tick' && out.tick, {
    exchange: 'yahoo',
    symbol: 'AAPL',
    assetType: 'stock',
    ts: 1739998801_000,
    receivedAt: RECV,
    price: 244.87,
    volume24h: 32129951,
    high24h: 246.01,
    low24h: 243.16,
    marketState: 'CLOSED', // RECV is before that day's pre-market
  });
  // the no-bar shape Yahoo sends for a range with no trading (see LIMITS.md): no `timestamp`, `quote: [{}]`
  const r = body.chart.result[0];
  delete r.timestamp;
  r.indicators.quote = [{}];
  const closed = chartToTick(body, AAPL, RECV);
  assert.equal(closed.kind === 'tick' && closed.tick.price, 244.87);

  const fx = chartToTick(fixtureJson('yahoo/chart_v8_EURUSD_X_1d_2020-01-01_2020-01-03.json'), EURUSD, RECV);
  assert.equal(fx.kind === 'tick' && fx.tick.symbol, 'EUR/USD');
  assert.equal(fx.kind === 'tick' && fx.tick.volume24h, undefined);
});

test('market state from the chart: where the time falls among the recorded trading periods', () => {
  const meta = fixtureJson<{ chart: { result: [{ meta: { currentTradingPeriod: Record<string, { start: number; end: number }> } }] } }>(
    'yahoo/chart_v8_AAPL_1d_2020-01-01_2020-01-03.json',
  ).chart.result[0].meta;
  const p = meta.currentTradingPeriod;
  const at = (s: number) => stateFromTradingPeriods(p, s * 1000);
  assert.equal(at(p.pre!.start), 'PRE');
  assert.equal(at(p.regular!.start), 'REGULAR');
  assert.equal(at(p.regular!.end - 1), 'REGULAR');
  assert.equal(at(p.post!.start), 'POST');
  assert.equal(at(p.post!.end), 'CLOSED');
  assert.equal(at(p.pre!.start - 1), 'CLOSED');
  assert.equal(stateFromTradingPeriods(undefined, 0), undefined);
});

test('the 404 chart body is "not found", not a parse error; junk is a ParseError', () => {
  assert.deepEqual(chartToTick(fixtureJson('yahoo/chart_v8_error_not_found_404.json'), AAPL, RECV), {
    kind: 'not_found',
    description: 'No data found, symbol may be delisted',
  });
  assert.throws(() => quoteResults(fixtureJson('yahoo/quote_v7_error_unauthorized_invalid_crumb_401.json')), ParseError);
  assert.throws(() => chartToTick({ chart: { result: [{}], error: null } }, AAPL, RECV), ParseError);
  const [q] = quoteResults(fixtureJson('yahoo/quote_v7_AAPL.json'));
  assert.throws(() => quoteToTick({ ...q!, regularMarketPrice: null }, AAPL, RECV), (e: ParseError) => e.reason === 'no_price');
});
