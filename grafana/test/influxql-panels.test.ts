// Every InfluxQL query of every dashboard — variables, $timeFilter, $__interval and the $rp retention
// choice substituted the way Grafana does — executed against a real InfluxDB holding data in the
// contract layout (rollups made by the installed continuous queries), for an hours, a weeks and a year
// range: no error, and every selected column comes back with values.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapInflux, createLogger } from '@mt/common';
import { startInflux, type InfluxServer } from '@mt/testing';
import { apply, continuousQueries, cqStatementFor } from '@mt/influxdb-tasks';
import { allTargets, committedDashboards, type DashboardJson, type Variable } from './helpers.js';
import { autoInterval, durationMs, interpolate, variableValues, type Range } from './grafana-interpolate.js';

const log = createLogger('grafana-test', 'silent');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DB_OF: Record<string, string> = { 'influxdb-markets': 'markets', 'influxdb-news': 'news' };

const SYMBOLS = [
  { symbol: 'BTC/USDT', exchange: 'binance', asset_type: 'crypto', px: 60000, extra: true },
  { symbol: 'ETH/USDT', exchange: 'binance', asset_type: 'crypto', px: 3000, extra: true },
  { symbol: 'AAPL', exchange: 'yahoo', asset_type: 'stock', px: 200, extra: false },
  { symbol: '^GSPC', exchange: 'yahoo', asset_type: 'index', px: 5000, extra: false },
  { symbol: 'EUR/USD', exchange: 'yahoo', asset_type: 'forex', px: 1.08, extra: true },
];

const esc = (v: string) => v.replace(/([ ,=])/g, '\\$1');
const tags = (t: Record<string, string>) => Object.entries(t).map(([k, v]) => `,${k}=${esc(v)}`).join('');

/** Six hours of 1 m data in the contract layout (DESIGN.md), ending at `end`. */
function marketLines(end: number): string[] {
  const out: string[] = [];
  const start = end - 6 * HOUR;
  for (const [i, s] of SYMBOLS.entries()) {
    const t0 = tags({ exchange: s.exchange, symbol: s.symbol, asset_type: s.asset_type });
    for (let t = start, k = 0; t < end; t += MIN, k++) {
      const px = s.px * (1 + 0.01 * Math.sin(k / 20 + i));
      const chg = 5 * Math.sin(k / 50 + i * 2);
      const extra = s.extra ? `,bid=${px * 0.9999},ask=${px * 1.0001}${s.asset_type === 'crypto' ? `,market_cap=${px * 19e6}` : ''}` : '';
      out.push(`market_data${t0} price=${px},change_pct_24h=${chg},volume_24h=${1000 + k},high_24h=${px * 1.02},low_24h=${px * 0.98}${extra} ${t}`);
      if (s.asset_type === 'index' || s.asset_type === 'forex') continue;
      const c = `${t0},interval=1m`;
      out.push(`candles${c} open=${px},high=${px * 1.001},low=${px * 0.999},close=${px * 1.0002},volume=${10 + (k % 7)},quote_volume=${px * 10},trades=${100 + k}i ${t}`);
      out.push(
        `indicators${c} sma_20=${px},ema_50=${px * 0.999},rsi_14=${50 + 20 * Math.sin(k / 9)},macd=${Math.sin(k / 15)},macd_signal=${Math.sin(k / 17)},` +
          `macd_hist=${Math.sin(k / 15) - Math.sin(k / 17)},bb_upper=${px * 1.01},bb_middle=${px},bb_lower=${px * 0.99} ${t}`,
      );
    }
  }
  for (let d = 0; d < 7; d++) out.push(`fear_greed value=${40 + d}i,classification="Fear" ${end - d * 86400_000 - MIN}`);
  return out;
}

/**
 * The 5m, 1h and 1d candles and indicators the market feeder writes straight into the policy that keeps
 * them (docs/INFLUXDB.md, "Timeframes"), ending at `end`: rp → lines.
 */
function timeframeLines(end: number): Record<string, string[]> {
  const out: Record<string, string[]> = { '5m': [], '1h': [] };
  const frames: [string, string, number, number][] = [
    ['5m', '5m', 5 * MIN, 7 * 86400_000],
    ['1h', '1h', HOUR, 60 * 86400_000],
    ['1d', '1h', 24 * HOUR, 360 * 86400_000],
  ];
  for (const [i, s] of SYMBOLS.entries()) {
    for (const [interval, rp, step, span] of frames) {
      const c = tags({ exchange: s.exchange, symbol: s.symbol, asset_type: s.asset_type, interval });
      for (let t = Math.floor((end - span) / step) * step, k = 0; t < end; t += step, k++) {
        const px = s.px * (1 + 0.05 * Math.sin(k / 20 + i));
        out[rp]!.push(`candles${c} open=${px},high=${px * 1.01},low=${px * 0.99},close=${px * 1.002},volume=${10 + (k % 7)},quote_volume=${px * 10},trades=${100 + k}i ${t}`);
        out[rp]!.push(
          `indicators${c} sma_20=${px},ema_50=${px * 0.999},rsi_14=${50 + 20 * Math.sin(k / 9)},macd=${Math.sin(k / 15)},macd_signal=${Math.sin(k / 17)},` +
            `macd_hist=${Math.sin(k / 15) - Math.sin(k / 17)},bb_upper=${px * 1.01},bb_middle=${px},bb_lower=${px * 0.99} ${t}`,
        );
      }
    }
  }
  return out;
}

/** The news layout (docs/INFLUXDB.md): one point per article, per story, per story and asset. */
function newsLines(end: number): string[] {
  const out: string[] = [];
  const sources = ['cryptopanic', 'newsapi', 'rss:www.coindesk.com'];
  const assets = ['BTC', 'ETH', 'AAPL', 'none', 'BTC,ETH'];
  const q = (v: string) => `"${v.replace(/"/g, '\\"')}"`;
  for (let k = 0; k < 60; k++) {
    const id = `a${k.toString(16).padStart(8, '0')}`;
    const t = end - k * 13 * MIN;
    const a = assets[k % 5]!;
    const title = q(`Headline ${k} about "markets"`);
    out.push(`news_articles${tags({ source: sources[k % 3]!, category: k % 2 ? 'crypto' : 'markets', lang: 'en' })} title=${title},url="https://example.org/${id}",sentiment_score=${Math.sin(k)},id="${id}",story="${id}",assets="${a}" ${t}`);
    const story = `story="${id}",title=${title},url="https://example.org/${id}",sources="${sources[k % 3]},${sources[(k + 1) % 3]}",publishers="example.org, example.com",outlets=2i,articles=2i,assets="${a}",rank=${1000 + k},sentiment_score=${Math.sin(k)}`;
    out.push(`news_stories${tags({ category: 'crypto', lang: 'en' })} ${story} ${t}`);
    for (const x of a.split(',')) out.push(`news_story_assets${tags({ related_asset: x })} ${story} ${t}`);
  }
  return out;
}

async function write(influx: InfluxServer, db: string, rp: string, lines: string[]): Promise<void> {
  const res = await fetch(`${influx.url}/write?db=${db}&rp=${rp}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  assert.equal(res.status, 204, await res.text());
}

/** Selected names in a SELECT: `AS "x"` aliases, plain `"field"` columns, else the function name. */
function expectedColumns(q: string): string[] {
  const select = /^SELECT (.+?) FROM /.exec(q)![1]!;
  return select.split(/,(?![^(]*\))/).map((part) => {
    const p = part.trim();
    const as = / AS "([^"]+)"$/.exec(p);
    if (as) return as[1]!;
    const fn = /^(\w+)\(/.exec(p);
    return fn ? fn[1]! : p.replace(/"/g, '');
  });
}

describe('InfluxQL panel queries on a real InfluxDB', () => {
  let influx: InfluxServer;
  const end = Date.now();

  before(async () => {
    influx = await startInflux({ cqRunInterval: '1h' });
    await bootstrapInflux({ url: influx.url, token: '', org: '', api: 'v1' }, log); // the contract's databases and retention policies
    // the real installer: CQs and the rp_config points the $rp variable reads
    await apply({ url: influx.url, token: '', org: '', api: 'v1' }, log);
    await write(influx, 'markets', 'raw', marketLines(end));
    for (const [rp, lines] of Object.entries(timeframeLines(end))) await write(influx, 'markets', rp, lines);
    await write(influx, 'news', 'raw', newsLines(end));
    // the installed CQ text over the closed windows fills 5m, then 1h
    const closed = Math.floor(end / HOUR) * HOUR;
    for (const target of ['5m', '1h'])
      for (const cq of continuousQueries().filter((c) => c.name.endsWith(`_${target}`))) {
        const r = await influx.query(cqStatementFor(cq.create, end - 7 * HOUR, closed), 'markets');
        assert.equal(r.results[0]!.error, undefined);
      }
  });
  after(async () => influx?.stop());

  async function resolveVariables(d: DashboardJson, range: Range, pick: Record<string, string>) {
    const vars = new Map<string, { def: Variable; values: string[] }>();
    for (const def of d.templating.list ?? []) {
      const q = interpolate(def.query!, vars, range, 60_000);
      const res = await influx.query(q, DB_OF[def.datasource!.uid]);
      assert.equal(res.results[0]!.error, undefined, `${d.uid} $${def.name}: ${q}`);
      const values = variableValues(def, res.results[0]!.series ?? []);
      const chosen = pick[def.name] !== undefined ? [pick[def.name]!] : def.includeAll ? values : values.slice(0, 1);
      if (pick[def.name] !== undefined && pick[def.name] !== '') assert.ok(values.includes(pick[def.name]!), `${d.uid} $${def.name} offers ${pick[def.name]}: ${values}`);
      vars.set(def.name, { def, values: chosen });
    }
    return vars;
  }

  const ranges: [string, number, string, string][] = [
    ['6 h', 6 * HOUR, 'raw', '1m'],
    ['7 d', 7 * 86400_000, '5m', '5m'],
    ['60 d', 60 * 86400_000, '1h', '1h'],
    ['1 y', 365 * 86400_000, '1h', '1d'],
  ];
  const scenarios: [string, Record<string, string>][] = [
    ['markets-overview', {}],
    ['asset-detail', { symbol: 'BTC/USDT', base: 'BTC' }],
    ['asset-detail', { symbol: 'AAPL', base: '' }],
    ['news', {}],
  ];

  for (const [uid, pick] of scenarios) {
    for (const [label, span, wantRp, wantTf] of ranges) {
      it(`${uid} ${JSON.stringify(pick)} over ${label}: $rp = ${wantRp}, $tf = ${wantTf}, every panel query returns its columns`, async () => {
        const d = committedDashboards()[uid]!;
        const range = { fromMs: end - span, toMs: end };
        const vars = await resolveVariables(d, range, pick);
        if (vars.has('rp')) assert.deepEqual(vars.get('rp')!.values, [wantRp]);
        if (vars.has('tf')) assert.deepEqual(vars.get('tf')!.values, [wantTf]);
        const targets = allTargets(d).filter(({ target, panel }) => DB_OF[(target.datasource ?? panel.datasource)!.uid]);
        assert.ok(targets.length > 0);
        for (const { panel, target } of targets) {
          const q = interpolate(target.query!, vars, range, autoInterval(range, panel.interval));
          const db = DB_OF[(target.datasource ?? panel.datasource)!.uid]!;
          const res = await influx.query(q, db);
          const r = res.results[0]!;
          const where = `${uid}/${panel.title}/${target.refId}: ${q}`;
          assert.equal(r.error, undefined, where);
          const series = r.series ?? [];
          assert.ok(series.length > 0, `no data: ${where}`);
          const want = expectedColumns(q);
          for (const col of want) {
            const i = series[0]!.columns.indexOf(col);
            assert.ok(i > 0, `column ${col} missing in ${series[0]!.columns}: ${where}`);
            assert.ok(
              series.some((s) => s.values.some((row) => row[i] !== null)),
              `column ${col} has no values: ${where}`,
            );
          }
          if (q.includes(`"interval" = '${wantTf}' GROUP BY time(${wantTf})`)) {
            // the chart's timeframe: one bar per stored candle of $tf, never a regrouping of them
            const times = series[0]!.values.map((row) => Number(row[0]));
            const step = durationMs(wantTf);
            assert.ok(times.length > 1 && times.every((t, k) => t % step === 0 && (k === 0 || t - times[k - 1]! === step)), `bars ${step} ms apart: ${where}`);
          }
          const groupTags = [...(/GROUP BY (.+?)(?: fill\(|$| ORDER)/.exec(q)?.[1] ?? '').matchAll(/"(\w+)"/g)].map((m) => m[1]!);
          for (const t of groupTags) assert.ok(series.every((s) => s.tags?.[t] !== undefined), `series tagged ${t}: ${where}`);
        }
      });
    }
  }
});
