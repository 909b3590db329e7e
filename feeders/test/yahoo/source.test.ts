// YahooSource against the local Yahoo (YahooFake: real recorded bodies, real cookie + crumb protocol).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { YahooFake } from '@mt/testing';
import type { WatchItem } from '@mt/common';
import { YahooSource } from '../../src/market/yahoo/index.js';
import { harness } from '../polled/harness.js';

const WATCH: WatchItem[] = [
  { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' },
  { symbol: 'EUR/USD', asset_type: 'forex', exchange: 'yahoo' },
  // the fake has no recorded payload for this index, so it answers like Yahoo for an unknown symbol
  { symbol: '^GSPC', asset_type: 'index', exchange: 'yahoo' },
  { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' },
];

let fake: YahooFake;
let h: ReturnType<typeof harness>;
let src: YahooSource;

beforeEach(async () => {
  fake = await new YahooFake().listen();
  h = harness();
  src = new YahooSource({ baseUrl: fake.url, cookieUrl: `${fake.url}/`, intervalMs: 60_000, log: h.log, metrics: h.metrics, out: h.out });
  src.setWatch(WATCH);
});
afterEach(async () => {
  await src.stop();
  await fake.close();
});

test('normal poll: crumb session first, one batched quote, ticks for stock and forex; crypto ignored', async () => {
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(fake.requestsTo('/').length, 1);
  assert.equal(fake.requestsTo('/v1/test/getcrumb').length, 1);
  const [quote, ...more] = fake.requestsTo('/v7/finance/quote');
  assert.equal(more.length, 0);
  assert.equal(quote!.query.get('symbols'), 'AAPL,EURUSD=X,^GSPC');
  assert.equal(quote!.query.get('crumb'), 'haT3oykhHqZ');
  assert.equal(fake.authorisedQuotes.length, 1);
  assert.deepEqual(
    h.ticks.map((t) => [t.exchange, t.symbol, t.assetType, t.price, t.ts]),
    [
      ['yahoo', 'AAPL', 'stock', 244.6, 1739566800_000],
      ['yahoo', 'EUR/USD', 'forex', 1.0489877, 1739789683_000],
    ],
  );
  assert.ok(h.ticks.every((t) => t.receivedAt >= t.ts));
  // the quote's market state, as recorded (the dashboards show it beside the quote's age)
  assert.deepEqual(h.ticks.map((t) => t.marketState), ['CLOSED', 'REGULAR']);
  assert.equal(await h.metric('feeder_messages_total', { source: 'yahoo' }), 2);
  assert.equal(await h.metric('feeder_source_up', { source: 'yahoo' }), 1);
});

test('unknown symbol: 404 from chart counted, logged once, skipped for a while; the others go on', async () => {
  // capture the source's warn lines (its logger is a child of the one passed in)
  const warnings: string[] = [];
  const log = h.log.child({});
  const child = log.child.bind(log);
  log.child = (b, o) => {
    const c = child(b, o);
    c.warn = ((obj: unknown, msg?: string) => void warnings.push(String(msg ?? obj))) as typeof c.warn;
    return c;
  };
  src = new YahooSource({ baseUrl: fake.url, cookieUrl: `${fake.url}/`, intervalMs: 60_000, log, metrics: h.metrics, out: h.out, unknownRetryMs: 0 });
  src.setWatch(WATCH);
  for (let i = 0; i < 3; i++) assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  // retried every poll here (unknownRetryMs 0), counted every time, logged once
  assert.equal(fake.requestsTo('/v8/finance/chart/%5EGSPC').length, 3);
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'yahoo', kind: 'http_404' }), 3);
  assert.deepEqual(warnings, ['unknown symbol: skipped for now']);
  assert.deepEqual(src.health().unknownSymbols, ['^GSPC']);
  assert.equal(h.ticks.length, 2, 'AAPL and EUR/USD once each: a closed market repeating itself is not re-sent');

  // a symbol Yahoo did not know (listing not yet live) that appears later is picked up on its retry
  const [quote, chart] = [fake.quotes.get('AAPL')!, fake.charts.get('AAPL')!];
  fake.quotes.delete('AAPL');
  fake.charts.delete('AAPL');
  src.setWatch([WATCH[0]!]);
  h.ticks.length = 0;
  await src.poller.pollOnce();
  assert.deepEqual(src.health().unknownSymbols, ['AAPL']);
  fake.quotes.set('AAPL', { ...quote, regularMarketTime: Number(quote.regularMarketTime) + 60 });
  fake.charts.set('AAPL', chart);
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.deepEqual(src.health().unknownSymbols, []);
  assert.deepEqual(
    h.ticks.map((t) => t.symbol),
    ['AAPL'],
  );
  assert.equal(warnings.length, 2, 'one warning per unknown symbol');

  // with the default retry delay the unknown symbol is not asked again on the next poll
  const quiet = new YahooSource({ baseUrl: fake.url, cookieUrl: `${fake.url}/`, intervalMs: 60_000, log: h.log, metrics: h.metrics, out: h.out });
  quiet.setWatch(WATCH);
  const before = fake.requestsTo(/^\/v8\/finance\/chart\//).length;
  await quiet.poller.pollOnce();
  await quiet.poller.pollOnce();
  assert.equal(fake.requestsTo(/^\/v8\/finance\/chart\//).length, before + 1);
  assert.equal(fake.requestsTo('/v7/finance/quote').at(-1)!.query.get('symbols'), 'AAPL,EURUSD=X');
});

test('401 Invalid Crumb → new cookie + crumb → the same poll succeeds', async () => {
  await src.poller.pollOnce();
  fake.expireSession();
  fake.quotes.get('AAPL')!.regularMarketPrice = 245.1;
  fake.quotes.get('AAPL')!.regularMarketTime = 1739566860;
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  const quotes = fake.requestsTo('/v7/finance/quote');
  assert.equal(quotes.length, 3, 'first poll, the refused one, the retry');
  assert.equal(quotes[1]!.query.get('crumb'), 'haT3oykhHqZ');
  assert.equal(quotes[2]!.query.get('crumb'), fake.crumb);
  assert.notEqual(fake.crumb, 'haT3oykhHqZ');
  assert.equal(fake.requestsTo('/v1/test/getcrumb').length, 2);
  assert.equal(fake.authorisedQuotes.length, 1, 'only the retry carried the new crumb');
  assert.equal(src.client.sessions, 2);
  assert.deepEqual(h.ticks.at(-1)!.price, 245.1);
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'yahoo', kind: 'http_401' }), 0);
});

test('quote refused even with a fresh crumb → every symbol through the chart endpoint', async () => {
  fake.refuseQuotes = true;
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.deepEqual(
    h.ticks.map((t) => [t.symbol, t.price]),
    [
      ['AAPL', 244.87],
      ['EUR/USD', 1.0436],
    ],
  );
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'yahoo', kind: 'http_401' }), 1);
  // the next poll goes straight to the chart: no session renewal, no quote request
  const [sessions, quotes] = [fake.requestsTo('/v1/test/getcrumb').length, fake.requestsTo('/v7/finance/quote').length];
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(fake.requestsTo('/v1/test/getcrumb').length, sessions);
  assert.equal(fake.requestsTo('/v7/finance/quote').length, quotes);
  assert.equal(fake.requestsTo('/v8/finance/chart/AAPL').length, 2);
});

test('malformed body: ParseError counted, poll failed, next poll fine; a malformed item skips only itself', async () => {
  fake.fail({ kind: 'malformed' }, { path: '/v7/finance/quote' });
  const r = await src.poller.pollOnce();
  assert.equal(r.ok, false);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'yahoo', reason: 'invalid_json' }), 1);
  assert.equal(await h.metric('feeder_source_up', { source: 'yahoo' }), 0);
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(h.ticks.length, 2);

  delete fake.quotes.get('AAPL')!.regularMarketPrice;
  fake.quotes.get('EURUSD=X')!.regularMarketTime = 1739789743;
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'yahoo', reason: 'no_price' }), 1);
  assert.equal(h.ticks.at(-1)!.symbol, 'EUR/USD');
  assert.equal(h.ticks.at(-1)!.ts, 1739789743_000);
});

test('Yahoo down: the poll fails with the HTTP kind counted, and recovers', async () => {
  fake.fail({ kind: 'status', status: 503 }, { path: '/' });
  assert.equal((await src.poller.pollOnce()).ok, false, 'cookie endpoint down');
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'yahoo', kind: 'http_5xx' }), 1);
  fake.fail({ kind: 'status', status: 503 }, { path: '/v7/finance/quote' });
  // the chart fallback is not used for a 5xx: the whole poll waits for the backoff
  assert.equal((await src.poller.pollOnce()).ok, false, 'quote endpoint down');
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'yahoo', kind: 'http_5xx' }), 2);
  assert.equal(fake.requestsTo(/^\/v8\//).length, 0);
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(h.ticks.length, 2);
});
