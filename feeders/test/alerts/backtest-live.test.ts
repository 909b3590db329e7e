// Backtest = live: the market feeder (`npm run market-feeder`) runs a session against the local Binance
// server with rules from the watchlist API, storing candles, indicators, prices and every firing
// (alert_events) in a real InfluxDB; then POST /api/alert-rules/backtest replays what was stored through
// the same evaluator and must fire at the same moments: exactly for candle rules, within the 1-minute bar
// for a price rule (replayed from the stored candles; docs/ALERTING.md "Backtest").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BinanceFake,
  HttpFake,
  startInflux,
  startPostgres,
  waitFor,
  type InfluxServer,
  type PostgresServer,
  type RunningService,
} from '@mt/testing';
import { startAlertSession } from './session.js';

const TOKEN = 'backtest-live-token-0123456789';
const MINUTE = 60_000;
let pg: PostgresServer;
let influx: InfluxServer;
let binance: BinanceFake;
let am: HttpFake;
let api: RunningService;
let feeder: RunningService;

before(async () => {
  [pg, influx, binance, am] = await Promise.all([
    startPostgres(),
    startInflux(),
    new BinanceFake({ symbols: ['BTCUSDT'], historyMinutes: 120, startTime: BinanceFake.risingStartTime() }).listen(),
    new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen(),
  ]);
  const databaseUrl = await pg.createDatabase(`backtest_${process.pid}`);
  ({ api, feeder } = await startAlertSession({
    databaseUrl,
    apiToken: TOKEN,
    influx,
    binance,
    alertmanagerUrl: am.url,
    // no digest in this session: every firing is its own alert
    feederEnv: { BACKFILL_HOURS: '2', ALERT_DIGEST_AFTER: '1000' },
  }));
});

after(async () => {
  await Promise.allSettled([feeder?.stop(), api?.stop()]);
  await Promise.allSettled([binance?.close(), influx?.stop(), pg?.stop(), am?.close()]);
});

const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${api.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
interface Event {
  time: string;
  rule_id: string;
  price: number;
  value: number | null;
}
async function events(ruleId: string): Promise<Event[]> {
  const res = await fetch(`${api.url}/api/alert-events?symbol=BTC%2FUSDT&limit=1000&since=${new Date(Date.now() - 86_400_000).toISOString()}`, { headers });
  const { data } = (await res.json()) as { data: Event[] };
  return data.filter((e) => e.rule_id === ruleId).reverse();
}

test('a live session and its backtest fire at the same moments', async () => {
  await waitFor(async () => {
    const r = await influx.query(`SELECT count("rsi_14") FROM "indicators" WHERE "symbol"='BTC/USDT' AND "interval"='1m'`, 'markets');
    return Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0) > 60 || undefined;
  }, 60_000, 'history backfilled with indicators');
  binance.pause();
  const { threshold } = binance.upwardCrossing('BTCUSDT');
  const drafts = {
    macd: { symbol: 'BTC/USDT', condition: 'macd_cross_up', cooldown_seconds: 0 },
    boll: { symbol: 'BTC/USDT', condition: 'bollinger_break_down', cooldown_seconds: 0 },
    rsi: { symbol: 'BTC/USDT', condition: 'rsi_above', threshold: 55, cooldown_seconds: 0 },
    price: { symbol: 'BTC/USDT', condition: 'crosses_above', threshold, cooldown_seconds: 0 },
  };
  const ids: Record<string, string> = {};
  for (const [k, body] of Object.entries(drafts)) ids[k] = (await post<{ id: string }>('/api/alert-rules', body)).id;
  await waitFor(() => feeder.logs().some((l) => l.msg === 'price alert rules loaded' && l.rules === 4), 10_000, 'rules loaded by the feeder');
  // the rules' first evaluation (which only records the state) is the first candle that closes from here
  const firstClose = Math.floor(binance.now() / MINUTE) * MINUTE + MINUTE;
  binance.resume();

  await waitFor(async () => {
    const counts = await Promise.all(['macd', 'boll', 'rsi', 'price'].map(async (k) => (await events(ids[k]!)).length));
    return counts.every((n) => n >= 1) || undefined;
  }, 120_000, 'every rule fired live at least once', 500);
  // a few more candles, then stop the market and let the feeder store everything
  await new Promise((r) => setTimeout(r, 3000));
  binance.pause();
  const lastClose = Math.floor(binance.now() / MINUTE) * MINUTE;
  await new Promise((r) => setTimeout(r, 1500));
  const to = new Date(lastClose + 10 * MINUTE).toISOString();

  for (const k of ['macd', 'boll', 'rsi'] as const) {
    const live = (await events(ids[k]!)).filter((e) => Date.parse(e.time) > firstClose && Date.parse(e.time) <= lastClose);
    const bt = await post<{ fires: { time: string; price: number; value: number }[]; replayed: { bars: number } }>('/api/alert-rules/backtest', { rule_id: ids[k], days: 1, to });
    const replayed = bt.fires.filter((f) => Date.parse(f.time) > firstClose && Date.parse(f.time) <= lastClose);
    console.log(`# ${k}: live ${live.length} firings, backtest ${replayed.length} (of ${bt.fires.length} over ${bt.replayed.bars} candles)`);
    assert.ok(live.length >= 1, `${k} fired live`);
    assert.deepEqual(
      replayed.map((f) => f.time),
      live.map((e) => e.time),
      `${k}: same moments`,
    );
    assert.deepEqual(
      replayed.map((f) => f.price),
      live.map((e) => e.price),
      `${k}: same prices (the candle close)`,
    );
    for (let i = 0; i < live.length; i++) assert.ok(Math.abs(replayed[i]!.value - live[i]!.value!) < 1e-9, `${k}: same value`);
    // the draft form of the same rule answers the same
    const draft = await post<{ fires: { time: string }[] }>('/api/alert-rules/backtest', { rule: drafts[k], days: 1, to });
    assert.deepEqual(
      draft.fires.map((f) => f.time),
      bt.fires.map((f) => f.time),
    );
  }

  // the price rule: live on every trade, the backtest on the stored 1-minute candles, each bar as its
  // tick path (open, extremes, close: barPath). So each backtest firing is reported at the open of the bar
  // it fired in, and the live feeder fired inside that same bar; the path crosses each level the fewest
  // times any tick path with that open/high/low/close can, so the backtest never has more firings than live.
  const live = (await events(ids.price!)).filter((e) => Date.parse(e.time) > firstClose);
  const bt = await post<{ fires: { time: string; price: number; bar?: string }[]; replayed: { bars: number } }>('/api/alert-rules/backtest', { rule_id: ids.price, days: 1, to });
  const replayed = bt.fires.filter((f) => Date.parse(f.time) >= firstClose);
  console.log(`# price: live ${live.map((e) => e.time).join(' ')} | backtest ${replayed.map((f) => f.time).join(' ')} (${bt.replayed.bars} bars)`);
  assert.ok(live.length >= 1);
  assert.ok(replayed.length >= 1, 'the crossing the live feeder fired on is in the backtest');
  assert.ok(replayed.length <= live.length, 'the backtest never invents a crossing the live stream did not have');
  for (const f of replayed) {
    const t = Date.parse(f.time);
    assert.equal(f.bar, '1m', 'replayed from the 1-minute candles');
    assert.ok(f.price > threshold, `backtest firing at ${f.time} is above the threshold`);
    assert.ok(
      live.some((e) => Date.parse(e.time) >= t && Date.parse(e.time) < t + MINUTE),
      `backtest firing in the bar of ${f.time} has a live firing in that same minute`,
    );
  }
});
