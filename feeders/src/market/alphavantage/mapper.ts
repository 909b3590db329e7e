// Alpha Vantage GLOBAL_QUOTE → MarketTick. Pure; shapes as recorded in testing/fixtures/alphavantage:
// every value a string under numbered keys ("05. price", "10. change percent": "-0.5852%"). Alpha Vantage
// answers HTTP 200 to everything: a rate limit is a body whose key is "Note" (older) or "Information"
// (current, also premium-only endpoints), a bad call is {"Error Message": …}; those are errors, not data.
import { HttpStatusError, ParseError, type WatchItem } from '@mt/common';
import { isObject } from '../polled-source.js';
import type { MarketTick } from '../types.js';

export const SOURCE = 'alphavantage';

/** Thrown for a "Note"/"Information" body: the key's allowance is used up (retryable, like a 429). */
export class AlphaVantageLimitError extends HttpStatusError {
  constructor(message: string) {
    super(429, message, undefined, SOURCE);
  }
}

/**
 * One GLOBAL_QUOTE body → tick for `item`. The quote has no time of day (only "07. latest trading day"),
 * so the tick's time is when we read it. Exchange stays the watch item's venue; `source` says who priced it.
 */
export function globalQuoteToTick(body: unknown, item: WatchItem, receivedAt: number): MarketTick {
  if (!isObject(body)) throw new ParseError('alphavantage: body is not an object', 'unexpected_shape', JSON.stringify(body)?.slice(0, 200));
  for (const k of ['Note', 'Information']) if (typeof body[k] === 'string') throw new AlphaVantageLimitError(body[k]);
  if (typeof body['Error Message'] === 'string') throw new ParseError(`alphavantage: ${body['Error Message']}`, 'api_error', body['Error Message'].slice(0, 200));
  const q = body['Global Quote'];
  if (!isObject(q)) throw new ParseError('alphavantage: no "Global Quote"', 'unexpected_shape', JSON.stringify(body).slice(0, 200));
  // an unknown symbol answers an empty "Global Quote"
  const price = decimal(q['05. price']);
  if (price === undefined) throw new ParseError(`alphavantage: no price for ${item.symbol}`, 'no_price', JSON.stringify(q).slice(0, 200));
  const pct = typeof q['10. change percent'] === 'string' ? decimal(q['10. change percent'].replace(/%$/, '')) : undefined;
  const t: MarketTick = { exchange: item.exchange, symbol: item.symbol, assetType: item.asset_type, ts: receivedAt, receivedAt, price, source: SOURCE };
  const volume = decimal(q['06. volume']);
  const high = decimal(q['03. high']);
  const low = decimal(q['04. low']);
  if (volume !== undefined) t.volume24h = volume;
  if (pct !== undefined) t.changePct24h = pct;
  if (high !== undefined) t.high24h = high;
  if (low !== undefined) t.low24h = low;
  return t;
}

function decimal(v: unknown): number | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
