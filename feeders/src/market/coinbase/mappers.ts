// Pure mappers: one Coinbase Exchange websocket frame or REST candle row → a typed event → MarketTick /
// BookSummary / candle numbers. No I/O, no state: the source decides what to do with an event (trade-id
// continuity, candle assembly, REST reconciliation). Shapes: testing/fixtures/coinbase/* (SOURCES.md,
// "Coinbase Exchange") and docs/SOURCES.md "Coinbase".
import { isObject as isObj, ParseError, type Ohlcv } from '@mt/common';
import type { BookSummary, MarketTick } from '../types.js';
import { topOfBook } from '../book/index.js';
import { decimal } from '../binance/mappers.js';
import { utcTimeMs } from '../utc-time.js';

export const EXCHANGE = 'coinbase';

export type CoinbaseEvent =
  | { kind: 'match'; product: string; tradeId: number; ts: number; price: number; size: number; last: boolean }
  | {
      kind: 'ticker';
      product: string;
      ts: number;
      price: number;
      open24h: number;
      high24h: number;
      low24h: number;
      /** Base-currency volume, as Coinbase gives it. */
      volume24h: number;
      bid?: number;
      ask?: number;
      /** The trade this ticker follows. */
      tradeId?: number;
    }
  | { kind: 'heartbeat'; product: string; ts: number; lastTradeId: number }
  | { kind: 'snapshot'; product: string; bids: [number, number][]; asks: [number, number][] }
  | { kind: 'l2update'; product: string; ts: number; changes: ['buy' | 'sell', number, number][] }
  | { kind: 'subscriptions'; channels: { name: string; products: string[] }[] }
  | { kind: 'error'; message: string; reason: string }
  /** A documented type we do not use (status, …): ignored, not counted as bad. */
  | { kind: 'other'; type: string };

/** One REST candle: `[time s, low, high, open, close, volume]`. */
export type RestCandle = Ohlcv;


const bad = (reason: string, msg: string, sample: unknown) => new ParseError(msg, reason, String(typeof sample === 'string' ? sample : JSON.stringify(sample)).slice(0, 300));

function num(v: unknown, key: string, o: unknown): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
  } else if (typeof v === 'string' && v !== '') {
    const n = decimal(v);
    if (Number.isFinite(n) && (n !== 0 || v.trim() !== '')) return n;
  }
  throw bad('invalid_field', `field ${key} is not a number`, o);
}

function optNum(v: unknown, key: string, o: unknown): number | undefined {
  return v === undefined || v === null || v === '' ? undefined : num(v, key, o);
}

function str(v: unknown, key: string, o: unknown): string {
  if (typeof v !== 'string' || !v) throw bad('invalid_field', `field ${key} is not a string`, o);
  return v;
}

/** ISO 8601 with microseconds (`2022-01-07T19:54:43.295378Z`) → epoch ms. */
function time(v: unknown, o: unknown): number {
  // the venue's shape without Date.parse on every frame (market/utc-time.ts); any other form, and hour 24,
  // as Date.parse reads it
  let ms = typeof v === 'string' && !v.startsWith('24', 11) ? utcTimeMs(v) : NaN;
  if (Number.isNaN(ms) && typeof v === 'string') ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw bad('invalid_field', 'field time is not an ISO 8601 time', o);
  return ms;
}

function levels(v: unknown, key: string, o: unknown): [number, number][] {
  if (!Array.isArray(v)) throw bad('invalid_field', `field ${key} is not an array`, o);
  const out: [number, number][] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const l = v[i] as unknown;
    if (!Array.isArray(l) || l.length < 2) throw bad('invalid_field', `${key}[${i}] is not [price, size]`, o);
    out[i] = [num(l[0], key, o), num(l[1], key, o)];
  }
  return out;
}

/**
 * One text frame. Throws ParseError with a `reason` (`invalid_json`, `invalid_field`, `unknown_event`)
 * that the caller counts; never anything else.
 */
export function parseFrame(text: string): CoinbaseEvent {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw bad('invalid_json', 'frame is not JSON', text);
  }
  if (!isObj(m)) throw bad('unknown_event', 'frame is not an object', text);
  switch (m.type) {
    case 'match':
    case 'last_match':
      return {
        kind: 'match',
        product: str(m.product_id, 'product_id', m),
        tradeId: num(m.trade_id, 'trade_id', m),
        ts: time(m.time, m),
        price: num(m.price, 'price', m),
        size: num(m.size, 'size', m),
        last: m.type === 'last_match',
      };
    case 'ticker': {
      const ev: CoinbaseEvent = {
        kind: 'ticker',
        product: str(m.product_id, 'product_id', m),
        // the first ticker after subscribing may lack `time`: our clock stands in (see toTick)
        ts: m.time === undefined ? NaN : time(m.time, m),
        price: num(m.price, 'price', m),
        open24h: num(m.open_24h, 'open_24h', m),
        high24h: num(m.high_24h, 'high_24h', m),
        low24h: num(m.low_24h, 'low_24h', m),
        volume24h: num(m.volume_24h, 'volume_24h', m),
      };
      const bid = optNum(m.best_bid, 'best_bid', m);
      const ask = optNum(m.best_ask, 'best_ask', m);
      const tradeId = optNum(m.trade_id, 'trade_id', m);
      if (bid !== undefined) ev.bid = bid;
      if (ask !== undefined) ev.ask = ask;
      if (tradeId !== undefined) ev.tradeId = tradeId;
      return ev;
    }
    case 'heartbeat':
      return { kind: 'heartbeat', product: str(m.product_id, 'product_id', m), ts: time(m.time, m), lastTradeId: num(m.last_trade_id ?? 0, 'last_trade_id', m) };
    case 'snapshot':
      return { kind: 'snapshot', product: str(m.product_id, 'product_id', m), bids: levels(m.bids, 'bids', m), asks: levels(m.asks, 'asks', m) };
    case 'l2update': {
      if (!Array.isArray(m.changes)) throw bad('invalid_field', 'field changes is not an array', m);
      const changes = (m.changes as unknown[]).map((c) => {
        if (!Array.isArray(c) || (c[0] !== 'buy' && c[0] !== 'sell')) throw bad('invalid_field', 'change is not [side, price, size]', m);
        return [c[0], num(c[1], 'price', m), num(c[2], 'size', m)] as ['buy' | 'sell', number, number];
      });
      return { kind: 'l2update', product: str(m.product_id, 'product_id', m), ts: time(m.time, m), changes };
    }
    case 'subscriptions': {
      if (!Array.isArray(m.channels)) throw bad('invalid_field', 'field channels is not an array', m);
      const channels = (m.channels as unknown[]).map((c) => {
        if (!isObj(c)) throw bad('invalid_field', 'channel is not an object', m);
        const products = Array.isArray(c.product_ids) ? c.product_ids.filter((p): p is string => typeof p === 'string') : [];
        return { name: str(c.name, 'name', m), products };
      });
      return { kind: 'subscriptions', channels };
    }
    case 'error':
      return { kind: 'error', message: typeof m.message === 'string' ? m.message : '', reason: typeof m.reason === 'string' ? m.reason : '' };
    case 'status':
    case 'auction':
      return { kind: 'other', type: m.type };
    default:
      throw bad('unknown_event', `unknown type ${String(m.type)}`, m);
  }
}

/** One row of GET /products/{id}/candles: `[time, low, high, open, close, volume]`, time in seconds. */
export function parseCandleRow(row: unknown): RestCandle {
  if (!Array.isArray(row) || row.length < 6) throw bad('invalid_field', 'candle row is not [time, low, high, open, close, volume]', row);
  const t = num(row[0], 'time', row);
  if (!Number.isInteger(t)) throw bad('invalid_field', 'candle time is not whole seconds', row);
  return { openTime: t * 1000, low: num(row[1], 'low', row), high: num(row[2], 'high', row), open: num(row[3], 'open', row), close: num(row[4], 'close', row), volume: num(row[5], 'volume', row) };
}

/**
 * A tick from the ticker channel. Coinbase's `volume_24h` is in the base currency; the stored
 * `volume_24h` is in the quote currency on every crypto venue (docs/SOURCES.md, "Coinbase"), so it is
 * volume × last price here, an estimate (Coinbase publishes no 24 h quote volume).
 */
export function toTick(symbol: string, ev: Extract<CoinbaseEvent, { kind: 'ticker' }>, receivedAt: number): MarketTick {
  const t: MarketTick = {
    exchange: EXCHANGE,
    symbol,
    assetType: 'crypto',
    receivedAt,
    ts: Number.isFinite(ev.ts) ? ev.ts : receivedAt,
    price: ev.price,
    high24h: ev.high24h,
    low24h: ev.low24h,
    volume24h: ev.volume24h * ev.price,
    changePct24h: ev.open24h ? ((ev.price - ev.open24h) / ev.open24h) * 100 : 0,
  };
  if (ev.bid !== undefined) t.bid = ev.bid;
  if (ev.ask !== undefined) t.ask = ev.ask;
  return t;
}

/** A trade as a tick (price only), so a quiet ticker does not hold back the last price. */
export function tradeTick(symbol: string, ev: Extract<CoinbaseEvent, { kind: 'match' }>, receivedAt: number): MarketTick {
  return { exchange: EXCHANGE, symbol, assetType: 'crypto', receivedAt, ts: ev.ts, price: ev.price };
}

/** Top of book from the ticker channel; undefined without both sides or when crossed/locked. */
export function tickerBook(symbol: string, ev: Extract<CoinbaseEvent, { kind: 'ticker' }>, receivedAt: number): BookSummary | undefined {
  if (ev.bid === undefined || ev.ask === undefined) return undefined;
  return topOfBook({ exchange: EXCHANGE, symbol, assetType: 'crypto', ts: Number.isFinite(ev.ts) ? ev.ts : receivedAt, receivedAt }, ev.bid, ev.ask);
}
