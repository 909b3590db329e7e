// Panels streamed by Grafana Live (docs/GRAFANA_LIVE.md): a `-- Mixed --` panel whose InfluxDB query is
// the history behind a `-- Grafana --` measurements query on the channel the market feeder pushes to.
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { ReduceDataOptionsBuilder, BigValueColorMode, BigValueTextMode, BigValueGraphMode } from '@grafana/grafana-foundation-sdk/common';
import type { DataTransformerConfig, DynamicConfigValue, MatcherConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { BUILTIN_DS, COLOR, DS, InfluxQL, LiveMeasurements, fixedColor, liveOverStored } from './defaults.js';
import { fromClause } from '@mt/common';

export interface LivePriceOptions {
  title: string;
  description: string;
  /** InfluxQL condition selecting the symbols of the stored query. */
  where: string;
  /** Show only this symbol (e.g. `$symbol`): the Live channel carries every symbol. */
  symbol?: string;
  /**
   * Take Live ticks of this venue only (e.g. `$exchange`): the channel carries the same pair from several
   * venues, one label set each (docs/GRAFANA_LIVE.md, "Venues"). `where` must select the same venue.
   */
  exchange?: string;
  /** Name each value `<symbol> · <exchange>` (a panel of every venue) instead of the symbol alone. */
  venueInName?: boolean;
  /** Price decimals of the panel (default 2); null: none, the caller's `overrides` set them per field. */
  decimals?: number | null;
  /** More transformations, after the live-over-stored ones (and the symbol filter). */
  transformations?: DataTransformerConfig[];
  /** Field overrides, matched on the names the transformations give (before the display rename to the symbol). */
  overrides?: { matcher: MatcherConfig; properties: DynamicConfigValue[] }[];
}

/**
 * Last price per venue and symbol: live (stream/markets/ticker) over the stored last quote, which shows
 * with Live off. The same pair on two venues is two values (docs/DASHBOARDS.md, "Venues").
 */
export function livePriceStat(o: LivePriceOptions): Stat {
  const t = new Stat()
    .title(o.title)
    .description(o.description)
    .datasource(BUILTIN_DS.mixed)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("price") AS "price" FROM ${fromClause('market_data', 'raw')} WHERE time > now() - 7d AND ${o.where} GROUP BY "symbol", "exchange"`, 'A').alias('$tag_symbol'))
    .withTarget(new LiveMeasurements('ticker', 'B'));
  const [reduce, ...rest] = liveOverStored('price');
  t.withTransformation(reduce!);
  // after the reduce, before per-symbol grouping; the stored rows carry their exchange too (GROUP BY)
  if (o.exchange)
    t.withTransformation({ id: 'filterByValue', options: { type: 'include', match: 'any', filters: [{ fieldName: 'exchange', config: { id: 'equal', options: { value: o.exchange } } }] } });
  for (const tr of rest) t.withTransformation(tr);
  if (o.symbol)
    t.withTransformation({
      id: 'filterByValue',
      options: { type: 'include', match: 'any', filters: [{ fieldName: 'symbol', config: { id: 'equal', options: { value: o.symbol } } }] },
    });
  for (const tr of o.transformations ?? []) t.withTransformation(tr);
  // every row of the numeric fields: the value field alone (exchange and symbol are strings). Not a
  // `/^Last/` field regexp: Grafana matches it against the display name, which the rename below makes
  // the symbol's, so the stat found no field and drew "—" (docs/DASHBOARDS.md, "Grafana Live")
  t.reduceOptions(new ReduceDataOptionsBuilder().values(true))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .colorScheme(fixedColor(COLOR.amber));
  if (o.decimals !== null) t.decimals(o.decimals ?? 2);
  t.noValue('—');
  // before the display rename: name matchers read the display name
  for (const ov of o.overrides ?? []) t.withOverride(ov);
  return t
    .overrideByRegexp('/^Last/', [{ id: 'displayName', value: o.venueInName ? '${__data.fields.symbol} · ${__data.fields.exchange}' : '${__data.fields.symbol}' }]);
}
