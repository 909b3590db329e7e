// What a Grafana 12.3.0 panel shows, computed with Grafana's own frontend code (`@grafana/data` 12.3.0,
// pinned to the `grafana/grafana:12.3.0` image compose runs). Pieces that live outside @grafana/data are
// reproduced here from Grafana's source, cited per function (docs/DASHBOARDS.md, "How the tests read a
// panel"):
//   - InfluxDB answer → data frames: pkg/tsdb/influxdb/influxql/buffered/response_parser.go (the default
//     parser; the streaming one is behind the `influxqlStreamingParser` toggle, see influxql.go) and
//     util/util.go (FormatFrameName). The frontend datasource passes InfluxQL backend frames on unchanged
//     (public/app/plugins/datasource/influxdb/datasource.ts: `super.query(filteredRequest)`).
//   - the standard field-config registry: public/app/core/components/OptionsUI/registry.tsx
//     (`getAllStandardFieldConfigs`), whose `process` functions are @grafana/data's.
//   - the transformers registry initialised as Grafana's tests do (`mockTransformationsRegistry`,
//     packages/grafana-data/src/utils/tests/mockTransformationsRegistry.ts).
// @grafana/data's ESM build imports `moment-timezone` by named export, which Node's ESM loader refuses,
// so its CJS build is loaded with `require`; it expects a browser (Grafana tests run it under jsdom).
import { createRequire } from 'node:module';
import type * as GD from '@grafana/data';
import type { InfluxQLSeries } from '@mt/testing';
import type { DataFrame, Field, FieldConfigPropertyItem, FieldConfigSource, DataTransformerConfig, ScopedVars } from '@grafana/data';

const require = createRequire(import.meta.url);
// untyped on purpose: @types/jsdom pulls the DOM lib into the whole type check (tsconfig.check.json)
interface DomWindow {
  document: unknown;
  navigator: unknown;
}
const { JSDOM } = require('jsdom') as { JSDOM: new (html: string, o: { url: string }) => { window: DomWindow } };
const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { url: 'http://localhost:3000/' });
const g = globalThis as Record<string, unknown>;
g.window ??= dom.window;
g.document ??= dom.window.document;
g.navigator ??= dom.window.navigator; // Node 20 has none; Node ≥ 21 has its own
(dom.window as unknown as { grafanaBootData: unknown }).grafanaBootData = { settings: { featureToggles: {} } };

const quiet = console.info;
console.info = () => {}; // i18next's banner on load
export const gd = require('@grafana/data') as typeof GD;
console.info = quiet;

const {
  FieldType,
  standardTransformers,
  standardTransformersRegistry,
  transformDataFrame,
  applyFieldOverrides,
  FieldConfigOptionsRegistry,
  createTheme,
  formattedValueToString,
  getFieldDisplayName,
  displayNameOverrideProcessor,
  stringOverrideProcessor,
  numberOverrideProcessor,
  dataLinksOverrideProcessor,
  identityOverrideProcessor,
  valueMappingsOverrideProcessor,
  thresholdsOverrideProcessor,
  booleanOverrideProcessor,
} = gd;

// `standardTransformers` lists some transformers twice under other keys (seriesToColumns is joinByField)
standardTransformersRegistry.setInit(() =>
  [...new Map(Object.values(standardTransformers).map((t) => [t.id, t])).values()].map(
    (t) => ({ id: t.id, aliasIds: t.aliasIds, name: t.name, description: t.description, transformation: t, editor: () => null }) as unknown as GD.TransformerRegistryItem,
  ),
);

export const theme = createTheme();

// ---------------------------------------------------------------------------------------------------
// InfluxDB → frames (buffered/response_parser.go)

type InfluxSeries = InfluxQLSeries;
export interface InfluxTarget {
  refId: string;
  resultFormat?: string;
  alias?: string;
}

function typeOf(rows: unknown[][], col: number): 'string' | 'number' | 'bool' | 'null' {
  for (const r of rows) {
    const v = r[col];
    if (v === null || v === undefined) continue;
    return typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'number';
  }
  return 'null';
}
const fieldType = (t: ReturnType<typeof typeOf>) => (t === 'string' ? FieldType.string : t === 'bool' ? FieldType.boolean : FieldType.number);
const frame = (name: string | undefined, refId: string, fields: Field[]): DataFrame => ({ name, refId, fields, length: fields[0]?.values.length ?? 0 });
const field = (name: string, type: GD.FieldType, values: unknown[], displayNameFromDS: string, labels?: Record<string, string>): Field => ({
  name,
  type,
  values,
  config: { displayNameFromDS },
  ...(labels ? { labels } : {}),
});

/** FormatFrameName (util.go): `$col`, `$m`, `$tag_x`, `[[…]]`; no alias → `measurement.column { k: v }` (table: no measurement). */
function frameName(row: InfluxSeries, column: string, t: InfluxTarget): string {
  if (!t.alias) {
    const tags = Object.entries(row.tags ?? {});
    const base = t.resultFormat === 'table' ? column : `${row.name}.${column}`;
    return tags.length ? `${base} { ${tags.map(([k, v]) => `${k}: ${v}`).join(', ')} }` : base;
  }
  return t.alias.replace(/\$(\w+)|\[\[([\s\S]+?)\]\]/g, (whole, a?: string, b?: string) => {
    const f = (a ?? b)!;
    if (f === 'm' || f === 'measurement') return row.name;
    if (f === 'col') return column;
    if (f.startsWith('tag_')) return row.tags?.[f.slice(4)] ?? whole;
    return whole;
  });
}

/** The frames Grafana's InfluxQL backend makes of one statement's series. */
export function influxFrames(series: InfluxSeries[], t: InfluxTarget): DataFrame[] {
  if (series.length === 0) return [];
  if (t.resultFormat === 'table') {
    // transformRowsForTable: ONE frame named after the first series; Time, then the first series' tag
    // keys (every row of every series), then the value columns
    const first = series[0]!;
    const fields: Field[] = [];
    const all = series.flatMap((s) => s.values.map((v) => ({ s, v })));
    if (first.columns[0] === 'time') fields.push(field('Time', FieldType.time, all.map(({ v }) => v[0]), 'Time'));
    else fields.push(field(first.columns[0]!, fieldType(typeOf(first.values, 0)), all.map(({ v }) => v[0] ?? null), first.columns[0]!));
    for (const key of Object.keys(first.tags ?? {})) fields.push(field(key, FieldType.string, all.map(({ s }) => s.tags?.[key] ?? ''), key));
    for (let c = 1; c < first.columns.length; c++) {
      const ty = series.map((s) => typeOf(s.values, c)).find((x) => x !== 'null') ?? 'null';
      fields.push(field(first.columns[c]!, fieldType(ty), all.map(({ v }) => v[c] ?? null), first.columns[c]!));
    }
    return [frame(first.name, t.refId, fields)];
  }
  // transformRowsForTimeSeries: one frame per series and value column, tags as labels on `Value`
  const out: DataFrame[] = [];
  for (const s of series) {
    if (!s.columns.some((c) => c.toLowerCase() === 'time')) {
      out.push(frame(s.name, t.refId, [field('Value', FieldType.string, s.values.map((v) => String(v[0])), 'Value')]));
      continue;
    }
    s.columns.forEach((col, i) => {
      if (col === 'time') return;
      const name = frameName(s, col, t);
      out.push(
        frame(name, t.refId, [
          field('Time', FieldType.time, s.values.map((v) => v[0]), 'Time'),
          field('Value', fieldType(typeOf(s.values, i)), s.values.map((v) => v[i] ?? null), name, s.tags ?? {}),
        ]),
      );
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Field config registry (OptionsUI/registry.tsx) plus the panels' `custom.*` options

type Item = FieldConfigPropertyItem;
const std = (id: string, process: Item['process'], shouldApply: Item['shouldApply'] = () => true): Item =>
  ({ id, path: id, name: id, process, shouldApply, override: () => null, editor: () => null, settings: {} }) as unknown as Item;
const isNumber = (f: Field) => f.type === FieldType.number;
const CUSTOM = ['cellOptions', 'hidden', 'width', 'align', 'drawStyle', 'fillOpacity', 'lineStyle', 'gradientMode', 'thresholdsStyle', 'filterable', 'inspect', 'lineWidth', 'showPoints', 'barAlignment', 'axisPlacement', 'hideFrom', 'stacking', 'transform'];

export function fieldConfigRegistry(): GD.FieldConfigOptionsRegistry {
  const r = new FieldConfigOptionsRegistry();
  for (const item of [
    std('unit', stringOverrideProcessor),
    std('min', numberOverrideProcessor, isNumber),
    std('max', numberOverrideProcessor, isNumber),
    std('decimals', numberOverrideProcessor, isNumber),
    std('displayName', displayNameOverrideProcessor),
    std('color', identityOverrideProcessor),
    std('noValue', stringOverrideProcessor),
    std('links', dataLinksOverrideProcessor),
    std('mappings', valueMappingsOverrideProcessor, (f) => f.type !== FieldType.time),
    std('thresholds', thresholdsOverrideProcessor),
  ])
    r.register(item);
  for (const c of CUSTOM)
    r.register({ ...std(`custom.${c}`, c === 'hidden' ? booleanOverrideProcessor : identityOverrideProcessor), path: c, isCustom: true } as Item);
  return r;
}

// ---------------------------------------------------------------------------------------------------
// Variables in links and transformation options (Grafana's templateSrv with the data-link macros)

export interface TemplateContext {
  /** Dashboard variables, single value each (what the link carries). */
  vars: Record<string, string>;
  fromMs: number;
  toMs: number;
}

function macro(path: string, scoped: ScopedVars, ctx: TemplateContext): string | undefined {
  const dc = (scoped.__dataContext as { value?: { frame: DataFrame; field: Field; rowIndex?: number } } | undefined)?.value;
  const [head, ...rest] = path.split('.');
  if (head === '__url_time_range') return `from=${ctx.fromMs}&to=${ctx.toMs}`;
  if (head === '__from') return String(ctx.fromMs);
  if (head === '__to') return String(ctx.toMs);
  if (head === '__value' && dc && dc.rowIndex !== undefined) {
    const raw = dc.field.values[dc.rowIndex];
    if (rest[0] === 'raw' || rest[0] === 'numeric') return String(raw);
    return formattedValueToString(dc.field.display!(raw));
  }
  if (head === '__data' && dc && dc.rowIndex !== undefined && rest[0] === 'fields') {
    const f = dc.frame.fields.find((x) => x.name === rest[1] || getFieldDisplayName(x, dc.frame) === rest[1]);
    return f ? String(f.values[dc.rowIndex]) : '';
  }
  if (head === '__field' && dc) return rest[0] === 'name' ? dc.field.name : getFieldDisplayName(dc.field, dc.frame);
  if (path in ctx.vars) return ctx.vars[path];
  return undefined;
}

export function replaceVariables(ctx: TemplateContext) {
  return (value: string, scoped: ScopedVars = {}, format?: unknown): string =>
    value.replace(/\$\{([\w.]+)(?::(\w+))?\}|\$(\w+)/g, (whole, p1?: string, fmt?: string, p2?: string) => {
      const name = (p1 ?? p2)!;
      const v = macro(name, scoped, ctx);
      if (v === undefined) return whole;
      // an explicit `:format` always applies; the caller's format (UriEncode for a link's href) only to
      // dashboard variables: the macros (`__url_time_range`, `__data`, `__value`) return their text as is
      const f = fmt ?? (typeof format === 'string' && name in ctx.vars ? format : undefined);
      // percentencode and the UriEncode a data link's href gets (encodeURIComponent, as templateSrv's formatRegistry)
      return f === 'percentencode' || f === 'uriencode' ? encodeURIComponent(v) : v;
    });
}

// ---------------------------------------------------------------------------------------------------
// A panel: transformations, then field config and overrides, then the text of every cell

export interface PanelJson {
  type: string;
  title?: string;
  transformations?: DataTransformerConfig[];
  fieldConfig?: FieldConfigSource;
  options?: Record<string, unknown>;
}

/** Options' `${…}` interpolated first, as Scenes' SceneDataTransformer does (docs/DASHBOARDS.md, step 3). */
export async function transform(panel: PanelJson, frames: DataFrame[], ctx: TemplateContext): Promise<DataFrame[]> {
  const interpolate = (s: string) => replaceVariables(ctx)(s);
  const obs = transformDataFrame(panel.transformations ?? [], frames, { interpolate });
  return new Promise((resolve, reject) => obs.subscribe({ next: resolve, error: reject }));
}

export function withFieldConfig(panel: PanelJson, frames: DataFrame[], ctx: TemplateContext): DataFrame[] {
  return applyFieldOverrides({
    data: frames,
    fieldConfig: panel.fieldConfig ?? { defaults: {}, overrides: [] },
    fieldConfigRegistry: fieldConfigRegistry(),
    replaceVariables: replaceVariables(ctx),
    theme,
    timeZone: 'utc',
  });
}

export interface RenderedTable {
  /** Visible column headers, in order. */
  columns: string[];
  /** Cell text per row (visible columns), as the table panel prints it. */
  rows: string[][];
  /** Cell colour per row (visible columns), where a colour-text/background cell option colours it. */
  colors: (string | undefined)[][];
  frame: DataFrame;
}

/** A table panel's first frame as shown: hidden fields left out, each cell through the field's display processor. */
export function renderTable(frame: DataFrame): RenderedTable {
  const visible = frame.fields.filter((f) => !f.config.custom?.hidden);
  const rows: string[][] = [];
  const colors: (string | undefined)[][] = [];
  for (let i = 0; i < frame.length; i++) {
    rows.push(visible.map((f) => formattedValueToString(f.display!(f.values[i]))));
    colors.push(visible.map((f) => (f.config.custom?.cellOptions?.type ? f.display!(f.values[i]).color : undefined)));
  }
  return { columns: visible.map((f) => getFieldDisplayName(f, frame)), rows, colors, frame };
}

/** The links a cell offers (href after variable substitution). */
export function cellLinks(frame: DataFrame, fieldName: string, row: number): { title: string; href: string }[] {
  const f = frame.fields.find((x) => getFieldDisplayName(x, frame) === fieldName || x.name === fieldName);
  if (!f?.getLinks) return [];
  return f.getLinks({ valueRowIndex: row }).map((l) => ({ title: l.title, href: l.href }));
}

/**
 * A stat panel's values as it draws them: @grafana/data's getFieldDisplayValues with the panel's reduce
 * options over its frames (after field config), each value's title (display name interpolated per row)
 * → its text.
 */
export function statValues(panel: PanelJson, frames: DataFrame[], ctx: TemplateContext): Record<string, string> {
  const shown = gd.getFieldDisplayValues({
    data: frames,
    reduceOptions: (panel.options as { reduceOptions: GD.ReduceDataOptions }).reduceOptions,
    fieldConfig: panel.fieldConfig ?? { defaults: {}, overrides: [] },
    replaceVariables: replaceVariables(ctx),
    theme,
    timeZone: 'utc',
  });
  return Object.fromEntries(shown.map((v) => [v.display.title ?? '', formattedValueToString(v.display)]));
}

/** Display text of one value of a field, e.g. a stat or a chart's legend value. */
export function show(f: Field, v: unknown): string {
  return formattedValueToString(f.display!(v));
}

// ---------------------------------------------------------------------------------------------------
// Annotations: Grafana's standard frame → event mapping (public/app/features/annotations/
// standardAnnotationSupport.ts, `getAnnotationsFromData` with `annotationEventNames`, no explicit
// mappings): the frames merged into one, `time` = the first time field, `text` = the field named
// "text" else the first string field, `tags` = the field named "tags" split on ",".

export interface AnnotationEvent {
  time: number;
  text: string;
  tags: string[];
}

export async function annotationEvents(frames: DataFrame[]): Promise<AnnotationEvent[]> {
  const merged = frames.length <= 1 ? frames : await transform({ type: 'annotation', transformations: [{ id: 'merge', options: {} }] }, frames, { vars: {}, fromMs: 0, toMs: 0 });
  const f = merged[0];
  if (!f?.length) return [];
  const byName = (n: string) => f.fields.find((x) => getFieldDisplayName(x, f).toLowerCase() === n);
  const time = byName('time') ?? f.fields.find((x) => x.type === FieldType.time)!;
  const text = byName('text') ?? f.fields.find((x) => x.type === FieldType.string);
  const tags = byName('tags');
  return Array.from({ length: f.length }, (_, i) => ({
    time: Number(time.values[i]),
    text: String(text?.values[i] ?? ''),
    tags: tags?.values[i] ? String(tags.values[i]).split(',').map((t) => t.trim()) : [],
  }));
}

// ---------------------------------------------------------------------------------------------------
// The candlestick panel's field lookup (public/app/plugins/panel/candlestick/fields.ts,
// `prepareCandlestickFields`; CandlestickPanel.tsx passes it `data.series`, the frames after field config)

const CANDLE_DEFAULTS = { open: ['open', 'o'], high: ['high', 'h', 'max'], low: ['low', 'l', 'min'], close: ['close', 'c'], volume: ['volume', 'v'] } as const;
export type CandleKey = keyof typeof CANDLE_DEFAULTS;

export interface CandlestickFields {
  /** The field each role maps to (undefined: not found; `open` then stands in as fields.ts does). */
  fields: Partial<Record<CandleKey, Field>>;
  /** The display name of each mapped field (fields.ts `data.names`). */
  names: Partial<Record<CandleKey, string>>;
  /** True where fields.ts made a close from the next open (or an open from the previous close). */
  autoOpenClose: boolean;
  /** The frame the chart draws: time, then every field (`includeAllFields`). */
  frame: DataFrame;
}

/**
 * What the candlestick panel finds in `frames`: the frames joined on time (`outerJoinDataFrames`, which
 * renames a time-series `Value` field to its frame's name and drops cached display names), the graphable
 * copies (timeseries/utils.ts `prepareGraphableFields`: display names cached, each number field a fresh
 * display processor from its config by `setClassicPaletteIdxs`), then per role `findFieldOrAuto`: the
 * field map's name equal to a field's `name` or its display name (features/dimensions/utils.ts
 * `findField`), else the first field whose lowercased display name or whose `name` is one of the role's
 * defaults; no open and no close → the first number field is the open; no close → the next open.
 */
export function candlestickFields(panel: PanelJson, frames: DataFrame[]): CandlestickFields {
  const map = ((panel.options ?? {}) as { fields?: Partial<Record<CandleKey, string>> }).fields ?? {};
  const aligned = frames.length === 1 ? frames[0]! : gd.outerJoinDataFrames({ frames })!;
  gd.cacheFieldDisplayNames([aligned]);
  const frame: DataFrame = {
    ...aligned,
    fields: aligned.fields.map((f) => {
      if (f.type !== FieldType.number) return f;
      const copy = { ...f, values: f.values.map((v) => (Number.isFinite(v) ? v : null)) };
      copy.display = gd.getDisplayProcessor({ field: copy, theme });
      return copy;
    }),
  };
  const findField = (name?: string) => (name ? frame.fields.find((f) => f.name === name || getFieldDisplayName(f, frame) === name) : undefined);
  const fields: Partial<Record<CandleKey, Field>> = {};
  for (const key of Object.keys(CANDLE_DEFAULTS) as CandleKey[]) {
    const defaults: readonly string[] = CANDLE_DEFAULTS[key];
    const f = findField(map[key]) ?? frame.fields.find((x) => defaults.includes(getFieldDisplayName(x, frame).toLowerCase()) || defaults.includes(x.name));
    if (f) fields[key] = f;
  }
  let autoOpenClose = false;
  if (!fields.open && !fields.close) fields.open = frame.fields.find((f) => f.type === FieldType.number);
  if (fields.open && !fields.close && !map.close) {
    const values = fields.open.values.slice(1);
    values.push(values[values.length - 1]);
    fields.close = { ...fields.open, values, name: 'Next open', state: undefined };
    autoOpenClose = true;
  }
  if (fields.close && !fields.open && !map.open) {
    const values = [fields.close.values[0], ...fields.close.values].slice(0, frame.length);
    fields.open = { ...fields.close, values, name: 'Previous close', state: undefined };
    autoOpenClose = true;
  }
  if (!fields.high && !map.high) fields.high = fields.open;
  if (!fields.low && !map.low) fields.low = fields.open;
  const names = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, getFieldDisplayName(f, frame)]));
  return { fields, names, autoOpenClose, frame };
}
