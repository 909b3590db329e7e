// uid markets-overview: the watch set at a glance, one table per instrument class (each at its own
// precision: see quotes.ts) with age and market state; world indices with net and % change (WEI); FX;
// Fear & Greed; crypto heat map; movers by % and by volume (MOST); 24 h % over the range; top stories (TOP).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Gauge } from '@grafana/grafana-foundation-sdk/gauge';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { ReduceDataOptionsBuilder, BigValueColorMode, BigValueTextMode, BigValueGraphMode, TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { COLOR, DS, Grid, finish, InfluxQL, changeThresholds, rpVariable, steps, symbolCell, tagIn, tagVariable, terminalDashboard } from '../defaults.js';
import { JPY_DECIMALS, PRICE_DECIMALS, quoteTable } from '../quotes.js';
import { topStoriesTable } from './news.js';
import { livePriceStat } from '../live.js';
import { fromClause } from '@mt/common';

const WATCH = tagIn('symbol', 'symbol');
const typeIs = (t: string) => `"asset_type" = '${t}'`;

/**
 * MOST: the day's movers. Gainers only above 0, losers only below, most active by (crypto quote) volume.
 * One row per venue and symbol (BTC/USD on kraken and on coinbase are two rows), with a Venue column.
 */
function movers(title: string, kind: 'gainers' | 'losers' | 'volume'): Table {
  const t = new Table()
    .title(title)
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT last("change_pct_24h") AS "change_24h", "volume_24h" FROM ${fromClause('market_data', 'raw')} WHERE time > now() - 1d${kind === 'volume' ? ` AND ${typeIs('crypto')}` : ''} GROUP BY "symbol", "exchange"`,
      ).table(),
    );
  if (kind !== 'volume')
    t.withTransformation({
      id: 'filterByValue',
      options: { type: 'include', match: 'all', filters: [{ fieldName: 'change_24h', config: { id: kind === 'gainers' ? 'greater' : 'lower', options: { value: 0 } } }] },
    });
  const sortField = kind === 'volume' ? 'volume_24h' : 'change_24h';
  return t
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: sortField, desc: kind !== 'losers' }] } })
    .withTransformation({ id: 'limit', options: { limitField: 5 } })
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true, ...(kind === 'volume' ? {} : { volume_24h: true }) }, indexByName: { symbol: 0, exchange: 1, change_24h: 2, volume_24h: 3 } } })
    .cellHeight('sm' as never)
    .overrideByName('symbol', [{ id: 'displayName', value: 'Symbol' }, ...symbolCell()])
    .overrideByName('exchange', [{ id: 'displayName', value: 'Venue' }])
    .overrideByName('volume_24h', [{ id: 'displayName', value: 'Volume 24h (USD)' }, { id: 'unit', value: 'currencyUSD' }, { id: 'decimals', value: 2 }])
    .overrideByName('change_24h', [
      { id: 'displayName', value: '24h %' },
      { id: 'unit', value: 'percent' },
      { id: 'decimals', value: 2 },
      { id: 'custom.cellOptions', value: { type: kind === 'volume' ? TableCellDisplayMode.ColorText : TableCellDisplayMode.ColorBackground } },
      { id: 'thresholds', value: changeThresholds().build() },
    ]);
}

export function marketsOverview(): Dashboard {
  const g = new Grid();
  const tape = livePriceStat({
    title: 'Ticker tape (live)',
    description: 'Last price per watched symbol and venue, pushed by the market feeder through Grafana Live within a second; the stored last quote (InfluxDB) when Live is off.',
    where: WATCH,
    venueInName: true,
  }).gridPos(g.at(24, 3));
  const crypto = quoteTable({
    title: 'Crypto',
    description: 'Watch set, crypto priced at 1 USD or more: last, bid/ask, 1 h and 24 h change, quote volume, market cap, quote age; STALE after 60 s without a quote.',
    where: `${typeIs('crypto')} AND ${WATCH}`,
    decimals: PRICE_DECIMALS.crypto,
    priceRange: { min: 1 },
    bidAsk: true,
    volume: true,
    marketCap: true,
    source: 'crypto',
    venue: true,
    live: true,
  }).gridPos(g.at(14, 9));

  const heat = new Stat()
    .title('Crypto heat map (24 h %)')
    .datasource(DS.markets)
    .withTarget(
      // a tile per venue and symbol: `BTC/USD · kraken` beside `BTC/USD · coinbase`
      new InfluxQL(DS.markets, `SELECT last("change_pct_24h") FROM ${fromClause('market_data', 'raw')} WHERE time > now() - 1d AND ${typeIs('crypto')} GROUP BY "symbol", "exchange"`).alias(
        '$tag_symbol · $tag_exchange',
      ),
    )
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .colorMode(BigValueColorMode.BackgroundSolid)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .unit('percent')
    .decimals(2)
    .thresholds(steps('#8B0000', [-5, '#C4162A'], [-2, '#E0474C'], [0, '#37872D'], [2, '#56A64B'], [5, '#00D26A']))
    .gridPos(g.at(6, 9));

  const fearGreed = new Gauge()
    .title('Fear & Greed')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("value") AS "value" FROM ${fromClause('fear_greed', 'raw')} WHERE time > now() - 7d`))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .min(0)
    .max(100)
    .thresholds(steps('#C4162A', [25, COLOR.orange], [45, COLOR.amber], [55, '#73BF69'], [75, COLOR.up]))
    .gridPos(g.at(4, 9));

  const stocks = quoteTable({
    title: 'Stocks',
    where: `${typeIs('stock')} AND ${WATCH}`,
    decimals: PRICE_DECIMALS.stock,
    volume: true,
    marketCap: true,
    source: 'yahoo',
    live: true,
  }).gridPos(g.at(12, 8));
  const indices = quoteTable({
    title: 'World indices',
    description: 'WEI: last, net and % change against the previous close, quote age, market state.',
    where: typeIs('index'),
    decimals: PRICE_DECIMALS.index,
    netChange: true,
    source: 'yahoo',
    live: true,
  }).gridPos(g.at(12, 8));
  const fx = quoteTable({
    title: 'FX cross rates',
    where: `${typeIs('forex')} AND "symbol" !~ /JPY/`,
    decimals: PRICE_DECIMALS.forex,
    bidAsk: true,
    source: 'yahoo',
    live: true,
  }).gridPos(g.at(10, 7));
  const fxJpy = quoteTable({ title: 'FX — JPY pairs', where: `${typeIs('forex')} AND "symbol" =~ /JPY/`, decimals: JPY_DECIMALS, bidAsk: true, source: 'yahoo', live: true }).gridPos(g.at(7, 7));
  const smallCrypto = quoteTable({
    title: 'Crypto under 1 USD',
    description: 'Sub-dollar coins at their significant digits.',
    where: `${typeIs('crypto')} AND ${WATCH}`,
    decimals: undefined,
    priceRange: { max: 1 },
    source: 'crypto',
    venue: true,
    live: true,
  }).gridPos(g.at(7, 7));

  const change = new TimeSeries()
    .title('24 h % change — watch set')
    .datasource(DS.markets)
    .withTarget(
      // a line per venue and symbol: one pair's two venues are never folded into one line
      new InfluxQL(DS.markets, `SELECT last("change_pct_24h") FROM ${fromClause('market_data', '$rp')} WHERE $timeFilter AND ${WATCH} GROUP BY time($__interval), "symbol", "exchange" fill(none)`).alias(
        '$tag_symbol · $tag_exchange',
      ),
    )
    .unit('percent')
    .decimals(2)
    .gridPos(g.at(14, 9));

  const news = topStoriesTable('Top stories', 'WHERE time > now() - 1d', 200, 15).gridPos(g.at(10, 9));

  const panels = [
    tape,
    crypto,
    heat,
    fearGreed,
    stocks,
    indices,
    fx,
    fxJpy,
    smallCrypto,
    movers('Top gainers (24 h)', 'gainers').gridPos(g.at(8, 7)),
    movers('Top losers (24 h)', 'losers').gridPos(g.at(8, 7)),
    movers('Most active (24 h volume)', 'volume').gridPos(g.at(8, 7)),
    change,
    news,
  ];
  const d = terminalDashboard('markets-overview', 'Markets overview')
    .withVariable(tagVariable('symbol', DS.markets, `SHOW TAG VALUES FROM ${fromClause('market_data', 'raw')} WITH KEY = "symbol"`, { multi: true }))
    .withVariable(rpVariable());
  return finish(d, panels);
}
