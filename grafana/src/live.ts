// Panels streamed by Grafana Live (docs/GRAFANA_LIVE.md): a `-- Mixed --` panel whose InfluxDB query is
// the history behind a `-- Grafana --` measurements query on the channel the market feeder pushes to.
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { ReduceDataOptionsBuilder, BigValueColorMode, BigValueTextMode, BigValueGraphMode } from '@grafana/grafana-foundation-sdk/common';
import { BUILTIN_DS, COLOR, DS, InfluxQL, LiveMeasurements, fixedColor, liveOverStored } from './defaults.js';

export interface LivePriceOptions {
  title: string;
  description: string;
  /** InfluxQL condition selecting the symbols of the stored query. */
  where: string;
  /** Show only this symbol (e.g. `$symbol`): the Live channel carries every symbol. */
  symbol?: string;
}

/** Last price per symbol: live (stream/markets/ticker) over the stored last quote, which shows with Live off. */
export function livePriceStat(o: LivePriceOptions): Stat {
  const t = new Stat()
    .title(o.title)
    .description(o.description)
    .datasource(BUILTIN_DS.mixed)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("price") AS "price" FROM "raw"."market_data" WHERE time > now() - 7d AND ${o.where} GROUP BY "symbol"`, 'A').alias('$tag_symbol'))
    .withTarget(new LiveMeasurements('ticker', 'B'));
  for (const tr of liveOverStored('price')) t.withTransformation(tr);
  if (o.symbol)
    t.withTransformation({
      id: 'filterByValue',
      options: { type: 'include', match: 'any', filters: [{ fieldName: 'symbol', config: { id: 'equal', options: { value: o.symbol } } }] },
    });
  return t
    .reduceOptions(new ReduceDataOptionsBuilder().values(true).fields('/^Last/'))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .colorScheme(fixedColor(COLOR.amber))
    .decimals(2)
    .noValue('—')
    .overrideByRegexp('/^Last/', [{ id: 'displayName', value: '${__data.fields.symbol}' }]);
}
