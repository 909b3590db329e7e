// The storage-schema module (common/src/schema, docs/INFLUXDB.md "Layout of database markets") on a real
// influxd 1.6: every builder's point is stored with exactly the tags and field types the schema declares,
// and every reader query returns the rows written — for symbols with quotes, backslashes and venue
// spellings too (InfluxQL escaping).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { startInflux, type InfluxServer } from '@mt/testing';
import {
  alertEventPoint,
  alertEventsQuery,
  articlePoint,
  bootstrapInflux,
  candlePoint,
  candleTimesQuery,
  createInfluxQLClient,
  createInfluxSink,
  createLogger,
  fearGreedPoint,
  fundingPoint,
  indicatorPoint,
  lastCandleQuery,
  latestFearGreedQuery,
  latestFundingQuery,
  liquidationPoint,
  MARKETS,
  MARKETS_DB,
  marketDataPoint,
  NEWS,
  NEWS_DB,
  openInterestPoint,
  orderBookPoint,
  storedCandlesQuery,
  storyAssetsQuery,
  storyPoints,
  type InfluxQLClient,
  type InfluxSink,
  type MeasurementDef,
} from '../src/index.js';

const log = createLogger('schema-test', 'silent');
let influx: InfluxServer;
let sink: InfluxSink;
let ql: InfluxQLClient;

before(async () => {
  influx = await startInflux();
  const cfg = { url: influx.url, token: '', org: '', api: 'v1' as const };
  await bootstrapInflux(cfg, log);
  sink = createInfluxSink(cfg, { log, registry: new Registry() });
  ql = createInfluxQLClient(cfg);
});
after(async () => {
  await sink?.close();
  await influx?.stop();
});

const NOW = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
// an odd symbol: the readers must escape it (a quote and a backslash), beside real venue symbols
const ODD = `IT'S\\"X/USD`;
const perp = { exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', assetType: 'crypto' };

test('every builder stores exactly the declared tags and field types', async () => {
  const spot = { exchange: 'kraken', symbol: ODD, assetType: 'crypto' };
  const candle = (openTime: number, close: number) => ({ ...spot, interval: '1m', openTime, open: 1, high: 2, low: 0.5, close, volume: 3, quoteVolume: 4.5, trades: 7 });
  sink.write('markets/raw', [
    marketDataPoint({ ...spot, ts: NOW, price: 1.5, bid: 1.4, ask: 1.6, volume24h: 10, changePct24h: 1, changePct1h: 0.5, high24h: 2, low24h: 1, marketCap: 1e9 }),
    marketDataPoint({ exchange: 'yahoo', symbol: 'AAPL', assetType: 'stock', ts: NOW, price: 200, marketState: 'REGULAR', source: 'alphavantage' }),
    candlePoint(candle(NOW, 1.1)),
    candlePoint(candle(NOW + 60_000, 1.2)),
    candlePoint(candle(NOW + 180_000, 1.3)),
    indicatorPoint({ ...spot, interval: '1m', openTime: NOW }, { sma_20: 1, ema_50: 1, rsi_14: 50, macd: 0.1, macd_signal: 0.1, macd_hist: 0, bb_upper: 2, bb_middle: 1, bb_lower: 0 })!,
    fearGreedPoint({ ts: NOW, value: 42, classification: 'Fear' }),
    alertEventPoint({ ts: NOW, symbol: ODD, ruleId: 'r-1', severity: 'warning', condition: 'above', threshold: 1, price: 1.5, value: 3, message: 'm' }),
    alertEventPoint({ ts: NOW + 1000, symbol: 'BTC/USDT', ruleId: 'r-2', severity: 'info', condition: 'news_keyword', threshold: null, price: 60_000, message: 'n' }),
    orderBookPoint({ ...spot, ts: NOW, bestBid: 99, bestAsk: 101, bidDepth1pct: 1000, askDepth1pct: 500, imbalance: 1 / 3 }),
    fundingPoint({ ...perp, ts: NOW, markPrice: 60_000, indexPrice: 59_990, fundingRate: 0.0001, nextFundingTime: NOW + 3_600_000, fundingIntervalHours: 8 }),
    fundingPoint({ ...perp, ts: NOW + 1000, markPrice: 60_010, fundingRate: 0.0002, nextFundingTime: NOW + 3_600_000 }),
    openInterestPoint({ ...perp, ts: NOW, openInterest: 1000, openInterestValue: 6e7 }),
    liquidationPoint({ ...perp, ts: NOW, side: 'sell', price: 59_000, quantity: 0.5, value: 29_500 }),
  ]);
  sink.write('news/raw', [
    articlePoint({ source: 'rss:example.org', category: 'crypto', lang: 'en', title: 't', url: 'https://example.org/a', id: 'a1', story: 'a1', assets: ['BTC'], sentiment: 0.5, time: NOW }),
    ...storyPoints({ id: 'a1', category: 'crypto', lang: 'en', title: 'Bitcoin "rallies"', url: 'https://example.org/a', sources: ['rss:example.org'], publishers: ['example.org'], articles: 1, assets: ['BTC', ODD], sentiment: 0.5, time: NOW }, 12.5),
  ]);
  await sink.flush();

  const TYPES: Record<string, string> = { float: 'float', int: 'integer', string: 'string' };
  for (const [db, schema] of [[MARKETS_DB, MARKETS], [NEWS_DB, NEWS]] as const) {
    for (const m of Object.values(schema as Record<string, MeasurementDef>)) {
      const fk = await influx.query(`SHOW FIELD KEYS FROM "${m.name}"`, db);
      const stored = Object.fromEntries((fk.results[0]!.series?.[0]?.values ?? []) as [string, string][]);
      const declared = Object.fromEntries(Object.entries(m.fields).map(([k, d]) => [k, TYPES[d.type]]));
      assert.deepEqual(stored, declared, `${db}.${m.name} fields`);
      const tk = await influx.query(`SHOW TAG KEYS FROM "${m.name}"`, db);
      const tags = (tk.results[0]!.series?.[0]?.values ?? []).map((v) => v[0]).sort();
      assert.deepEqual(tags, [...m.tags].sort(), `${db}.${m.name} tags`);
    }
  }
});

test('the readers return what was written, escaping any symbol', async () => {
  const rows = async (db: string, q: string) => (await ql.query(db, q)).flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))));
  const series = { exchange: 'kraken', symbol: ODD };
  assert.deepEqual(
    (await rows(MARKETS_DB, storedCandlesQuery({ rp: 'raw', ...series, interval: '1m', limit: 2 }))).map((r) => [r.time, r.close, r.trades, r.quote_volume]),
    [
      [NOW + 180_000, 1.3, 7, 4.5],
      [NOW + 60_000, 1.2, 7, 4.5],
    ],
    'newest first, limited',
  );
  assert.deepEqual((await rows(MARKETS_DB, candleTimesQuery({ ...series, fromMs: NOW, toMs: NOW + 180_000 }))).map((r) => r.time), [NOW, NOW + 60_000]);
  assert.deepEqual((await rows(MARKETS_DB, lastCandleQuery({ ...series, beforeMs: NOW + 120_000 }))).map((r) => r.last), [1.2]);
  assert.deepEqual(await rows(MARKETS_DB, storedCandlesQuery({ rp: 'raw', exchange: 'coinbase', symbol: ODD, interval: '1m', limit: 5 })), [], 'another venue is another series');
  assert.deepEqual((await rows(MARKETS_DB, latestFearGreedQuery('7d'))).map((r) => r.value), [42]);
  const funding = await ql.query(MARKETS_DB, latestFundingQuery('1d'));
  assert.deepEqual(funding.map((s) => [s.tags?.symbol, s.values[0]![1]]), [['BTC/USDT:USDT', 0.0002]]);
  assert.deepEqual(
    (await rows(MARKETS_DB, alertEventsQuery({ sinceMs: NOW - 1, limit: 10 }))).map((r) => [r.symbol, r.rule_id, r.threshold ?? null]),
    [
      ['BTC/USDT', 'r-2', null],
      [ODD, 'r-1', 1],
    ],
  );
  assert.deepEqual((await rows(MARKETS_DB, alertEventsQuery({ sinceMs: NOW - 1, limit: 10, symbol: ODD }))).map((r) => r.message), ['m']);
  assert.deepEqual((await rows(MARKETS_DB, alertEventsQuery({ sinceMs: NOW - 1, limit: 10, ruleId: `r-2' OR '1'='1` }))).length, 0, 'an injection-shaped id matches nothing');
  const stories = await rows(NEWS_DB, storyAssetsQuery([ODD, 'ETH'], `time > now() - 1d`, 10));
  assert.deepEqual(stories.map((r) => [r.related_asset, r.title, r.story]), [[ODD, 'Bitcoin "rallies"', 'a1']]);
});
