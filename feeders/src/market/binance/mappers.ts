// Pure mappers: one Binance websocket/REST payload → a typed event → MarketTick / Candle. No I/O, no
// state: the source decides what to do with an event (continuity checks, dedupe, backfill).
// Shapes: testing/fixtures/binance/ws_combined_*.json, rest_klines_*.json and the stream docs.
import { isObject as isObj, ParseError } from '@mt/common';
import type { Candle, MarketTick } from '../types.js';

export type BinanceEvent =
  | { kind: 'trade'; symbol: string; ts: number; tradeId: number; price: number }
  | { kind: 'aggTrade'; symbol: string; ts: number; firstTradeId: number; lastTradeId: number; price: number }
  | { kind: 'book'; symbol: string; updateId: number; bid: number; ask: number }
  | {
      kind: 'ticker';
      symbol: string;
      ts: number;
      price: number;
      high24h: number;
      low24h: number;
      quoteVolume24h: number;
      changePct24h: number;
      bid?: number;
      ask?: number;
    }
  | { kind: 'kline'; symbol: string; ts: number; interval: string; closed: boolean; k: KlineFields }
  | {
      kind: 'depth';
      symbol: string;
      ts: number;
      /** `U`: first update id in the event. */
      firstUpdateId: number;
      /** `u`: final update id in the event. */
      lastUpdateId: number;
      /** Quantity 0 = remove the level. */
      bids: DepthLevel[];
      asks: DepthLevel[];
    }
  | { kind: 'shutdown'; ts: number }
  | ControlAnswer;

/** One `[price, qty]` pair of a depth diff or snapshot. */
export interface DepthLevel {
  price: number;
  qty: number;
}

/** The numbers of a kline, REST row or stream frame alike: a Candle's without our tags. */
export type KlineFields = Pick<Candle, 'openTime' | 'closeTime' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'quoteVolume' | 'trades'>;

export type Obj = Record<string, unknown>;

export const bad = (reason: string, msg: string, sample: unknown) => new ParseError(msg, reason, String(typeof sample === 'string' ? sample : JSON.stringify(sample)).slice(0, 300));

export { isObj };

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_EXACT = 2 ** 53;

/**
 * `Number(s)`, faster for the plain decimals Binance sends ("0.35210000"): V8's string-to-double is a
 * runtime call (~80 ns); here digits → integer m and count of decimals k, then m / 10^k. That is exact
 * (correctly rounded, like Number) while m < 2^53 and k ≤ 22, both operands being exact doubles and the
 * division rounded once; anything else (exponent, sign +, spaces, long mantissa) goes to Number().
 */
export function decimal(s: string): number {
  const n = s.length;
  let i = 0;
  const neg = n > 0 && s.charCodeAt(0) === 45; // '-'
  if (neg) i = 1;
  const start = i;
  let m = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    m = m * 10 + c;
  }
  if (i === start) return Number(s);
  let k = 0;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return Number(s); // '.'
    const first = ++i;
    for (; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return Number(s);
      m = m * 10 + c;
    }
    k = i - first;
    if (k === 0 || k > 22) return Number(s);
  }
  // every step was exact while below 2^53; once the true value reaches it, so does the rounded one
  if (m >= MAX_EXACT) return Number(s);
  const v = m / POW10[k]!;
  return neg ? -v : v;
}

// num/str take the value, not (object, key): each call site then reads one known property of one
// frame shape (a monomorphic load) instead of all sharing one megamorphic keyed load.
export function num(v: unknown, key: string, o: Obj): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
  } else if (typeof v === 'string') {
    // a blank string is the only one Number() turns into 0 that is not a number: trim only then
    const n = decimal(v);
    if (Number.isFinite(n) && (n !== 0 || v.trim() !== '')) return n;
  }
  throw bad('invalid_field', `field ${key} is not a number`, o);
}

export function str(v: unknown, key: string, o: Obj): string {
  if (typeof v !== 'string' || !v) throw bad('invalid_field', `field ${key} is not a string`, o);
  return v;
}

/** A control answer on a Binance market-stream socket (spot and USDⓈ-M futures alike). */
export type ControlAnswer = { kind: 'result'; id: unknown; result: unknown } | { kind: 'error'; id: unknown; code: number; msg: string };

/**
 * One text frame from a combined (`{"stream","data"}`) or raw connection: a control answer, or the event
 * object handed to `event` (the API's own event parser). Throws ParseError with a `reason` (`invalid_json`,
 * `invalid_field`, `unknown_event`) that the caller counts; never anything else.
 */
export function parseBinanceFrame<E>(text: string, event: (d: Obj) => E): E | ControlAnswer {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw bad('invalid_json', 'frame is not JSON', text);
  }
  if (!isObj(msg)) throw bad('unknown_event', 'frame is not an object', text);
  if ('result' in msg && 'id' in msg) return { kind: 'result', id: msg.id, result: msg.result };
  if (isObj(msg.error)) return { kind: 'error', id: msg.id, code: Number(msg.error.code), msg: String(msg.error.msg) };
  const data = typeof msg.stream === 'string' && 'data' in msg ? msg.data : msg;
  if (!isObj(data)) throw bad('unknown_event', 'data is not an object', text);
  return event(data);
}

/** One spot frame (see parseBinanceFrame). */
export function parseFrame(text: string): BinanceEvent {
  return parseBinanceFrame(text, parseEvent);
}

function parseEvent(d: Obj): BinanceEvent {
  switch (d.e) {
    case 'trade':
      return { kind: 'trade', symbol: str(d.s, 's', d), ts: num(d.T, 'T', d), tradeId: num(d.t, 't', d), price: num(d.p, 'p', d) };
    case 'aggTrade':
      return { kind: 'aggTrade', symbol: str(d.s, 's', d), ts: num(d.T, 'T', d), firstTradeId: num(d.f, 'f', d), lastTradeId: num(d.l, 'l', d), price: num(d.p, 'p', d) };
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
        bid: num(d.b, 'b', d),
        ask: num(d.a, 'a', d),
      };
    case '24hrMiniTicker': {
      const open = num(d.o, 'o', d);
      const close = num(d.c, 'c', d);
      return {
        kind: 'ticker',
        symbol: str(d.s, 's', d),
        ts: num(d.E, 'E', d),
        price: close,
        high24h: num(d.h, 'h', d),
        low24h: num(d.l, 'l', d),
        quoteVolume24h: num(d.q, 'q', d),
        changePct24h: open ? ((close - open) / open) * 100 : 0,
      };
    }
    case 'kline': {
      if (!isObj(d.k)) throw bad('invalid_field', 'kline without k', d);
      const k = d.k;
      if (typeof k.x !== 'boolean') throw bad('invalid_field', 'kline without x', d);
      return { kind: 'kline', symbol: str(d.s, 's', d), ts: num(d.E, 'E', d), interval: str(k.i, 'i', k), closed: k.x, k: klineFields(k) };
    }
    case 'depthUpdate':
      return {
        kind: 'depth',
        symbol: str(d.s, 's', d),
        ts: num(d.E, 'E', d),
        firstUpdateId: num(d.U, 'U', d),
        lastUpdateId: num(d.u, 'u', d),
        bids: levels(d.b, 'b', d),
        asks: levels(d.a, 'a', d),
      };
    case 'serverShutdown':
      return { kind: 'shutdown', ts: num(d.E, 'E', d) };
    case undefined:
      // bookTicker is the one stream without an event type (ws_combined_bookTicker.json).
      if ('u' in d && 'b' in d && 'a' in d && 's' in d) return { kind: 'book', symbol: str(d.s, 's', d), updateId: num(d.u, 'u', d), bid: num(d.b, 'b', d), ask: num(d.a, 'a', d) };
      throw bad('unknown_event', 'frame without event type', d);
    default:
      throw bad('unknown_event', `unknown event type ${String(d.e)}`, d);
  }
}

export function klineFields(k: Obj): KlineFields {
  return {
    openTime: num(k.t, 't', k),
    closeTime: num(k.T, 'T', k),
    open: num(k.o, 'o', k),
    high: num(k.h, 'h', k),
    low: num(k.l, 'l', k),
    close: num(k.c, 'c', k),
    volume: num(k.v, 'v', k),
    quoteVolume: num(k.q, 'q', k),
    trades: num(k.n, 'n', k),
  };
}

/** `[["price","qty"], …]` of a depth diff or snapshot. */
export function levels(v: unknown, key: string, o: Obj): DepthLevel[] {
  if (!Array.isArray(v)) throw bad('invalid_field', `field ${key} is not an array`, o);
  return v.map((l: unknown) => {
    if (!Array.isArray(l) || l.length < 2) throw bad('invalid_field', `a level of ${key} is not [price, qty]`, o);
    const price = num(l[0], key, o);
    const qty = num(l[1], key, o);
    if (!(price > 0) || qty < 0) throw bad('invalid_field', `a level of ${key} has a non-positive price or a negative quantity`, o);
    return { price, qty };
  });
}

/**
 * GET /api/v3/depth: `{ lastUpdateId, bids, asks }` (testing/fixtures/binance_depth); USDⓈ-M's
 * /fapi/v1/depth adds `E` and `T` (testing/fixtures/binance_futures), which the book does not need.
 */
export function parseDepthSnapshot(body: unknown): { lastUpdateId: number; bids: DepthLevel[]; asks: DepthLevel[] } {
  if (!isObj(body)) throw bad('invalid_field', 'depth snapshot is not an object', body);
  return { lastUpdateId: num(body.lastUpdateId, 'lastUpdateId', body), bids: levels(body.bids, 'bids', body), asks: levels(body.asks, 'asks', body) };
}

/** One row of GET /api/v3/klines: [openTime, o, h, l, c, v, closeTime, quoteVolume, trades, …]. */
export function parseKlineRow(row: unknown): KlineFields {
  if (!Array.isArray(row) || row.length < 9) throw bad('invalid_field', 'kline row is not an array of 9+', row);
  const o: Obj = { t: row[0], o: row[1], h: row[2], l: row[3], c: row[4], v: row[5], T: row[6], q: row[7], n: row[8] };
  return klineFields(o);
}

export function toCandle(symbol: string, k: KlineFields, closed: boolean, receivedAt: number, exchange = 'binance'): Candle {
  return { exchange, symbol, assetType: 'crypto', interval: '1m', ...k, closed, receivedAt };
}

/**
 * A tick for `symbol` from a trade, book or ticker event. Book updates carry no price of their own, so
 * they reuse the last traded price (`lastPrice`) and fall back to the mid.
 */
export function toTick(symbol: string, ev: BinanceEvent, receivedAt: number, lastPrice?: number): MarketTick | undefined {
  // One object literal per event kind, fields always in the same order: V8 gives each kind one fixed
  // shape. (Spreading a freshly built base object here cost ~1.2 µs per tick on Node 20's slow path.)
  switch (ev.kind) {
    case 'trade':
    case 'aggTrade':
      return { exchange: 'binance', symbol, assetType: 'crypto', receivedAt, ts: ev.ts, price: ev.price };
    case 'book':
      // Spot bookTicker has no event time: our receive time is the best there is.
      return { exchange: 'binance', symbol, assetType: 'crypto', receivedAt, ts: receivedAt, price: lastPrice ?? (ev.bid + ev.ask) / 2, bid: ev.bid, ask: ev.ask };
    case 'ticker': {
      // Quote-asset volume (USDT for BTC/USDT): comparable across symbols, like CoinGecko's volume.
      if (ev.bid !== undefined && ev.ask !== undefined) {
        return {
          exchange: 'binance',
          symbol,
          assetType: 'crypto',
          receivedAt,
          ts: ev.ts,
          price: ev.price,
          high24h: ev.high24h,
          low24h: ev.low24h,
          volume24h: ev.quoteVolume24h,
          changePct24h: ev.changePct24h,
          bid: ev.bid,
          ask: ev.ask,
        };
      }
      // miniTicker: no book prices
      const t: MarketTick = {
        exchange: 'binance',
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
      if (ev.bid !== undefined) t.bid = ev.bid;
      if (ev.ask !== undefined) t.ask = ev.ask;
      return t;
    }
    default:
      return undefined;
  }
}
