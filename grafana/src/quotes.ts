// Quote tables: one row per symbol, every value from ONE stored point (the latest full quote), with its
// age and market state. Shared by the overview's watch tables and asset detail.
//
// Precision: Grafana's field config is per column, not per row, so a column of EUR/USD 1.08423 next to
// BTC 67 012.35 cannot show both right. Each table therefore holds one instrument class, whose prices
// share a precision (docs/DASHBOARDS.md, "Prices at the instrument's precision"):
//   FX 5 decimals, JPY pairs 3, stocks and indices 2, crypto ≥ $1 2, crypto < $1 Grafana's automatic
//   decimals (significant digits: 0.00001234 → 0.0000123).
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { TableCellDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { BUILTIN_DS, COLOR, DS, InfluxQL, LiveMeasurements, changeThresholds, steps, symbolCell } from './defaults.js';
import type { DataTransformerConfig, DynamicConfigValue, MatcherConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { fromClause } from '@mt/common';

/** Price decimals per `asset_type` where one number fits the class (asset detail; crypto ≥ $1). */
export const PRICE_DECIMALS: Record<string, number> = { crypto: 2, stock: 2, index: 2, forex: 5 };
/** Pairs quoted in yen (USD/JPY 154.237). */
export const JPY_DECIMALS = 3;

/**
 * Asset detail's one-symbol price fields, named `<name> <asset_type> <symbol>` ("Last forex USD/JPY",
 * `names`: a regexp alternation of the names): overrides giving each its class's precision — FX 5,
 * JPY pairs 3, stocks, indices and crypto 2 — and a crypto price under 1 Grafana's automatic decimals
 * (significant digits: 0.00001234 → 0.0000123), as the overview's "Crypto under 1 USD" table. That last
 * one matches by the field's own value (`byValue`, AND the name: `allMatch`, Grafana's field matchers) and
 * unsets the decimals (a null override value removes the option). docs/DASHBOARDS.md, "precision".
 */
export function classPrecisionOverrides(names: string): { matcher: MatcherConfig; properties: DynamicConfigValue[] }[] {
  // byRegexp takes `/…/`; a bare pattern is anchored whole (Grafana's stringToJsRegex)
  const byRegexp = (re: string) => ({ id: 'byRegexp', options: re });
  return [
    ...Object.entries(PRICE_DECIMALS).map(([assetType, decimals]) => ({ matcher: byRegexp(`/^${names} ${assetType} /`), properties: [{ id: 'decimals', value: decimals }] })),
    { matcher: byRegexp(`/^${names} forex .*JPY$/`), properties: [{ id: 'decimals', value: JPY_DECIMALS }] }, // after forex: wins
    {
      matcher: { id: 'allMatch', options: [byRegexp(`/^${names} crypto /`), { id: 'byValue', options: { reducer: 'lastNotNull', op: 'lt', value: 1 } }] },
      properties: [{ id: 'decimals', value: null }],
    },
  ];
}

/** Seconds without a new quote after which an open market's quote counts as stale. */
export const STALE_AFTER_S = { crypto: 60, yahoo: 15 * 60 } as const;

/** `market_session` (stored by the market feeder: 0 closed, 1 regular, 2 pre, 3 post; crypto 1) → text, colour. */
export const SESSION_TEXT: [string, string][] = [
  ['CLOSED', COLOR.neutral],
  ['OPEN', COLOR.up],
  ['PRE', COLOR.amber],
  ['POST', COLOR.amber],
];
const SESSION_SCALE = 1e12; // ms: far above any quote age (31 years)
const SKEW = 1e11; // a quote stamped ahead of our clock (negative age) stays in its own band

/**
 * State = market_session × 1e12 + age (ms), computed by `calculateField`: Grafana's transformations have
 * no conditionals, but value-mapping ranges on this one number give "CLOSED" whatever the age, and
 * "OPEN" / "PRE" / "POST" only while the quote is younger than `staleS`, "STALE" beyond: a dead feed
 * never looks live. (`field`: the name the state takes; `age`: the age field's name.)
 */
export function stateTransformations(field: string, age: string): { id: string; options: object }[] {
  return [
    { id: 'calculateField', options: { mode: 'binary', alias: 'session_ms', binary: { left: { matcher: { id: 'byName', options: 'market_session' } }, operator: '*', right: { fixed: String(SESSION_SCALE) } } } },
    { id: 'calculateField', options: { mode: 'binary', alias: field, binary: { left: { matcher: { id: 'byName', options: 'session_ms' } }, operator: '+', right: { matcher: { id: 'byName', options: age } } } } },
  ];
}

/** The value mappings that print the state number (see stateTransformations). */
export function stateMappings(staleS: number): object[] {
  const stale = staleS * 1000;
  const range = (from: number, to: number, text: string, color: string, index: number) => ({ type: 'range', options: { from, to, result: { text, color, index } } });
  return [
    range(-SKEW, SESSION_SCALE - SKEW - 1, 'CLOSED', COLOR.neutral, 0),
    ...SESSION_TEXT.slice(1).flatMap(([text, color], i) => {
      const base = (i + 1) * SESSION_SCALE;
      return [range(base - SKEW, base + stale - 1, text, color, 2 * i + 1), range(base + stale, base + SESSION_SCALE - SKEW - 1, 'STALE', COLOR.down, 2 * i + 2)];
    }),
    { type: 'special', options: { match: 'null+nan', result: { text: '—', color: COLOR.neutral, index: 99 } } },
  ];
}

export interface QuoteTableOptions {
  title: string;
  description?: string;
  /** InfluxQL condition selecting the instruments (asset type, symbol filter). */
  where: string;
  /** Decimals of price, bid, ask; undefined = Grafana's automatic (significant digits). */
  decimals: number | undefined;
  /** Keep only rows whose price is ≥ (`min`) or < (`max`) this, e.g. crypto under $1 apart. */
  priceRange?: { min?: number; max?: number };
  bidAsk?: boolean;
  volume?: boolean;
  marketCap?: boolean;
  /** Net change (price − previous close) beside the % change: world indices. */
  netChange?: boolean;
  /** Which feed: sets how old a quote may be before an open market's row turns STALE. */
  source: 'crypto' | 'yahoo';
  /** A Venue column (the exchange): crypto, where one pair trades on several venues; Yahoo's classes have one. */
  venue?: boolean;
  /** Stream Last, 24h % (and Bid/Ask with `bidAsk`) through Grafana Live over the stored row (liveQuote). */
  live?: boolean;
}

/** Live field (stream/markets/ticker) → the stored quote field it stands in for. */
const LIVE_QUOTE: [live: string, stored: string][] = [
  ['price', 'price'],
  ['change_pct_24h', 'change_24h'],
  ['bid', 'bid'],
  ['ask', 'ask'],
  ['time_ms', 'Time'],
];

/**
 * The stored quote rows (refId A, B) with the Live quote (refId L: the `-- Grafana --` measurements query on
 * `ticker`, docs/GRAFANA_LIVE.md) over them, for Grafana 12.3's transformations, which have no
 * conditionals. A Live frame holds one set of fields per label set on one shared time column (labels
 * mode), so: reduce each field to its last non-null value with its labels as columns (one row per symbol
 * and field) → groupingToMatrix (one row per symbol, a column per field; only the Live frames, by refId
 * filter: it needs exactly one frame) → copies named `live_*` (names, not display names, or the join
 * would rename the stored `price` to `price 1`) → join on `symbol` with the stored rows → keep the rows of
 * a stored quote (the table's class and watch set: Live carries every symbol) → per field the last
 * non-null of (stored, live), in that order whatever order the queries answered in: the live value where
 * Live delivered one, else the stored one. The quote time takes the same path (`time_ms`, the tick's time
 * pushed as a value), so Age and State are those of the quote shown. With Live off nothing changes.
 * `fields`: the stored quote's fields among price, change_24h, bid, ask, Time; each comes out under its
 * own name, or `alias[field]`.
 */
export function liveQuote(fields: string[], alias: Record<string, string> = {}): DataTransformerConfig[] {
  const pairs = LIVE_QUOTE.filter(([, stored]) => fields.includes(stored));
  const matrix = { id: 'byRefId', options: '/^$/' }; // groupingToMatrix's frame has no refId
  // `alias`: the merged field's name (may hold variables: an alias is interpolated, organize's keys are not)
  const merged = (stored: string) => alias[stored] ?? `q_${stored}`;
  return [
    // the market cap's own time (query B) is not the quote's: dropped, so `Time` names the quote's alone;
    // its symbol and exchange too: the join keeps query A's (B joins by the venue key)
    { id: 'organize', filter: { id: 'byRefId', options: 'B' }, options: { excludeByName: { Time: true } } },
    { id: 'reduce', filter: { id: 'byRefId', options: 'L' }, options: { mode: 'seriesToRows', reducers: ['lastNotNull'], labelsToFields: true } },
    // the row key: exchange and symbol together (the same pair on two venues is two rows, docs/DASHBOARDS.md "Venues")
    ...venueKey(),
    { id: 'organize', filter: { id: 'byRefId', options: 'B' }, options: { excludeByName: { symbol: true, exchange: true } } },
    { id: 'groupingToMatrix', filter: { id: 'byRefId', options: '/^reduce-/' }, options: { columnField: 'Field', rowField: VENUE_KEY, valueField: 'Last *', emptyValue: 'null' } },
    ...pairs.map(([live]) => ({ id: 'calculateField', filter: matrix, options: { mode: 'reduceRow', alias: `live_${live}`, reduce: { include: [live], reducer: 'lastNotNull' } } })),
    { id: 'organize', filter: matrix, options: { excludeByName: Object.fromEntries(LIVE_QUOTE.map(([live]) => [live, true])), renameByName: { [`${VENUE_KEY}\\Field`]: VENUE_KEY } } },
    { id: 'joinByField', options: { byField: VENUE_KEY, mode: 'outer' } },
    { id: 'filterByValue', options: { type: 'include', match: 'any', filters: [{ fieldName: 'Time', config: { id: 'isNotNull', options: {} } }] } },
    { id: 'organize', options: { indexByName: Object.fromEntries(pairs.flatMap(([live, stored]) => [stored, `live_${live}`]).map((n, i) => [n, i])) } },
    ...pairs.map(([live, stored]) => ({ id: 'calculateField', options: { mode: 'reduceRow', alias: merged(stored), reduce: { include: [stored, `live_${live}`], reducer: 'lastNotNull' } } })),
    {
      id: 'organize',
      options: {
        excludeByName: { [VENUE_KEY]: true, ...Object.fromEntries(pairs.flatMap(([live, stored]) => [[stored, true], [`live_${live}`, true]])) },
        renameByName: Object.fromEntries(pairs.filter(([, stored]) => !alias[stored]).map(([, stored]) => [merged(stored), stored])),
      },
    },
  ];
}

/** The row key of a quote: `<exchange>|<symbol>` (see venueKey). */
export const VENUE_KEY = 'venue_key';

/**
 * `venue_key` = `<exchange>|<symbol>` on every frame that has both (stored rows: `GROUP BY "symbol",
 * "exchange"`; Live rows: their labels). Grafana 12.3 has no string concatenation transform: a row
 * reduction to `allValues` gives [exchange, symbol] (in field order: both sides list exchange before
 * symbol — InfluxDB's tags and Grafana's labels are sorted by key), and converting that to a string
 * joins it. A frame without them gets an empty key, matched by nothing.
 */
export function venueKey(): DataTransformerConfig[] {
  return [
    { id: 'calculateField', options: { mode: 'reduceRow', alias: VENUE_KEY, reduce: { include: ['exchange', 'symbol'], reducer: 'allValues' } } },
    { id: 'convertFieldType', options: { conversions: [{ targetField: VENUE_KEY, destinationType: 'string', joinWith: '|' }] } },
  ];
}

/** A % change column: 2 decimals, green up / red down. */
const pctChange = (title: string) => [
  { id: 'displayName', value: title },
  { id: 'unit', value: 'percent' },
  { id: 'decimals', value: 2 },
  { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
  { id: 'thresholds', value: changeThresholds().build() },
];

const priceProps = (decimals: number | undefined) => (decimals === undefined ? [] : [{ id: 'decimals', value: decimals }]);

/**
 * The latest full quote per symbol: `last("change_pct_24h")` picks the newest point that carries the
 * 24 h change (Binance's ticker, Yahoo's quote: full quotes), and the other fields selected beside the
 * selector come from that same point, with its time (not 0): price, change and volume can never be from
 * different moments, and the row's time is the quote's age. `change_pct_1h` is written by the feeder on
 * every point once the symbol has an hour of 1-minute candles (docs/INFLUXDB.md), so it is that point's too.
 */
export function quoteQuery(where: string, bidAsk = false): string {
  const fields = ['price', ...(bidAsk ? ['bid', 'ask'] : []), 'change_pct_1h', 'volume_24h', 'market_session'].map((f) => `"${f}"`).join(', ');
  return `SELECT last("change_pct_24h") AS "change_24h", ${fields} FROM ${fromClause('market_data', 'raw')} WHERE time > now() - 7d AND ${where} GROUP BY "symbol", "exchange"`;
}

export function quoteTable(o: QuoteTableOptions): Table {
  const t = new Table()
    .title(o.title)
    .datasource(DS.markets)
    .withTarget(new InfluxQL(DS.markets, quoteQuery(o.where, o.bidAsk), 'A').table());
  if (o.marketCap)
    t.withTarget(
      new InfluxQL(DS.markets, `SELECT last("market_cap") AS "market_cap" FROM ${fromClause('market_data', 'raw')} WHERE time > now() - 7d AND ${o.where} GROUP BY "symbol", "exchange"`, 'B').table(),
    );
  if (o.live) {
    t.datasource(BUILTIN_DS.mixed).withTarget(new LiveMeasurements('ticker', 'L'));
    for (const tr of liveQuote(['price', 'change_24h', 'Time', ...(o.bidAsk ? ['bid', 'ask'] : [])])) t.withTransformation(tr);
  } else if (o.marketCap)
    for (const tr of [...venueKey(), { id: 'organize', filter: { id: 'byRefId', options: 'B' }, options: { excludeByName: { Time: true, symbol: true, exchange: true } } }, { id: 'joinByField', options: { byField: VENUE_KEY, mode: 'outer' } }])
      t.withTransformation(tr);
  if (o.description) t.description(o.description);

  if (o.priceRange) {
    const { min, max } = o.priceRange;
    const conditions = [
      ...(min !== undefined ? [{ fieldName: 'price', config: { id: 'greaterOrEqual', options: { value: min } } }] : []),
      ...(max !== undefined ? [{ fieldName: 'price', config: { id: 'lower', options: { value: max } } }] : []),
    ];
    t.withTransformation({ id: 'filterByValue', options: { type: 'include', match: 'all', filters: conditions } });
  }
  // age = the dashboard's "to" (now, for the usual relative range) − the quote's time
  t.withTransformation({
    id: 'calculateField',
    options: { mode: 'binary', alias: 'age', binary: { left: { fixed: '${__to}' }, operator: '-', right: { matcher: { id: 'byName', options: 'Time' } } } },
  });
  for (const tr of stateTransformations('state', 'age')) t.withTransformation(tr);
  if (o.netChange) {
    // net change = price × chg / (100 + chg): the previous close is price / (1 + chg/100)
    t.withTransformation({ id: 'calculateField', options: { mode: 'binary', alias: 'nc_num', binary: { left: { matcher: { id: 'byName', options: 'price' } }, operator: '*', right: { matcher: { id: 'byName', options: 'change_24h' } } } } })
      .withTransformation({ id: 'calculateField', options: { mode: 'binary', alias: 'nc_den', binary: { left: { matcher: { id: 'byName', options: 'change_24h' } }, operator: '+', right: { fixed: '100' } } } })
      .withTransformation({ id: 'calculateField', options: { mode: 'binary', alias: 'net_change', binary: { left: { matcher: { id: 'byName', options: 'nc_num' } }, operator: '/', right: { matcher: { id: 'byName', options: 'nc_den' } } } } });
  }
  const exclude: Record<string, boolean> = { [VENUE_KEY]: true, nc_num: true, nc_den: true, session_ms: true, market_session: true, Time: true, 'Time 1': true, 'Time 2': true };
  if (!o.bidAsk) Object.assign(exclude, { bid: true, ask: true });
  if (!o.volume) exclude.volume_24h = true;
  // without a Venue column the venue stays in the frame, hidden: the Symbol link carries it (var-exchange)
  const order = ['symbol', 'exchange', 'price', 'bid', 'ask', 'net_change', 'change_pct_1h', 'change_24h', 'volume_24h', 'market_cap', 'age', 'state'];
  t.withTransformation({ id: 'organize', options: { excludeByName: exclude, indexByName: Object.fromEntries(order.map((n, i) => [n, i])) } })
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'change_24h', desc: true }] } })
    .cellHeight('sm' as never)
    .overrideByName('symbol', [{ id: 'displayName', value: 'Symbol' }, ...symbolCell()])
    .overrideByName('exchange', [{ id: 'displayName', value: 'Venue' }, ...(o.venue ? [] : [{ id: 'custom.hidden', value: true }])])
    .overrideByName('price', [{ id: 'displayName', value: 'Last' }, ...priceProps(o.decimals)])
    .overrideByName('bid', [{ id: 'displayName', value: 'Bid' }, ...priceProps(o.decimals)])
    .overrideByName('ask', [{ id: 'displayName', value: 'Ask' }, ...priceProps(o.decimals)])
    .overrideByName('net_change', [
      { id: 'displayName', value: 'Net chg' },
      ...priceProps(o.decimals),
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
      { id: 'thresholds', value: changeThresholds().build() },
    ])
    .overrideByName('change_pct_1h', pctChange('1h %'))
    .overrideByName('change_24h', pctChange('24h %'))
    .overrideByName('volume_24h', [{ id: 'displayName', value: 'Volume 24h' }, { id: 'unit', value: 'short' }, { id: 'decimals', value: 2 }])
    .overrideByName('market_cap', [{ id: 'displayName', value: 'Mkt cap' }, { id: 'unit', value: 'currencyUSD' }, { id: 'decimals', value: 2 }])
    .overrideByName('age', [
      { id: 'displayName', value: 'Age' },
      { id: 'unit', value: 'ms' },
      { id: 'decimals', value: 0 },
      { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorText } },
      { id: 'thresholds', value: steps(COLOR.up, [STALE_AFTER_S[o.source] * 1000, COLOR.down]).build() },
    ]);
  t.overrideByName('state', [
    { id: 'displayName', value: 'State' },
    { id: 'custom.cellOptions', value: { type: TableCellDisplayMode.ColorBackground } },
    { id: 'mappings', value: stateMappings(STALE_AFTER_S[o.source]) },
  ]);
  return t;
}
