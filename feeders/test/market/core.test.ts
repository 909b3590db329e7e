// Unit tests of the market core: throttling and merging of ticks, market-cap join, exactly-once candles,
// indicator order (warm-up from stored history, out-of-order backfill), tick-age gauge, contained errors.
import { test, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { BUCKETS, type InfluxQLClient, type InfluxQLSeries } from '@mt/common';
import { MarketCore, type MarketCoreOptions } from '../../src/market/core.js';
import { createMarketMetrics } from '../../src/market/metrics.js';
import type { Candle, IndicatorValues, MarketTick } from '../../src/market/types.js';
import { MemorySink, candle, tick } from './helpers.js';

const log = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

/** Records what the core feeds it; "indicator" = number of candles seen since the last seed + close. */
class RecordingEngine {
  fed: { key: string; openTime: number }[] = [];
  seeds: { key: string; openTimes: number[] }[] = [];
  private count = new Map<string, number>();
  seed(key: string, history: Candle[]): void {
    this.seeds.push({ key, openTimes: history.map((c) => c.openTime) });
    this.count.set(key, history.length);
  }
  onClosedCandle(key: string, c: Candle): IndicatorValues {
    this.fed.push({ key, openTime: c.openTime });
    const n = (this.count.get(key) ?? 0) + 1;
    this.count.set(key, n);
    return { sma_20: n };
  }
  drop(key: string): void {
    this.count.delete(key);
  }
}

const noHistory: InfluxQLClient = { query: async () => [] };

function setup(over: Partial<MarketCoreOptions> = {}) {
  const sink = new MemorySink();
  const engine = new RecordingEngine();
  const seenTicks: MarketTick[] = [];
  const registry = new Registry();
  const core: MarketCore = new MarketCore({
    sink,
    influxql: noHistory,
    indicators: engine,
    alerts: { onTick: (t) => seenTicks.push(t) },
    log,
    now: () => Date.now(),
    ...over,
  });
  core.metrics = createMarketMetrics(registry, () => core.lastTicks(), () => Date.now());
  return { core, sink, engine, seenTicks, registry };
}

afterEach(() => mock.timers.reset());

test('market_data: at most one point per second per symbol, latest tick kept, fields of different streams merged', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const { core, sink, seenTicks } = setup();
  const { out } = core;

  out.tick(tick({ ts: T0, price: 100 })); // first tick: stored at once (a new symbol shows up without delay)
  assert.equal(sink.of('market_data').length, 1);

  mock.timers.tick(100);
  out.tick(tick({ ts: T0 + 100, price: 100.5, bid: 100.4, ask: 100.6 })); // bookTicker
  mock.timers.tick(100);
  out.tick(tick({ ts: T0 + 200, price: 101, volume24h: 5000, changePct24h: 1.5, high24h: 105, low24h: 95 })); // ticker
  mock.timers.tick(100);
  out.tick(tick({ ts: T0 + 300, price: 102 })); // trade
  out.tick(tick({ symbol: 'ETH/USDT', ts: T0 + 300, price: 3000 })); // another symbol is throttled on its own
  assert.equal(sink.of('market_data').length, 2, 'BTC held back until its second is over, ETH stored at once');

  mock.timers.tick(699); // T0+999
  assert.equal(sink.of('market_data').length, 2);
  mock.timers.tick(1); // T0+1000
  const md = sink.of('market_data');
  assert.equal(md.length, 3);
  const second = md[2]!;
  assert.deepEqual(second.tags, { exchange: 'binance', symbol: 'BTC/USDT', asset_type: 'crypto' });
  assert.equal(second.ts, T0 + 300, 'timestamp of the latest tick');
  assert.deepEqual(second.fields, {
    price: '102',
    bid: '100.4',
    ask: '100.6',
    volume_24h: '5000',
    change_pct_24h: '1.5',
    high_24h: '105',
    low_24h: '95',
    market_session: '1', // crypto: always in session
  });
  assert.equal(seenTicks.length, 5, 'alerts see every tick, not the throttled stream');
  assert.ok(sink.buckets.every((b) => b === BUCKETS.marketsRaw));

  // nothing pending → no timer-driven empty point
  mock.timers.tick(5000);
  assert.equal(sink.of('market_data').length, 3);
  // a steady stream of 10 ticks/s for 3 s: one point per second, the last tick not lost
  const before = sink.of('market_data').length;
  for (let i = 0; i < 30; i++) {
    out.tick(tick({ ts: T0 + 6000 + i * 100, price: 200 + i }));
    mock.timers.tick(100);
  }
  mock.timers.tick(1000);
  const burst = sink.of('market_data').slice(before);
  assert.deepEqual(
    burst.map((p) => [p.ts - T0, p.fields.price]),
    [
      [6000, '200'],
      [6900, '209'],
      [7900, '219'],
      [8900, '229'],
    ],
  );
});

test('market_data: stop() flushes the held point; ticks after stop are ignored', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const { core, sink } = setup();
  core.out.tick(tick({ ts: T0, price: 1 }));
  core.out.tick(tick({ ts: T0 + 10, price: 2 }));
  await core.stop();
  core.out.tick(tick({ ts: T0 + 20, price: 3 }));
  assert.deepEqual(
    sink.of('market_data').map((l) => l.fields.price),
    ['1', '2'],
  );
});

test('market cap from CoinGecko is joined onto the crypto symbol’s next point only', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const { core, sink } = setup();
  core.out.marketCap('BTC/USDT', 1.2e12);
  core.out.tick(tick({ symbol: 'AAPL', exchange: 'yahoo', assetType: 'stock', ts: T0, price: 180 }));
  core.out.tick(tick({ ts: T0, price: 100 }));
  mock.timers.tick(1000);
  core.out.tick(tick({ ts: T0 + 1000, price: 101 }));
  const md = sink.of('market_data');
  assert.equal(md.length, 3);
  assert.equal(md[0]!.fields.market_cap, undefined, 'not on another symbol');
  assert.equal(md[1]!.fields.market_cap, '1200000000000');
  assert.equal(md[2]!.fields.market_cap, undefined, 'joined once');
});

test('market state: stored as market_state with the quote, kept across merged ticks of one point', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const { core, sink } = setup();
  const aapl = { symbol: 'AAPL', exchange: 'yahoo', assetType: 'stock' as const };
  core.out.tick(tick({ ...aapl, ts: T0, price: 180, marketState: 'REGULAR' })); // stored at once
  core.out.tick(tick({ ...aapl, ts: T0 + 10, price: 180.5, marketState: 'POST' })); // held…
  core.out.tick(tick({ ...aapl, ts: T0 + 20, price: 181 })); // …merged: the state stays
  core.out.tick(tick({ ts: T0, price: 101 }));
  mock.timers.tick(1000);
  const md = sink.of('market_data').filter((p) => p.tags.symbol === 'AAPL');
  assert.deepEqual(
    md.map((p) => [p.fields.price, p.fields.market_state, p.fields.market_session]),
    [
      ['180', '"REGULAR"', '1'],
      ['181', '"POST"', '3'],
    ],
  );
  const btc = sink.of('market_data').find((p) => p.tags.symbol === 'BTC/USDT')!;
  assert.equal(btc.fields.market_state, undefined, 'crypto: no state of its own');
  assert.equal(btc.fields.market_session, '1', 'crypto: always in session');
});

test('candles: only closed ones, exactly once per (symbol, open time), with indicators in open-time order', async () => {
  const { core, sink, engine, registry } = setup();
  const m = 60_000;
  core.out.candle(candle(T0, { closed: false }));
  core.out.candle(candle(T0));
  core.out.candle(candle(T0)); // the same candle again (reconnect overlap) while warm-up runs
  await core.flush();
  core.out.candle(candle(T0 + m));
  core.out.candle(candle(T0 + m)); // again after warm-up
  core.out.candle(candle(T0 + 2 * m, { symbol: 'ETH/USDT' })); // another symbol
  await core.flush();

  const candles = sink.of('candles');
  assert.deepEqual(
    candles.map((l) => `${l.tags.symbol}@${l.ts - T0}`),
    ['BTC/USDT@0', `BTC/USDT@${m}`, `ETH/USDT@${2 * m}`],
  );
  const c = candles[0]!;
  assert.deepEqual(c.tags, { exchange: 'binance', symbol: 'BTC/USDT', asset_type: 'crypto', interval: '1m' });
  assert.equal(c.fields.trades, '42i', 'trades is an integer field');
  assert.deepEqual(Object.keys(c.fields).sort(), ['close', 'high', 'low', 'open', 'quote_volume', 'trades', 'volume']);
  assert.equal(sink.of('indicators').length, 3);
  assert.deepEqual(
    engine.fed.map((f) => f.openTime - T0),
    [0, m, 2 * m],
  );
  const text = await registry.metrics();
  assert.match(text, /market_candles_ignored_total\{reason="open"\} 1/);
  assert.match(text, /market_candles_ignored_total\{reason="duplicate"\} 2/);
  assert.match(text, /market_points_total\{measurement="candles"\} 3/);
});

test('candles: a backfilled older candle after newer ones is stored and later indicators are recomputed in order', async () => {
  const { core, sink, engine } = setup();
  const m = 60_000;
  for (const k of [0, 1, 3, 4]) core.out.candle(candle(T0 + k * m));
  await core.flush();
  engine.fed = [];
  core.out.candle(candle(T0 + 2 * m)); // the gap, filled late
  assert.deepEqual(
    sink.of('candles').map((l) => (l.ts - T0) / m),
    [0, 1, 3, 4, 2],
  );
  assert.deepEqual(engine.seeds.at(-1)!.openTimes.map((t) => (t - T0) / m), [0, 1], 're-seeded with what precedes the gap');
  assert.deepEqual(
    engine.fed.map((f) => (f.openTime - T0) / m),
    [2, 3, 4],
  );
  // the recomputed indicator points overwrite the earlier ones (same series and time): last value per time wins
  const last = new Map<number, string>();
  for (const l of sink.of('indicators')) last.set((l.ts - T0) / m, l.fields.sma_20!);
  assert.deepEqual([...last.entries()].sort((a, b) => a[0] - b[0]), [
    [0, '1'],
    [1, '2'],
    [2, '3'],
    [3, '4'],
    [4, '5'],
  ]);
});

test('candles: warm-up reads stored history once per symbol, seeds indicators and skips candles already stored', async () => {
  const m = 60_000;
  const queries: { db: string; q: string }[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const stored: InfluxQLSeries[] = [
    {
      name: 'candles',
      columns: ['time', 'open', 'high', 'low', 'close', 'volume', 'quote_volume', 'trades'],
      // DESC order, as queried
      values: [2, 1, 0].map((k) => [T0 + k * m, 1, 2, 0.5, 1.5, 10, 15, 7]),
    },
  ];
  const influxql: InfluxQLClient = {
    async query(db, q) {
      queries.push({ db, q });
      await gate;
      return stored;
    },
  };
  const { core, sink, engine } = setup({ influxql });
  core.out.candle(candle(T0 + 2 * m)); // already stored: a restart re-delivers the last candle
  core.out.candle(candle(T0 + 3 * m)); // arrives while the history is being read
  assert.equal(sink.of('candles').length, 0, 'nothing written before the history is known');
  release();
  await core.flush();
  assert.equal(queries.length, 1);
  assert.equal(queries[0]!.db, 'markets');
  assert.match(queries[0]!.q, /FROM "raw"."candles" WHERE "exchange"='binance' AND "symbol"='BTC\/USDT' AND "interval"='1m' ORDER BY time DESC LIMIT \d+/);
  assert.deepEqual(engine.seeds[0]!.openTimes.map((t) => (t - T0) / m), [0, 1, 2], 'seeded oldest first');
  assert.deepEqual(
    sink.of('candles').map((l) => (l.ts - T0) / m),
    [3],
  );
  assert.deepEqual(
    sink.of('indicators').map((l) => [(l.ts - T0) / m, l.fields.sma_20]),
    [[3, '4']],
    'the first live indicator continues the stored series',
  );
});

test('candles: a failing history read or indicator engine does not stop candles being stored', async () => {
  const throwing = {
    seed() {},
    drop() {},
    onClosedCandle(): IndicatorValues {
      throw new Error('engine bug');
    },
  };
  const { core, sink, registry } = setup({ influxql: { query: async () => Promise.reject(new Error('influx down')) }, indicators: throwing });
  core.out.candle(candle(T0));
  core.out.candle(candle(T0 + 60_000));
  await core.flush();
  assert.equal(sink.of('candles').length, 2);
  assert.equal(sink.of('indicators').length, 0);
  const text = await registry.metrics();
  assert.match(text, /market_component_errors_total\{component="indicators",phase="warmup"\} 1/);
  assert.match(text, /market_component_errors_total\{component="indicators",phase="candle"\} 2/);
});

test('alerts that throw are contained: the tick is still stored', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const { core, sink } = setup({
    alerts: {
      onTick() {
        throw new Error('alert bug');
      },
    },
  });
  core.out.tick(tick({ ts: T0 }));
  assert.equal(sink.of('market_data').length, 1);
});

test('market_last_tick_age_seconds is computed at scrape time and forgets unwatched symbols', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const { core, registry } = setup();
  core.out.tick(tick({ ts: T0 }));
  core.out.tick(tick({ symbol: 'AAPL', exchange: 'yahoo', assetType: 'stock', ts: T0 }));
  mock.timers.tick(2500);
  core.out.tick(tick({ symbol: 'AAPL', exchange: 'yahoo', assetType: 'stock', ts: T0 + 2500 }));
  mock.timers.tick(500);
  let text = await registry.metrics();
  assert.match(text, /market_last_tick_age_seconds\{symbol="BTC\/USDT",asset_type="crypto"\} 3\b/);
  assert.match(text, /market_last_tick_age_seconds\{symbol="AAPL",asset_type="stock"\} 0.5\b/);
  core.setWatch([{ symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' }]);
  text = await registry.metrics();
  assert.doesNotMatch(text, /market_last_tick_age_seconds\{symbol="BTC\/USDT"/);
  assert.match(text, /market_last_tick_age_seconds\{symbol="AAPL"/);
});

test('a symbol removed from the watch set and added back warms up from storage again', async () => {
  const m = 60_000;
  let queries = 0;
  const { core, sink, engine } = setup({
    influxql: {
      async query() {
        queries++;
        return [];
      },
    },
  });
  const btc = { symbol: 'BTC/USDT', asset_type: 'crypto' as const, exchange: 'binance' };
  core.setWatch([btc]);
  core.out.candle(candle(T0));
  await core.flush();
  core.setWatch([]);
  core.setWatch([btc]);
  core.out.candle(candle(T0 + 5 * m));
  await core.flush();
  assert.equal(queries, 2, 'history read again after the symbol came back');
  assert.equal(engine.seeds.length, 2);
  assert.equal(sink.of('candles').length, 2);
});

test('change_pct_1h: from the close of the 1-minute candle ended an hour before the tick; none without one', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 + 3 * 3600_000 });
  const { core, sink } = setup();
  const m = 60_000;
  // BTC: closes 100 + i for the minutes from T0 on; ETH: a gap around the hour-ago mark
  for (let i = 0; i < 90; i++) core.out.candle(candle(T0 + i * m, { close: 100 + i }));
  for (const i of [0, 1, 2, 80]) core.out.candle(candle(T0 + i * m, { symbol: 'ETH/USDT', close: 50 }));
  await core.flush();

  // an hour before T0+75m+30s is T0+15m+30s: the last candle ended by then opened at T0+14m (close 114)
  core.out.tick(tick({ ts: T0 + 75 * m + 30_000, price: 119.7 }));
  core.out.tick(tick({ symbol: 'ETH/USDT', ts: T0 + 75 * m, price: 55 }));
  core.out.tick(tick({ symbol: 'SOL/USDT', ts: T0 + 75 * m, price: 10 })); // no candles at all
  core.out.tick(tick({ symbol: 'XRP/USDT', ts: T0 + 75 * m, price: 1, changePct1h: -2.5 })); // a source's own value wins
  const md = Object.fromEntries(sink.of('market_data').map((p) => [p.tags.symbol, p.fields.change_pct_1h]));
  assert.equal(Number(md['BTC/USDT']).toFixed(6), ((119.7 - 114) / 114 * 100).toFixed(6));
  assert.equal(md['ETH/USDT'], undefined, 'the nearest candle closed 12 min before the hour-ago mark: no figure');
  assert.equal(md['SOL/USDT'], undefined);
  assert.equal(md['XRP/USDT'], '-2.5');

  // the next point of the symbol computes its own: the held tick does not carry the old figure on
  mock.timers.tick(1000);
  core.out.tick(tick({ ts: T0 + 80 * m, price: 130 })); // an hour before: T0+20m → candle T0+19m (close 119)
  const last = sink.of('market_data').at(-1)!;
  assert.equal(Number(last.fields.change_pct_1h).toFixed(6), ((130 - 119) / 119 * 100).toFixed(6));
});

test("a fallback's point: tagged with its source; without a day's change, one against the last closed daily candle", async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 });
  const { core, sink } = setup();
  const D = 86_400_000;
  const fx = { exchange: 'yahoo', symbol: 'EUR/USD', assetType: 'forex' as const };
  for (const [i, close] of [[-3, 1.1], [-2, 1.2], [-1, 1.25]] as const) {
    core.out.candle(candle(T0 + i * D, { ...fx, interval: '1d', closeTime: T0 + (i + 1) * D - 1, close }));
  }
  await core.flush();
  core.out.tick(tick({ ...fx, ts: T0 - 3600_000, price: 1.28, marketState: 'REGULAR' })); // Yahoo's last quote
  core.out.tick(tick({ ...fx, ts: T0 + 3600_000, price: 1.3, source: 'exchangerate' }));
  core.out.tick(tick({ ...fx, symbol: 'USD/JPY', ts: T0, price: 150, source: 'exchangerate' })); // no daily candles
  core.out.tick(tick({ exchange: 'yahoo', symbol: 'AAPL', assetType: 'stock', ts: T0, price: 112, changePct24h: -0.5, source: 'alphavantage' }));
  core.out.tick(tick({ ts: T0, price: 100 })); // the venue's own: no source tag
  mock.timers.tick(1000);
  // Yahoo's EUR/USD went out at once; the fallback's, in the same second, a second later
  const md = sink.of('market_data').slice(1);
  const er = md.at(-1)!;
  assert.equal(er.fields.market_state, '"REGULAR"', "the fallback's point keeps the venue's last market state");
  assert.equal(er.fields.market_session, '1');
  assert.deepEqual(
    md.map((p) => [p.tags.symbol, p.tags.exchange, p.tags.source, p.fields.change_pct_24h && Number(p.fields.change_pct_24h).toFixed(4)]),
    [
      ['USD/JPY', 'yahoo', 'exchangerate', undefined],
      ['AAPL', 'yahoo', 'alphavantage', '-0.5000'],
      ['BTC/USDT', 'binance', undefined, undefined],
      ['EUR/USD', 'yahoo', 'exchangerate', (((1.3 - 1.25) / 1.25) * 100).toFixed(4)],
    ],
  );
});
