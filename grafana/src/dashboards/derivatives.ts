// uid derivatives: one perpetual — funding (per interval and annualised, next funding time), mark vs
// index, open interest, liquidations, and the basis perp − spot (docs/DASHBOARDS.md, "Derivatives").
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { QueryVariableBuilder, VariableHide, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { AxisPlacement, BigValueColorMode, BigValueGraphMode, BigValueTextMode, GraphDrawStyle, ReduceDataOptionsBuilder, TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, InfluxQL, binaryField, fieldNamed, changeThresholds, finish, fixedColor, rpVariable, tagVariable, terminalDashboard } from '../defaults.js';
import { fromClause } from '@mt/common';

/** Charts over the range read the policy `$rp` chooses (the rollups carry every field shown here, docs/INFLUXDB.md). */
const FUNDING = fromClause('funding', '$rp');
const LIQUIDATIONS = fromClause('liquidations', '$rp');
/** The perpetual on its venue. */
const PERP = `"symbol" = '$symbol' AND "exchange" = '$exchange'`;
/** The spot pair of the same base/quote on binance (`BTC/USDT:USDT` → `BTC/USDT`): the basis's reference. */
export const SPOT_EXCHANGE = 'binance';
/**
 * The annualised rate is the rate × the fundings in a year, 24 × 365 / `funding_interval_hours`: Binance
 * USDⓈ-M settles most perpetuals every 8 h and some every 4 h or 1 h, and the feeder stores each point's
 * interval (docs/DASHBOARDS.md, "Derivatives").
 */
export const HOURS_PER_YEAR = 24 * 365;
const fixed = (c: string) => ({ id: 'color', value: { mode: 'fixed', fixedColor: c } });

export function derivatives(): Dashboard {
  const g = new Grid();
  const funding = new Stat()
    .title('Funding — $symbol ($exchange)')
    .description(`Funding rate per interval (the venue's fraction × 100), annualised × ${HOURS_PER_YEAR} / the symbol's funding interval in hours (× 1095 at 8 h, × 2190 at 4 h), the next funding time (UTC), mark and index price.`)
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT last("funding_rate") * 100 AS "Funding", last("funding_rate") * ${100 * HOURS_PER_YEAR} / last("funding_interval_hours") AS "Annualised", last("next_funding_time") AS "Next funding", ` +
          `last("mark_price") AS "Mark", last("index_price") AS "Index" FROM ${fromClause('funding', 'raw')} WHERE time > now() - 1d AND ${PERP}`,
      ).table(),
    )
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/^(Funding|Annualised|Next funding|Mark|Index)$/'))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .colorScheme(fixedColor(COLOR.amber))
    .noValue('—')
    // positive funding: longs pay shorts (green), negative: shorts pay longs (red)
    .overrideByRegexp('/^(Funding|Annualised)$/', [{ id: 'unit', value: 'percent' }, { id: 'thresholds', value: changeThresholds().build() }, { id: 'color', value: { mode: 'thresholds' } }])
    .overrideByName('Funding', [{ id: 'decimals', value: 4 }])
    .overrideByName('Annualised', [{ id: 'decimals', value: 2 }])
    .overrideByName('Next funding', [{ id: 'unit', value: 'dateTimeAsIso' }])
    .overrideByRegexp('/^(Mark|Index)$/', [{ id: 'decimals', value: 2 }])
    .gridPos(g.at(24, 4));

  const rate = new TimeSeries()
    .title('Funding rate % per interval')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("funding_rate") * 100 AS "funding %" FROM ${FUNDING} WHERE $timeFilter AND ${PERP} GROUP BY time($__interval) fill(none)`).alias('$col'))
    .unit('percent')
    .decimals(4)
    .colorScheme(fixedColor(COLOR.amber))
    .gridPos(g.at(12, 8));

  const markIndex = new TimeSeries()
    .title('Mark vs index')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("mark_price") AS "mark", last("index_price") AS "index" FROM ${FUNDING} WHERE $timeFilter AND ${PERP} GROUP BY time($__interval) fill(none)`).alias('$col'))
    .decimals(2)
    .overrideByName('mark', [fixed(COLOR.amber)])
    .overrideByName('index', [fixed(COLOR.blue)])
    .gridPos(g.at(12, 8));

  const oi = new TimeSeries()
    .title('Open interest')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT last("open_interest") AS "contracts", last("open_interest_value") AS "value (quote)" FROM ${fromClause('open_interest', '$rp')} WHERE $timeFilter AND ${PERP} GROUP BY time($__interval) fill(none)`,
      ).alias('$col'),
    )
    .unit('short')
    .decimals(2)
    .overrideByName('contracts', [fixed(COLOR.amber)])
    .overrideByName('value (quote)', [fixed(COLOR.blue), { id: 'custom.axisPlacement', value: AxisPlacement.Right }])
    .gridPos(g.at(12, 8));

  // a `sell` liquidation is a long position closed by force, a `buy` one a short (docs/INFLUXDB.md)
  const liq = new TimeSeries()
    .title('Liquidations per interval (quote value)')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(DS.markets, `SELECT sum("value") AS "value" FROM ${LIQUIDATIONS} WHERE $timeFilter AND ${PERP} GROUP BY time($__interval), "side" fill(0)`).alias('$tag_side'),
    )
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .unit('short')
    .decimals(2)
    .overrideByName('buy', [fixed(COLOR.up), { id: 'displayName', value: 'buy (shorts liquidated)' }])
    .overrideByName('sell', [fixed(COLOR.down), { id: 'displayName', value: 'sell (longs liquidated)' }])
    .gridPos(g.at(12, 8));

  const largest = new Table()
    .title('Largest liquidations')
    .description('Each liquidation, largest value first, over ranges of up to 2 days; beyond, the rollups: per side the largest 5-minute (or 1-hour) windows, quantity and value summed, price the window\u2019s last.')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT "side", "price", "quantity", "value" FROM ${LIQUIDATIONS} WHERE $timeFilter AND ${PERP}`).table())
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'value', desc: true }] } })
    .withTransformation({ id: 'limit', options: { limitField: 20 } })
    .cellHeight('sm' as never)
    .overrideByName('side', [
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
      { id: 'mappings', value: [{ type: 'value', options: { buy: { text: 'BUY', color: COLOR.up, index: 0 }, sell: { text: 'SELL', color: COLOR.down, index: 1 } } }] },
    ])
    .overrideByName('price', [{ id: 'decimals', value: 2 }])
    .overrideByName('quantity', [{ id: 'decimals', value: 3 }])
    .overrideByName('value', [{ id: 'unit', value: 'short' }, { id: 'decimals', value: 2 }])
    .gridPos(g.at(12, 8));

  // basis = perp mark − spot last per interval, joined on time (table frames keep their column names)
  const basis = new TimeSeries()
    .title('Basis perp − spot ($spot on binance)')
    .description('Mark price of the perpetual minus the last spot price of the same base/quote on binance, per interval, in quote currency and in bps of the spot price.')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("mark_price") AS "mark" FROM ${FUNDING} WHERE $timeFilter AND ${PERP} GROUP BY time($__interval) fill(none)`, 'A').table())
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT last("price") AS "spot" FROM ${fromClause('market_data', '$rp')} WHERE $timeFilter AND "symbol" = '$spot' AND "exchange" = '${SPOT_EXCHANGE}' GROUP BY time($__interval) fill(none)`,
        'B',
      ).table(),
    )
    .withTransformation({ id: 'joinByField', options: { byField: 'Time', mode: 'inner' } })
    .withTransformation(binaryField('basis', fieldNamed('mark'), '-', fieldNamed('spot')))
    .withTransformation(binaryField('basis_frac', fieldNamed('basis'), '/', fieldNamed('spot')))
    .withTransformation(binaryField('basis bps', fieldNamed('basis_frac'), '*', { fixed: '10000' }))
    .withTransformation({ id: 'organize', options: { excludeByName: { mark: true, spot: true, basis_frac: true } } })
    .overrideByName('basis', [{ id: 'decimals', value: 2 }, fixed(COLOR.amber)])
    .overrideByName('basis bps', [{ id: 'unit', value: 'suffix:bps' }, { id: 'decimals', value: 1 }, fixed(COLOR.blue), { id: 'custom.axisPlacement', value: AxisPlacement.Right }])
    .gridPos(g.at(24, 8));

  const d = terminalDashboard('derivatives', 'Derivatives')
    .withVariable(tagVariable('symbol', DS.markets, `SHOW TAG VALUES FROM ${fromClause('funding', 'raw')} WITH KEY = "symbol"`, { label: 'perpetual' }))
    .withVariable(tagVariable('exchange', DS.markets, `SHOW TAG VALUES FROM ${fromClause('funding', 'raw')} WITH KEY = "exchange" WHERE "symbol" = '$symbol'`, { label: 'venue' }))
    .withVariable(
      new QueryVariableBuilder('spot')
        .datasource(DS.markets)
        .query(`SHOW TAG VALUES FROM ${fromClause('funding', 'raw')} WITH KEY = "symbol" WHERE "symbol" = '$symbol'`)
        .regex('/^([^:]+):/')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .hide(VariableHide.HideVariable),
    )
    .withVariable(rpVariable());
  return finish(d, [funding, rate, markIndex, oi, liq, largest, basis]);
}
