// Noise control end to end: the feeder's alert component → a real Alertmanager on the committed config and
// templates → the local Telegram Bot API and SMTP sink (startAlertDelivery). Flapping price → one message
// per cross, a burst → one digest message within Telegram's limit, mute and expiry honoured, Alertmanager
// unreachable → every alert delivered once it is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Registry } from 'prom-client';
import { createLogger, type AlertRule } from '@mt/common';
import { freePort, metricValue, startAlertDelivery, waitFor, type AlertDelivery } from '@mt/testing';
import { createPriceAlerts, type PriceAlerts } from '../../src/market/alerts/index.js';
import type { MarketConfig } from '../../src/market/config.js';
import { tick } from '../market/helpers.js';

let delivery: AlertDelivery;
const opened: PriceAlerts[] = [];
const log = createLogger('noise', 'silent');

before(async () => {
  delivery = await startAlertDelivery();
});
after(async () => {
  for (const a of opened) await a.close();
  await delivery?.close();
});

function alerts(url = delivery.am.url, registry = new Registry(), digestAfter = 5): PriceAlerts {
  const a = createPriceAlerts({
    cfg: { ALERTMANAGER_URL: url, GRAFANA_URL: 'https://terminal.example.org', ALERT_DIGEST_AFTER: digestAfter, ALERT_DIGEST_HOLD_MS: 1000 } as MarketConfig,
    log,
    registry,
  });
  opened.push(a);
  return a;
}

function rule(over: Partial<AlertRule>): AlertRule {
  return { id: 'r', symbol: 'BTC/USDT', condition: 'crosses_above', threshold: 100, window_seconds: null, cooldown_seconds: 0, severity: 'warning', ...over };
}

const messagesAbout = (s: string) => delivery.telegram.messages.filter((m) => m.text.includes(s));
const settle = () => new Promise((r) => setTimeout(r, 2500));

test('flapping around a level with hysteresis: one message per cross, not per flap', async () => {
  const a = alerts(delivery.am.url, new Registry(), 10);
  a.setRules([rule({ id: 'flap', symbol: 'FLAP/USDT', hysteresis_pct: 1 }), rule({ id: 'raw', symbol: 'RAW/USDT' })]);
  const t0 = Date.now();
  // both symbols walk the same path: 100.5 crosses; the flaps 99.5 ↔ 100.4 stay inside the 1 % band;
  // 98.9 leaves it; 100.1 is the second cross
  const path = [99, 100.5, 99.5, 100.2, 99.8, 100.4, 98.9, 100.1];
  path.forEach((price, i) => {
    a.onTick(tick({ symbol: 'FLAP/USDT', ts: t0 + i * 100, price }));
    a.onTick(tick({ symbol: 'RAW/USDT', ts: t0 + i * 100, price }));
  });
  await waitFor(() => messagesAbout('FLAP/USDT').length >= 2 && messagesAbout('RAW/USDT').length >= 4 && true, 20_000, 'messages');
  await settle();
  const flap = messagesAbout('FLAP/USDT');
  assert.equal(flap.length, 2, flap.map((m) => m.text).join('\n---\n'));
  assert.match(flap[0]!.text, /FLAP\/USDT crossed above 100: 100\.5/);
  assert.match(flap[1]!.text, /FLAP\/USDT crossed above 100: 100\.1/);
  // the change over the rule's window (5 min by default, sampled every 5 s) is in the message: from a
  // price of this path (98.9 … 100.4) to 100.1
  const change = Number(/· ([+-]\d+\.\d\d)% in 5m/.exec(flap[1]!.text)?.[1]);
  assert.ok(change >= ((100.1 - 100.4) / 100.4) * 100 - 0.005 && change <= ((100.1 - 98.9) / 98.9) * 100 + 0.005, `change ${change}`);
  assert.equal(messagesAbout('RAW/USDT').length, 4, 'without hysteresis every cross is a message (the old behaviour)');
  // and each firing is its own mail too
  await waitFor(() => delivery.smtp.messages.filter((m) => m.subject.includes('FLAP/USDT')).length === 2 || undefined, 20_000, 'mails');
});

test('a burst becomes one digest message within Telegram’s limit; every firing counted', async () => {
  const registry = new Registry();
  const a = alerts(delivery.am.url, registry);
  const symbols = Array.from({ length: 120 }, (_, i) => `B${String(i).padStart(3, '0')}/USDT`);
  a.setRules(symbols.map((symbol, i) => rule({ id: `burst-${i}`, symbol, condition: 'above', threshold: 50, severity: i === 7 ? 'critical' : 'warning' })));
  const t0 = Date.now();
  for (const symbol of symbols) a.onTick(tick({ symbol, ts: t0, price: 49 }));
  for (const symbol of symbols) a.onTick(tick({ symbol, ts: t0 + 1, price: 51 }));
  const digest = await waitFor(() => delivery.telegram.messages.find((m) => /120 price alerts|115 price alerts/.test(m.text)), 20_000, 'digest message');
  await settle();
  const burst = delivery.telegram.messages.filter((m) => /B\d{3}\/USDT/.test(m.text));
  console.log(`# burst of 120: ${burst.length} Telegram messages; digest ${digest.text.length} characters`);
  assert.equal(burst.length, 6, 'the first 5 one by one, then one digest');
  assert.match(digest.text, /^🔴 <b>115 price alerts on 115 symbols in \d+ s<\/b>/, 'severity of the digest = the highest in it');
  assert.ok(digest.text.length < 4096, `within Telegram's limit: ${digest.text.length}`);
  assert.match(digest.text, /… and \d+ more \(alert history\)/);
  const listed = (digest.text.match(/B\d{3}\/USDT above 50: 51/g) ?? []).length;
  const more = Number(/… and (\d+) more/.exec(digest.text)![1]);
  assert.equal(listed + more, 115, 'every firing listed or counted');
  assert.match(digest.text, /<a href="https:\/\/terminal\.example\.org\/d\/alerts">📈 Alert history<\/a>/);
  const mail = await waitFor(() => delivery.smtp.messages.find((m) => m.subject.includes('115 price alerts')), 20_000, 'digest mail');
  assert.match(mail.subject, /^\[FIRING:1\] 115 price alerts on 115 symbols in \d+ s$/);
  const m = await registry.metrics();
  assert.equal(metricValue(m, 'market_alert_firings_total', { condition: 'above' }), 120);
  assert.equal(metricValue(m, 'market_price_alerts_total', { severity: 'critical', outcome: 'sent' }), 1, 'the digest');
});

test('mute and expiry: nothing is sent for a muted or expired rule; a live one in between is', async () => {
  const a = alerts();
  const now = Date.now();
  a.setRules([
    rule({ id: 'muted', symbol: 'MUTE/USDT', muted_until: new Date(now + 3600_000).toISOString() }),
    rule({ id: 'expired', symbol: 'EXP/USDT', expires_at: new Date(now - 1000).toISOString() }),
    rule({ id: 'live', symbol: 'LIVE/USDT' }),
  ]);
  for (const symbol of ['MUTE/USDT', 'EXP/USDT', 'LIVE/USDT']) {
    a.onTick(tick({ symbol, ts: now, price: 99 }));
    a.onTick(tick({ symbol, ts: now + 1, price: 101 }));
  }
  await waitFor(() => messagesAbout('LIVE/USDT').length === 1 || undefined, 20_000, 'the live rule');
  await settle();
  assert.equal(messagesAbout('MUTE/USDT').length, 0);
  assert.equal(messagesAbout('EXP/USDT').length, 0);
  // unmuted (a PATCH reaches the feeder as a reload): the next crossing is delivered
  a.setRules([rule({ id: 'muted', symbol: 'MUTE/USDT', muted_until: null })]);
  a.onTick(tick({ symbol: 'MUTE/USDT', ts: now + 2, price: 99 }));
  a.onTick(tick({ symbol: 'MUTE/USDT', ts: now + 3, price: 101.5 }));
  await waitFor(() => messagesAbout('MUTE/USDT').length === 1 || undefined, 20_000, 'unmuted rule');
});

test('Alertmanager unreachable: alerts wait in the queue and each arrives once when it is reachable', async () => {
  const port = await freePort();
  const registry = new Registry();
  const a = alerts(`http://127.0.0.1:${port}`, registry);
  const symbols = ['DOWN1/USDT', 'DOWN2/USDT', 'DOWN3/USDT'];
  a.setRules(symbols.map((symbol, i) => rule({ id: `down-${i}`, symbol })));
  const t0 = Date.now();
  for (const symbol of symbols) {
    a.onTick(tick({ symbol, ts: t0, price: 99 }));
    a.onTick(tick({ symbol, ts: t0 + 1, price: 101 }));
  }
  await waitFor(async () => metricValue(await registry.metrics(), 'market_price_alerts_total', { outcome: 'queued' }) === 3 || undefined, 10_000, 'queued');
  // Alertmanager "comes back": the port starts forwarding to the real one
  const target = delivery.am.port;
  const proxy = net.createServer((c) => {
    const up = net.connect(target, '127.0.0.1');
    c.pipe(up).pipe(c);
    up.on('error', () => c.destroy());
    c.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r));
  try {
    await waitFor(() => symbols.every((s) => messagesAbout(s).length === 1) || undefined, 60_000, 'all three delivered');
    await settle();
    for (const s of symbols) assert.equal(messagesAbout(s).length, 1, s);
    const m = await registry.metrics();
    assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'sent' }), 3);
    assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'failed' }), 0);
  } finally {
    await a.close();
    proxy.close();
  }
});
