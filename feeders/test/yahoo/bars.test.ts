// Yahoo chart bars → closed candles, on recorded v8 chart bodies (testing/fixtures/yahoo, SOURCES.md):
// only closed bars, never the unfinished one, Yahoo's extra rows (live row, close-of-session row, null
// rows) never stored; and the source asking each timeframe of the chart, handing each bar on once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, type WatchItem } from '@mt/common';
import { YahooFake, fixtureJson } from '@mt/testing';
import { chartToCandles } from '../../src/market/yahoo/mapper.js';
import { YahooSource, type YahooSourceOptions } from '../../src/market/yahoo/index.js';
import type { Candle } from '../../src/market/types.js';
import { harness } from '../polled/harness.js';

const AMZN: WatchItem = { symbol: 'AMZN', asset_type: 'stock', exchange: 'yahoo' };
const HYDR: WatchItem = { symbol: 'HYDR.ME', asset_type: 'stock', exchange: 'yahoo' };
const BTC: WatchItem = { symbol: 'BTC-USD', asset_type: 'stock', exchange: 'yahoo' };
const AAPL: WatchItem = { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' };
const EURUSD: WatchItem = { symbol: 'EUR/USD', asset_type: 'forex', exchange: 'yahoo' };

type Body = { chart: { result: [{ meta: { regularMarketTime: number }; timestamp: number[]; indicators: { quote: [Record<string, (number | null)[]>] } }] } };
const body = (f: string) => fixtureJson<Body>(`yahoo/${f}`);
/** The recording's own "now": its last trade time. */
const recordedAt = (b: Body) => b.chart.result[0].meta.regularMarketTime * 1000;

function bars(b: Body, item: WatchItem, interval: Candle['interval'], nowMs: number): Candle[] {
  const out = chartToCandles(b, item, interval, nowMs);
  assert.equal(out.kind, 'bars');
  return out.kind === 'bars' ? out.candles : [];
}

test('1m (AMZN, after the close): the 30 session minutes; the zero-volume row stamped at the close is not a bar', () => {
  const b = body('chart_v8_AMZN_1m_range30m_2023-05-02.json');
  const c = bars(b, AMZN, '1m', recordedAt(b));
  assert.equal(c.length, 30);
  assert.deepEqual(
    [c[0]!.openTime, c[0]!.open, c[0]!.high, c[0]!.low, c[0]!.close, c[0]!.volume],
    // Yahoo's prices are float32 values printed in full
    [1683055800_000, ...[103.7, 103.72, 103.6, 103.6].map(Math.fround), 0],
  );
  const last = c.at(-1)!;
  assert.deepEqual([last.openTime, last.close, last.volume], [1683057540_000, Math.fround(103.66), 862819]);
  assert.ok(c.every((x) => x.exchange === 'yahoo' && x.symbol === 'AMZN' && x.assetType === 'stock' && x.interval === '1m' && x.closed));
  assert.ok(c.every((x) => Number.isNaN(x.quoteVolume) && Number.isNaN(x.trades)), 'Yahoo has no quote volume or trade count');
  assert.ok(!c.some((x) => x.openTime === 1683057600_000), '16:00:00 is the session end, not a bar');
});

test('1h (BTC-USD, mid-hour): the running hour and the live row stamped with the last trade are not stored', () => {
  const b = body('chart_v8_BTC-USD_1h_range64h_2024-04-01.json');
  const c = bars(b, BTC, '1h', recordedAt(b));
  assert.equal(b.chart.result[0].timestamp.length, 65);
  assert.equal(c.length, 63);
  assert.equal(c.at(-1)!.openTime, 1711947600_000, '13:00 closed at 14:00, before the last trade (14:33)');
  assert.ok(c.every((x) => x.openTime % 3_600_000 === 0));
  // an hour later, with no newer trade in this body, the 14:00 bar is final; the live row still is not a bar
  const later = bars(b, BTC, '1h', recordedAt(b) + 3600_000);
  assert.equal(later.length, 64);
  assert.equal(later.at(-1)!.openTime, 1711951200_000);
});

test('5m (HYDR.ME, mid-session): the running bar (all nulls) and the live row are left out', () => {
  const b = body('chart_v8_HYDR.ME_5m_range1d_2020-07-13.json');
  const q = b.chart.result[0].indicators.quote[0];
  assert.equal(q.close![103], null);
  const c = bars(b, HYDR, '5m', recordedAt(b));
  assert.equal(c.length, 103);
  assert.deepEqual([c.at(-1)!.openTime, c.at(-1)!.close, c.at(-1)!.volume], [1594653900_000, 0.7644000053405762, 6611000]);
  assert.ok(c.every((x, i) => i === 0 || x.openTime - c[i - 1]!.openTime === 300_000), 'consecutive 5-minute bars');
});

test('1d (^SP500TR): the current session’s daily bar is stored only once that session has ended', () => {
  const b = body('chart_v8_SP500TR_1d_2023-06-20_2023-07-14.json');
  const INDEX: WatchItem = { symbol: '^SP500TR', asset_type: 'index', exchange: 'yahoo' };
  const sessionEnd = 1689364800_000; // currentTradingPeriod.regular.end, 2023-07-14 20:00 UTC
  const during = bars(b, INDEX, '1d', sessionEnd - 3600_000);
  assert.equal(during.length, 17);
  assert.equal(during.at(-1)!.openTime, 1689255000_000, 'up to the previous session');
  const after = bars(b, INDEX, '1d', recordedAt(b));
  assert.equal(after.length, 18);
  assert.deepEqual([after.at(-1)!.openTime, after.at(-1)!.close, after.at(-1)!.volume], [1689341400_000, Math.fround(9683.69), 0]);
  assert.ok(after.every((x) => x.interval === '1d' && x.assetType === 'index'));
});

test('1d: recorded daily bars of earlier sessions are closed; currency volume 0; no bars → none; 404 and junk', () => {
  const aapl = bars(body('chart_v8_AAPL_1d_2020-01-01_2020-01-03.json'), AAPL, '1d', Date.now());
  assert.deepEqual(
    aapl.map((x) => [x.openTime, x.open, x.close, x.volume]),
    [[1577975400_000, 74.05999755859375, 75.0875015258789, 135480400]],
  );
  const fx = bars(body('chart_v8_EURUSD_X_1d_2020-01-01_2020-01-03.json'), EURUSD, '1d', Date.now());
  assert.deepEqual(
    fx.map((x) => [x.symbol, x.openTime, x.volume]),
    [
      ['EUR/USD', 1577836800_000, 0],
      ['EUR/USD', 1577923200_000, 0],
      ['EUR/USD', 1578009600_000, 0],
    ],
  );
  assert.deepEqual(bars(body('chart_v8_AAPL_1m_2025-02-01_weekend_no_bars.json'), AAPL, '1m', Date.now()), []);
  assert.equal(chartToCandles(fixtureJson('yahoo/chart_v8_error_not_found_404.json'), AAPL, '1m', Date.now()).kind, 'not_found');
  assert.throws(() => chartToCandles({ chart: { result: [{}], error: null } }, AAPL, '1m', Date.now()), ParseError);
});

/** A YahooSource on the fake, handing candles (and restated ones) to `out`. */
function sourceOn(fake: YahooFake, out: Pick<YahooSourceOptions, 'out'>['out'], opts: Partial<YahooSourceOptions>): YahooSource {
  const h = harness();
  return new YahooSource({ baseUrl: fake.url, cookieUrl: `${fake.url}/`, intervalMs: 60_000, log: h.log, metrics: h.metrics, out, ...opts });
}

test('source: each timeframe of the chart asked (history range first), closed bars handed on once, replayed to now', async () => {
  const now = Date.now();
  const fake = await new YahooFake({ replayAt: now }).listen();
  const candles: Candle[] = [];
  const src = sourceOn(fake, { tick: () => {}, candle: (c) => void candles.push(c) }, { candleIntervals: ['1m', '5m', '1h', '1d'] });
  try {
    src.setWatch([AMZN, HYDR, AAPL]);
    assert.deepEqual(await src.poller.pollOnce(), { ok: true });
    const asked = fake
      .requestsTo(/^\/v8\/finance\/chart\//)
      .filter((r) => r.query.get('events') === 'div,splits')
      .map((r) => `${decodeURIComponent(r.path.split('/').at(-1)!)} ${r.query.get('interval')} ${r.query.get('range')} ${r.query.get('includePrePost')}`)
      .sort();
    assert.deepEqual(
      asked,
      ['AAPL', 'AMZN', 'HYDR.ME'].flatMap((s) => [`${s} 1d 1y false`, `${s} 1h 3mo false`, `${s} 1m 1d false`, `${s} 5m 5d false`]).sort(),
    );
    const of = (symbol: string, interval: string) => candles.filter((c) => c.symbol === symbol && c.interval === interval);
    assert.equal(of('AMZN', '1m').length, 30);
    assert.equal(of('HYDR.ME', '5m').length, 103);
    assert.equal(of('AAPL', '1d').length, 1);
    assert.equal(of('AMZN', '5m').length + of('AMZN', '1h').length + of('HYDR.ME', '1m').length, 0, 'no recording → Yahoo’s no-bars answer');
    // replayed: the recorded minutes end just before now, on the recorded grid
    const last = of('AMZN', '1m').at(-1)!;
    assert.ok(last.openTime + 60_000 <= now && last.openTime > now - 3 * 60_000, `last AMZN minute ${new Date(last.openTime).toISOString()}`);
    assert.ok(candles.every((c) => c.openTime % 60_000 === 0));
    // the next poll: nothing due yet, nothing handed on twice
    const barRequests = () => fake.requestsTo(/^\/v8\//).filter((r) => r.query.has('events')).length;
    const before = barRequests();
    const n = candles.length;
    await src.poller.pollOnce();
    assert.equal(barRequests() - before, 0);
    assert.equal(candles.length, n);
  } finally {
    await src.stop();
    await fake.close();
  }
});

test('1d (AAPL around its 4:1 split): the chart reports the split; the bars are the split-adjusted ones Yahoo serves', () => {
  const b = fixtureJson('yahoo/chart_v8_AAPL_1d_2020-08-31_2020-11-07_split.json');
  const out = chartToCandles(b, AAPL, '1d', Date.now());
  assert.equal(out.kind, 'bars');
  if (out.kind !== 'bars') return;
  assert.deepEqual(out.splits, [{ date: 1598880600_000, numerator: 4, denominator: 1 }]);
  assert.equal(out.candles.length, 49);
  // 2020-08-31, the split day: already in post-split dollars (the pre-split close was ~500)
  assert.deepEqual([out.candles[0]!.openTime, out.candles[0]!.close], [1598880600_000, Math.fround(129.04)]);
});

test('source: a split newly reported by the chart restates that symbol’s stored bars on the next poll, once', async () => {
  const fake = await new YahooFake().listen();
  const handed: Candle[] = [];
  const restated: Candle[][] = [];
  const src = sourceOn(fake, { tick: () => {}, candle: (c) => void handed.push(c), restate: (cs) => void restated.push(cs) }, { candleIntervals: ['1d'], chartRefreshMs: { '1d': 0 } });
  try {
    src.setWatch([AAPL]);
    await src.poller.pollOnce(); // the recorded daily chart of early 2020: no split in it
    assert.equal(handed.length, 1);
    // Yahoo now reports the 4:1 split, every bar in post-split dollars
    fake.bars.set('AAPL|1d', fixtureJson('yahoo/chart_v8_AAPL_1d_2020-08-31_2020-11-07_split.json'));
    await src.poller.pollOnce();
    assert.equal(handed.length, 1 + 49, 'the newer bars handed on as usual');
    assert.equal(restated.length, 0);
    await src.poller.pollOnce();
    assert.equal(restated.length, 1, 'a split the stored bars may predate: restated');
    assert.equal(restated[0]!.length, 49);
    assert.ok(restated[0]!.every((c, i) => c.interval === '1d' && (i === 0 || c.openTime > restated[0]![i - 1]!.openTime)));
    const asked = fake.requestsTo('/v8/finance/chart/AAPL').filter((r) => r.query.get('interval') === '1d' && r.query.has('events'));
    assert.deepEqual(
      asked.map((r) => r.query.get('range')),
      ['1y', '5d', '1y'],
      'restating asks the history range again',
    );
    await src.poller.pollOnce();
    assert.equal(restated.length, 1, 'the same split is not restated twice');
    assert.equal(handed.length, 1 + 49);
  } finally {
    await src.stop();
    await fake.close();
  }
});
