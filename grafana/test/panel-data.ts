// A panel of a committed dashboard, run end to end as Grafana 12.3.0 would: its queries interpolated
// and executed on the real InfluxDB, the answers turned into frames as Grafana's InfluxQL backend does,
// then the panel's transformations, field config and display processors from @grafana/data.
import assert from 'node:assert/strict';
import type { InfluxServer } from '@mt/testing';
import type { DataFrame } from '@grafana/data';
import type { DashboardJson, Panel } from './helpers.js';
import { autoInterval, interpolate, type Range } from './grafana-interpolate.js';
import { DB_OF, resolveVariables, type Vars } from './dashboard-influx.js';
import { influxFrames, renderTable, transform, withFieldConfig, type PanelJson, type RenderedTable, type TemplateContext } from './grafana-frontend.js';

export interface PanelRun {
  /** Frames after transformations and field config (what the visualisation draws). */
  frames: DataFrame[];
  ctx: TemplateContext;
}

export function panelByTitle(d: DashboardJson, title: string): Panel & PanelJson {
  const p = d.panels.find((x) => x.title === title);
  assert.ok(p, `${d.uid} has a panel "${title}": ${d.panels.map((x) => x.title).join(', ')}`);
  return p as Panel & PanelJson;
}

export async function resolve(influx: InfluxServer, d: DashboardJson, range: Range, pick: Record<string, string | string[]> = {}): Promise<Vars> {
  return resolveVariables(influx, d, range, pick);
}

/** Frames of a panel's (or an annotation's) queries, before transformations. */
export async function queryFrames(influx: InfluxServer, panel: Panel, vars: Vars, range: Range): Promise<DataFrame[]> {
  const frames: DataFrame[] = [];
  for (const target of panel.targets ?? []) {
    const ds = (target.datasource ?? panel.datasource)!;
    if (!DB_OF[ds.uid]) continue; // a Grafana Live target (`-- Grafana --`): grafana/test/live-panels.test.ts
    const q = interpolate(target.query!, vars, range, autoInterval(range, panel.interval));
    const res = await influx.query(q, DB_OF[ds.uid]);
    assert.equal(res.results[0]!.error, undefined, `${panel.title}/${target.refId}: ${q}`);
    frames.push(...influxFrames(res.results[0]!.series ?? [], target));
  }
  return frames;
}

/**
 * `live`: the frames of the panel's Grafana Live targets as the browser holds them (live-panels.test.ts),
 * after the stored answers or, with `liveFirst`, before them (either may reach the panel first).
 */
export async function runPanel(influx: InfluxServer, panel: Panel & PanelJson, vars: Vars, range: Range, live: DataFrame[] = [], liveFirst = false): Promise<PanelRun> {
  const ctx: TemplateContext = {
    vars: Object.fromEntries([...vars].map(([k, v]) => [k, v.values[0] ?? ''])),
    fromMs: range.fromMs,
    toMs: range.toMs,
  };
  const stored = await queryFrames(influx, panel, vars, range);
  const transformed = await transform(panel, liveFirst ? [...live, ...stored] : [...stored, ...live], ctx);
  return { frames: withFieldConfig(panel, transformed, ctx), ctx };
}

/** A table panel as a trader reads it: its first frame's visible columns and cell text. */
export async function runTable(influx: InfluxServer, panel: Panel & PanelJson, vars: Vars, range: Range, live: DataFrame[] = [], liveFirst = false): Promise<RenderedTable> {
  const { frames } = await runPanel(influx, panel, vars, range, live, liveFirst);
  assert.ok(frames.length >= 1, `${panel.title}: a frame`);
  return renderTable(frames[0]!);
}

/** Row of a rendered table whose `column` reads `value`. */
export function rowOf(t: RenderedTable, column: string, value: string): Record<string, string> {
  const c = t.columns.indexOf(column);
  assert.ok(c >= 0, `column ${column} in ${t.columns}`);
  const row = t.rows.find((r) => r[c] === value);
  assert.ok(row, `a row with ${column} = ${value}: ${JSON.stringify(t.rows)}`);
  return Object.fromEntries(t.columns.map((name, i) => [name, row[i]!]));
}
