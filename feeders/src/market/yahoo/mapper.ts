// Yahoo Finance payloads → MarketTick. Pure functions; shapes as recorded in testing/fixtures/yahoo
// (v7 `quoteResponse.result[]`, v8 `chart.result[0].meta`). Yahoo times are epoch SECONDS.
import { ParseError, type WatchItem } from '@mt/common';
import type { MarketTick } from '../types.js';
import { isObject, num } from '../polled-source.js';

const EXCHANGE = 'yahoo';

/** `quoteResponse.result` of a v7 quote body; throws ParseError when the envelope is not a quote response. */
export function quoteResults(body: unknown): Record<string, unknown>[] {
  const qr = isObject(body) ? body.quoteResponse : undefined;
  if (!isObject(qr) || !Array.isArray(qr.result)) throw new ParseError('yahoo: not a v7 quoteResponse', 'unexpected_shape', JSON.stringify(body)?.slice(0, 200));
  return qr.result.filter(isObject);
}

/** One v7 quote → tick for the watch item it belongs to. */
export function quoteToTick(q: Record<string, unknown>, item: WatchItem, receivedAt: number): MarketTick {
  const price = num(q.regularMarketPrice);
  const time = num(q.regularMarketTime);
  if (price === undefined || time === undefined) {
    throw new ParseError(`yahoo: quote for ${String(q.symbol)} has no regularMarketPrice/Time`, 'no_price', JSON.stringify(q).slice(0, 200));
  }
  // currencies report volume 0 and bid/ask 0 when there is none: leave them out rather than store zeros
  const isCurrency = q.quoteType === 'CURRENCY';
  return compact({
    exchange: EXCHANGE,
    symbol: item.symbol,
    assetType: item.asset_type,
    ts: time * 1000,
    receivedAt,
    price,
    bid: positive(q.bid),
    ask: positive(q.ask),
    volume24h: isCurrency ? undefined : num(q.regularMarketVolume),
    // already in percent (1.27 = +1.27 %), like Binance's priceChangePercent
    changePct24h: num(q.regularMarketChangePercent),
    high24h: num(q.regularMarketDayHigh),
    low24h: num(q.regularMarketDayLow),
    marketCap: num(q.marketCap),
  });
}

export type ChartOutcome = { kind: 'tick'; tick: MarketTick } | { kind: 'not_found'; description: string };

/**
 * A v8 chart body → tick from `meta` (the latest regular-market price and time). A chart with no bars
 * (weekend, holiday: `indicators.quote: [{}]`, no `timestamp`) still carries meta, so it is not an error.
 */
export function chartToTick(body: unknown, item: WatchItem, receivedAt: number): ChartOutcome {
  const chart = isObject(body) ? body.chart : undefined;
  if (!isObject(chart)) throw new ParseError('yahoo: not a v8 chart body', 'unexpected_shape', JSON.stringify(body)?.slice(0, 200));
  if (isObject(chart.error)) {
    if (chart.error.code === 'Not Found') return { kind: 'not_found', description: String(chart.error.description ?? '') };
    throw new ParseError(`yahoo: chart error ${String(chart.error.code)}`, 'api_error', JSON.stringify(chart.error).slice(0, 200));
  }
  const meta = Array.isArray(chart.result) && isObject(chart.result[0]) ? chart.result[0].meta : undefined;
  if (!isObject(meta)) throw new ParseError('yahoo: chart without result[0].meta', 'unexpected_shape', JSON.stringify(chart).slice(0, 200));
  const price = num(meta.regularMarketPrice);
  const time = num(meta.regularMarketTime);
  if (price === undefined || time === undefined) {
    throw new ParseError(`yahoo: chart meta for ${String(meta.symbol)} has no regularMarketPrice/Time`, 'no_price', JSON.stringify(meta).slice(0, 200));
  }
  return {
    kind: 'tick',
    tick: compact({
      exchange: EXCHANGE,
      symbol: item.symbol,
      assetType: item.asset_type,
      ts: time * 1000,
      receivedAt,
      price,
      volume24h: meta.instrumentType === 'CURRENCY' ? undefined : num(meta.regularMarketVolume),
      high24h: num(meta.regularMarketDayHigh),
      low24h: num(meta.regularMarketDayLow),
    }),
  };
}

function positive(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
}

function compact(t: MarketTick): MarketTick {
  for (const k of Object.keys(t) as (keyof MarketTick)[]) if (t[k] === undefined) delete t[k];
  return t;
}
