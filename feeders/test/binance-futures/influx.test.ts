// Binance USDⓈ-M futures through the real market core into a real InfluxDB: ~100 simulated minutes of
// drops every 2 s (plus a stall and a serverShutdown roll), then the feeder stopped and started again with
// a fresh process state → every closed 1 m candle stored exactly once with the exchange's values; funding,
// open interest and liquidation rows are what the exchange sent (docs/INFLUXDB.md "funding" … "liquidations").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { BinanceFuturesFake, waitFor } from '@mt/testing';
import { createLogger } from '@mt/common';
import { createBinanceFuturesSource } from '../../src/market/binance-futures/index.js';
import { MarketCore } from '../../src/market/core.js';
import { createMarketMetrics } from '../../src/market/metrics.js';
import type { Candle, Liquidation } from '../../src/market/types.js';
import { compareCandles, harness } from '../binance/harness.js';
import { perps } from './harness.js';
import { venueInflux } from '../venue-influx.js';

const SYMBOLS = ['BTC/USDT:USDT', 'ETH/USDT:USDT'];
const wire = (s: string) => s.split(':')[0]!.replace('/', '');
const log = createLogger('binance-futures-influx-test', 'silent');
const db = venueInflux('binance-futures-influx-test');

async function rows(q: string): Promise<Record<string, unknown>[]> {
  const res = await db.influx.query(q, 'markets');
  const s = res.results[0]?.series?.[0] as { columns: string[]; values: unknown[][] } | undefined;
  return (s?.values ?? []).map((v) => Object.fromEntries(s!.columns.map((c, i) => [c, v[i]])));
}

const where = (symbol: string) => `WHERE "exchange"='binance-futures' AND "symbol"='${symbol}'`;
/** A row's time (the test server's query answers epoch ms). */
const ms = (t: unknown) => (typeof t === 'number' ? t : Date.parse(String(t)));
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

/** A feeder process: the futures source feeding a fresh market core that writes to the shared sink. */
function process(env: Record<string, string>) {
  const core = new MarketCore({ sink: db.sink, influxql: db.influxql, indicators: { seed() {}, onClosedCandle: () => ({}), drop() {} }, log });
  core.metrics = createMarketMetrics(new Registry(), () => core.lastTicks());
  const h = harness(env, { influxql: db.influxql, sink: db.sink });
  const candles: Candle[] = [];
  const liquidations: Liquidation[] = [];
  h.ctx.out = {
    ...core.out,
    candle: (c) => {
      candles.push(c);
      core.out.candle(c);
    },
    liquidation: (l) => {
      liquidations.push(l);
      core.out.liquidation!(l);
    },
  };
  const src = createBinanceFuturesSource(h.ctx);
  db.sources.push(src);
  core.setWatch(perps(...SYMBOLS));
  src.setWatch(perps(...SYMBOLS));
  return { core, src, candles, liquidations, h };
}

test('drops every 2 s, a stall, a serverShutdown and a restart: candles exactly once as the exchange has them; funding, open interest, liquidations as sent', async () => {
  const fake = await new BinanceFuturesFake({ candleMs: 120, pingIntervalMs: 1000 }).listen();
  db.fakes.push(fake);
  const env = { BINANCE_FUTURES_WS_URL: fake.wsUrl, BINANCE_FUTURES_REST_URL: fake.restUrl, BACKFILL_HOURS: '0.5', BINANCE_STALE_MS: '1500', BINANCE_FUTURES_OI_POLL_MS: '1000' };

  const p1 = process(env);
  await p1.src.start();
  let start = Date.now();
  for (let i = 0; Date.now() < start + 10_000; i++) {
    await sleep(2000);
    if (i === 2) fake.stallAll();
    else if (i === 3) fake.serverShutdown(800);
    else fake.dropAll();
  }
  await p1.src.stop();
  await p1.core.stop();
  const stoppedAt = fake.lastClosedOpenTime();

  // Down for ~15 simulated minutes, then a new process state that finds its resume point in InfluxDB.
  await db.sink.flush();
  await sleep(1800);
  const p2 = process(env);
  await p2.src.start();
  start = Date.now();
  while (Date.now() < start + 5000) {
    await sleep(2000);
    fake.dropAll();
  }
  await sleep(1000);
  fake.pause();
  const last = fake.lastClosedOpenTime();
  assert.ok(last - stoppedAt >= 10 * 60_000, 'down for 10+ simulated minutes');
  await waitFor(() => SYMBOLS.every((s) => p2.candles.some((c) => c.symbol === s && c.openTime === last)), 10_000, 'last candle handed over');
  await waitFor(() => SYMBOLS.every((s) => fake.sent.openInterest.some((o) => o.symbol === wire(s))), 5000, 'open interest answered');
  await sleep(1200); // a held funding point reaches its one-second slot
  await p2.src.stop();
  await db.sink.flush();

  for (const symbol of SYMBOLS) {
    // candles: every closed minute from the first stored one, once, with the exchange's numbers
    const stored = await rows(`SELECT "open","high","low","close","volume","quote_volume","trades" FROM "candles" ${where(symbol)} AND "interval"='1m'`);
    const first = ms(stored[0]!.time);
    const want = fake.closedCandles(wire(symbol), first);
    assert.ok(want.length >= 100, `${want.length} simulated minutes`);
    assert.deepEqual(compareCandles(want.map((c) => c.openTime), stored.map((r) => ms(r.time))), { missing: [], duplicated: [], extra: [] }, `${symbol} stored`);
    for (const r of stored) {
      const x = want.find((w) => w.openTime === ms(r.time))!;
      assert.deepEqual([r.open, r.high, r.low, r.close, r.volume, r.quote_volume, r.trades], [x.open, x.high, x.low, x.close, x.volume, x.quoteVolume, x.trades], `${symbol} candle ${String(r.time)}`);
    }
    // InfluxDB would merge a doubled point silently: the source handed each candle over once
    const handed = [...p1.candles, ...p2.candles].filter((c) => c.symbol === symbol).map((c) => c.openTime);
    assert.deepEqual(compareCandles(want.map((c) => c.openTime), handed), { missing: [], duplicated: [], extra: [] }, `${symbol} handed over`);

    // funding: at most one row a second (the core's throttle), each exactly a frame the exchange sent
    const funding = await rows(`SELECT "mark_price","index_price","funding_rate","next_funding_time" FROM "funding" ${where(symbol)}`);
    assert.ok(funding.length >= 5, `${funding.length} funding rows`);
    for (const r of funding) {
      const s = fake.sent.funding.find((f) => f.symbol === wire(symbol) && f.E === ms(r.time));
      assert.ok(s, `funding row ${String(r.time)} was sent`);
      assert.deepEqual([r.mark_price, r.index_price, r.funding_rate, r.next_funding_time], [s.markPrice, s.indexPrice, s.fundingRate, s.nextFundingTime]);
    }

    // open interest: each row an answer of /fapi/v1/openInterest, valued at a mark price the exchange sent
    const oi = await rows(`SELECT "open_interest","open_interest_value" FROM "open_interest" ${where(symbol)}`);
    assert.ok(oi.length >= 3, `${oi.length} open interest rows`);
    for (const r of oi) {
      const s = fake.sent.openInterest.find((o) => o.symbol === wire(symbol) && o.time === ms(r.time));
      assert.ok(s, `open interest row ${String(r.time)} was answered`);
      assert.equal(r.open_interest, s.openInterest);
      if (r.open_interest_value !== null) {
        const v = r.open_interest_value as number;
        assert.ok(fake.sent.funding.some((f) => f.symbol === wire(symbol) && Math.abs(v - s.openInterest * f.markPrice) <= 1e-9 * v), 'valued at a sent mark price');
      }
    }

    // liquidations: every one handed over is stored once, with the exchange's side, price and quantity
    const liq = await rows(`SELECT "price","quantity","value","side" FROM "liquidations" ${where(symbol)}`);
    const handedLiq = [...p1.liquidations, ...p2.liquidations].filter((l) => l.symbol === symbol);
    assert.ok(liq.length >= 20, `${liq.length} liquidations`);
    assert.equal(liq.length, handedLiq.length, 'each liquidation handed over is one row');
    for (const r of liq) {
      const s = fake.sent.liquidations.find((l) => l.symbol === wire(symbol) && l.T === ms(r.time));
      assert.ok(s, `liquidation ${String(r.time)} was sent`);
      assert.deepEqual([r.side, r.price, r.quantity, r.value], [s.side.toLowerCase(), s.averagePrice, s.filledQty, s.averagePrice * s.filledQty]);
    }
  }
  assert.ok((await p2.h.metric('market_candles_backfilled_total')) >= 2 * 10, 'the restart backfilled the downtime');
});
