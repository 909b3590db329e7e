// The storage schema of database `markets` (docs/INFLUXDB.md "Layout of database markets"): every
// measurement's name, tags and fields, how each field is carried into the 5m and 1h policies, the point
// builders and the InfluxQL the services read it with. The feeders, influxdb-tasks (CQs and Flux tasks),
// the watchlist API and the dashboard generator take names from here instead of restating them.
import { Point } from '@influxdata/influxdb-client';
import { influxQLIdent, influxQLString } from '../influx/query.js';

export const MARKETS_DB = 'markets';

export type FieldType = 'float' | 'int' | 'string';
/** InfluxQL and Flux aggregate of a rollup. */
export type RollupFn = 'first' | 'last' | 'min' | 'max' | 'sum' | 'mean' | 'count';

/**
 * One field of a downsampled policy: `fn` over the raw points of a window, `then` over the 5m rows when the
 * 1h rollup needs another function (counts are summed); `out` defaults to the field's own name.
 */
export interface Rollup {
  out?: string;
  fn: RollupFn;
  then?: RollupFn;
}

export interface FieldDef {
  type: FieldType;
  /** Absent: raw only (the rollups do not carry it). */
  rollup?: readonly Rollup[];
}

export interface MeasurementDef {
  name: string;
  tags: readonly string[];
  fields: Readonly<Record<string, FieldDef>>;
  /** Raw points may arrive hours late (candles backfilled after an outage): the rollups look further back. */
  backfilled?: boolean;
}

const f = (type: FieldType, ...rollup: (RollupFn | Rollup)[]): FieldDef =>
  rollup.length ? { type, rollup: rollup.map((r) => (typeof r === 'string' ? { fn: r } : r)) } : { type };
const float = (...r: (RollupFn | Rollup)[]) => f('float', ...r);

/** The tags of every venue series: `exchange` names the venue (docs/API.md "Venues and symbols"). */
export const SERIES_TAGS = ['exchange', 'symbol', 'asset_type'] as const;

/**
 * Every measurement in `markets` and why each field rolls up the way it does (docs/INFLUXDB.md "Downsampling
 * of each field"): a level (price, best bid, funding rate, open interest) is its value at the window's end
 * (`last`), so a panel reads the same field in every policy; a quantity that accrues (volume, liquidated
 * value) is summed; a noisy gauge (spread, depth, imbalance) is averaged, with the worst spread kept beside.
 */
export const MARKETS = {
  candles: {
    name: 'candles',
    tags: [...SERIES_TAGS, 'interval'],
    backfilled: true,
    fields: {
      open: float('first'),
      high: float('max'),
      low: float('min'),
      close: float('last'),
      volume: float('sum'),
      quote_volume: float('sum'),
      trades: f('int', 'sum'),
    },
  },
  market_data: {
    name: 'market_data',
    // `source` only on a fallback's points (docs/INFLUXDB.md "market_data: tag source")
    tags: [...SERIES_TAGS, 'source'],
    fields: {
      // `price` stays the price at the end of the window; `price_mean` is the mean of raw ticks (5m) and of the 5m means (1h)
      price: float('last', { out: 'price_mean', fn: 'mean' }),
      bid: float('last'),
      ask: float('last'),
      volume_24h: float('last'),
      change_pct_24h: float('last'),
      change_pct_1h: float(),
      high_24h: float('last'),
      low_24h: float('last'),
      market_cap: float('last'),
      market_state: f('string'),
      market_session: float(),
    },
  },
  indicators: {
    name: 'indicators',
    tags: [...SERIES_TAGS, 'interval'],
    backfilled: true,
    fields: {
      sma_20: float('last'),
      ema_50: float('last'),
      rsi_14: float('last'),
      macd: float('last'),
      macd_signal: float('last'),
      macd_hist: float('last'),
      bb_upper: float('last'),
      bb_middle: float('last'),
      bb_lower: float('last'),
    },
  },
  fear_greed: {
    name: 'fear_greed',
    tags: [],
    fields: { value: f('int', 'last'), classification: f('string', 'last') },
  },
  order_book: {
    name: 'order_book',
    tags: SERIES_TAGS,
    fields: {
      best_bid: float('last'),
      best_ask: float('last'),
      spread_bps: float('mean', { out: 'spread_bps_max', fn: 'max' }),
      bid_depth_1pct: float('mean'),
      ask_depth_1pct: float('mean'),
      imbalance: float('mean'),
    },
  },
  funding: {
    name: 'funding',
    tags: SERIES_TAGS,
    fields: {
      mark_price: float('last'),
      index_price: float('last'),
      funding_rate: float('last'),
      next_funding_time: float('last'),
      // hours between two fundings (Binance USDⓈ-M: 8 by default, 4 or 1 for some symbols): annualises the rate
      funding_interval_hours: float('last'),
    },
  },
  open_interest: {
    name: 'open_interest',
    tags: SERIES_TAGS,
    fields: { open_interest: float('last'), open_interest_value: float('last') },
  },
  liquidations: {
    name: 'liquidations',
    tags: [...SERIES_TAGS, 'side'],
    fields: {
      price: float('last'),
      quantity: float('sum'),
      // `count`: liquidations in the window (counted in 5m, those counts summed in 1h)
      value: float('sum', { out: 'count', fn: 'count', then: 'sum' }),
    },
  },
  alert_events: {
    name: 'alert_events',
    tags: ['symbol', 'rule_id', 'severity'],
    fields: { condition: f('string'), message: f('string'), price: float(), threshold: float(), value: float() },
  },
} as const satisfies Record<string, MeasurementDef>;

export type MarketsMeasurement = keyof typeof MARKETS;
export type FieldOf<M extends MarketsMeasurement> = keyof (typeof MARKETS)[M]['fields'] & string;

/** The field names of a measurement, in schema order. */
export function fieldsOf<M extends MarketsMeasurement>(m: M): FieldOf<M>[] {
  return Object.keys(MARKETS[m].fields) as FieldOf<M>[];
}

// ---- point builders: normalised values → points, exactly the layout above ----

/** The tags every venue point carries. */
export interface SeriesRef {
  exchange: string;
  symbol: string;
  assetType: string;
}

const series = (measurement: MarketsMeasurement, s: SeriesRef): Point =>
  new Point(MARKETS[measurement].name).tag('exchange', s.exchange).tag('symbol', s.symbol).tag('asset_type', s.assetType);

const finite = (v: number | null | undefined): v is number => v !== undefined && v !== null && Number.isFinite(v);

/**
 * `market_session`: the session as a number the dashboards can compute with (Grafana's transformations
 * have no conditionals on strings): 0 closed, 1 regular, 2 pre-market, 3 after-hours. Crypto trades
 * 24/7: always 1. docs/INFLUXDB.md, "market_data: market state".
 */
export const MARKET_SESSION: Record<string, number> = { REGULAR: 1, PRE: 2, POST: 3, PREPRE: 0, POSTPOST: 0, CLOSED: 0 };

export interface MarketDataRow extends SeriesRef {
  /** Exchange event time, epoch ms. */
  ts: number;
  price: number;
  bid?: number;
  ask?: number;
  volume24h?: number;
  changePct24h?: number;
  changePct1h?: number;
  high24h?: number;
  low24h?: number;
  marketCap?: number;
  /**
   * Yahoo's `marketState` (REGULAR, PRE, PREPRE, POST, POSTPOST, CLOSED) as the quote gives it, or from the
   * chart's trading periods; none for crypto (24/7). Stored as `market_state` (docs/DASHBOARDS.md).
   */
  marketState?: string;
  /**
   * Who priced this quote when it is not the venue in `exchange`: a fallback source (`alphavantage`,
   * `exchangerate`) standing in for Yahoo. Stored as the `source` tag (docs/INFLUXDB.md).
   */
  source?: string;
}

const MARKET_DATA_OPTIONAL = [
  ['bid', 'bid'],
  ['ask', 'ask'],
  ['volume24h', 'volume_24h'],
  ['changePct24h', 'change_pct_24h'],
  ['changePct1h', 'change_pct_1h'],
  ['high24h', 'high_24h'],
  ['low24h', 'low_24h'],
  ['marketCap', 'market_cap'],
] as const satisfies readonly (readonly [keyof MarketDataRow, FieldOf<'market_data'>])[];

export function marketDataPoint<T extends MarketDataRow>(t: T): Point {
  const p = series('market_data', t).floatField('price', t.price).timestamp(new Date(t.ts));
  // only on a fallback's points: the venue's own series keep the three series tags
  if (t.source !== undefined) p.tag('source', t.source);
  for (const [k, field] of MARKET_DATA_OPTIONAL) {
    const v = t[k];
    if (finite(v)) p.floatField(field, v);
  }
  if (t.marketState !== undefined) p.stringField('market_state', t.marketState);
  const session = t.marketState !== undefined ? MARKET_SESSION[t.marketState] : t.assetType === 'crypto' ? 1 : undefined;
  if (session !== undefined) p.floatField('market_session', session);
  return p;
}

export interface CandleRow extends SeriesRef {
  interval: string;
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** NaN or absent when the source has none (Yahoo): left out rather than stored as 0. */
  quoteVolume?: number;
  trades?: number;
}

/** A candle's time and prices alone, as REST answers and trade-built minutes carry them. */
export type Ohlcv = Pick<CandleRow, 'openTime' | 'open' | 'high' | 'low' | 'close' | 'volume'>;

/** Generic so that a whole normalised Candle (with its closeTime, receivedAt, …) is accepted as it is. */
export function candlePoint<C extends CandleRow>(c: C): Point {
  const p = series('candles', c)
    .tag('interval', c.interval)
    .floatField('open', c.open)
    .floatField('high', c.high)
    .floatField('low', c.low)
    .floatField('close', c.close)
    .floatField('volume', c.volume)
    .timestamp(new Date(c.openTime));
  if (finite(c.quoteVolume)) p.floatField('quote_volume', c.quoteVolume);
  if (finite(c.trades)) p.intField('trades', c.trades);
  return p;
}

export type IndicatorRow = Partial<Record<FieldOf<'indicators'>, number>>;

/** Undefined when no indicator has a value yet (warm-up). */
export function indicatorPoint<C extends SeriesRef & { interval: string; openTime: number }>(c: C, v: IndicatorRow): Point | undefined {
  const p = series('indicators', c).tag('interval', c.interval);
  let any = false;
  for (const k of fieldsOf('indicators')) {
    const val = v[k];
    if (finite(val)) {
      p.floatField(k, val);
      any = true;
    }
  }
  return any ? p.timestamp(new Date(c.openTime)) : undefined;
}

export function fearGreedPoint(f: { ts: number; value: number; classification: string }): Point {
  return new Point(MARKETS.fear_greed.name).intField('value', f.value).stringField('classification', f.classification).timestamp(new Date(f.ts));
}

/** One fired alert (docs/ALERTING.md "History"): the dashboards' annotations and GET /api/alert-events read these. */
export interface AlertEvent {
  ts: number;
  symbol: string;
  ruleId: string;
  severity: string;
  condition: string;
  /** Absent for conditions without one (macd_cross_up, news_keyword, …). */
  threshold: number | null;
  price: number;
  /** The measured value that fired the rule (RSI, % change, volume ratio, sentiment, …) when it is not the price. */
  value?: number;
  message: string;
}

export function alertEventPoint<E extends AlertEvent>(e: E): Point {
  const p = new Point(MARKETS.alert_events.name)
    .tag('symbol', e.symbol)
    .tag('rule_id', e.ruleId)
    .tag('severity', e.severity)
    .stringField('condition', e.condition)
    .stringField('message', e.message)
    .timestamp(new Date(e.ts));
  if (finite(e.price)) p.floatField('price', e.price);
  if (finite(e.threshold)) p.floatField('threshold', e.threshold);
  if (finite(e.value)) p.floatField('value', e.value);
  return p;
}

export interface OrderBookRow extends SeriesRef {
  ts: number;
  bestBid: number;
  bestAsk: number;
  /** Quote currency within 1 % of the mid, only where an L2 book is kept (DEPTH_BOOKS). */
  bidDepth1pct?: number;
  askDepth1pct?: number;
  /** −1…1. */
  imbalance?: number;
}

/** `order_book`: top of book always, depth and imbalance where an L2 book is kept. */
export function orderBookPoint<B extends OrderBookRow>(b: B): Point {
  const mid = (b.bestBid + b.bestAsk) / 2;
  const p = series('order_book', b)
    .floatField('best_bid', b.bestBid)
    .floatField('best_ask', b.bestAsk)
    .floatField('spread_bps', ((b.bestAsk - b.bestBid) / mid) * 10_000)
    .timestamp(new Date(b.ts));
  if (finite(b.bidDepth1pct)) p.floatField('bid_depth_1pct', b.bidDepth1pct);
  if (finite(b.askDepth1pct)) p.floatField('ask_depth_1pct', b.askDepth1pct);
  if (finite(b.imbalance)) p.floatField('imbalance', b.imbalance);
  return p;
}

export interface FundingRow extends SeriesRef {
  ts: number;
  markPrice: number;
  indexPrice?: number;
  fundingRate: number;
  /** Epoch ms. */
  nextFundingTime: number;
  /** Hours between two fundings, when the venue says (`funding_rate` × 24 / this × 365 = the annual rate). */
  fundingIntervalHours?: number;
}

/** `funding`: `next_funding_time` in epoch ms. */
export function fundingPoint<R extends FundingRow>(r: R): Point {
  const p = series('funding', r)
    .floatField('mark_price', r.markPrice)
    .floatField('funding_rate', r.fundingRate)
    .floatField('next_funding_time', r.nextFundingTime)
    .timestamp(new Date(r.ts));
  if (finite(r.indexPrice)) p.floatField('index_price', r.indexPrice);
  if (finite(r.fundingIntervalHours) && r.fundingIntervalHours > 0) p.floatField('funding_interval_hours', r.fundingIntervalHours);
  return p;
}

export interface OpenInterestRow extends SeriesRef {
  ts: number;
  openInterest: number;
  openInterestValue?: number;
}

export function openInterestPoint<O extends OpenInterestRow>(o: O): Point {
  const p = series('open_interest', o).floatField('open_interest', o.openInterest).timestamp(new Date(o.ts));
  if (finite(o.openInterestValue)) p.floatField('open_interest_value', o.openInterestValue);
  return p;
}

export interface LiquidationRow extends SeriesRef {
  ts: number;
  side: 'buy' | 'sell';
  price: number;
  quantity: number;
  value: number;
}

/**
 * `liquidations`, tag `side`. `ts` may be moved by the caller: two liquidations of one series in the same
 * millisecond would otherwise be one point.
 */
export function liquidationPoint<L extends LiquidationRow>(l: L, ts: number = l.ts): Point {
  return series('liquidations', l)
    .tag('side', l.side)
    .floatField('price', l.price)
    .floatField('quantity', l.quantity)
    .floatField('value', l.value)
    .timestamp(new Date(ts));
}

// ---- readers: the InfluxQL the services read `markets` with ----

/** `"rp"."measurement"`; without a policy, the database's default (`raw`). */
export function fromClause(m: MarketsMeasurement, rp?: string): string {
  return rp ? `${influxQLIdent(rp)}.${influxQLIdent(MARKETS[m].name)}` : influxQLIdent(MARKETS[m].name);
}

/** `"tag"='value' AND …` for the given tags (values escaped). */
export function tagsEqual(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${influxQLIdent(k)}=${influxQLString(v)}`)
    .join(' AND ');
}

/** The latest `limit` stored candles of one series, newest first (indicator warm-up, restart). */
export function storedCandlesQuery(o: { rp: string; exchange: string; symbol: string; interval: string; limit: number }): string {
  return (
    `SELECT ${fieldsOf('candles').map(influxQLIdent).join(',')} FROM ${fromClause('candles', o.rp)}` +
    ` WHERE ${tagsEqual({ exchange: o.exchange, symbol: o.symbol, interval: o.interval })} ORDER BY time DESC LIMIT ${o.limit}`
  );
}

/** The open times of one 1-minute candle series in [fromMs, toMs) (backfill: which minutes are stored). */
export function candleTimesQuery(o: { exchange: string; symbol: string; fromMs: number; toMs: number }): string {
  return `SELECT "close" FROM ${fromClause('candles')} WHERE ${tagsEqual({ exchange: o.exchange, symbol: o.symbol, interval: '1m' })} AND time >= ${o.fromMs}ms AND time < ${o.toMs}ms`;
}

/** The last 1-minute candle of a series before `beforeMs`. */
export function lastCandleQuery(o: { exchange: string; symbol: string; beforeMs: number }): string {
  return `SELECT last("close") FROM ${fromClause('candles')} WHERE ${tagsEqual({ exchange: o.exchange, symbol: o.symbol, interval: '1m' })} AND time < ${o.beforeMs}ms`;
}

/** The latest Fear & Greed value within `lookback` (an InfluxQL duration). */
export function latestFearGreedQuery(lookback = '7d'): string {
  return `SELECT last("value") AS "value" FROM ${fromClause('fear_greed')} WHERE time > now() - ${lookback}`;
}

/** The latest funding rate per symbol within `lookback`. */
export function latestFundingQuery(lookback = '1d'): string {
  return `SELECT last("funding_rate") AS "rate" FROM ${fromClause('funding')} WHERE time > now() - ${lookback} GROUP BY "symbol"`;
}

/**
 * Fired alerts since `sinceMs`, newest first, optionally of one symbol or rule, or of a set of rules
 * (`ruleIds`, not empty: a user's visible rules) (GET /api/alert-events).
 */
export function alertEventsQuery(o: { sinceMs: number; limit: number; symbol?: string | undefined; ruleId?: string | undefined; ruleIds?: readonly string[] | undefined }): string {
  const tags: Record<string, string> = {};
  if (o.symbol) tags.symbol = o.symbol;
  if (o.ruleId) tags.rule_id = o.ruleId;
  const where = [`time >= ${o.sinceMs}ms`];
  if (Object.keys(tags).length) where.push(tagsEqual(tags));
  if (o.ruleIds) {
    // an empty set would read every rule's events: the caller answers "none" without asking
    if (!o.ruleIds.length) throw new Error('alertEventsQuery: ruleIds is empty');
    where.push(`(${o.ruleIds.map((id) => tagsEqual({ rule_id: id })).join(' OR ')})`);
  }
  const cols = ['symbol', 'rule_id', 'severity', ...fieldsOf('alert_events')].map(influxQLIdent).join(', ');
  return `SELECT ${cols} FROM ${fromClause('alert_events')} WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT ${o.limit}`;
}
