// uid asset-detail: one symbol — quote, candlesticks with volume and SMA/EMA/Bollinger overlays, RSI,
// MACD, and the latest news about the asset with sentiment.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { AnnotationQueryBuilder, QueryVariableBuilder, VariableHide, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Candles, VizDisplayMode, CandleStyle, ColorStrategy, CandlestickFieldMapBuilder, CandlestickColorsBuilder } from '@grafana/grafana-foundation-sdk/candlestick';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  GraphDrawStyle,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LineStyleBuilder,
  ReduceDataOptionsBuilder,
  TableCellDisplayMode,
} from '@grafana/grafana-foundation-sdk/common';
import { BUILTIN_DS, COLOR, DS, Grid, finish, InfluxQL, LiveMeasurements, changeThresholds, fixedColor, rpVariable, steps, tagVariable, terminalDashboard, tfVariable } from '../defaults.js';
import { STALE_AFTER_S, classPrecisionOverrides, liveQuote, stateMappings, stateTransformations } from '../quotes.js';
import { livePriceStat } from '../live.js';
import { fromClause, newsFrom } from '@mt/common';

// the symbol on the chosen venue: BTC/USD on kraken and on coinbase are two series (docs/DASHBOARDS.md, "Venues")
const SYMBOL = `"symbol" = '$symbol' AND "exchange" = '$exchange'`;
/** The venues that stored the chosen symbol, alphabetical: `binance` first where it has one. */
export const EXCHANGE_VARIABLE_QUERY = `SHOW TAG VALUES FROM ${fromClause('market_data', 'raw')} WITH KEY = "exchange" WHERE "symbol" = '$symbol'`;
/** Fired price alerts (`alert_events`, written by the market feeder) as markers on the chart. */
// Named `text` and `tags`: the fields Grafana's standard annotation mapping reads by name.
export const ALERT_ANNOTATION_QUERY = `SELECT "message" AS "text", "condition" AS "tags", "threshold", "price" FROM ${fromClause('alert_events', 'raw')} WHERE $timeFilter AND "symbol" = '$symbol' GROUP BY "rule_id", "severity"`;
/** Headlines about the asset (its base ticker for crypto pairs) as markers. */
export const NEWS_ANNOTATION_QUERY = `SELECT "title" AS "text", "assets" AS "tags", "sentiment_score", "publishers" FROM ${newsFrom('news_story_assets')} WHERE $timeFilter AND ("related_asset" = '$symbol' OR "related_asset" = '$base')`;
// the chart's timeframe: one bar per stored candle of $tf, and that timeframe's indicators (docs/INFLUXDB.md)
const TF = `"interval" = '$tf' GROUP BY time($tf) fill(none)`;
const fixed = (c: string) => ({ id: 'color', value: { mode: 'fixed', fixedColor: c } });

export function assetDetail(): Dashboard {
  const g = new Grid();
  // One stored quote (the latest full one: every value from the same moment, see quotes.ts) and its
  // time. Field names carry the hidden $asset_type so that the price takes that class's precision.
  // field names carry the class and the symbol ("Last forex USD/JPY"): overrides match them to set the
  // class's precision (JPY pairs 3 decimals) and print the plain name
  const priceName = (n: string) => `${n} $asset_type $symbol`;
  const quote = new Stat()
    .title('$symbol')
    .datasource(BUILTIN_DS.mixed)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT last("change_pct_24h") AS "change_24h", "price", "bid", "ask", ` +
          `"high_24h" AS "${priceName('24h high')}", "low_24h" AS "${priceName('24h low')}", "volume_24h" AS "24h volume", "market_session" ` +
          `FROM ${fromClause('market_data', 'raw')} WHERE time > now() - 7d AND ${SYMBOL} GROUP BY "symbol", "exchange"`,
      ).table(),
    )
    // Last, Bid, Ask and 24h % (and the quote's time: Age, State) streamed by Grafana Live over the
    // stored quote, as in the overview's tables (quotes.ts liveQuote); the stored quote with Live off
    .withTarget(new LiveMeasurements('ticker', 'L'));
  for (const tr of liveQuote(['price', 'change_24h', 'bid', 'ask', 'Time'], { price: priceName('Last'), bid: priceName('Bid'), ask: priceName('Ask'), change_24h: '24h %' }))
    quote.withTransformation(tr);
  quote
    .withTransformation({
      id: 'calculateField',
      options: { mode: 'binary', alias: 'Age', binary: { left: { fixed: '${__to}' }, operator: '-', right: { matcher: { id: 'byName', options: 'Time' } } } },
    })
    // the market state; named by $asset_type so that the stale bound is that feed's
    .withTransformation(stateTransformations('Market $asset_type', 'Age')[0]!)
    .withTransformation(stateTransformations('Market $asset_type', 'Age')[1]!)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/^(Last|Bid|Ask|24h|Age|Market).*$/'))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .colorScheme(fixedColor(COLOR.amber))
    .noValue('—')
    .overrideByName('24h %', [{ id: 'unit', value: 'percent' }, { id: 'decimals', value: 2 }, { id: 'thresholds', value: changeThresholds().build() }, { id: 'color', value: { mode: 'thresholds' } }])
    .overrideByName('24h volume', [{ id: 'unit', value: 'short' }, { id: 'decimals', value: 2 }])
    // how old is too old depends on the feed: the Market state says it (STALE), coloured
    .overrideByName('Age', [{ id: 'unit', value: 'ms' }, { id: 'decimals', value: 0 }])
    .overrideByRegexp('/^Market crypto$/', [{ id: 'mappings', value: stateMappings(STALE_AFTER_S.crypto) }])
    .overrideByRegexp('/^Market (stock|index|forex)$/', [{ id: 'mappings', value: stateMappings(STALE_AFTER_S.yahoo) }])
    .overrideByRegexp('/^Market /', [{ id: 'displayName', value: 'Market' }]);
  for (const o of classPrecisionOverrides('(Last|Bid|Ask|24h high|24h low)')) quote.withOverride(o);
  for (const n of ['Last', 'Bid', 'Ask', '24h high', '24h low']) quote.overrideByRegexp(`/^${n} /`, [{ id: 'displayName', value: n }]);
  quote.gridPos(g.at(24, 3));
  // the last price as it trades (Grafana Live), the stored one with Live off; renamed like the quote's
  // fields (`Last <asset_type> <symbol>`) so that it takes the same precision
  const lastName = 'Last * (lastNotNull)'; // livePriceStat's value field
  const live = livePriceStat({
    title: '$symbol last (live)',
    description: 'The last price pushed by the market feeder through Grafana Live within a second of the trade; the stored last quote (InfluxDB) when Live is off.',
    where: SYMBOL,
    symbol: '$symbol',
    exchange: '$exchange',
    transformations: [
      { id: 'calculateField', options: { mode: 'reduceRow', alias: priceName('Last'), reduce: { include: [lastName], reducer: 'lastNotNull' } } },
      { id: 'organize', options: { excludeByName: { [lastName]: true } } },
    ],
    decimals: null, // a panel-wide value would fill what the overrides unset
    overrides: classPrecisionOverrides('Last'),
  }).gridPos(g.at(24, 2));

  // The chart's prices (OHLC, SMA/EMA/Bollinger) at the instrument's precision like the quote: selected
  // as `<name> <asset_type> <symbol>` so that classPrecisionOverrides match them, then shown under their
  // plain name, which is also what the candlestick field map finds them by (docs/DASHBOARDS.md,
  // "Prices at the instrument's precision"). Volume keeps its name and Grafana's decimals.
  const CANDLE_PRICES = ['open', 'high', 'low', 'close'];
  const OVERLAYS: [string, string][] = [['sma_20', 'SMA 20'], ['ema_50', 'EMA 50'], ['bb_upper', 'BB upper'], ['bb_middle', 'BB middle'], ['bb_lower', 'BB lower']];
  const ohlc: [string, string][] = [['first', 'open'], ['max', 'high'], ['min', 'low'], ['last', 'close']];
  const candles = new Candles()
    .title('$symbol — $tf candles')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT ${ohlc.map(([fn, f]) => `${fn}("${f}") AS "${priceName(f)}"`).join(', ')}, sum("volume") AS "volume" ` +
          `FROM ${fromClause('candles', '$rp')} WHERE $timeFilter AND ${SYMBOL} AND ${TF}`,
        'A',
      ).alias('$col'),
    )
    .withTarget(
      new InfluxQL(
        DS.markets,
        `SELECT ${OVERLAYS.map(([f, n]) => `last("${f}") AS "${priceName(n)}"`).join(', ')} ` +
          `FROM ${fromClause('indicators', '$rp')} WHERE $timeFilter AND ${SYMBOL} AND ${TF}`,
        'B',
      ).alias('$col'),
    )
    .mode(VizDisplayMode.CandlesVolume)
    .candleStyle(CandleStyle.Candles)
    .colorStrategy(ColorStrategy.OpenClose)
    .colors(new CandlestickColorsBuilder().up(COLOR.up).down(COLOR.down).flat(COLOR.neutral))
    .fields(new CandlestickFieldMapBuilder().open('open').high('high').low('low').close('close').volume('volume'))
    .includeAllFields(true);
  const chartPrices = [...CANDLE_PRICES, ...OVERLAYS.map(([, n]) => n)];
  // the precision first: matchers read the display name, which the renames after them change
  for (const o of classPrecisionOverrides(`(${chartPrices.join('|')})`)) candles.withOverride(o);
  for (const n of chartPrices) candles.overrideByRegexp(`/^${n} /`, [{ id: 'displayName', value: n }]);
  candles
    .overrideByName('SMA 20', [fixed(COLOR.amber)])
    .overrideByName('EMA 50', [fixed(COLOR.blue)])
    .overrideByRegexp('/^BB /', [fixed(COLOR.neutral), { id: 'custom.lineStyle', value: new LineStyleBuilder().fill('dash').dash([6, 4]).build() }])
    .gridPos(g.at(24, 12));

  const rsi = new TimeSeries()
    .title('RSI 14 ($tf)')
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, `SELECT last("rsi_14") AS "RSI 14" FROM ${fromClause('indicators', '$rp')} WHERE $timeFilter AND ${SYMBOL} AND ${TF}`).alias('$col'))
    .min(0)
    .max(100)
    .colorScheme(fixedColor(COLOR.amber))
    .thresholds(steps('transparent', [30, COLOR.up], [70, COLOR.down]))
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed))
    .gridPos(g.at(12, 7));

  const macd = new TimeSeries()
    .title('MACD (12, 26, 9) — $tf')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        'SELECT last("macd") AS "MACD", last("macd_signal") AS "signal", last("macd_hist") AS "histogram" ' +
          `FROM ${fromClause('indicators', '$rp')} WHERE $timeFilter AND ${SYMBOL} AND ${TF}`,
      ).alias('$col'),
    )
    .overrideByName('MACD', [fixed(COLOR.amber)])
    .overrideByName('signal', [fixed(COLOR.blue)])
    .overrideByName('histogram', [
      { id: 'custom.drawStyle', value: GraphDrawStyle.Bars },
      { id: 'custom.fillOpacity', value: 80 },
      // bars coloured per value by the thresholds (without `scheme` a series takes one colour)
      { id: 'custom.gradientMode', value: 'scheme' },
      { id: 'color', value: { mode: 'thresholds' } },
      { id: 'thresholds', value: changeThresholds().build() },
    ])
    .gridPos(g.at(12, 7));

  const news = new Table()
    .title('Top news — $symbol')
    .datasource(DS.news)
    .withTarget(
      new InfluxQL(
        DS.news,
        // one point per story and asset (docs/INFLUXDB.md): each story once, with the outlets that ran it
        `SELECT "title", "sentiment_score", "publishers", "rank", "url" FROM ${newsFrom('news_story_assets')} ` +
          `WHERE time > now() - 30d AND ("related_asset" = '$symbol' OR "related_asset" = '$base') ORDER BY time DESC LIMIT 50`,
      ).table(),
    )
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'rank', desc: true }] } })
    .overrideByName('rank', [{ id: 'custom.hidden', value: true }])
    .overrideByName('publishers', [{ id: 'displayName', value: 'sources' }, { id: 'custom.width', value: 200 }])
    .cellHeight('sm' as never)
    .overrideByName('url', [{ id: 'custom.hidden', value: true }])
    .overrideByName('title', [{ id: 'links', value: [{ title: 'Open article', url: '${__data.fields.url}', targetBlank: true }] }])
    .overrideByName('sentiment_score', [
      { id: 'displayName', value: 'sentiment' },
      { id: 'decimals', value: 2 },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
      { id: 'thresholds', value: steps(COLOR.down, [-0.2, COLOR.neutral], [0.2, COLOR.up]).build() },
    ])
    .gridPos(g.at(24, 9));

  // order-book depth of the symbol on $exchange (docs/INFLUXDB.md "order_book"; depth where an L2 book is kept)
  const depth = new Stat()
    .title('Order book — $symbol on $exchange')
    .description('Spread in bps of the mid, bid and ask depth within 1 % of the mid in quote currency, imbalance (bid − ask) / (bid + ask) depth: −1 all asks … +1 all bids.')
    .datasource(DS.markets)
    .withTarget(
      new InfluxQL(
        DS.markets,
        'SELECT last("spread_bps") AS "Spread", last("bid_depth_1pct") AS "Bid depth 1%", last("ask_depth_1pct") AS "Ask depth 1%", last("imbalance") AS "Imbalance" ' +
          `FROM ${fromClause('order_book', 'raw')} WHERE time > now() - 1h AND ${SYMBOL}`,
      ).table(),
    )
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/^(Spread|Bid depth 1%|Ask depth 1%|Imbalance)$/'))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .colorScheme(fixedColor(COLOR.amber))
    .noValue('—')
    .overrideByName('Spread', [{ id: 'unit', value: 'suffix:bps' }, { id: 'decimals', value: 1 }])
    .overrideByRegexp('/depth/', [{ id: 'unit', value: 'short' }, { id: 'decimals', value: 2 }])
    // more bids than asks within 1 %: green; more asks: red
    .overrideByName('Imbalance', [{ id: 'decimals', value: 2 }, { id: 'thresholds', value: changeThresholds().build() }, { id: 'color', value: { mode: 'thresholds' } }])
    .gridPos(g.at(24, 4));

  const d = terminalDashboard('asset-detail', 'Asset detail')
    .withVariable(tagVariable('symbol', DS.markets, `SHOW TAG VALUES FROM ${fromClause('candles', 'raw')} WITH KEY = "symbol"`))
    // old links carry no var-exchange: Grafana then takes the first venue of the symbol (yahoo for Yahoo's)
    .withVariable(tagVariable('exchange', DS.markets, EXCHANGE_VARIABLE_QUERY, { label: 'venue' }))
    // news tags assets by base ticker (BTC), pairs are BTC/USDT: the base of a crypto symbol, else nothing
    .withVariable(
      new QueryVariableBuilder('base')
        .datasource(DS.markets)
        .query(`SHOW TAG VALUES FROM ${fromClause('market_data', 'raw')} WITH KEY = "symbol" WHERE "symbol" = '$symbol' AND "asset_type" = 'crypto'`)
        .regex('/^([^/]+)\\//')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .hide(VariableHide.HideVariable),
    )
    .withVariable(
      new QueryVariableBuilder('asset_type')
        .datasource(DS.markets)
        .query(`SHOW TAG VALUES FROM ${fromClause('market_data', 'raw')} WITH KEY = "asset_type" WHERE "symbol" = '$symbol'`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .hide(VariableHide.HideVariable),
    )
    .withVariable(rpVariable())
    .withVariable(tfVariable())
    // GP markers: the user's price alerts that fired, and headlines about the asset
    .annotation(
      new AnnotationQueryBuilder()
        .name('Price alerts')
        .datasource(DS.markets)
        .enable(true)
        .iconColor(COLOR.orange)
        .target(new InfluxQL(DS.markets, ALERT_ANNOTATION_QUERY, 'Alerts').table()),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('News')
        .datasource(DS.news)
        .enable(true)
        .iconColor(COLOR.blue)
        .target(new InfluxQL(DS.news, NEWS_ANNOTATION_QUERY, 'News').table()),
    );
  return finish(d, [quote, live, candles, rsi, macd, news, depth]);
}
