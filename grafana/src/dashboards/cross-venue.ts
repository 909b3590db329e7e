// uid cross-venue: one spot pair on every venue that streams it — last price per venue, dispersion
// (max − min across venues in bps of the median) and each venue's deviation from the median. Pairs are
// matched by their unified `BASE/QUOTE` symbol only: BTC/USD (coinbase, kraken) and BTC/USDT (binance)
// are different pairs and are never mixed (docs/DASHBOARDS.md, "Cross-venue").
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { BigValueColorMode, BigValueGraphMode, BigValueTextMode, ReduceDataOptionsBuilder, TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, InfluxQL, binaryField, fieldNamed, changeThresholds, finish, fixedColor, rpVariable, steps, terminalDashboard, tagVariable } from '../defaults.js';
import { fromClause } from '@mt/common';

const PAIR = `"symbol" = '$pair' AND "asset_type" = 'crypto'`;
/** Each venue's last price of the pair within the hour (a venue silent for an hour is left out). */
const LAST_PER_VENUE = `SELECT last("price") AS "last" FROM ${fromClause('market_data', 'raw')} WHERE time > now() - 1h AND ${PAIR} GROUP BY "exchange"`;
/** Dispersion in bps: (max − min) / median × 10 000 over the venues' prices. */
const DISPERSION = `(max("last") - min("last")) / median("last") * 10000`;
const bps = (decimals: number) => [{ id: 'unit', value: 'suffix:bps' }, { id: 'decimals', value: decimals }];
/** Above this dispersion (bps) the venues disagree enough to look at (amber), far above (red). */
export const DISPERSION_WARN_BPS = 10;
export const DISPERSION_ALERT_BPS = 50;

export function crossVenue(): Dashboard {
  const g = new Grid();
  // the venues' rows and the median, both at time 0 (an aggregate without GROUP BY time), joined on it:
  // every venue row gets the median beside it
  const venues = new Table()
    .title('$pair per venue')
    .description('Last price per venue within the hour, and its deviation from the median of the venues, in bps.')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT mean("last") AS "last" FROM (${LAST_PER_VENUE}) GROUP BY "exchange"`, 'A').table())
    .withTarget(new InfluxQL(DS.markets, `SELECT median("last") AS "median" FROM (${LAST_PER_VENUE})`, 'B').table())
    .withTransformation({ id: 'joinByField', options: { byField: 'Time', mode: 'inner' } })
    .withTransformation(binaryField('dev', fieldNamed('last'), '-', fieldNamed('median')))
    .withTransformation(binaryField('dev_frac', fieldNamed('dev'), '/', fieldNamed('median')))
    .withTransformation(binaryField('deviation', fieldNamed('dev_frac'), '*', { fixed: '10000' }))
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true, dev: true, dev_frac: true, median: true }, indexByName: { exchange: 0, last: 1, deviation: 2 } } })
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'last', desc: true }] } })
    .cellHeight('sm' as never)
    .overrideByName('exchange', [{ id: 'displayName', value: 'Venue' }, { id: 'color', value: { mode: 'fixed', fixedColor: COLOR.amber } }, { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } }])
    .overrideByName('last', [{ id: 'displayName', value: 'Last' }, { id: 'decimals', value: 2 }])
    .overrideByName('deviation', [
      { id: 'displayName', value: 'vs median' },
      ...bps(1),
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
      { id: 'thresholds', value: changeThresholds().build() },
    ])
    .gridPos(g.at(14, 8));

  const now = new Stat()
    .title('Dispersion now')
    .description('(max − min) / median of the venues\u2019 last prices within the hour, in bps.')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT ${DISPERSION} AS "Dispersion", count("last") AS "Venues" FROM (${LAST_PER_VENUE})`).table())
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/^(Dispersion|Venues)$/'))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .colorScheme(fixedColor(COLOR.amber))
    .noValue('—')
    .overrideByName('Dispersion', [...bps(1), { id: 'thresholds', value: steps(COLOR.up, [DISPERSION_WARN_BPS, COLOR.amber], [DISPERSION_ALERT_BPS, COLOR.down]).build() }, { id: 'color', value: { mode: 'thresholds' } }])
    .overrideByName('Venues', [{ id: 'decimals', value: 0 }])
    .gridPos(g.at(10, 8));

  const prices = new TimeSeries()
    .title('$pair last per venue')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("price") FROM ${fromClause('market_data', '$rp')} WHERE $timeFilter AND ${PAIR} GROUP BY time($__interval), "exchange" fill(none)`).alias('$tag_exchange'))
    .gridPos(g.at(12, 9));

  const dispersion = new TimeSeries()
    .title('Dispersion across venues (bps)')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT ${DISPERSION} AS "dispersion" FROM (SELECT last("price") AS "last" FROM ${fromClause('market_data', '$rp')} WHERE $timeFilter AND ${PAIR} GROUP BY time($__interval), "exchange" fill(none)) ` +
          'WHERE $timeFilter GROUP BY time($__interval) fill(none)',
      ).alias('$col'),
    )
    .unit('suffix:bps')
    .decimals(1)
    .colorScheme(fixedColor(COLOR.amber))
    .gridPos(g.at(12, 9));

  const d = terminalDashboard('cross-venue', 'Cross-venue').withVariable(
    // spot pairs only (a perpetual `BTC/USDT:USDT` is on the derivatives dashboard)
    tagVariable('pair', DS.markets, `SHOW TAG VALUES FROM ${fromClause('market_data', 'raw')} WITH KEY = "symbol" WHERE "asset_type" = 'crypto'`, { label: 'pair' }).regex('/^([^:]+)$/'),
  ).withVariable(rpVariable());
  return finish(d, [venues, now, prices, dispersion]);
}
