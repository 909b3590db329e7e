// ExchangeRate-API `latest/USD` → MarketTicks for forex pairs. Pure; shapes as recorded in
// testing/fixtures/exchangerate_api: the keyed v6 endpoint gives `conversion_rates`, the open-access one
// `rates` (units of each currency per 1 USD); errors are {"result":"error","error-type":…}, HTTP 200 or not.
import { HttpStatusError, ParseError, type WatchItem } from '@mt/common';
import { isObject, num } from '../polled-source.js';
import type { MarketTick } from '../types.js';

export const SOURCE = 'exchangerate';

export interface Rates {
  /** Currency → units per 1 USD. */
  rates: Record<string, number>;
  /** When the provider last updated them, epoch ms (the ticks' time). */
  updatedAt: number;
  /** When it updates them next, epoch ms (undefined when not said). */
  nextUpdateAt: number | undefined;
}

export function parseLatest(body: unknown): Rates {
  if (!isObject(body)) throw new ParseError('exchangerate: body is not an object', 'unexpected_shape', JSON.stringify(body)?.slice(0, 200));
  if (body.result === 'error') {
    const kind = String(body['error-type'] ?? 'unknown');
    // the plan's quota is used up: retryable later, like a 429
    if (kind === 'quota-reached') throw new HttpStatusError(429, kind, undefined, SOURCE);
    throw new ParseError(`exchangerate: ${kind}`, 'api_error', kind);
  }
  const rates = isObject(body.conversion_rates) ? body.conversion_rates : isObject(body.rates) ? body.rates : undefined;
  const updated = num(body.time_last_update_unix);
  if (body.result !== 'success' || !rates || updated === undefined || body.base_code !== 'USD') {
    throw new ParseError('exchangerate: not a latest/USD answer', 'unexpected_shape', JSON.stringify(body).slice(0, 200));
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rates)) if (typeof v === 'number' && v > 0 && Number.isFinite(v)) out[k] = v;
  const next = num(body.time_next_update_unix);
  return { rates: out, updatedAt: updated * 1000, nextUpdateAt: next === undefined ? undefined : next * 1000 };
}

/** The pair `BASE/QUOTE` (e.g. EUR/USD = USD per EUR) from USD-based rates; ParseError when a side is unknown. */
export function pairTick(r: Rates, item: WatchItem, receivedAt: number): MarketTick {
  const [base, quote] = item.symbol.split('/');
  const b = base ? r.rates[base] : undefined;
  const q = quote ? r.rates[quote] : undefined;
  if (b === undefined || q === undefined) throw new ParseError(`exchangerate: no rate for ${item.symbol}`, 'no_price', item.symbol);
  return { exchange: item.exchange, symbol: item.symbol, assetType: item.asset_type, ts: r.updatedAt, receivedAt, price: q / b, source: SOURCE };
}
