// uid markets-overview: the watch set at a glance — last price, 24 h change, volume, market cap and a
// sparkline; crypto heat map; world indices; FX; Fear & Greed; top movers.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Gauge } from '@grafana/grafana-foundation-sdk/gauge';
import { ReduceDataOptionsBuilder, BigValueColorMode, BigValueTextMode, BigValueGraphMode, TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, finish, InfluxQL, changeThresholds, rpVariable, steps, tagIn, tagVariable, terminalDashboard } from '../defaults.js';

const SYMBOL_CELL = [
  { id: 'color', value: { mode: 'fixed', fixedColor: COLOR.amber } },
  { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
];
const LAST = (fields: [string, string][]) => fields.map(([f, as]) => `last("${f}") AS "${as}"`).join(', ');

/** Latest values per symbol of one asset type; `time > now() - 7d`: the raw rp's retention, whatever range is shown. */
function quotesTable(title: string, assetType: string, extra: [string, string][] = []): Table {
  return new Table()
    .title(title)
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT ${LAST([['price', 'price'], ['change_pct_24h', 'change_24h'], ...extra])} FROM "raw"."market_data" ` +
          `WHERE time > now() - 7d AND "asset_type" = '${assetType}' GROUP BY "symbol"`,
      ).table(),
    )
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true }, indexByName: { symbol: 0, price: 1, change_24h: 2 } } })
    .cellHeight('sm' as never)
    .overrideByName('change_24h', [
      { id: 'unit', value: 'percent' },
      { id: 'decimals', value: 2 },
      { id: 'displayName', value: '24h %' },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
      { id: 'thresholds', value: changeThresholds().build() },
    ])
    .overrideByName('symbol', SYMBOL_CELL);
}

function movers(title: string, desc: boolean): Table {
  return new Table()
    .title(title)
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(DS.markets, `SELECT ${LAST([['change_pct_24h', 'change_24h'], ['price', 'price']])} FROM "raw"."market_data" WHERE time > now() - 1d GROUP BY "symbol"`).table(),
    )
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true } } })
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'change_24h', desc }] } })
    .withTransformation({ id: 'limit', options: { limitField: 5 } })
    .cellHeight('sm' as never)
    .overrideByName('change_24h', [
      { id: 'unit', value: 'percent' },
      { id: 'decimals', value: 2 },
      { id: 'displayName', value: '24h %' },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
      { id: 'thresholds', value: changeThresholds().build() },
    ]);
}

export function marketsOverview(): Dashboard {
  const g = new Grid();
  const watchSet = new Table()
    .title('Watch set')
    .description('Last price, 24 h change, volume and market cap per symbol, sparkline over the selected range.')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT ${LAST([['price', 'price'], ['change_pct_24h', 'change_24h'], ['volume_24h', 'volume_24h'], ['market_cap', 'market_cap']])} ` +
          `FROM "raw"."market_data" WHERE time > now() - 7d AND ${tagIn('symbol', 'symbol')} GROUP BY "symbol", "asset_type"`,
        'A',
      ).table(),
    )
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT mean("price") AS "price" FROM "$rp"."market_data" WHERE $timeFilter AND ${tagIn('symbol', 'symbol')} GROUP BY time($__interval), "symbol" fill(none)`,
        'B',
      ).alias('$tag_symbol'),
    )
    // B's series become one row per symbol with a `trend` field (the sparkline), joined onto A's rows
    .withTransformation({ id: 'timeSeriesTable', options: { B: { stat: 'lastNotNull' } } })
    .withTransformation({ id: 'joinByField', options: { byField: 'symbol', mode: 'outer' } })
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true }, indexByName: { symbol: 0, asset_type: 1, price: 2, change_24h: 3 } } })
    .cellHeight('sm' as never)
    .sortBy([new TableSortByFieldStateBuilder().displayName('24h %').desc(true)])
    .overrideByName('change_24h', [
      { id: 'unit', value: 'percent' },
      { id: 'decimals', value: 2 },
      { id: 'displayName', value: '24h %' },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
      { id: 'thresholds', value: changeThresholds().build() },
    ])
    .overrideByName('volume_24h', [{ id: 'unit', value: 'short' }, { id: 'displayName', value: 'Volume 24h' }])
    .overrideByName('market_cap', [{ id: 'unit', value: 'currencyUSD' }, { id: 'decimals', value: 0 }, { id: 'displayName', value: 'Mkt cap' }])
    .overrideByName('symbol', [...SYMBOL_CELL, { id: 'links', value: [{ title: 'Asset detail', url: '/d/asset-detail/asset-detail?var-symbol=${__value.raw}&${__url_time_range}' }] }])
    .overrideByName('Trend #B', [{ id: 'custom.cellOptions', value: { type: TableCellDisplayMode.Sparkline } }, { id: 'color', value: { mode: 'fixed', fixedColor: COLOR.amber } }])
    .gridPos(g.at(16, 12));

  const heat = new Stat()
    .title('Crypto heat map (24 h %)')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(DS.markets, `SELECT last("change_pct_24h") FROM "raw"."market_data" WHERE time > now() - 1d AND "asset_type" = 'crypto' GROUP BY "symbol"`).alias(
        '$tag_symbol',
      ),
    )
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .colorMode(BigValueColorMode.BackgroundSolid)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .unit('percent')
    .decimals(2)
    .thresholds(steps('#8B0000', [-5, '#C4162A'], [-2, '#E0474C'], [0, '#37872D'], [2, '#56A64B'], [5, '#00D26A']))
    .gridPos(g.at(8, 12));

  const fearGreed = new Gauge()
    .title('Fear & Greed')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, 'SELECT last("value") AS "value" FROM "raw"."fear_greed" WHERE time > now() - 7d'))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .min(0)
    .max(100)
    .thresholds(steps('#C4162A', [25, COLOR.orange], [45, COLOR.amber], [55, '#73BF69'], [75, COLOR.up]))
    .gridPos(g.at(4, 8));

  const panels = [
    watchSet,
    heat,
    fearGreed,
    quotesTable('World indices', 'index').gridPos(g.at(10, 8)),
    quotesTable('FX cross rates', 'forex', [['bid', 'bid'], ['ask', 'ask']]).gridPos(g.at(10, 8)),
    movers('Top gainers (24 h)', true).gridPos(g.at(12, 7)),
    movers('Top losers (24 h)', false).gridPos(g.at(12, 7)),
  ];
  const d = terminalDashboard('markets-overview', 'Markets overview')
    .withVariable(tagVariable('symbol', DS.markets, 'SHOW TAG VALUES FROM "raw"."market_data" WITH KEY = "symbol"', { multi: true }))
    .withVariable(rpVariable());
  return finish(d, panels);
}
