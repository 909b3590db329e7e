// feed_stale on an exchange holiday: the Yahoo source (YahooFake serving the quote recorded on Monday
// 17 Feb 2025 — Presidents' Day, NYSE closed: AAPL `marketState: "CLOSED"`, last trade Friday's close;
// EUR/USD `REGULAR`) reports each symbol's market state on every poll, the feeder's alerts take it over
// the New York hours (which read that Monday 10:00 as open): no stale alarm for the closed stock, while
// the open forex pair whose last quote is hours old is stale (docs/ALERTING.md "Market hours").
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger, marketOpen, type AlertRule } from '@mt/common';
import { HttpFake, YahooFake, waitFor } from '@mt/testing';
import { createPriceAlerts } from '../../src/market/alerts/index.js';
import { YahooSource } from '../../src/market/yahoo/index.js';
import type { MarketConfig } from '../../src/market/config.js';
import type { PostableAlert } from '../../src/market/alerts/index.js';
import { harness } from '../polled/harness.js';

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

function staleRule(symbol: string): AlertRule {
  return { id: `stale-${symbol}`, symbol, condition: 'feed_stale', threshold: null, params: { seconds: 60 }, window_seconds: null, cooldown_seconds: 0, severity: 'warning' };
}

test('a holiday (Yahoo: CLOSED on a weekday) is not a stale feed; an open market without quotes is', async () => {
  const [yahoo, am] = await Promise.all([new YahooFake().listen(), new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen()]);
  cleanup.push(() => yahoo.close(), () => am.close());
  // the feeder's clock: that Monday, 10:00 New York
  let clock = Date.UTC(2025, 1, 17, 15, 0, 0);
  assert.equal(marketOpen('stock', clock), true, 'by the hours alone AAPL would be open');
  const log = createLogger('holiday', 'silent');
  const alerts = createPriceAlerts(
    { cfg: { ALERTMANAGER_URL: am.url, GRAFANA_URL: 'https://terminal.example.org', ALERT_DIGEST_AFTER: 100, ALERT_DIGEST_HOLD_MS: 1000 } as MarketConfig, log, registry: new Registry() },
    { now: () => clock, clockMs: 10 },
  );
  cleanup.push(() => alerts.close());
  alerts.setRules([staleRule('AAPL'), staleRule('EUR/USD')]);
  const h = harness();
  const src = new YahooSource({
    baseUrl: yahoo.url,
    cookieUrl: `${yahoo.url}/`,
    intervalMs: 60_000,
    log: h.log,
    metrics: h.metrics,
    out: { tick: (t) => alerts.onTick(t), marketState: (symbol, state) => alerts.onMarketState(symbol, state) },
  });
  src.setWatch([
    { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' },
    { symbol: 'EUR/USD', asset_type: 'forex', exchange: 'yahoo' },
  ]);
  cleanup.push(() => src.stop());

  // polls every 15 s of the feeder's clock for 3 minutes: the quote (and so the state) does not change
  for (let i = 0; i < 12; i++) {
    assert.deepEqual(await src.poller.pollOnce(), { ok: true });
    clock += 15_000;
    await new Promise((r) => setTimeout(r, 30)); // the alerts' clock runs (every 10 ms real)
  }
  const posted = () => am.requestsTo('/api/v2/alerts').flatMap((r) => JSON.parse(r.body) as PostableAlert[]);
  await waitFor(() => posted().length >= 1 || undefined, 5_000, 'the stale forex alert');
  await new Promise((r) => setTimeout(r, 300));
  const symbols = posted().map((a) => a.labels.symbol);
  assert.deepEqual(symbols, ['EUR/USD'], 'EUR/USD (REGULAR, last quote 10:54 UTC) stale; AAPL (CLOSED) not');
  assert.match(posted()[0]!.annotations.summary ?? '', /EUR\/USD feed stale: no tick for \d+ s/);
});
