// News reaching the market feeder's alert rules through a real InfluxDB (docs/ALERTING.md): stories the
// news feeder stored (`news_story_assets`) are polled; those already there at start only prime the rules,
// a new story with the keyword fires once, and every alert carries the asset's latest headlines.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createInfluxQLClient, createLogger, type AlertRule } from '@mt/common';
import { HttpFake, startInflux, waitFor, type InfluxServer } from '@mt/testing';
import { createPriceAlerts, type PostableAlert, type PriceAlerts } from '../../src/market/alerts/index.js';
import type { MarketConfig } from '../../src/market/config.js';
import { tick } from '../market/helpers.js';

let influx: InfluxServer | undefined;
let am: HttpFake | undefined;
let alerts: PriceAlerts | undefined;
after(async () => {
  await alerts?.close();
  await Promise.allSettled([influx?.stop(), am?.close()]);
});

const story = (asset: string, id: string, title: string, t: number) =>
  `news_story_assets,related_asset=${asset} story="${id}",title="${title}",url="https://example.org/${id}",sources="rss",publishers="example.org",outlets=1i,articles=1i,assets="${asset}",rank=1,sentiment_score=0.3 ${t}`;

test('a new story with the keyword fires once; stored stories only prime; alerts carry the latest headlines', async () => {
  influx = await startInflux();
  am = await new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen();
  await influx.query('CREATE DATABASE "news" WITH DURATION 90d NAME "raw"');
  const write = async (line: string) => {
    const r = await fetch(`${influx!.url}/write?db=news&precision=ms`, { method: 'POST', body: line });
    assert.equal(r.status, 204, await r.text());
  };
  const now = Date.now();
  await write(story('BTC', 'old', 'Bitcoin ETF talk resumes', now - 3600_000));
  alerts = createPriceAlerts({
    cfg: { ALERTMANAGER_URL: am.url, GRAFANA_URL: 'https://terminal.example.org', ALERT_CONTEXT_POLL_MS: 300 } as MarketConfig,
    log: createLogger('news-context', 'silent'),
    registry: new Registry(),
    influxql: createInfluxQLClient({ url: influx.url, token: '', org: '', api: 'v1' }),
  });
  const rules: AlertRule[] = [
    { id: 'kw', symbol: 'BTC/USDT', condition: 'news_keyword', threshold: null, params: { keyword: 'ETF' }, window_seconds: null, cooldown_seconds: 0, severity: 'info' },
    { id: 'px', symbol: 'BTC/USDT', condition: 'above', threshold: 100, window_seconds: null, cooldown_seconds: 0, severity: 'warning' },
  ];
  alerts.setRules(rules);
  const posted = () => am!.requestsTo('/api/v2/alerts').flatMap((r) => JSON.parse(r.body) as PostableAlert[]);
  await new Promise((r) => setTimeout(r, 1500)); // a few polls: the stored story primes, fires nothing
  assert.deepEqual(posted(), []);

  await write(story('BTC', 'new', 'SEC approves spot bitcoin ETF', Date.now()));
  await write(story('ETH', 'eth', 'Ether ETF filed', Date.now()));
  const kw = await waitFor(() => posted().find((a) => a.labels.rule_id === 'kw'), 10_000, 'keyword alert');
  assert.match(kw.annotations.summary!, /^BTC\/USDT news "ETF": SEC approves spot bitcoin ETF$/);
  assert.match(kw.annotations.description!, /https:\/\/example\.org\/new/);
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(posted().filter((a) => a.labels.rule_id === 'kw').length, 1, 'once, though polled again; the ETH story is another asset');

  alerts.onTick(tick({ symbol: 'BTC/USDT', ts: Date.now(), price: 99 }));
  alerts.onTick(tick({ symbol: 'BTC/USDT', ts: Date.now() + 1, price: 101 }));
  const px = await waitFor(() => posted().find((a) => a.labels.rule_id === 'px'), 10_000, 'price alert');
  assert.equal(px.annotations.headlines, '• SEC approves spot bitcoin ETF\n• Bitcoin ETF talk resumes', 'newest first');
});
