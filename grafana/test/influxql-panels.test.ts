// Every InfluxQL query of every dashboard — variables, $timeFilter, $__interval and the $rp retention
// choice substituted the way Grafana does — executed against a real InfluxDB holding data in the
// contract layout (rollups made by the installed continuous queries), for an hours, a weeks and a year
// range: no error, and every selected column comes back with values.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InfluxServer } from '@mt/testing';
import { allTargets, committedDashboards, type DashboardJson } from './helpers.js';
import { autoInterval, durationMs, interpolate, type Range } from './grafana-interpolate.js';
import { DB_OF, HOUR, resolveVariables, startDashboardInflux } from './dashboard-influx.js';

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

/** The statement after its `FROM (SELECT …)` subquery, or the whole statement without one. */
function afterSubquery(q: string): string {
  const open = q.indexOf('FROM (SELECT');
  if (open < 0) return q;
  let depth = 0;
  for (let i = open + 5; i < q.length; i++) {
    if (q[i] === '(') depth++;
    else if (q[i] === ')' && --depth === 0) return q.slice(i + 1);
  }
  throw new Error(`unbalanced subquery: ${q}`);
}

describe('InfluxQL panel queries on a real InfluxDB', () => {
  let influx: InfluxServer;
  const end = Date.now();

  before(async () => {
    influx = await startDashboardInflux(end, undefined, { venues: true });
  });
  after(async () => influx?.stop());

  const resolve = (d: DashboardJson, range: Range, pick: Record<string, string>) => resolveVariables(influx, d, range, pick);

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
    ['asset-detail', { symbol: 'BTC/USD', exchange: 'kraken', base: 'BTC' }],
    ['derivatives', {}],
    ['cross-venue', { pair: 'BTC/USD' }],
  ];
  /** Panels that rightly show nothing for a scenario: Yahoo keeps no order book; no alert fired on BTC/USD. */
  const empty: Record<string, string[]> = {
    '{"symbol":"AAPL","base":""}': ['Order book — $symbol on $exchange'],
    '{"symbol":"BTC/USD","exchange":"kraken","base":"BTC"}': ['annotation Price alerts'],
  };

  for (const [uid, pick] of scenarios) {
    for (const [label, span, wantRp, wantTf] of ranges) {
      // the venues' seed (venueLines) is one hour of raw points: no rollups to read beyond 6 h
      if (pick.exchange && span > 6 * HOUR) continue;
      it(`${uid} ${JSON.stringify(pick)} over ${label}: $rp = ${wantRp}, $tf = ${wantTf}, every panel query returns its columns`, async () => {
        const d = committedDashboards()[uid]!;
        const range = { fromMs: end - span, toMs: end };
        const vars = await resolve(d, range, pick);
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
          if (empty[JSON.stringify(pick)]?.includes(panel.title!)) {
            assert.equal(series.length, 0, `nothing stored for this symbol: ${where}`);
            continue;
          }
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
          // the outer statement's GROUP BY (a subquery's own grouping is not the answer's)
          const outer = afterSubquery(q);
          const groupTags = [...(/GROUP BY (.+?)(?: fill\(|$| ORDER)/.exec(outer)?.[1] ?? '').matchAll(/"(\w+)"/g)].map((m) => m[1]!);
          for (const t of groupTags) assert.ok(series.every((s) => s.tags?.[t] !== undefined), `series tagged ${t}: ${where}`);
        }
      });
    }
  }
});
