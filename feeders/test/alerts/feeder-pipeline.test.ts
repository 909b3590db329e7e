// The whole price-alert path with every piece real or protocol-true: a rule POSTed to the watchlist API
// (PostgreSQL, NOTIFY) reaches the running market feeder (`npm run market-feeder` entry point), whose
// Binance stream (the local Binance server) then crosses the threshold; the feeder posts to a real
// Alertmanager (committed template) → the local Telegram Bot API and the SMTP sink.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BinanceFake,
  type SmtpSink,
  type TelegramFake,
  metricValue,
  startAlertDelivery,
  startInflux,
  startPostgres,
  waitFor,
  type AlertDelivery,
  type AlertmanagerServer,
  type InfluxServer,
  type PostgresServer,
  type RunningService,
} from '@mt/testing';
import { startAlertSession } from './session.js';

const TOKEN = 'alerting-pipeline-token-0123456789';
let pg: PostgresServer;
let influx: InfluxServer;
let binance: BinanceFake;
let telegram: TelegramFake;
let smtp: SmtpSink;
let am: AlertmanagerServer;
let api: RunningService;
let feeder: RunningService;

before(async () => {
  let delivery: AlertDelivery;
  [pg, influx, binance, delivery] = await Promise.all([
    startPostgres(),
    startInflux(),
    new BinanceFake({ symbols: ['BTCUSDT'], historyMinutes: 30, startTime: BinanceFake.risingStartTime() }).listen(),
    startAlertDelivery(),
  ]);
  ({ am, telegram, smtp } = delivery);
  const databaseUrl = await pg.createDatabase(`alerting_${process.pid}`);
  ({ api, feeder } = await startAlertSession({
    databaseUrl,
    apiToken: TOKEN,
    influx,
    binance,
    alertmanagerUrl: am.url,
    feederEnv: { BACKFILL_HOURS: '0.1', GRAFANA_URL: 'https://terminal.example.org' },
  }));
});

after(async () => {
  await Promise.allSettled([feeder?.stop(), api?.stop()]);
  await Promise.allSettled([binance?.close(), influx?.stop(), pg?.stop(), am?.stop(), telegram?.close(), smtp?.close()]);
});

test('a rule from the API + a Binance price crossing → Telegram and e-mail', async () => {
  await waitFor(async () => metricValue(await feeder.metrics(), 'market_last_tick_age_seconds', { symbol: 'BTC/USDT' }) > 0 || undefined, 30_000, 'BTC/USDT ticks');
  binance.pause();
  // the current candle and the next two are slack for the rule to reach the feeder
  const { threshold, crossingCandle } = binance.upwardCrossing('BTCUSDT');
  const res = await fetch(`${api.url}/api/alert-rules`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ symbol: 'BTC/USDT', condition: 'above', threshold, cooldown_seconds: 600, severity: 'critical' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const rule = (await res.json()) as { id: string };
  await waitFor(() => feeder.logs().some((l) => l.msg === 'price alert rules loaded' && l.rules === 1), 10_000, 'rule loaded by the feeder');
  binance.resume();

  const msg = await waitFor(() => telegram.messages.find((m) => m.text.includes('BTC/USDT')), 30_000 + crossingCandle * 200, 'Telegram message');
  const thr = threshold.toFixed(2);
  assert.match(msg.text, new RegExp(`^🔴 <b>BTC/USDT above ${thr.replace('.', '\\.')}: [\\d.]+</b>`));
  const price = Number(/Price: <b>([\d.]+)<\/b>/.exec(msg.text)?.[1]);
  assert.ok(price > threshold, `alerted price ${price} is above ${threshold}`);
  assert.match(msg.text, /var-symbol=BTC%2FUSDT/);
  const mail = await waitFor(() => smtp.messages.find((m) => m.subject.includes('BTC/USDT')), 20_000, 'e-mail');
  assert.deepEqual(mail.to, ['trader@example.org']);
  assert.match(mail.text, new RegExp(`crossed above ${thr.replace('.', '\\.')}: price [\\d.]+, threshold ${thr.replace('.', '\\.')}`));

  // one crossing, one alert, with the API's rule id
  const [alert] = await am.alerts('alertname="PriceAlert"');
  assert.equal(alert!.labels.rule_id, rule.id);
  assert.equal(telegram.messages.filter((m) => m.text.includes('BTC/USDT')).length, 1);
  assert.equal(metricValue(await feeder.metrics(), 'market_price_alerts_total', { outcome: 'sent' }), 1);

  // the history: stored by the feeder in InfluxDB, listed by the API
  const events = await waitFor(async () => {
    const r = await fetch(`${api.url}/api/alert-events?symbol=${encodeURIComponent('BTC/USDT')}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200, await r.clone().text());
    const { data } = (await r.json()) as { data: { time: string; rule_id: string; condition: string; threshold: number; price: number; message: string; severity: string }[] };
    return data.length ? data : undefined;
  }, 10_000, 'alert event listed');
  assert.equal(events.length, 1);
  assert.equal(events[0]!.rule_id, rule.id);
  assert.equal(events[0]!.condition, 'above');
  assert.equal(events[0]!.severity, 'critical');
  assert.equal(events[0]!.threshold, threshold);
  assert.equal(events[0]!.price, price, 'the price the message shows');
  assert.match(events[0]!.message, new RegExp(`crossed above ${thr.replace('.', '\\.')}`));
  assert.equal(Date.parse(events[0]!.time), Date.parse(alert!.startsAt), 'stored at the crossing time Alertmanager shows');
});
