// End to end: our price-alert engine → a real Alertmanager (Debian 0.25, the committed config and
// templates rendered as in the container) → a local Telegram Bot API and an SMTP sink.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger, type AlertRule } from '@mt/common';
import { TelegramFake, SmtpSink, renderAlertmanagerConfig, startAlertmanager, waitFor, type AlertmanagerServer } from '@mt/testing';
import { createPriceAlerts, type PriceAlerts } from '../../src/market/alerts/index.js';
import type { MarketConfig } from '../../src/market/config.js';
import { tick } from '../market/helpers.js';

const CHAT = '-1001234567890';
let telegram: TelegramFake;
let smtp: SmtpSink;
let am: AlertmanagerServer;
let alerts: PriceAlerts;

const rules: AlertRule[] = [
  { id: 'r-65k', symbol: 'BTC/USDT', condition: 'above', threshold: 65000, window_seconds: null, cooldown_seconds: 300, severity: 'warning' },
  { id: 'r-eth', symbol: 'ETH/USDT', condition: 'below', threshold: 3000, window_seconds: null, cooldown_seconds: 300, severity: 'critical' },
];

before(async () => {
  telegram = await new TelegramFake().listen();
  smtp = await new SmtpSink({ username: 'alerts', password: 's3cret' }).listen();
  const config = renderAlertmanagerConfig({
    TELEGRAM_API_URL: telegram.url,
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_CHAT_ID: CHAT,
    ALERT_EMAIL_TO: 'ops@example.org',
    ALERT_EMAIL_FROM: 'alertmanager@example.org',
    SMTP_SMARTHOST: smtp.hostPort,
    SMTP_REQUIRE_TLS: 'false',
    SMTP_USERNAME: 'alerts',
    SMTP_PASSWORD: 's3cret',
  });
  am = await startAlertmanager(config);
  alerts = createPriceAlerts({
    cfg: { ALERTMANAGER_URL: am.url, GRAFANA_URL: 'https://terminal.example.org' } as MarketConfig,
    log: createLogger('e2e', 'silent'),
    registry: new Registry(),
  });
  alerts.setRules(rules);
});

after(async () => {
  await alerts?.close();
  await am?.stop();
  await telegram?.close();
  await smtp?.close();
});

test('a crossing reaches Telegram and e-mail once, with symbol, price, threshold and chart link', async () => {
  const t0 = Date.now();
  alerts.onTick(tick({ symbol: 'BTC/USDT', ts: t0, price: 64990 }));
  alerts.onTick(tick({ symbol: 'BTC/USDT', ts: t0 + 1, price: 65012.5 }));
  alerts.onTick(tick({ symbol: 'BTC/USDT', ts: t0 + 2, price: 65020 })); // still above: no second alert
  const msg = await waitFor(() => telegram.messages.find((m) => m.text.includes('BTC/USDT')), 20_000, 'Telegram message');
  console.log(`# crossing tick → Telegram request: ${msg.at - t0} ms`);
  if (process.env.SHOW_MESSAGES) console.log(msg.text);
  assert.equal(msg.chat_id, CHAT);
  assert.equal(msg.parse_mode, 'HTML');
  assert.match(msg.text, /🟠 <b>BTC\/USDT above 65000\.00: 65012\.50<\/b>/);
  assert.match(msg.text, /Price: <b>65012\.5<\/b> · threshold 65000/);
  assert.match(msg.text, new RegExp(`${new Date(t0 + 1).toISOString().slice(0, 10)} \\d\\d:\\d\\d:\\d\\d UTC`));
  assert.match(msg.text, /<a href="https:\/\/terminal\.example\.org\/d\/asset-detail\?var-symbol=BTC%2FUSDT&amp;from=\d+&amp;to=\d+">📈 Chart BTC\/USDT<\/a>/);
  assert.equal(msg.disable_notification, false);

  const mail = await waitFor(() => smtp.messages.find((m) => m.subject.includes('BTC/USDT')), 20_000, 'e-mail');
  if (process.env.SHOW_MESSAGES) console.log(mail.subject, '\n', mail.text);
  assert.equal(mail.user, 'alerts', 'authenticated with the password from the rendered file');
  assert.deepEqual(mail.to, ['ops@example.org']);
  assert.equal(mail.subject, '[FIRING:1] BTC/USDT above 65000.00: 65012.50');
  assert.match(mail.text, /Price: 65012\.5 {2}Threshold: 65000/);
  assert.match(mail.text, /BTC\/USDT crossed above 65000\.00: price 65012\.50, threshold 65000\.00, at \d{4}-\d\d-\d\dT/);
  assert.match(mail.text, /Chart: https:\/\/terminal\.example\.org\/d\/asset-detail\?var-symbol=BTC%2FUSDT/);
  assert.match(mail.html, /<a href="https:\/\/terminal\.example\.org\/d\/asset-detail\?var-symbol=BTC%2FUSDT&amp;from=/);

  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(telegram.messages.filter((m) => m.text.includes('BTC/USDT')).length, 1);
  assert.equal(smtp.messages.filter((m) => m.subject.includes('BTC/USDT')).length, 1);
});

test('Telegram answering 429 with retry_after: the message still arrives, exactly once', async () => {
  telegram.flood(2);
  const before = telegram.sendMessageRequests().length;
  const t0 = Date.now();
  alerts.onTick(tick({ symbol: 'ETH/USDT', ts: t0, price: 3001 }));
  alerts.onTick(tick({ symbol: 'ETH/USDT', ts: t0 + 1, price: 2999.5 }));
  const msg = await waitFor(() => telegram.messages.find((m) => m.text.includes('ETH/USDT')), 30_000, 'Telegram message after 429');
  assert.match(msg.text, /🔴 <b>ETH\/USDT below 3000\.00: 2999\.50<\/b>/);
  const tries = telegram.sendMessageRequests().slice(before);
  assert.ok(tries.length >= 2, `first answered 429, then retried (${tries.length} requests)`);
  assert.ok(msg.at - tries[0]!.at >= 2000, 'accepted only after the flood window');
  // the e-mail is a separate integration: not held back or duplicated by Telegram's 429
  await waitFor(() => smtp.messages.find((m) => m.subject.includes('ETH/USDT')), 20_000, 'e-mail');
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(telegram.messages.filter((m) => m.text.includes('ETH/USDT')).length, 1);
  assert.equal(smtp.messages.filter((m) => m.subject.includes('ETH/USDT')).length, 1);
});
