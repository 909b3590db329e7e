// Normalised types → InfluxDB points, exactly the layout in ../shared/DESIGN.md (`markets` database).
import { Point } from '@influxdata/influxdb-client';
import type { BookSummary, Candle, FearGreed, FundingUpdate, IndicatorValues, Liquidation, MarketTick, OpenInterestUpdate } from './types.js';

const OPTIONAL_FIELDS = [
  ['bid', 'bid'],
  ['ask', 'ask'],
  ['volume24h', 'volume_24h'],
  ['changePct24h', 'change_pct_24h'],
  ['changePct1h', 'change_pct_1h'],
  ['high24h', 'high_24h'],
  ['low24h', 'low_24h'],
  ['marketCap', 'market_cap'],
] as const;

/**
 * `market_session`: the session as a number the dashboards can compute with (Grafana's transformations
 * have no conditionals on strings): 0 closed, 1 regular, 2 pre-market, 3 after-hours. Crypto trades
 * 24/7: always 1. docs/INFLUXDB.md, "market_data: market state".
 */
export const MARKET_SESSION: Record<string, number> = { REGULAR: 1, PRE: 2, POST: 3, PREPRE: 0, POSTPOST: 0, CLOSED: 0 };

export function marketDataPoint(t: MarketTick): Point {
  const p = new Point('market_data')
    .tag('exchange', t.exchange)
    .tag('symbol', t.symbol)
    .tag('asset_type', t.assetType)
    .floatField('price', t.price)
    .timestamp(new Date(t.ts));
  // only on a fallback's points: the venue's own series keep the contract's three tags
  if (t.source !== undefined) p.tag('source', t.source);
  for (const [k, field] of OPTIONAL_FIELDS) {
    const v = t[k];
    if (v !== undefined && Number.isFinite(v)) p.floatField(field, v);
  }
  if (t.marketState !== undefined) p.stringField('market_state', t.marketState);
  const session = t.marketState !== undefined ? MARKET_SESSION[t.marketState] : t.assetType === 'crypto' ? 1 : undefined;
  if (session !== undefined) p.floatField('market_session', session);
  return p;
}

export function candlePoint(c: Candle): Point {
  const p = new Point('candles')
    .tag('exchange', c.exchange)
    .tag('symbol', c.symbol)
    .tag('asset_type', c.assetType)
    .tag('interval', c.interval)
    .floatField('open', c.open)
    .floatField('high', c.high)
    .floatField('low', c.low)
    .floatField('close', c.close)
    .floatField('volume', c.volume)
    .timestamp(new Date(c.openTime));
  // a source without them (Yahoo) leaves them out rather than storing zeros
  if (Number.isFinite(c.quoteVolume)) p.floatField('quote_volume', c.quoteVolume);
  if (Number.isFinite(c.trades)) p.intField('trades', c.trades);
  return p;
}

export function indicatorPoint(c: Pick<Candle, 'exchange' | 'symbol' | 'assetType' | 'interval' | 'openTime'>, v: IndicatorValues): Point | undefined {
  const p = new Point('indicators').tag('exchange', c.exchange).tag('symbol', c.symbol).tag('asset_type', c.assetType).tag('interval', c.interval);
  let any = false;
  for (const [k, val] of Object.entries(v)) {
    if (val !== undefined && Number.isFinite(val)) {
      p.floatField(k, val);
      any = true;
    }
  }
  return any ? p.timestamp(new Date(c.openTime)) : undefined;
}

export function fearGreedPoint(f: FearGreed): Point {
  return new Point('fear_greed').intField('value', f.value).stringField('classification', f.classification).timestamp(new Date(f.ts));
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

export function alertEventPoint(e: AlertEvent): Point {
  const p = new Point('alert_events')
    .tag('symbol', e.symbol)
    .tag('rule_id', e.ruleId)
    .tag('severity', e.severity)
    .stringField('condition', e.condition)
    .stringField('message', e.message)
    .timestamp(new Date(e.ts));
  if (Number.isFinite(e.price)) p.floatField('price', e.price);
  if (e.threshold !== null && Number.isFinite(e.threshold)) p.floatField('threshold', e.threshold);
  if (e.value !== undefined && Number.isFinite(e.value)) p.floatField('value', e.value);
  return p;
}

/** `order_book` (docs/INFLUXDB.md, "order_book"): top of book always, depth and imbalance where an L2 book is kept. */
export function orderBookPoint(b: BookSummary): Point {
  const mid = (b.bestBid + b.bestAsk) / 2;
  const p = new Point('order_book')
    .tag('exchange', b.exchange)
    .tag('symbol', b.symbol)
    .tag('asset_type', b.assetType)
    .floatField('best_bid', b.bestBid)
    .floatField('best_ask', b.bestAsk)
    .floatField('spread_bps', ((b.bestAsk - b.bestBid) / mid) * 10_000)
    .timestamp(new Date(b.ts));
  if (b.bidDepth1pct !== undefined && Number.isFinite(b.bidDepth1pct)) p.floatField('bid_depth_1pct', b.bidDepth1pct);
  if (b.askDepth1pct !== undefined && Number.isFinite(b.askDepth1pct)) p.floatField('ask_depth_1pct', b.askDepth1pct);
  if (b.imbalance !== undefined && Number.isFinite(b.imbalance)) p.floatField('imbalance', b.imbalance);
  return p;
}

/** `funding` (docs/INFLUXDB.md, "funding"): `next_funding_time` in epoch ms. */
export function fundingPoint(f: FundingUpdate): Point {
  const p = new Point('funding')
    .tag('exchange', f.exchange)
    .tag('symbol', f.symbol)
    .tag('asset_type', f.assetType)
    .floatField('mark_price', f.markPrice)
    .floatField('funding_rate', f.fundingRate)
    .floatField('next_funding_time', f.nextFundingTime)
    .timestamp(new Date(f.ts));
  if (f.indexPrice !== undefined && Number.isFinite(f.indexPrice)) p.floatField('index_price', f.indexPrice);
  return p;
}

/** `open_interest` (docs/INFLUXDB.md, "open_interest"). */
export function openInterestPoint(o: OpenInterestUpdate): Point {
  const p = new Point('open_interest')
    .tag('exchange', o.exchange)
    .tag('symbol', o.symbol)
    .tag('asset_type', o.assetType)
    .floatField('open_interest', o.openInterest)
    .timestamp(new Date(o.ts));
  if (o.openInterestValue !== undefined && Number.isFinite(o.openInterestValue)) p.floatField('open_interest_value', o.openInterestValue);
  return p;
}

/**
 * `liquidations` (docs/INFLUXDB.md, "liquidations"), tag `side`. `ts` may be moved by the caller: two
 * liquidations of one series in the same millisecond would otherwise be one point.
 */
export function liquidationPoint(l: Liquidation, ts: number = l.ts): Point {
  return new Point('liquidations')
    .tag('exchange', l.exchange)
    .tag('symbol', l.symbol)
    .tag('asset_type', l.assetType)
    .tag('side', l.side)
    .floatField('price', l.price)
    .floatField('quantity', l.quantity)
    .floatField('value', l.value)
    .timestamp(new Date(ts));
}
