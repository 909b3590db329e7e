// End to end for infrastructure alerts: a real Prometheus (the committed config and rules, rendered
// with loopback targets and 1 s intervals / 2 s `for:`) scrapes a small process that exposes feeder
// metrics; when that process stops, TargetDown travels through a real Alertmanager (the committed
// routes and templates) to the local Telegram Bot API and SMTP sink; the Watchdog goes to the heartbeat
// webhook only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  HttpFake,
  TelegramFake,
  SmtpSink,
  freePort,
  renderAlertmanagerConfig,
  renderPrometheusConfig,
  startAlertmanager,
  startPrometheus,
  waitFor,
  type AlertmanagerServer,
  type PrometheusServer,
} from '@mt/testing';

const CHAT = '-1009876543210';
let telegram: TelegramFake;
let smtp: SmtpSink;
let heartbeat: HttpFake;
let am: AlertmanagerServer;
let prom: PrometheusServer;
let feederPort: number;
let feeder: http.Server | undefined;

/** A stand-in for the market feeder's /metrics: messages keep arriving, one source up. */
function startFakeFeeder(port: number): Promise<http.Server> {
  let messages = 0;
  const srv = http.createServer((_req, res) => {
    messages += 10;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# TYPE feeder_messages_total counter',
        `feeder_messages_total{source="binance_ws",service="market-feeder"} ${messages}`,
        '# TYPE feeder_source_up gauge',
        'feeder_source_up{source="binance_ws",service="market-feeder"} 1',
        '# TYPE market_last_tick_age_seconds gauge',
        'market_last_tick_age_seconds{symbol="BTC/USDT",service="market-feeder"} 0.4',
        '',
      ].join('\n'),
    );
  });
  return new Promise((resolve) => srv.listen(port, '127.0.0.1', () => resolve(srv)));
}

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
  feederPort = await freePort();
  feeder = await startFakeFeeder(feederPort);
  prom = await startPrometheus(
    renderPrometheusConfig({
      targets: { 'market-feeder': [`127.0.0.1:${feederPort}`], alertmanager: [`127.0.0.1:${am.port}`] },
      alertmanager: `127.0.0.1:${am.port}`,
    }),
  );
});

after(async () => {
  await new Promise((r) => (feeder ? feeder.close(r) : r(undefined)));
  await prom?.stop();
  await am?.stop();
  await telegram?.close();
  await smtp?.close();
  await heartbeat?.close();
});

test('a stopped feeder → TargetDown on Telegram and e-mail; back up → resolved', async () => {
  const instance = `127.0.0.1:${feederPort}`;
  await waitFor(async () => (await prom.query(`up{job="market-feeder"} == 1`)).length === 1, 20_000, 'feeder scraped');
  // the Watchdog is always firing and only reaches the heartbeat webhook
  await waitFor(() => heartbeat.requestsTo('/ping').length > 0, 20_000, 'Watchdog heartbeat');
  const hb = JSON.parse(heartbeat.requestsTo('/ping')[0]!.body) as { alerts: { labels: Record<string, string> }[] };
  assert.equal(hb.alerts[0]!.labels.alertname, 'Watchdog');
  assert.equal(telegram.messages.length, 0, 'nothing for humans while everything is fine');

  const stoppedAt = Date.now();
  await new Promise((r) => feeder!.close(r));
  feeder = undefined;

  const msg = await waitFor(() => telegram.messages.find((m) => m.text.includes('TargetDown')), 30_000, 'TargetDown on Telegram');
  console.log(`# feeder stopped → Telegram: ${msg.at - stoppedAt} ms`);
  assert.equal(msg.chat_id, CHAT);
  assert.match(msg.text, new RegExp(`🔴 <b>TargetDown</b> · ${instance}\\nmarket-feeder is down\\n<i>Prometheus cannot scrape ${instance} \\(job market-feeder\\)`));
  const mail = await waitFor(() => smtp.messages.find((m) => m.subject.includes('TargetDown')), 30_000, 'TargetDown e-mail');
  assert.equal(mail.subject, `[FIRING:1] TargetDown on ${instance}`);
  assert.match(mail.text, /\[CRITICAL\] market-feeder is down/);
  assert.match(mail.text, /job=market-feeder/);
  assert.ok(!telegram.messages.some((m) => m.text.includes('Watchdog')), 'the Watchdog never reaches Telegram');

  feeder = await startFakeFeeder(feederPort);
  const resolved = await waitFor(() => telegram.messages.find((m) => m.text.includes('RESOLVED') && m.text.includes('TargetDown')), 40_000, 'resolved');
  assert.match(resolved.text, /✅ <b>RESOLVED<\/b> <b>TargetDown<\/b>/);
  assert.equal(telegram.messages.filter((m) => m.text.includes('TargetDown') && !m.text.includes('RESOLVED')).length, 1, 'one firing message');
});
