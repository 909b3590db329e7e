// Price alerts across outages, every piece a real process or protocol-true: the watchlist API and the
// market feeder (both real processes) on a real PostgreSQL, the local Binance server, a real Alertmanager
// (committed config) delivering to the local Telegram Bot API and SMTP sink.
// 1. PostgreSQL restarted under both services → the API accepts a new rule again and the feeder, whose
//    LISTEN connection died, loads it;
// 2. Alertmanager down when the price crosses → the alert is queued (counted), nothing reaches Telegram;
//    Alertmanager back → delivered exactly once.
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
  startService,
  waitFor,
  type AlertDelivery,
  type AlertmanagerServer,
  type InfluxServer,
  type PostgresServer,
  type RunningService,
} from '@mt/testing';
import { TcpGate } from './tcp-gate.js';
import { feederEnv } from './helpers.js';

const TOKEN = 'reliability-alerting-token-0123456789';
let pg: PostgresServer;
let influx: InfluxServer;
let binance: BinanceFake;
let telegram: TelegramFake;
let smtp: SmtpSink;
let am: AlertmanagerServer;
let gate: TcpGate;
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
  gate = await new TcpGate({ host: '127.0.0.1', port: am.port }).open();
  const databaseUrl = await pg.createDatabase(`rel_alerting_${process.pid}`);
  api = await startService('watchlist-api', { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN, LOG_LEVEL: 'info' }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 20_000, 'API migrated');
  feeder = await startService('market-feeder', await feederEnv(influx, binance, ['BTC/USDT'], { DATABASE_URL: databaseUrl, BACKFILL_HOURS: '0.1', ALERTMANAGER_URL: gate.url }));
});

after(async () => {
  await Promise.allSettled([feeder?.kill(), api?.kill()]);
  await Promise.allSettled([gate?.close(), binance?.close(), influx?.stop(), pg?.stop(), am?.stop(), telegram?.close(), smtp?.close()]);
});

test('PostgreSQL restart, then Alertmanager down at the crossing: the rule still arrives, the alert is queued and delivered once', { timeout: 200_000 }, async () => {
  const alerts = async (outcome: string) => metricValue(await feeder.metrics(), 'market_price_alerts_total', { outcome });
  await waitFor(async () => metricValue(await feeder.metrics(), 'market_last_tick_age_seconds', { symbol: 'BTC/USDT' }) > 0 || undefined, 30_000, 'BTC/USDT ticks');
  binance.pause();
  const { threshold } = binance.upwardCrossing('BTCUSDT');

  // 1. PostgreSQL restart under both processes
  await pg.stop();
  await new Promise((r) => setTimeout(r, 2000));
  await pg.start();
  const statuses: (number | string)[] = [];
  const created = await waitFor(
    async () => {
      const t0 = Date.now();
      const res = await fetch(`${api.url}/api/alert-rules`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ symbol: 'BTC/USDT', condition: 'above', threshold, cooldown_seconds: 3600, severity: 'critical' }),
        // a request must be answered (201 or 503), not left hanging while the database restarts
        signal: AbortSignal.timeout(10_000),
      }).catch((err: Error) => {
        statuses.push(`${err.name} after ${Date.now() - t0} ms`);
        return undefined;
      });
      if (!res) return undefined;
      statuses.push(res.status);
      return res.status === 201 ? ((await res.json()) as { id: string }) : undefined;
    },
    30_000,
    'the API accepts a rule after the restart',
    500,
  );
  // meanwhile the API may say 503 (with Retry-After), never a 500
  assert.deepEqual(statuses.filter((st) => st !== 201 && st !== 503), [], `statuses during recovery: ${statuses.join(',')}`);
  await waitFor(() => feeder.logs().some((l) => l.msg === 'price alert rules loaded' && l.rules === 1), 20_000, 'the feeder loaded the new rule after the restart');

  // 2. Alertmanager down when the price crosses
  await gate.close();
  binance.resume();
  await waitFor(async () => (await alerts('queued')) >= 1, 60_000, 'the alert queued while Alertmanager is down');
  // the cooldown runs on exchange time, which this fake accelerates (an hour in ~12 s): stop the market so
  // a later, legitimate second crossing cannot be taken for a duplicate delivery
  binance.pause();
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(telegram.messages.length, 0, 'nothing delivered while Alertmanager is down');
  assert.equal(await alerts('sent'), 0);
  assert.equal(metricValue(await feeder.metrics(), 'market_price_alerts_queued'), 1);

  await gate.open();
  const msg = await waitFor(() => telegram.messages.find((m) => m.text.includes('BTC/USDT')), 60_000, 'delivered after Alertmanager is back');
  assert.ok(Number(/Price: <b>([\d.]+)<\/b>/.exec(msg.text)?.[1]) > threshold, 'alerted price above the threshold');
  await waitFor(() => smtp.messages.find((m) => m.subject.includes('BTC/USDT')), 30_000, 'e-mail too');
  const [alert] = await am.alerts('alertname="PriceAlert"');
  assert.equal(alert!.labels.rule_id, created.id);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(telegram.messages.filter((m) => m.text.includes('BTC/USDT')).length, 1, 'exactly once');
  assert.equal(await alerts('sent'), 1);
  assert.equal(await alerts('failed'), 0);
  assert.equal(feeder.proc.child.exitCode, null);
  assert.equal(api.proc.child.exitCode, null);
});
