// End to end for infrastructure alerts: a real Prometheus (the committed config and rules, rendered
// with loopback targets and 1 s intervals / 2 s `for:`) scrapes the real market feeder (run as
// `npm run market-feeder` runs it, on InfluxDB 1.x and the local Binance server); when the feeder stops,
// TargetDown travels through a real Alertmanager (the committed routes and templates) to the local
// Telegram Bot API and SMTP sink; the Watchdog goes to the heartbeat webhook only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  BinanceFake,
  HttpFake,
  TelegramFake,
  SmtpSink,
  unreachablePolledSources,
  renderAlertmanagerConfig,
  renderPrometheusConfig,
  startAlertmanager,
  startInflux,
  startPrometheus,
  startService,
  waitFor,
  PROMETHEUS_DIR,
  type AlertmanagerServer,
  type InfluxServer,
  type PrometheusServer,
  type RunningService,
} from '@mt/testing';

const CHAT = '-1009876543210';
let telegram: TelegramFake;
let smtp: SmtpSink;
let heartbeat: HttpFake;
let am: AlertmanagerServer;
let prom: PrometheusServer;
let influx: InfluxServer;
let binance: BinanceFake;
let feeder: RunningService;

before(async () => {
  telegram = await new TelegramFake().listen();
  smtp = await new SmtpSink().listen();
  heartbeat = await new HttpFake('heartbeat').route('POST', '/ping', () => ({ status: 200, body: 'OK' })).listen();
  am = await startAlertmanager(
    renderAlertmanagerConfig(
      {
        TELEGRAM_API_URL: telegram.url,
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_CHAT_ID: CHAT,
        ALERT_EMAIL_TO: 'ops@example.org',
        SMTP_SMARTHOST: smtp.hostPort,
        SMTP_REQUIRE_TLS: 'false',
        HEARTBEAT_URL: `${heartbeat.url}/ping`,
      },
      { timings: { group_wait: '1s', group_interval: '2s' } },
    ),
  );
  [influx, binance] = await Promise.all([startInflux(), new BinanceFake({ symbols: ['BTCUSDT'], historyMinutes: 5 }).listen()]);
  feeder = await startService('market-feeder', {
    DATABASE_URL: '',
    WATCH_SYMBOLS: 'BTC/USDT:crypto',
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    BINANCE_WS_URL: binance.wsUrl,
    BINANCE_REST_URL: binance.restUrl,
    BACKFILL_HOURS: '0',
    ...(await unreachablePolledSources()),
    ALERTMANAGER_URL: am.url,
  });
  prom = await startPrometheus(
    renderPrometheusConfig({
      targets: { 'market-feeder': [`127.0.0.1:${feeder.port}`], alertmanager: [`127.0.0.1:${am.port}`] },
      alertmanager: `127.0.0.1:${am.port}`,
    }),
  );
});

after(async () => {
  await feeder?.stop();
  await prom?.stop();
  await am?.stop();
  await Promise.allSettled([binance?.close(), influx?.stop(), telegram?.close(), smtp?.close(), heartbeat?.close()]);
});

test('every market-feeder metric the rules use is exported by the real feeder', async () => {
  const text = await feeder.metrics();
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap((m) => (m[2] === 'histogram' ? [m[1]!, `${m[1]}_count`] : [m[1]!])));
  const rules = parse(readFileSync(path.join(PROMETHEUS_DIR, 'rules', 'services.yml'), 'utf8')) as { groups: { name: string; rules: { expr: string }[] }[] };
  const used = new Set(
    rules.groups
      .filter((g) => g.name !== 'watchlist-api')
      .flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\b((?:feeder|market|influx)_[a-z_]+)\b/g)].map((m) => m[1]!))),
  );
  assert.ok(used.size >= 7, [...used].join());
  assert.deepEqual([...used].filter((n) => !exported.has(n)), []);
});

test('a stopped feeder → TargetDown on Telegram and e-mail; back up → resolved', async () => {
  const instance = `127.0.0.1:${feeder.port}`;
  await waitFor(async () => (await prom.query(`up{job="market-feeder"} == 1`)).length === 1, 20_000, 'feeder scraped');
  // the Watchdog is always firing and only reaches the heartbeat webhook
  await waitFor(() => heartbeat.requestsTo('/ping').length > 0, 20_000, 'Watchdog heartbeat');
  const hb = JSON.parse(heartbeat.requestsTo('/ping')[0]!.body) as { alerts: { labels: Record<string, string> }[] };
  assert.equal(hb.alerts[0]!.labels.alertname, 'Watchdog');
  assert.ok(!telegram.messages.some((m) => m.text.includes('TargetDown')), 'no TargetDown while the feeder runs');

  const stoppedAt = Date.now();
  assert.equal(await feeder.stop(), 0);

  const msg = await waitFor(() => telegram.messages.find((m) => m.text.includes('TargetDown')), 30_000, 'TargetDown on Telegram');
  console.log(`# feeder stopped → Telegram: ${msg.at - stoppedAt} ms`);
  assert.equal(msg.chat_id, CHAT);
  assert.match(msg.text, new RegExp(`🔴 <b>TargetDown</b> · ${instance}\\nmarket-feeder is down\\n<i>Prometheus cannot scrape ${instance} \\(job market-feeder\\)`));
  const mail = await waitFor(() => smtp.messages.find((m) => m.subject.includes('TargetDown')), 30_000, 'TargetDown e-mail');
  assert.equal(mail.subject, `[FIRING:1] TargetDown on ${instance}`);
  assert.match(mail.text, /\[CRITICAL\] market-feeder is down/);
  assert.match(mail.text, /job=market-feeder/);
  assert.ok(!telegram.messages.some((m) => m.text.includes('Watchdog')), 'the Watchdog never reaches Telegram');

  await feeder.restart();
  const resolved = await waitFor(() => telegram.messages.find((m) => m.text.includes('RESOLVED') && m.text.includes('TargetDown')), 40_000, 'resolved');
  assert.match(resolved.text, /✅ <b>RESOLVED<\/b> <b>TargetDown<\/b>/);
  assert.equal(telegram.messages.filter((m) => m.text.includes('TargetDown') && !m.text.includes('RESOLVED')).length, 1, 'one firing message');
});
