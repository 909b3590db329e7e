// Pure mappers for Binance USDⓈ-M futures (fstream / fapi): one frame or REST body → a typed event →
// the normalised market types. No I/O, no state. Shapes: testing/fixtures/binance_futures/* (testing/fixtures/SOURCES.md, "Binance USDⓈ-M futures").
// Differences from spot that matter here: bookTicker carries `e`, `E` and `T`; 24hrTicker has no best
// bid/ask; markPriceUpdate and forceOrder exist only on futures.
import { ParseError } from '@mt/common';
import type { BookSummary, Candle, FundingUpdate, Liquidation, MarketTick, OpenInterestUpdate } from '../types.js';
import { bad, isObj, klineFields, levels, num, parseBinanceFrame, str, toCandle, type ControlAnswer, type DepthLevel, type KlineFields, type Obj } from '../binance/mappers.js';

export const EXCHANGE = 'binance-futures';

export type FuturesEvent =
  | { kind: 'aggTrade'; symbol: string; ts: number; aggId: number; price: number }
  | { kind: 'kline'; symbol: string; ts: number; interval: string; closed: boolean; k: KlineFields }
  | { kind: 'book'; symbol: string; ts: number; updateId: number; bid: number; ask: number }
  /** depthUpdate (`<symbol>@depth@100ms`): `U`, `u` and `pu`, the previous event's `u` (binance-futures/depth.ts). */
  | { kind: 'depth'; symbol: string; ts: number; firstUpdateId: number; lastUpdateId: number; prevLastUpdateId: number; bids: DepthLevel[]; asks: DepthLevel[] }
  | { kind: 'markPrice'; symbol: string; ts: number; markPrice: number; indexPrice?: number; fundingRate: number; nextFundingTime: number }
  | { kind: 'liquidation'; symbol: string; ts: number; side: 'buy' | 'sell'; price: number; quantity: number }
  | { kind: 'ticker'; symbol: string; ts: number; price: number; high24h: number; low24h: number; quoteVolume24h: number; changePct24h: number }
  | { kind: 'shutdown'; ts: number }
  | ControlAnswer;

/** One fstream text frame (spot's frame rules: testing/fixtures/LIMITS.md); throws ParseError with a reason. */
export function parseFuturesFrame(text: string): FuturesEvent {
  return parseBinanceFrame(text, parseEvent);
}

function parseEvent(d: Obj): FuturesEvent {
  switch (d.e) {
    case 'aggTrade':
      return { kind: 'aggTrade', symbol: str(d.s, 's', d), ts: num(d.T, 'T', d), aggId: num(d.a, 'a', d), price: num(d.p, 'p', d) };
    case 'kline': {
      if (!isObj(d.k)) throw bad('invalid_field', 'kline without k', d);
      const k = d.k;
      if (typeof k.x !== 'boolean') throw bad('invalid_field', 'kline without x', d);
      return { kind: 'kline', symbol: str(d.s, 's', d), ts: num(d.E, 'E', d), interval: str(k.i, 'i', k), closed: k.x, k: klineFields(k) };
    }
    case 'bookTicker':
      return { kind: 'book', symbol: str(d.s, 's', d), ts: num(d.E, 'E', d), updateId: num(d.u, 'u', d), bid: num(d.b, 'b', d), ask: num(d.a, 'a', d) };
    case 'depthUpdate':
      return {
        kind: 'depth',
        symbol: str(d.s, 's', d),
        ts: num(d.E, 'E', d),
        firstUpdateId: num(d.U, 'U', d),
        lastUpdateId: num(d.u, 'u', d),
        prevLastUpdateId: num(d.pu, 'pu', d),
        bids: levels(d.b, 'b', d),
        asks: levels(d.a, 'a', d),
      };
    case 'markPriceUpdate':
      return {
        kind: 'markPrice',
        symbol: str(d.s, 's', d),
        ts: num(d.E, 'E', d),
        markPrice: num(d.p, 'p', d),
        // The 2019 `markPrice` (3 s) frame has no index price (testing/fixtures/SOURCES.md, "Binance USDⓈ-M futures").
        indexPrice: d.i === undefined ? undefined : num(d.i, 'i', d),
        fundingRate: num(d.r, 'r', d),
        nextFundingTime: num(d.T, 'T', d),
      };
    case 'forceOrder': {
      if (!isObj(d.o)) throw bad('invalid_field', 'forceOrder without o', d);
      const o = d.o;
      const side = o.S === 'BUY' ? 'buy' : o.S === 'SELL' ? 'sell' : undefined;
      if (!side) throw bad('invalid_field', 'forceOrder side is not BUY or SELL', d);
      // What was filled, at the average fill price: `z` (accumulated) and `ap`; `p` is the order's limit.
      const avg = o.ap === undefined ? 0 : num(o.ap, 'ap', o);
      return {
        kind: 'liquidation',
        symbol: str(o.s, 's', o),
        ts: num(o.T, 'T', o),
        side,
        price: avg > 0 ? avg : num(o.p, 'p', o),
        quantity: num(o.z, 'z', o),
      };
    }
    case '24hrTicker':
      return {
        kind: 'ticker',
        symbol: str(d.s, 's', d),
        ts: num(d.E, 'E', d),
        price: num(d.c, 'c', d),
        high24h: num(d.h, 'h', d),
        low24h: num(d.l, 'l', d),
        quoteVolume24h: num(d.q, 'q', d),
        changePct24h: num(d.P, 'P', d),
      };
    case 'serverShutdown':
      return { kind: 'shutdown', ts: num(d.E, 'E', d) };
    default:
      throw bad('unknown_event', `unknown event type ${String(d.e)}`, d);
  }
}

/** GET /fapi/v1/openInterest: `{"symbol","openInterest","time"}` → open interest (base units) and its time. */
export function parseOpenInterest(body: unknown): { symbol: string; openInterest: number; time: number } {
  if (!isObj(body)) throw new ParseError('openInterest body is not an object', 'invalid_field', JSON.stringify(body)?.slice(0, 300) ?? '');
  return { symbol: str(body.symbol, 'symbol', body), openInterest: num(body.openInterest, 'openInterest', body), time: num(body.time, 'time', body) };
}

/** Hours between fundings of a perpetual that GET /fapi/v1/fundingInfo does not list (docs/SOURCES.md "Binance USDⓈ-M futures"). */
export const DEFAULT_FUNDING_INTERVAL_HOURS = 8;

/**
 * GET /fapi/v1/fundingInfo: the perpetuals whose funding cap, floor or interval were adjusted →
 * `BTCUSDT` → hours between fundings. The body must be an array (else a ParseError); an element without a
 * symbol or a positive whole number of hours is left out and returned in `rejected` for the caller to count.
 */
export function parseFundingInfo(body: unknown): { hours: Map<string, number>; rejected: ParseError[] } {
  if (!Array.isArray(body)) throw new ParseError('fundingInfo body is not an array', 'invalid_field', JSON.stringify(body)?.slice(0, 300) ?? '');
  const hours = new Map<string, number>();
  const rejected: ParseError[] = [];
  for (const e of body) {
    if (!isObj(e) || typeof e.symbol !== 'string' || !e.symbol || typeof e.fundingIntervalHours !== 'number' || !Number.isInteger(e.fundingIntervalHours) || e.fundingIntervalHours <= 0) {
      rejected.push(new ParseError('fundingInfo element without a symbol or a positive whole fundingIntervalHours', 'invalid_field', JSON.stringify(e)?.slice(0, 300) ?? ''));
      continue;
    }
    hours.set(e.symbol, e.fundingIntervalHours);
  }
  return { hours, rejected };
}

// One object literal per output kind, fields in one fixed order: these run on every frame, and spreading
// a freshly built base object takes Node 20's slow path (docs/BENCHMARKS.md §1, "toTick").
export function futuresCandle(symbol: string, k: KlineFields, receivedAt: number): Candle {
  return toCandle(symbol, k, true, receivedAt, EXCHANGE);
}

/** A tick from a trade, book or 24 h ticker event; book ticks reuse the last traded price (mid before any). */
export function futuresTick(symbol: string, ev: FuturesEvent, receivedAt: number, lastPrice?: number): MarketTick | undefined {
  switch (ev.kind) {
    case 'aggTrade':
      return { exchange: EXCHANGE, symbol, assetType: 'crypto', receivedAt, ts: ev.ts, price: ev.price };
    case 'book':
      return { exchange: EXCHANGE, symbol, assetType: 'crypto', receivedAt, ts: ev.ts, price: lastPrice ?? (ev.bid + ev.ask) / 2, bid: ev.bid, ask: ev.ask };
    case 'ticker':
      return {
        exchange: EXCHANGE,
        symbol,
        assetType: 'crypto',
        receivedAt,
        ts: ev.ts,
        price: ev.price,
        high24h: ev.high24h,
        low24h: ev.low24h,
        volume24h: ev.quoteVolume24h,
        changePct24h: ev.changePct24h,
      };
    default:
      return undefined;
  }
}

export function futuresBook(symbol: string, ev: Extract<FuturesEvent, { kind: 'book' }>, receivedAt: number): BookSummary {
  return { exchange: EXCHANGE, symbol, assetType: 'crypto', ts: ev.ts, receivedAt, bestBid: ev.bid, bestAsk: ev.ask };
}

/** `intervalHours`: the symbol's funding interval (parseFundingInfo, else DEFAULT_FUNDING_INTERVAL_HOURS). */
export function futuresFunding(symbol: string, ev: Extract<FuturesEvent, { kind: 'markPrice' }>, receivedAt: number, intervalHours: number): FundingUpdate {
  const f: FundingUpdate = { exchange: EXCHANGE, symbol, assetType: 'crypto', ts: ev.ts, receivedAt, markPrice: ev.markPrice, fundingRate: ev.fundingRate, nextFundingTime: ev.nextFundingTime, fundingIntervalHours: intervalHours };
  if (ev.indexPrice !== undefined) f.indexPrice = ev.indexPrice;
  return f;
}

export function futuresLiquidation(symbol: string, ev: Extract<FuturesEvent, { kind: 'liquidation' }>, receivedAt: number): Liquidation {
  return { exchange: EXCHANGE, symbol, assetType: 'crypto', ts: ev.ts, receivedAt, side: ev.side, price: ev.price, quantity: ev.quantity, value: ev.price * ev.quantity };
}

/** Open interest with its quote-currency value at the latest mark price (none before the first mark price). */
export function futuresOpenInterest(symbol: string, oi: { openInterest: number; time: number }, receivedAt: number, markPrice?: number): OpenInterestUpdate {
  const o: OpenInterestUpdate = { exchange: EXCHANGE, symbol, assetType: 'crypto', ts: oi.time, receivedAt, openInterest: oi.openInterest };
  if (markPrice !== undefined) o.openInterestValue = oi.openInterest * markPrice;
  return o;
}
