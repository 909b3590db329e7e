// Panels streamed by Grafana Live (docs/GRAFANA_LIVE.md): their Live queries name channels the market
// feeder pushes to, and what it pushes — the feeder's own Live sink through the Grafana Live push fake
// (Grafana 12.3's converter and managed stream, testing/src/fakes/grafana-live.ts), framed as the
// browser's StreamingDataFrame holds it in labels mode — becomes what the panel shows, through the
// panel's transformations and field config from @grafana/data 12.3.0, on top of the stored quotes from
// a real InfluxDB. With Live off the same panel shows the stored quotes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { DataFrame } from '@grafana/data';
import { GrafanaLiveFake, panelSeries, waitFor, type InfluxServer, type Publication } from '@mt/testing';
import { GrafanaLiveSink, LIVE_MEASUREMENTS } from '../../feeders/src/market/live/index.js';
import { marketSchema } from '../../feeders/src/market/config.js';
import { committedDashboards, type DashboardJson } from './helpers.js';
import { HOUR, startDashboardInflux, tags, write } from './dashboard-influx.js';
import { panelByTitle, queryFrames, resolve } from './panel-data.js';
import { gd, show, transform, withFieldConfig } from './grafana-frontend.js';

const STREAM = marketSchema.shape.GRAFANA_LIVE_STREAM.parse(undefined);
const liveTargets = (d: DashboardJson) => d.panels.flatMap((p) => (p.targets ?? []).filter((t) => (t.datasource ?? p.datasource)?.uid === 'grafana').map((t) => ({ panel: p, target: t as typeof t & { channel?: string; queryType?: string } })));

describe('Live queries name channels the feeder pushes to', () => {
  const ds = committedDashboards();
  it('every `-- Grafana --` target is a measurements query on stream/<GRAFANA_LIVE_STREAM>/<a measurement the feeder pushes>, in a Mixed panel that also reads InfluxDB', () => {
    const all = Object.values(ds).flatMap(liveTargets);
    assert.ok(all.length >= 1, 'at least one Live panel');
    for (const { panel, target } of all) {
      assert.equal(target.queryType, 'measurements', panel.title);
      const m = /^stream\/([^/]+)\/([^/]+)$/.exec(target.channel ?? '');
      assert.ok(m, `${panel.title}: channel ${target.channel}`);
      assert.equal(m[1], STREAM);
      assert.ok(Object.keys(LIVE_MEASUREMENTS).includes(m[2]!), `${panel.title}: ${m[2]} is pushed`);
      assert.equal(panel.datasource?.uid, '-- Mixed --', `${panel.title}: Mixed, so InfluxDB stays behind it`);
      assert.ok((panel.targets ?? []).some((t) => t.datasource?.uid === 'influxdb-markets'), `${panel.title}: an InfluxDB query as history`);
    }
  });
});

/** The frame a subscribed panel holds (StreamingDataFrame, labels mode): time, then each label set's fields. */
function streamingFrame(pubs: Publication[], refId: string): DataFrame {
  const series = [...panelSeries(pubs).values()];
  const times = [...new Set(series.flatMap((s) => s.fields.get('time') as number[]))].sort((a, b) => a - b);
  const fields: { name: string; type: string; values: unknown[]; labels?: Record<string, string> }[] = [{ name: 'time', type: 'time', values: times }];
  for (const s of series) {
    const t = s.fields.get('time') as number[];
    for (const [name, vals] of s.fields) {
      if (name === 'time') continue;
      fields.push({ name, type: 'number', labels: s.labels, values: times.map((x) => (t.lastIndexOf(x) >= 0 ? vals[t.lastIndexOf(x)] : undefined)) });
    }
  }
  return gd.toDataFrame({ name: pubs[0]?.frame.name, refId, fields: fields as never });
}

describe('Ticker tape (live): pushed ticks over stored quotes', () => {
  let influx: InfluxServer;
  let grafana: GrafanaLiveFake;
  const end = Date.now();
  const range = { fromMs: end - 6 * HOUR, toMs: end };
  before(async () => {
    influx = await startDashboardInflux(end);
    // stored quotes a minute old: BTC (which Live will move) and SOL (which Live does not send)
    const md = (symbol: string, price: number, chg: number) => `market_data${tags({ exchange: 'binance', symbol, asset_type: 'crypto' })} price=${price},change_pct_24h=${chg} ${end - 60_000}`;
    await write(influx, 'markets', 'raw', [md('BTC/USDT', 100000.5, 1.5), md('SOL/USDT', 150.25, -2)]);
    grafana = await new GrafanaLiveFake({ tokens: ['t'] }).listen();
  });
  after(async () => {
    await grafana?.close();
    await influx?.stop();
  });

  let livePubs: Publication[] = [];
  it('shows the live price where Live delivers, the stored one where it does not, and the stored ones with Live off', async () => {
    const d = committedDashboards()['markets-overview']!;
    const panel = panelByTitle(d, 'Ticker tape (live)');
    const sink = new GrafanaLiveSink({ url: grafana.url, token: () => 't', log: pino({ level: 'silent' }), registry: new Registry() });
    const t0 = Date.now();
    sink.tick({ exchange: 'binance', symbol: 'BTC/USDT', assetType: 'crypto', ts: t0, receivedAt: t0, price: 101234.56, changePct24h: 2.25 });
    await waitFor(async () => grafana.on(`stream/${STREAM}/ticker`).length > 0, 5000, 'pushed');
    await sink.close();
    livePubs = grafana.on(`stream/${STREAM}/ticker`);
    const vars = await resolve(influx, d, range, { symbol: ['BTC/USDT', 'SOL/USDT'] });
    const stored = await queryFrames(influx, panel, vars, range);
    assert.equal(stored.length, 2, 'stored quotes answered (a series per symbol)');
    const ctx = { vars: {}, fromMs: range.fromMs, toMs: range.toMs };
    const shown = async (frames: DataFrame[]) => {
      const [f] = withFieldConfig(panel, await transform(panel, frames, ctx), ctx);
      const sym = f!.fields.find((x) => x.name === 'symbol')!;
      const price = f!.fields.find((x) => x.name.startsWith('Last'))!;
      return Object.fromEntries(sym.values.map((s, i) => [s, show(price, price.values[i])]));
    };
    assert.deepEqual(await shown([...stored, streamingFrame(grafana.on(`stream/${STREAM}/ticker`), 'B')]), { 'BTC/USDT': '101234.56', 'SOL/USDT': '150.25' });
    // the live frame may reach the panel before the stored answer: same result
    assert.deepEqual(await shown([streamingFrame(grafana.on(`stream/${STREAM}/ticker`), 'B'), ...stored]), { 'BTC/USDT': '101234.56', 'SOL/USDT': '150.25' });
    assert.deepEqual(await shown(stored), { 'BTC/USDT': '100000.50', 'SOL/USDT': '150.25' }, 'Live off: the stored quotes');
  });

  it('asset detail: `$symbol last (live)` shows that symbol only, live when Live delivers it, else stored', async () => {
    const d = committedDashboards()['asset-detail']!;
    const panel = panelByTitle(d, '$symbol last (live)');
    const run = async (symbol: string, withLive: boolean) => {
      const vars = await resolve(influx, d, range, { symbol, base: '' });
      const ctx = { vars: Object.fromEntries([...vars].map(([k, v]) => [k, v.values[0] ?? ''])), fromMs: range.fromMs, toMs: range.toMs };
      const frames = [...(await queryFrames(influx, panel, vars, range)), ...(withLive ? [streamingFrame(livePubs, 'B')] : [])];
      const [f] = withFieldConfig(panel, await transform(panel, frames, ctx), ctx);
      const sym = f!.fields.find((x) => x.name === 'symbol')!;
      const price = f!.fields.find((x) => x.name.startsWith('Last'))!;
      return Object.fromEntries(sym.values.map((s, i) => [s, show(price, price.values[i])]));
    };
    assert.deepEqual(await run('BTC/USDT', true), { 'BTC/USDT': '101234.56' });
    // ETH: not pushed in this test; the seeded stored quote shows, BTC's live row is filtered out
    const res = await influx.query(`SELECT last("price") FROM "raw"."market_data" WHERE "symbol" = 'ETH/USDT'`, 'markets');
    const eth = Number(res.results[0]!.series![0]!.values[0]![1]);
    assert.deepEqual(await run('ETH/USDT', true), { 'ETH/USDT': eth.toFixed(2) }, 'Live carries other symbols: filtered out');
    assert.deepEqual(await run('BTC/USDT', false), { 'BTC/USDT': '100000.50' }, 'Live off');
  });
});
