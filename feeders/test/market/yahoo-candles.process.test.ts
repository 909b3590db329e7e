// A stock added through the watchlist API gets candles and indicators that the asset-detail panels show:
// the real watchlist API on a real PostgreSQL, the market feeder as a process, a real InfluxDB 1.x, and
// the local Yahoo serving a recorded 1-minute chart (AMZN, 2023-05-02) replayed to now. The panels'
// InfluxQL (committed dashboard JSON, variables resolved on the real InfluxDB as Grafana does) returns
// the recorded bars, one per minute, and indicators equal to technicalindicators on those closes; a
// restart stores nothing twice and never turns Yahoo's extra rows into bars.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RSI, SMA, BollingerBands, MACD } from 'technicalindicators';
import { YahooFake, fixtureJson, metricValue, startInflux, startPostgres, startService, unreachablePolledSources, waitFor, type InfluxServer, type PostgresServer, type RunningService } from '@mt/testing';
import { bootstrapInflux, createLogger } from '@mt/common';
import { apply } from '../../../influxdb-tasks/src/index.js';
import { allTargets, committedDashboards, type Variable } from '../../../grafana/test/helpers.js';
import { interpolate, variableValues, type Range } from '../../../grafana/test/grafana-interpolate.js';

const TOKEN = 'test-token-yahoo-candles';
let influx: InfluxServer;
let pg: PostgresServer;
let yahoo: YahooFake;
let api: RunningService;
let feeder: RunningService;
const now = Date.now();

type Body = { chart: { result: [{ timestamp: number[]; indicators: { quote: [Record<string, (number | null)[]>] } }] } };
// the recorded session minutes: every row but the last (Yahoo's zero-volume row stamped at the close)
const recorded = fixtureJson<Body>('yahoo/chart_v8_AMZN_1m_range30m_2023-05-02.json').chart.result[0];
const q = recorded.indicators.quote[0];
const bars = recorded.timestamp.slice(0, -1).map((_, i) => ({ open: q.open![i]!, high: q.high![i]!, low: q.low![i]!, close: q.close![i]!, volume: q.volume![i]! }));

before(async () => {
  [influx, pg, yahoo] = await Promise.all([startInflux(), startPostgres(), new YahooFake({ replayAt: now }).listen()]);
  // what the compose stack's one-shot installs: databases, retention policies, rp_config (the $rp/$tf table)
  const cfg = { url: influx.url, token: '', org: '', api: 'v1' } as const;
  await bootstrapInflux(cfg, createLogger('test', 'silent'));
  await apply(cfg, createLogger('test', 'silent'));
  const databaseUrl = await pg.createDatabase(`yahoo_candles_${process.pid}`);
  api = await startService('watchlist-api', { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN, LOG_LEVEL: 'info' }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 20_000, 'API migrated');
  feeder = await startService('market-feeder', {
    ...(await unreachablePolledSources()),
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: databaseUrl,
    BINANCE_WS_URL: 'ws://127.0.0.1:9',
    BINANCE_REST_URL: 'http://127.0.0.1:9',
    YAHOO_URL: yahoo.url,
    YAHOO_COOKIE_URL: `${yahoo.url}/`,
    YAHOO_POLL_MS: '1000',
  });
});

after(async () => {
  await Promise.allSettled([feeder?.kill(), api?.kill()]);
  await Promise.allSettled([yahoo?.close(), influx?.stop(), pg?.stop()]);
});

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function count(measurement: 'candles' | 'indicators'): Promise<number> {
  const field = measurement === 'candles' ? 'close' : 'rsi_14';
  const r = await influx.query(`SELECT count("${field}") FROM "raw"."${measurement}" WHERE "symbol"='AMZN' AND "interval"='1m'`, 'markets');
  return Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

/** The asset-detail dashboard's variables resolved on the real InfluxDB for `range`, `$symbol` = AMZN. */
async function resolve(range: Range) {
  const d = committedDashboards()['asset-detail']!;
  const vars = new Map<string, { def: Variable; values: string[] }>();
  for (const def of d.templating.list ?? []) {
    const res = await influx.query(interpolate(def.query!, vars, range, 60_000), 'markets');
    const values = variableValues(def, res.results[0]!.series ?? []);
    vars.set(def.name, { def, values: def.name === 'symbol' ? (values.includes('AMZN') ? ['AMZN'] : []) : values.slice(0, 1) });
  }
  return { d, vars };
}

/**
 * A column's name as the panel shows it: the panel's `displayName` overrides matched by regexp (the candle
 * chart selects its prices as `<name> <asset_type> <symbol>` for their precision and shows `<name>`,
 * docs/DASHBOARDS.md "Prices at the instrument's precision").
 */
function shownName(p: { fieldConfig?: { overrides?: { matcher: { id: string; options?: unknown }; properties: { id: string; value?: unknown }[] }[] } }, column: string): string {
  for (const o of p.fieldConfig?.overrides ?? []) {
    const name = o.properties.find((x) => x.id === 'displayName')?.value;
    const m = o.matcher.id === 'byRegexp' && typeof o.matcher.options === 'string' ? /^\/(.*)\/([a-z]*)$/.exec(o.matcher.options) : null;
    if (typeof name === 'string' && m && new RegExp(m[1]!, m[2]).test(column)) return name;
  }
  return column;
}

/** Rows of one panel target: column name (as the panel shows it) → values, in time order. */
async function panel(title: RegExp, refId: string, range: Range, vars: Map<string, { def: Variable; values: string[] }>) {
  const { panel: p, target } = allTargets(committedDashboards()['asset-detail']!).find((t) => title.test(t.panel.title ?? '') && t.target.refId === refId)!;
  assert.ok(p, `panel ${title}`);
  const res = await influx.query(interpolate(target.query!, vars, range, 60_000), 'markets');
  const s = res.results[0]!.series?.[0];
  assert.ok(s, `no data: ${p.title}/${refId}`);
  return Object.fromEntries(s.columns.map((c, i) => [shownName(p as Parameters<typeof shownName>[0], c), s.values.map((row) => row[i] as number | null)]));
}

const near = (a: number | null | undefined, b: number, what: string, tol = 1e-9) => assert.ok(a != null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('a stock added through the API: its candles and indicators are what asset detail shows', async () => {
  const wl = await call('POST', '/api/watchlists', { name: 'stocks' });
  await call('POST', `/api/watchlists/${String(wl.id)}/items`, { symbol: 'AMZN', asset_type: 'stock' });
  await waitFor(async () => (await count('candles')) === bars.length && (await count('indicators')) > 0, 30_000, 'AMZN candles and indicators stored');

  const range = { fromMs: now - 86400_000, toMs: now + 60_000 };
  const { vars } = await resolve(range);
  assert.deepEqual(vars.get('symbol')!.values, ['AMZN'], '$symbol offers the stock');
  assert.deepEqual(vars.get('rp')!.values, ['raw']);
  assert.deepEqual(vars.get('tf')!.values, ['1m']);

  const candles = await panel(/candles/, 'A', range, vars);
  assert.equal(candles.time!.length, bars.length, 'one bar per recorded session minute');
  assert.ok(candles.time!.every((t, i) => i === 0 || t! - candles.time![i - 1]! === 60_000), 'consecutive minutes');
  assert.ok(candles.time!.at(-1)! + 60_000 <= now && candles.time!.at(-1)! > now - 180_000, 'replayed to now');
  for (const [i, b] of bars.entries()) {
    for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) near(candles[k]![i], b[k], `bar ${i} ${k}`);
  }

  const closes = bars.map((b) => b.close);
  const tail = <T>(out: T[]) => [...new Array<undefined>(closes.length - out.length).fill(undefined), ...out];
  const rsi = tail(RSI.calculate({ period: 14, values: closes }));
  const sma = tail(SMA.calculate({ period: 20, values: closes }));
  const bb = tail(BollingerBands.calculate({ period: 20, stdDev: 2, values: closes }));
  const macd = tail(MACD.calculate({ values: closes, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false }));

  // indicator panels: rows only where a value exists (fill(none)), aligned to the candle times
  const at = (cols: Record<string, (number | null)[]>, col: string) => new Map(cols.time!.map((t, i) => [t, cols[col]![i]]));
  const rsiPanel = at(await panel(/^RSI 14/, 'A', range, vars), 'RSI 14');
  const overlay = await panel(/candles/, 'B', range, vars);
  const macdPanel = await panel(/^MACD/, 'A', range, vars);
  let compared = 0;
  for (const [i, t] of candles.time!.entries()) {
    const r = rsi[i];
    if (r === undefined) assert.equal(rsiPanel.get(t) ?? null, null, `RSI before warm at ${i}`);
    else {
      assert.ok(Math.abs(rsiPanel.get(t)! - r) <= 0.005 + 1e-9, `RSI ${i}: ${rsiPanel.get(t)} vs ${r}`); // the library rounds to 2 decimals
      compared++;
    }
    if (sma[i] !== undefined) near(at(overlay, 'SMA 20').get(t), sma[i], `SMA 20 ${i}`);
    if (bb[i] !== undefined) near(at(overlay, 'BB upper').get(t), bb[i].upper, `BB upper ${i}`);
    if (macd[i] !== undefined) near(at(macdPanel, 'MACD').get(t), macd[i].MACD!, `MACD ${i}`);
  }
  assert.equal(compared, bars.length - 14);
  assert.ok(overlay['EMA 50']!.every((v) => v === null), 'EMA 50 needs 50 bars: absent, not made up');
  assert.ok(macdPanel.signal!.every((v) => v === null), 'MACD signal needs 34 bars');

  // a restart: the stored bars are recognised (warm-up from storage), none written again, none added
  await feeder.kill();
  await feeder.restart();
  await waitFor(async () => metricValue(await feeder.metrics(), 'market_candles_ignored_total', { reason: 'duplicate' }) >= bars.length, 30_000, 'restarted feeder saw the stored bars');
  assert.equal(metricValue(await feeder.metrics(), 'market_points_total', { measurement: 'candles' }), 0, 'nothing rewritten after the restart');
  assert.equal(await count('candles'), bars.length);
});
