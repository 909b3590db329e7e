// What every dashboard shares: datasource uids (= grafana/provisioning/datasources), the terminal look
// (amber on black, green/red changes), the InfluxQL target type the SDK lacks, the `$rp` variable and a
// grid placer. One module per dashboard builds on these.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  FieldColorBuilder,
  FieldColorModeId,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DataSourceRef,
  type Panel,
  type GridPos,
  type DataTransformerConfig,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { RP_VARIABLE_QUERY, TF_VARIABLE_QUERY } from '@mt/influxdb-tasks';

/** Provisioned datasource uids (grafana/provisioning/datasources/datasources.yml). */
export const DS = {
  markets: { type: 'influxdb', uid: 'influxdb-markets' },
  news: { type: 'influxdb', uid: 'influxdb-news' },
  prometheus: { type: 'prometheus', uid: 'prometheus' },
} as const satisfies Record<string, DataSourceRef>;

/**
 * Grafana's built-in datasources: `-- Grafana --` (uid `grafana`) subscribes to Grafana Live channels,
 * `-- Mixed --` lets one panel combine it with InfluxDB (docs/GRAFANA_LIVE.md, docs/DASHBOARDS.md).
 */
export const BUILTIN_DS = {
  grafana: { type: 'datasource', uid: 'grafana' },
  mixed: { type: 'datasource', uid: '-- Mixed --' },
} as const satisfies Record<string, DataSourceRef>;

/** The stream the market feeder pushes to (GRAFANA_LIVE_STREAM's default) and its channels, one per measurement. */
export const LIVE_STREAM = 'markets';
export type LiveChannel = 'ticker';
export const liveChannel = (m: LiveChannel) => `stream/${LIVE_STREAM}/${m}`;

/** A `-- Grafana --` Live measurements query (public/app/plugins/datasource/grafana: queryType `measurements`). */
export class LiveMeasurements implements Builder<Dataquery> {
  constructor(
    private readonly channel: LiveChannel,
    private readonly refId: string,
  ) {}
  build(): Dataquery {
    return { refId: this.refId, datasource: BUILTIN_DS.grafana, queryType: 'measurements', channel: liveChannel(this.channel), _implementsDataqueryVariant() {} } as Dataquery;
  }
}

/**
 * One value per venue and symbol: the live one (Grafana Live: fields named after the measurement's field,
 * e.g. `price`, labelled `asset_type`, `exchange`, `symbol`) over the stored one (InfluxDB time series
 * `GROUP BY "symbol", "exchange"`: a `Value` field labelled `exchange` and `symbol`). Every series is reduced
 * to its last value with its labels as columns; the other live fields are dropped; rows are sorted by
 * `asset_type` descending (a label of the live rows only), which puts the stored rows first whatever order
 * the queries answer in; per (exchange, symbol) the last non-null value wins: BTC/USD on kraken and on
 * coinbase stay two values. With Live off the stored value is shown. Checked with @grafana/data 12.3.0
 * (grafana/test/live-panels.test.ts).
 */
export function liveOverStored(liveField: string): DataTransformerConfig[] {
  return [
    { id: 'reduce', options: { mode: 'seriesToRows', reducers: ['lastNotNull'], labelsToFields: true } },
    {
      id: 'filterByValue',
      options: { type: 'include', match: 'any', filters: ['Value', liveField].map((v) => ({ fieldName: 'Field', config: { id: 'equal', options: { value: v } } })) },
    },
    { id: 'sortBy', options: { sort: [{ field: 'asset_type', desc: true }] } },
    // → `exchange`, `symbol`, `Last * (lastNotNull)`, a row per venue and symbol: the panels pick that
    // field by name (a display rename would hide it from them)
    {
      id: 'groupBy',
      options: {
        fields: { exchange: { operation: 'groupby', aggregations: [] }, symbol: { operation: 'groupby', aggregations: [] }, 'Last *': { operation: 'aggregate', aggregations: ['lastNotNull'] } },
      },
    },
  ];
}

export const COLOR = {
  amber: '#FFA028',
  orange: '#FF6A00',
  up: '#00D26A',
  down: '#FF3B3B',
  neutral: '#8E8E8E',
  blue: '#4FA3FF',
} as const;

export const REFRESH = '5s';
export const TAG = 'market-terminal';

/** Grafana's InfluxDB (InfluxQL) target in raw-query mode; the SDK ships no builder for it. */
export interface InfluxQLTarget extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}

export class InfluxQL implements Builder<Dataquery> {
  private readonly t: InfluxQLTarget;
  constructor(ds: DataSourceRef, query: string, refId = 'A') {
    this.t = { refId, datasource: ds, query, rawQuery: true, resultFormat: 'time_series', _implementsDataqueryVariant() {} };
  }
  table(): this {
    this.t.resultFormat = 'table';
    return this;
  }
  /** Series name, e.g. `$tag_symbol`. */
  alias(a: string): this {
    this.t.alias = a;
    return this;
  }
  build(): Dataquery {
    return this.t;
  }
}

/** A dashboard with the shared header: fixed uid, tags, refresh, UTC, shared crosshair, links to the others. */
export function terminalDashboard(uid: string, title: string, from = 'now-6h'): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .tags([TAG])
    .refresh(REFRESH)
    .time({ from, to: 'now' })
    .timezone('utc')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .link(new DashboardLinkBuilder('Terminal').type(DashboardLinkType.Dashboards).tags([TAG]).asDropdown(false).includeVars(false).keepTime(true));
}

/**
 * Build, numbering panels 1…n in layout order (Grafana needs ids unique within a dashboard). Links lose
 * the SDK's default `placement: "inControlsMenu"`: Grafana 12.3's top bar shows only links without a
 * placement, and its controls menu skips `dashboards` links, so the "Terminal" links showed nowhere.
 * Hidden variables are not synced to the URL (`skipUrlSync`; the v1 builders have no setter for it).
 */
export function finish(d: DashboardBuilder, panels: Builder<Panel>[]): Dashboard {
  for (const p of panels) d.withPanel(p);
  const built = d.build();
  built.panels?.forEach((p, i) => (p.id = i + 1));
  for (const l of built.links ?? []) delete (l as { placement?: string }).placement;
  for (const v of built.templating?.list ?? []) if (v.hide === VariableHide.HideVariable) (v as { skipUrlSync?: boolean }).skipUrlSync = true;
  return built;
}

/**
 * A data link to the asset-detail page for the row's symbol on the row's venue (`var-exchange`: the same
 * pair on two venues is two rows, docs/DASHBOARDS.md "Venues"), keeping the time range. `exchange`: the
 * row's venue field, or null where rows have none (alerts): asset detail then opens the symbol's first venue.
 */
export const assetDetailLink = (field = 'symbol', exchange: string | null = 'exchange') => ({
  title: 'Asset detail',
  url: `/d/asset-detail/asset-detail?var-symbol=\${__data.fields.${field}:percentencode}${exchange ? `&var-exchange=\${__data.fields.${exchange}:percentencode}` : ''}&\${__url_time_range}`,
});

/** Field override properties that make a column a clickable symbol (amber, links to asset detail on the row's venue). */
export const symbolCell = (exchange: string | null = 'exchange') => [
  { id: 'color', value: { mode: 'fixed', fixedColor: COLOR.amber } },
  { id: 'custom.cellOptions', value: { type: 'color-text' } },
  { id: 'links', value: [assetDetailLink('symbol', exchange)] },
];

/**
 * Hidden `$rp`: the retention policy for the selected range, read from the `rp_config` points that the
 * influxdb-tasks installer writes (raw ≤ 2 d, 5m ≤ 30 d, 1h beyond). Re-evaluated on every range change.
 */
export function rpVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder('rp')
    .label('retention')
    .datasource(DS.markets)
    .query(RP_VARIABLE_QUERY)
    .definition(RP_VARIABLE_QUERY)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .hide(VariableHide.HideVariable);
}

/**
 * Hidden `$tf`: the candle timeframe (`1m`, `5m`, `1h`, `1d`) the chart shows for the selected range, from
 * the same `rp_config` row as `$rp` (docs/INFLUXDB.md, "Timeframes"). Panels filter `"interval" = '$tf'`
 * and group by `time($tf)`, so each bar is one stored candle and the indicators are that timeframe's.
 */
export function tfVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder('tf')
    .label('timeframe')
    .datasource(DS.markets)
    .query(TF_VARIABLE_QUERY)
    .definition(TF_VARIABLE_QUERY)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .hide(VariableHide.HideVariable);
}

/** A variable listing a tag's values from the data. */
export function tagVariable(name: string, ds: DataSourceRef, query: string, opts: { multi?: boolean; label?: string } = {}): QueryVariableBuilder {
  const v = new QueryVariableBuilder(name)
    .label(opts.label ?? name)
    .datasource(ds)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
  // multi-value ones start on "All"
  return opts.multi ? v.multi(true).includeAll(true).current({ selected: true, text: ['All'], value: ['$__all'] }) : v;
}

/** A single colour for a whole panel. */
export const fixedColor = (c: string) => new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor(c);

/** Red below zero, green from zero: every "change" field. */
export function changeThresholds(): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: COLOR.down },
    { value: 0, color: COLOR.up },
  ]);
}

/** Steps from `[value, colour]`; the first step starts at -∞. */
export function steps(first: string, ...rest: [number, string][]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: first }, ...rest.map(([value, color]) => ({ value, color }))]);
}

/** Places panels left to right in rows of 24 columns. */
export class Grid {
  private x = 0;
  private y = 0;
  private rowH = 0;
  at(w: number, h: number): GridPos {
    if (this.x + w > 24) this.newRow();
    const pos = { x: this.x, y: this.y, w, h };
    this.x += w;
    this.rowH = Math.max(this.rowH, h);
    return pos;
  }
  newRow(): void {
    this.y += this.rowH;
    this.x = 0;
    this.rowH = 0;
  }
}

/** Regex match of a tag on a multi-value variable (Grafana escapes the values, `/` included). */
export const tagIn = (tag: string, variable: string) => `"${tag}" =~ /^$${variable}$/`;

/** A field matched by name, as a `calculateField` operand. */
export const fieldNamed = (n: string) => ({ matcher: { id: 'byName', options: n } });

/** `calculateField` binary: `alias` = left `operator` right (operands: fieldNamed(…) or `{ fixed: '…' }`). */
export const binaryField = (alias: string, left: object, operator: string, right: object): DataTransformerConfig => ({
  id: 'calculateField',
  options: { mode: 'binary', alias, binary: { left, operator, right } },
});
