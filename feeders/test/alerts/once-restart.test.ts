// `trigger: once` survives a restart: the market feeder process (rules from the watchlist API, BTC/USDT
// from the local Binance server) posts to a real Alertmanager → Telegram fake; the once-rule fires, its
// fired_at is stored and shown by the API, the feeder is SIGKILLed and started again, the price crosses
// the level again (a control rule on the same level fires again) → no second message for the once-rule;
// PATCH fired_at null re-arms it (docs/ALERTING.md "Noise control").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceFake, startAlertDelivery, startInflux, startPostgres, waitFor, type AlertDelivery, type InfluxServer, type PostgresServer, type RunningService } from '@mt/testing';
import { apiCaller, startAlertSession } from './session.js';

const TOKEN = 'once-restart-token-0123456789';
const MINUTE = 60_000;
let pg: PostgresServer;
let influx: InfluxServer;
let binance: BinanceFake;
let delivery: AlertDelivery;
let api: RunningService;
let feeder: RunningService;

before(async () => {
  [pg, influx, binance, delivery] = await Promise.all([startPostgres(), startInflux(), new BinanceFake({ symbols: ['BTCUSDT'], historyMinutes: 30 }).listen(), startAlertDelivery()]);
  ({ api, feeder } = await startAlertSession({
    databaseUrl: await pg.createDatabase(`once_${process.pid}`),
    apiToken: TOKEN,
    influx,
    binance,
    alertmanagerUrl: delivery.am.url,
    feederEnv: { BACKFILL_HOURS: '0', ALERT_DIGEST_AFTER: '1000' },
  }));
});

after(async () => {
  await Promise.allSettled([feeder?.stop(), api?.stop()]);
  await Promise.allSettled([binance?.close(), influx?.stop(), pg?.stop(), delivery?.close()]);
});

const call = apiCaller(() => api.url, TOKEN);
const loaded = () => feeder.logs().filter((l) => l.msg === 'price alert rules loaded').length;

test('a once-rule that fired stays fired across a SIGKILL and restart; PATCH fired_at null re-arms it', async () => {
  // a level in the middle of the coming prices: the market (a slow sine plus noise) crosses it up again and again
  binance.pause();
  const now = Math.floor(binance.now() / MINUTE) * MINUTE;
  const next = Array.from({ length: 200 }, (_, k) => binance.candle('BTCUSDT', now + k * MINUTE));
  const threshold = Number(((Math.min(...next.map((c) => c.low)) + Math.max(...next.map((c) => c.high))) / 2).toFixed(2));
  const once = await call<{ id: string; fired_at: string | null }>('POST', '/api/alert-rules', { symbol: 'BTC/USDT', condition: 'crosses_above', threshold, cooldown_seconds: 0, trigger: 'once' });
  assert.equal(once.fired_at, null);
  // the control: the same level, every time (a message per up-crossing, re-armed 1 % below)
  await call('POST', '/api/alert-rules', { symbol: 'BTC/USDT', condition: 'above', threshold, cooldown_seconds: 0, hysteresis_pct: 1 });
  await waitFor(() => feeder.logs().some((l) => l.msg === 'price alert rules loaded' && l.rules === 2), 15_000, 'rules loaded');
  binance.resume();

  const onceMessages = () => delivery.telegram.messages.filter((m) => m.text.includes(`BTC/USDT crossed above ${threshold.toFixed(2)}`));
  const controlMessages = () => delivery.telegram.messages.filter((m) => m.text.includes(`BTC/USDT above ${threshold.toFixed(2)}`));
  await waitFor(() => onceMessages().length >= 1 || undefined, 90_000, 'the once-rule fired (Telegram)', 200);
  const stored = await waitFor(async () => (await call<{ fired_at: string | null }>('GET', `/api/alert-rules/${once.id}`)).fired_at ?? undefined, 10_000, 'fired_at shown by the API');
  assert.ok(Math.abs(Date.parse(stored) - binance.now()) < 30 * MINUTE, `fired_at ${stored} is the firing's exchange time`);

  // SIGKILL: no orderly shutdown; then the same feeder again
  const before = loaded();
  await feeder.kill();
  await feeder.restart();
  await waitFor(() => loaded() > before || undefined, 30_000, 'rules loaded after the restart');
  const controlBefore = controlMessages().length;
  // the price crosses the level up again (twice, to be sure the once-rule saw a crossing of its own)
  await waitFor(() => controlMessages().length >= controlBefore + 2 || undefined, 120_000, 'the level crossed again after the restart', 500);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(onceMessages().length, 1, 'no second message for the once-rule after the restart');

  // re-arm: PATCH clears fired_at; the next crossing is a message again
  const rearmed = await call<{ fired_at: string | null }>('PATCH', `/api/alert-rules/${once.id}`, { fired_at: null });
  assert.equal(rearmed.fired_at, null);
  await waitFor(() => onceMessages().length >= 2 || undefined, 120_000, 'the re-armed rule fired again', 500);
  await waitFor(async () => ((await call<{ fired_at: string | null }>('GET', `/api/alert-rules/${once.id}`)).fired_at ? true : undefined), 10_000, 'fired again: stored again');
  assert.equal(onceMessages().length, 2);
});
