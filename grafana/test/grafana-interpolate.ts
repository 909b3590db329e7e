// What Grafana does to an InfluxQL panel query before sending it, reproduced for the tests: variable
// values (regex-escaped and `(a|b)`-joined for multi/All variables, as the InfluxDB datasource's
// interpolateQueryExpr does), $timeFilter, $__interval, ${__from}/${__to}; and how a query variable
// turns a response into values (second column, else first; optional regex with a capture group).
import type { Variable } from './helpers.js';

export interface Range {
  fromMs: number;
  toMs: number;
}

// Grafana's kbn.regexEscape
const regexEscape = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

export function interpolate(q: string, vars: Map<string, { def: Variable; values: string[] }>, range: Range, intervalMs: number): string {
  return q
    .replaceAll('$timeFilter', `time >= ${range.fromMs}ms and time <= ${range.toMs}ms`)
    .replaceAll('$__interval', `${Math.round(intervalMs / 1000)}s`)
    .replaceAll('${__from}', String(range.fromMs))
    .replaceAll('${__to}', String(range.toMs))
    .replace(/\$(\w+)/g, (whole, name: string) => {
      const v = vars.get(name);
      if (!v) return whole;
      if (!(v.def.multi || v.def.includeAll)) return v.values[0] ?? '';
      const esc = v.values.map(regexEscape);
      return esc.length === 1 ? esc[0]! : `(${esc.join('|')})`;
    });
}

/** Grafana's auto interval: range / max data points, rounded up to a nice step, at least the panel's minimum. */
export function autoInterval(range: Range, minInterval = '10s', maxDataPoints = 1000): number {
  const nice = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);
  const min = durationMs(minInterval);
  const want = Math.max(min, (range.toMs - range.fromMs) / maxDataPoints);
  return nice.find((n) => n >= want) ?? want;
}

export function durationMs(d: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export function variableValues(def: Variable, series: { values: unknown[][] }[]): string[] {
  const out = new Set<string>();
  const re = def.regex ? new RegExp(def.regex.replace(/^\/(.*)\/$/, '$1')) : undefined;
  for (const s of series)
    for (const row of s.values) {
      const v = String(row[1] ?? row[0]);
      if (!re) out.add(v);
      else {
        const m = re.exec(v);
        if (m) out.add(m[1] ?? m[0]);
      }
    }
  return [...out];
}
