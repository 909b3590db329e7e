// Normalised types → InfluxDB points, exactly the layout in ../shared/DESIGN.md (`markets` database).
import { Point } from '@influxdata/influxdb-client';
import type { Candle, FearGreed, IndicatorValues, MarketTick } from './types.js';

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
