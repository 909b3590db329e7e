// Alertmanager in HA (docs/ALERTING.md, "Alertmanager in HA"): three real Alertmanager peers gossiping on
// loopback, the committed configuration, ALERTMANAGER_URL listing all three. The feeder's price alerts
// go to every peer; the peers deduplicate the notification among themselves: exactly one Telegram
// message and one e-mail per alert, still one with a peer down — the one that would notify first — and
// still one when that peer comes back and receives the copy the feeder kept queued for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger, type AlertRule } from '@mt/common';
import { clusterStatus, metricValue, startHaAlertDelivery, waitFor, type AlertmanagerServer, type HaAlertDelivery } from '@mt/testing';
import { createPriceAlerts, type PriceAlerts } from '../../src/market/alerts/index.js';
import type { MarketConfig } from '../../src/market/config.js';
import { tick } from '../market/helpers.js';

// the peer at position k waits k × this before notifying what no earlier peer has (Alertmanager's default: 15 s)
const PEER_TIMEOUT_MS = 2000;
let ha: HaAlertDelivery;
let alerts: PriceAlerts;
/** The peer the second test kills, restarted by the third. */
let downPeer: AlertmanagerServer | undefined;
const registry = new Registry();

const rules: AlertRule[] = [
  { id: 'r-btc', symbol: 'BTC/USDT', condition: 'above', threshold: 65000, window_seconds: null, cooldown_seconds: 300, severity: 'warning' },
  { id: 'r-eth', symbol: 'ETH/USDT', condition: 'below', threshold: 3000, window_seconds: null, cooldown_seconds: 300, severity: 'critical' },
];

before(async () => {
  ha = await startHaAlertDelivery(3, { peerTimeout: `${PEER_TIMEOUT_MS / 1000}s` });
  alerts = createPriceAlerts({
    cfg: { ALERTMANAGER_URL: ha.cluster.urls, GRAFANA_URL: 'https://terminal.example.org' } as MarketConfig,
    log: createLogger('ha', 'silent'),
    registry,
  });
  alerts.setRules(rules);
});

after(async () => {
  await alerts?.close();
  await ha?.close();
});

/** Long enough for the last peer's turn (position 2 → 2 × peer timeout) and a gossip round after it. */
const settle = () => new Promise((r) => setTimeout(r, 3 * PEER_TIMEOUT_MS + 3000));
const telegramFor = (symbol: string) => ha.telegram.messages.filter((m) => m.text.includes(symbol));
const mailFor = (symbol: string) => ha.smtp.messages.filter((m) => m.subject.includes(symbol));

test('the three peers form one cluster', async () => {
  const states = await Promise.all(ha.cluster.peers.map((p) => clusterStatus(p.url)));
  assert.deepEqual(
    states.map((s) => [s.status, s.peers]),
    [
      ['ready', 3],
      ['ready', 3],
      ['ready', 3],
    ],
  );
  assert.equal(new Set(states.map((s) => s.name)).size, 3, 'three distinct peers');
});

test('an alert posted to every peer is notified once: one Telegram message, one e-mail', async () => {
  const t0 = Date.now();
  alerts.onTick(tick({ symbol: 'BTC/USDT', ts: t0, price: 64990 }));
  alerts.onTick(tick({ symbol: 'BTC/USDT', ts: t0 + 1, price: 65012.5 }));
  await waitFor(() => telegramFor('BTC/USDT').length > 0 || undefined, 20_000, 'Telegram message');
  // every peer holds the alert: the feeder posted it to each (peers do not gossip alerts)
  for (const p of ha.cluster.peers) assert.equal((await p.alerts('alertname="PriceAlert"', 'symbol="BTC/USDT"')).length, 1, `${p.url} has the alert`);
  await settle();
  assert.equal(telegramFor('BTC/USDT').length, 1, 'one Telegram message');
  assert.equal(mailFor('BTC/USDT').length, 1, 'one e-mail');
  const m = await registry.metrics();
  assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'sent' }), 1, 'counted once, not once per peer');
  assert.equal(metricValue(m, 'market_alertmanager_deliveries_total', { outcome: 'sent' }), 3, 'delivered to each of the three peers');
});

test('with the first-notifying peer down, the next alert is still notified exactly once', async () => {
  // position 0 (the peer that notifies at once) is the first of the peer names in sorted order
  const names = (await Promise.all(ha.cluster.peers.map((p) => clusterStatus(p.url)))).map((s) => s.name);
  const first = names.indexOf([...names].sort()[0]!);
  const down = ha.cluster.peers[first]!;
  downPeer = down;
  await down.proc.kill();
  const t0 = Date.now();
  alerts.onTick(tick({ symbol: 'ETH/USDT', ts: t0, price: 3010 }));
  alerts.onTick(tick({ symbol: 'ETH/USDT', ts: t0 + 1, price: 2995 }));
  await waitFor(() => telegramFor('ETH/USDT').length > 0 || undefined, 30_000, 'Telegram message from a surviving peer');
  await settle();
  assert.equal(telegramFor('ETH/USDT').length, 1, 'one Telegram message');
  assert.equal(mailFor('ETH/USDT').length, 1, 'one e-mail');
  assert.equal(telegramFor('BTC/USDT').length, 1, 'the earlier alert is not notified again');
  const m = await registry.metrics();
  assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'sent' }), 2);
  assert.equal(metricValue(m, 'market_price_alerts_total', { outcome: 'failed' }), 0);
  const downHost = new URL(down.url).host;
  assert.equal(metricValue(m, 'market_alertmanager_deliveries_total', { peer: downHost, outcome: 'queued' }), 1, 'the down peer: queued for retry');
});

test('the peer comes back: it gets its queued copy of the alert, and the alert is still notified only once', async () => {
  const down = downPeer!;
  const downHost = new URL(down.url).host;
  await down.restart();
  // the feeder's retry delivers the copy that waited while the peer was down
  await waitFor(async () => metricValue(await registry.metrics(), 'market_alertmanager_deliveries_total', { peer: downHost, outcome: 'sent' }) >= 2 || undefined, 60_000, 'the queued copy delivered to the restarted peer');
  assert.equal((await down.alerts('alertname="PriceAlert"', 'symbol="ETH/USDT"')).length, 1, 'the restarted peer holds the alert');
  await settle();
  assert.equal(telegramFor('ETH/USDT').length, 1, 'no second Telegram message: the peers share what they notified');
  assert.equal(mailFor('ETH/USDT').length, 1, 'no second e-mail');
  assert.equal(telegramFor('BTC/USDT').length, 1);
});
