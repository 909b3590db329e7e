// The market feeder as a real process watching a perpetual (`binance-futures:BTC/USDT:USDT:crypto`) against
// a real InfluxDB 1.x and the local futures server: candles, order_book, funding, open_interest and
// liquidations stored with the contract's tags; SIGKILL while candles keep closing, then a restart, leaves
// no missing and no doubled 1 m candle; SIGTERM exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFuturesFake, metricValue, startInflux, startService, waitFor, type InfluxServer, type RunningService, unreachablePolledSources } from '@mt/testing';

const MINUTE = 60_000;
const SYMBOL = 'BTC/USDT:USDT';
let influx: InfluxServer;
let fake: BinanceFuturesFake;
let env: Record<string, string>;

before(async () => {
  influx = await startInflux();
  fake = await new BinanceFuturesFake({ symbols: ['BTCUSDT'], startTime: Math.floor(Date.now() / MINUTE) * MINUTE, historyMinutes: 120, candleMs: 200 }).listen();
  const dead = await unreachablePolledSources();
  env = {
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    WATCH_SYMBOLS: `binance-futures:${SYMBOL}:crypto`,
    BINANCE_WS_URL: dead.YAHOO_URL!.replace('http', 'ws'),
    BINANCE_REST_URL: dead.YAHOO_URL!,
    BINANCE_FUTURES_WS_URL: fake.wsUrl,
    BINANCE_FUTURES_REST_URL: fake.restUrl,
    BINANCE_FUTURES_OI_POLL_MS: '1000',
    BINANCE_STALE_MS: '2000',
    BACKFILL_HOURS: '0.5',
    ...dead,
  };
});

after(async () => {
  await fake?.close();
  await influx?.stop();
});

interface Row {
  time: number;
  [k: string]: unknown;
}

async function select(q: string): Promise<Row[]> {
  const res = await influx.query(q, 'markets');
  const s = res.results[0]?.series?.[0];
  return (s?.values ?? []).map((v) => Object.fromEntries(s!.columns.map((c, i) => [c, v[i]])) as Row);
}

// explicit bounds: simulated time runs ahead of the wall clock, past InfluxQL's default now() bound
const range = () => `time >= ${fake.historyStart()}ms AND time <= ${fake.now() + 3600_000}ms`;
const where = () => `WHERE "exchange"='binance-futures' AND "symbol"='${SYMBOL}' AND ${range()}`;
const storedCandles = () => select(`SELECT * FROM "candles" ${where()} AND "interval"='1m' ORDER BY time`);
const lastStored = async () => (await select(`SELECT last("close") FROM "candles" ${where()} AND "interval"='1m'`))[0]?.time ?? 0;

async function assertGapFree(upTo: number): Promise<number> {
  const rows = (await storedCandles()).filter((r) => r.time <= upTo);
  assert.ok(rows.length > 0, 'candles stored');
  const expected = fake.closedCandles('BTCUSDT', rows[0]!.time).filter((c) => c.openTime <= upTo);
  const times = rows.map((r) => r.time);
  assert.equal(new Set(times).size, times.length, 'no duplicate open times');
  assert.deepEqual(
    expected.filter((c) => !times.includes(c.openTime)).map((c) => new Date(c.openTime).toISOString()),
    [],
    'missing candles',
  );
  assert.equal(rows.length, expected.length);
  for (const [i, c] of expected.entries()) {
    const r = rows[i]!;
    assert.deepEqual(
      [r.time, r.open, r.high, r.low, r.close, r.volume, r.quote_volume, r.trades, r.asset_type],
      [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.quoteVolume, c.trades, 'crypto'],
      `candle ${new Date(c.openTime).toISOString()}`,
    );
  }
  return rows.length;
}

test('market feeder process with a perpetual: derivatives stored, SIGKILL + restart without gaps, SIGTERM exits 0', async (t) => {
  let svc: RunningService | undefined;
  try {
    svc = await startService('market-feeder', env);
    const feeder = svc;

    await t.test('candles, order_book, funding, open_interest and liquidations stored under exchange=binance-futures', async () => {
      await waitFor(async () => (await storedCandles()).length >= 40, 30_000, '40 candles');
      for (const m of ['order_book', 'funding', 'open_interest', 'liquidations']) {
        await waitFor(async () => (await select(`SELECT * FROM "${m}" ${where()}`)).length > 0, 10_000, `${m} rows`);
      }
      const funding = await select(`SELECT * FROM "funding" ${where()}`);
      for (const r of funding) {
        const s = fake.sent.funding.find((f) => f.E === r.time);
        assert.ok(s, `funding row ${r.time} was sent`);
        assert.deepEqual([r.mark_price, r.index_price, r.funding_rate, r.next_funding_time, r.asset_type], [s.markPrice, s.indexPrice, s.fundingRate, s.nextFundingTime, 'crypto']);
      }
      const liq = await select(`SELECT * FROM "liquidations" ${where()}`);
      for (const r of liq) {
        const s = fake.sent.liquidations.find((l) => l.T === r.time);
        assert.ok(s, `liquidation ${r.time} was sent`);
        assert.deepEqual([r.side, r.price, r.quantity], [s.side.toLowerCase(), s.averagePrice, s.filledQty]);
      }
      const oi = await select(`SELECT * FROM "open_interest" ${where()}`);
      assert.ok(oi.every((r) => fake.sent.openInterest.some((o) => o.time === r.time && o.openInterest === r.open_interest)), 'open interest as answered');
      const book = (await select(`SELECT * FROM "order_book" ${where()} ORDER BY time DESC LIMIT 1`))[0]!;
      assert.ok((book.best_bid as number) < (book.best_ask as number) && (book.spread_bps as number) > 0);
      const res = await fetch(`${feeder.url}/healthz`);
      const health = (await res.json()) as { sources: Record<string, boolean>; components: Record<string, { connections?: number }> };
      assert.equal(health.sources.binance_futures_ws, true);
      assert.equal(health.components['binance-futures']?.connections, 1);
    });

    await t.test('SIGKILL while candles keep closing, restart: zero missing, zero duplicate candles after backfill', async () => {
      await feeder.kill();
      const killedAt = await lastStored();
      await waitFor(() => fake.lastClosedOpenTime() >= killedAt + 15 * MINUTE, 10_000, 'candles closing while down');
      await feeder.restart();
      const target = fake.lastClosedOpenTime() + 3 * MINUTE;
      await waitFor(async () => (await lastStored()) >= target, 30_000, 'caught up');
      // live candles can be stored before the backfill of the outage has run: gap-free once it has (a hole never filled still fails, named)
      assert.ok((await waitFor(() => assertGapFree(target), 60_000, 'gap-free')) >= 40);
      assert.ok(metricValue(await feeder.metrics(), 'market_candles_backfilled_total') >= 15, 'the outage was backfilled over REST');
    });

    await t.test('SIGTERM exits 0 with the last closed candle stored', async () => {
      fake.pause();
      await new Promise((r) => setTimeout(r, 500));
      const closed = fake.lastClosedOpenTime();
      await waitFor(async () => (await lastStored()) === closed, 5000, 'last closed candle');
      assert.equal(await feeder.stop(), 0);
      await assertGapFree(closed);
      fake.resume();
    });
  } finally {
    await svc?.kill();
  }
});
