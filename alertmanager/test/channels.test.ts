// Discord, Slack and the generic webhook through a real Alertmanager (Debian's 0.25) on the committed
// template, rendered the way the container renders it, each channel answered by a local server that
// speaks the service's webhook protocol (testing/src/fakes/{discord,slack,webhook-sink}.ts).
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  DiscordFake,
  SlackFake,
  WebhookSink,
  renderAlertmanagerConfig,
  startAlertmanager,
  startAlertmanagerCluster,
  waitFor,
  type AlertmanagerServer,
} from '@mt/testing';

const GROUP_INTERVAL_S = 2;

interface Channels {
  am: AlertmanagerServer;
  discord: DiscordFake;
  slack: SlackFake;
  webhook: WebhookSink;
}

async function startChannels(): Promise<Channels> {
  const [discord, slack, webhook] = await Promise.all([new DiscordFake().listen(), new SlackFake().listen(), new WebhookSink().listen()]);
  const config = renderAlertmanagerConfig(
    { DISCORD_WEBHOOK_URL: discord.webhookUrl, SLACK_WEBHOOK_URL: slack.webhookUrl, ALERT_WEBHOOK_URL: webhook.webhookUrl },
    { timings: { group_wait: '0s', group_interval: `${GROUP_INTERVAL_S}s`, repeat_interval: '1h' } },
  );
  const am = await startAlertmanager(config);
  return { am, discord, slack, webhook };
}

async function post(am: AlertmanagerServer, alerts: object[]): Promise<void> {
  const res = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  assert.equal(res.status, 200, await res.text());
}

const STARTS = '2026-11-25T09:00:01.000Z';
const GRAFANA = 'https://terminal.example.org/d/asset-detail?var-symbol=BTC%2FUSDT&from=1764060001000&to=1764063601000';

function priceAlert(ruleId: string, endsInMs: number) {
  return {
    labels: { alertname: 'PriceAlert', symbol: 'BTC/USDT', rule_id: ruleId, severity: 'warning' },
    annotations: {
      summary: 'BTC/USDT above 65000.00: 65012.50',
      description: 'BTC/USDT crossed above 65000.00: price 65012.50, threshold 65000.00, at 2026-11-25T09:00:01.000Z',
      price: '65012.5',
      threshold: '65000',
      grafana_url: GRAFANA,
    },
    startsAt: STARTS,
    endsAt: new Date(Date.now() + endsInMs).toISOString(),
    generatorURL: GRAFANA,
  };
}

function targetDown(endsInMs?: number) {
  return {
    labels: { alertname: 'TargetDown', severity: 'critical', job: 'market-feeder', instance: 'market_feeder:9464' },
    annotations: { summary: 'market-feeder is down', description: 'Prometheus cannot scrape market_feeder:9464 <for 1m> & more' },
    startsAt: STARTS,
    ...(endsInMs !== undefined ? { endsAt: new Date(Date.now() + endsInMs).toISOString() } : {}),
  };
}

/** Alertmanager's own count of failed notifications per integration (what AlertmanagerNotificationsFailing watches). */
async function failedTotal(am: AlertmanagerServer, integration: string): Promise<number> {
  const text = await (await fetch(`${am.url}/metrics`)).text();
  const m = new RegExp(`^alertmanager_notifications_failed_total\\{integration="${integration}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('alert channels: Discord, Slack, webhook (real Alertmanager)', () => {
  let c: Channels;
  before(async () => {
    c = await startChannels();
  });
  after(async () => {
    await Promise.allSettled([c?.am.stop(), c?.discord.close(), c?.slack.close(), c?.webhook.close()]);
  });
  beforeEach(() => {
    for (const f of [c.discord, c.slack, c.webhook]) f.clearFaults();
  });

  test('a price alert and an infrastructure alert: what a trader reads on Discord and Slack, the v4 payload on the webhook, once each; resolved only for the infrastructure alert', async () => {
    await post(c.am, [priceAlert('1', 3000), targetDown(3000)]);
    await waitFor(() => c.discord.messages.length >= 2 && c.slack.messages.length >= 2 && c.webhook.payloads.length >= 2, 20_000, 'both alerts on every channel');

    const discordPrice = c.discord.messages.find((m) => m.embeds[0]?.title?.includes('BTC/USDT'))!;
    assert.deepEqual(discordPrice.embeds[0], {
      title: '🟠 BTC/USDT above 65000.00: 65012.50',
      description: [
        '🟠 **BTC/USDT above 65000.00: 65012.50**',
        'Price: **65012.5** · threshold 65000',
        '2026-11-25 09:00:01 UTC',
        `[📈 Chart BTC/USDT](${GRAFANA})`,
      ].join('\n'),
      color: 0x992d22,
    });
    const discordDown = c.discord.messages.find((m) => m.embeds[0]?.title?.includes('TargetDown'))!;
    assert.equal(discordDown.embeds[0]!.title, '🔴 TargetDown on market_feeder:9464');
    // Markdown characters in values are escaped: the underscore of the instance does not start italics
    assert.equal(
      discordDown.embeds[0]!.description,
      ['🔴 **TargetDown** · market\\_feeder:9464', 'market-feeder is down', '*Prometheus cannot scrape market\\_feeder:9464 <for 1m\\> & more*', 'since 09:00 UTC'].join('\n'),
    );

    const slackPrice = c.slack.messages.find((m) => m.attachments[0]?.title?.includes('BTC/USDT'))!;
    assert.equal(slackPrice.attachments[0]!.title, '🟠 BTC/USDT above 65000.00: 65012.50');
    assert.equal(slackPrice.attachments[0]!.title_link, GRAFANA);
    assert.equal(slackPrice.attachments[0]!.color, 'danger');
    assert.equal(
      slackPrice.attachments[0]!.text,
      ['🟠 *BTC/USDT above 65000.00: 65012.50*', 'Price: *65012.5* · threshold 65000', '2026-11-25 09:00:01 UTC', `<${GRAFANA}|📈 Chart BTC/USDT>`].join('\n'),
    );
    const slackDown = c.slack.messages.find((m) => m.attachments[0]?.title?.includes('TargetDown'))!;
    // Slack's control characters are escaped, so the text cannot open a link or a mention
    assert.equal(
      slackDown.attachments[0]!.text,
      ['🔴 *TargetDown* · market_feeder:9464', 'market-feeder is down', '_Prometheus cannot scrape market_feeder:9464 &lt;for 1m&gt; &amp; more_', 'since 09:00 UTC'].join('\n'),
    );

    const hookPrice = c.webhook.payloads.find((p) => p.commonLabels.alertname === 'PriceAlert')!;
    assert.equal(hookPrice.version, '4');
    assert.equal(hookPrice.receiver, 'price');
    assert.equal(hookPrice.status, 'firing');
    assert.deepEqual(hookPrice.alerts[0]!.labels, { alertname: 'PriceAlert', symbol: 'BTC/USDT', rule_id: '1', severity: 'warning' });
    assert.equal(hookPrice.alerts[0]!.annotations.grafana_url, GRAFANA);
    assert.equal(c.webhook.payloads.find((p) => p.commonLabels.alertname === 'TargetDown')!.receiver, 'telegram-email');

    // both end after 3 s: the infrastructure alert gets a resolved message, the price event does not
    await waitFor(() => c.discord.messages.length >= 3 && c.slack.messages.length >= 3 && c.webhook.payloads.length >= 3, 20_000, 'resolved');
    await sleep(3 * GROUP_INTERVAL_S * 1000);
    for (const titles of [c.discord.messages.map((m) => m.embeds[0]!.title), c.slack.messages.map((m) => m.attachments[0]!.title)]) {
      assert.deepEqual([...titles].sort(), ['✅ RESOLVED TargetDown on market_feeder:9464', '🔴 TargetDown on market_feeder:9464', '🟠 BTC/USDT above 65000.00: 65012.50']);
    }
    const resolved = c.discord.messages.find((m) => m.embeds[0]!.title!.startsWith('✅'))!;
    assert.equal(resolved.embeds[0]!.color, 0x2ecc71);
    assert.match(resolved.embeds[0]!.description!, /^✅ \*\*RESOLVED\*\* \*\*TargetDown\*\*/);
    assert.deepEqual(c.webhook.payloads.map((p) => `${p.commonLabels.alertname}/${p.status}`).sort(), ['PriceAlert/firing', 'TargetDown/firing', 'TargetDown/resolved']);
  });

  test('429 (Discord retry_after, Slack Retry-After) and 5xx: delivered exactly once afterwards', async () => {
    const before = { d: c.discord.messages.length, s: c.slack.messages.length, w: c.webhook.payloads.length };
    const reqs = { d: c.discord.executeRequests().length, s: c.slack.postRequests().length, w: c.webhook.requests.length };
    c.discord.rateLimit(1, 1);
    c.slack.rateLimit(1, 1);
    c.webhook.fail({ kind: 'status', status: 503 }, { times: 2 });
    const t0 = Date.now();
    await post(c.am, [priceAlert('2', 60_000)]);
    await waitFor(
      () => c.discord.messages.length > before.d && c.slack.messages.length > before.s && c.webhook.payloads.length > before.w,
      30_000,
      'delivered after the refusals',
    );
    // later flushes do not send it again
    await sleep(3 * GROUP_INTERVAL_S * 1000);
    assert.equal(c.discord.messages.length, before.d + 1);
    assert.equal(c.slack.messages.length, before.s + 1);
    assert.equal(c.webhook.payloads.length, before.w + 1);
    // the refused attempts were made: one 429 each, two 503s
    const d = c.discord.executeRequests().slice(reqs.d).map((r) => r.at - t0);
    const s = c.slack.postRequests().slice(reqs.s).map((r) => r.at - t0);
    const w = c.webhook.requests.slice(reqs.w).map((r) => r.at - t0);
    assert.equal(d.length, 2);
    assert.equal(s.length, 2);
    assert.equal(w.length, 3);
    // Alertmanager 0.25 retries a 5xx at once with backoff, inside the same flush; a 429 is not retried
    // (retry_after / Retry-After are not read): the notification is sent again at the group's next flush,
    // one group_interval later, because nothing was logged as sent (docs/ALERTING.md).
    assert.ok(w[1]! - w[0]! < GROUP_INTERVAL_S * 1000 * 0.75, `webhook retried at once, not at the next flush: ${w.join(', ')} ms`);
    assert.ok(d[1]! - d[0]! >= GROUP_INTERVAL_S * 1000 * 0.75, `discord resent at the next flush: ${d.join(', ')} ms`);
    assert.ok(s[1]! - s[0]! >= GROUP_INTERVAL_S * 1000 * 0.75, `slack resent at the next flush: ${s.join(', ')} ms`);
    console.log(`attempts (ms after posting): discord ${d.join(', ')}; slack ${s.join(', ')}; webhook ${w.join(', ')}`);
  });

  test('a permanent error (Discord 404 unknown webhook, Slack 404 no_service) is counted as failing; the other channels still deliver', async () => {
    const [discord, slack, webhook] = await Promise.all([new DiscordFake('999', 'deleted').listen(), new SlackFake('/services/T/B/revoked').listen(), new WebhookSink().listen()]);
    // the user pasted URLs of a webhook that no longer exists
    const config = renderAlertmanagerConfig(
      {
        DISCORD_WEBHOOK_URL: `${discord.url}/api/webhooks/123/old-token`,
        SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/old`,
        ALERT_WEBHOOK_URL: webhook.webhookUrl,
      },
      { timings: { group_wait: '0s', group_interval: `${GROUP_INTERVAL_S}s`, repeat_interval: '1h' } },
    );
    const am = await startAlertmanager(config);
    try {
      await post(am, [priceAlert('3', 60_000)]);
      await waitFor(() => webhook.payloads.length === 1, 20_000, 'webhook delivered');
      await waitFor(async () => (await failedTotal(am, 'discord')) >= 1 && (await failedTotal(am, 'slack')) >= 1, 20_000, 'failures counted');
      assert.equal(discord.messages.length, 0);
      assert.equal(slack.messages.length, 0);
      assert.equal(discord.requests[0]!.body.includes('BTC/USDT'), true);
      assert.equal(await failedTotal(am, 'webhook'), 0);
    } finally {
      await Promise.allSettled([am.stop(), discord.close(), slack.close(), webhook.close()]);
    }
  });
});

describe('alert channels: HA cluster (three real Alertmanager peers)', () => {
  test('the same alert posted to every peer reaches Discord, Slack and the webhook once', async () => {
    const [discord, slack, webhook] = await Promise.all([new DiscordFake().listen(), new SlackFake().listen(), new WebhookSink().listen()]);
    const config = renderAlertmanagerConfig(
      { DISCORD_WEBHOOK_URL: discord.webhookUrl, SLACK_WEBHOOK_URL: slack.webhookUrl, ALERT_WEBHOOK_URL: webhook.webhookUrl },
      { timings: { group_wait: '0s', group_interval: `${GROUP_INTERVAL_S}s`, repeat_interval: '1h' } },
    );
    const cluster = await startAlertmanagerCluster(config, 3, { peerTimeout: '1s' });
    try {
      // what the feeder does (docs/ALERTING.md "Alertmanager in HA"): every alert to every peer
      const alert = priceAlert('ha', 60_000);
      await Promise.all(cluster.peers.map((p) => post(p, [alert])));
      await waitFor(() => discord.messages.length >= 1 && slack.messages.length >= 1 && webhook.payloads.length >= 1, 20_000, 'delivered');
      // the later peers wait 1 s and 2 s, then skip what the first one logged as sent; a few flushes more
      await sleep(3000 + 2 * GROUP_INTERVAL_S * 1000);
      assert.equal(discord.messages.length, 1);
      assert.equal(slack.messages.length, 1);
      assert.equal(webhook.payloads.length, 1);
    } finally {
      await Promise.allSettled([cluster.stop(), discord.close(), slack.close(), webhook.close()]);
    }
  });
});

describe('alert channels: configuration', () => {
  test('each channel is optional: only the configured ones are rendered; a non-URL is refused', async () => {
    const { readFileSync } = await import('node:fs');
    const only = readFileSync(renderAlertmanagerConfig({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x' }), 'utf8');
    assert.match(only, /slack_configs/);
    assert.doesNotMatch(only, /discord_configs|webhook_configs|telegram_configs|email_configs/);
    assert.throws(() => renderAlertmanagerConfig({ DISCORD_WEBHOOK_URL: 'discord.com/api/webhooks/1/x' }));
  });
});
