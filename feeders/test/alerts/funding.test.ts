// funding_above / funding_below on the perpetuals' funding rates, live and in the backtest: three recorded
// Binance USDⓈ-M markPrice frames (testing/fixtures/binance_futures: 2019 r=0.0001, 2020 r=0.0001564,
// gocryptotrader r=−0.00003629; their times moved into the last hours, in their order, since InfluxDB's raw
// policy keeps 7 days) go through the futures mappers to the feeder's alerts as the source hands them
// (onFunding) and into a real InfluxDB as the core stores them (`funding`); the watchlist API's backtest of
// the same rules answers the same moments and rates (docs/ALERTING.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { BUCKETS, bootstrapInflux, createInfluxQLClient, createLogger, type AlertRule } from '@mt/common';
import { HttpFake, fixtureText, startInflux, startPostgres, startService, waitFor, type InfluxServer, type PostgresServer, type RunningService } from '@mt/testing';
import { createPriceAlerts, type PostableAlert, type PriceAlerts } from '../../src/market/alerts/index.js';
import { futuresFunding, parseFuturesFrame } from '../../src/market/binance-futures/mappers.js';
import { fundingPoint } from '../../src/market/points.js';
import type { MarketConfig } from '../../src/market/config.js';

const TOKEN = 'funding-token-0123456789abcdef';
let influx: InfluxServer | undefined;
let pg: PostgresServer | undefined;
let api: RunningService | undefined;
let am: HttpFake | undefined;
let alerts: PriceAlerts | undefined;
after(async () => {
  await alerts?.close();
  await api?.stop();
  await Promise.allSettled([influx?.stop(), pg?.stop(), am?.close()]);
});

const FRAMES = [
  'binance_futures/ws_combined_markPrice_3s_BTCUSDT_2019-10-01_no_index_tardis_reencoded.json',
  'binance_futures/ws_combined_markPrice_1s_BTCUSDT_2020-08-16_tardis_reencoded.json',
  'binance_futures/ws_combined_markPrice_1s_BTCUSDT_gocryptotrader.json',
];
const SYMBOL = 'BTC/USDT:USDT';

test('funding rules fire on the venue feed as it arrives, and the backtest of the stored rates fires at the same moments', async () => {
  [influx, pg, am] = await Promise.all([startInflux(), startPostgres(), new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen()]);
  const cfg = { url: influx.url, token: '', org: '', api: 'v1' as const };
  const log = createLogger('funding', 'silent');
  await bootstrapInflux(cfg, log);
  alerts = createPriceAlerts({
    cfg: { ALERTMANAGER_URL: am.url, GRAFANA_URL: 'https://terminal.example.org', ALERT_CONTEXT_POLL_MS: 200, ALERT_DIGEST_AFTER: 100, ALERT_DIGEST_HOLD_MS: 1000 } as MarketConfig,
    log,
    registry: new Registry(),
    // the poll of stored funding points runs too: a rate seen live is not evaluated again from storage
    influxql: createInfluxQLClient(cfg),
  });
  const base = { symbol: SYMBOL, window_seconds: null, cooldown_seconds: 0, severity: 'warning' as const };
  const rules: AlertRule[] = [
    { ...base, id: 'above', condition: 'funding_above', threshold: 0.00012 },
    { ...base, id: 'below', condition: 'funding_below', threshold: 0 },
  ];
  alerts.setRules(rules);

  const hour = 3_600_000;
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 3 * hour;
  const stored: string[] = [];
  FRAMES.forEach((rel, i) => {
    const frame = JSON.parse(fixtureText(rel)) as { data: { E: number } };
    frame.data.E = t0 + i * hour; // the recorded frame, at a time InfluxDB's raw policy still keeps
    const ev = parseFuturesFrame(JSON.stringify(frame));
    assert.equal(ev.kind, 'markPrice');
    const f = futuresFunding(SYMBOL, ev as Extract<typeof ev, { kind: 'markPrice' }>, Date.now(), 8);
    alerts!.onFunding(f);
    stored.push(fundingPoint(f).toLineProtocol()!);
  });
  const res = await fetch(`${influx.url}/write?db=${BUCKETS.marketsRaw.split('/')[0]}&rp=${BUCKETS.marketsRaw.split('/')[1]}&precision=ns`, { method: 'POST', body: stored.join('\n') });
  assert.equal(res.status, 204, await res.text());

  const posted = () => am!.requestsTo('/api/v2/alerts').flatMap((r) => JSON.parse(r.body) as PostableAlert[]);
  await waitFor(() => posted().length >= 2 || undefined, 10_000, 'both funding alerts');
  await new Promise((r) => setTimeout(r, 1000)); // polls of the stored rates: nothing more
  const live = posted().map((a) => ({ rule: a.labels.rule_id, time: a.labels.fired_at, value: Number(a.annotations.value) }));
  assert.deepEqual(
    live.map((l) => [l.rule, l.time, l.value]),
    [
      ['above', new Date(t0 + hour).toISOString(), 0.0001564],
      ['below', new Date(t0 + 2 * hour).toISOString(), -0.00003629],
    ],
  );

  // the backtest of the same rules through the API, on what was stored
  api = await startService('watchlist-api', { DATABASE_URL: await pg.createDatabase(`funding_${process.pid}`), API_TOKEN: TOKEN, INFLUX_URL: influx.url, INFLUX_API: 'v1' }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api!.url}/readyz`)).status === 200 || undefined, 30_000, 'API migrated');
  for (const r of rules) {
    const bt = await fetch(`${api.url}/api/alert-rules/backtest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ rule: { symbol: r.symbol, condition: r.condition, threshold: r.threshold, cooldown_seconds: 0 }, days: 1 }),
    });
    const body = (await bt.json()) as { fires: { time: string; value: number }[]; replayed: { readings: number } };
    assert.equal(bt.status, 200, JSON.stringify(body));
    assert.equal(body.replayed.readings, 3);
    const l = live.filter((x) => x.rule === r.id);
    assert.deepEqual(
      body.fires.map((f) => [f.time, f.value]),
      l.map((x) => [x.time, x.value]),
      `${r.condition}: the backtest fires where the live feeder did`,
    );
  }
});
