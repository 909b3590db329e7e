// Pure mappers: one Kraken websocket v2 frame or REST OHLC body → typed events → Candle / MarketTick /
// book levels. No I/O, no state. Shapes: testing/fixtures/kraken (docs/ORDER_BOOKS.md, docs/SOURCES.md).
import { isObject as isObj, ParseError } from '@mt/common';
import type { Candle, MarketTick } from '../types.js';
import type { Level } from '../book/index.js';
import { utcTimeMs } from '../utc-time.js';

export const EXCHANGE = 'kraken';
export const MINUTE = 60_000;

/** A candle's numbers without our tags (the same shape as the Binance mapper's KlineFields). */
export type CandleFields = Pick<Candle, 'openTime' | 'closeTime' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'quoteVolume' | 'trades'>;

export interface OhlcRow {
  symbol: string;
  /** Minutes. */
  interval: number;
  k: CandleFields;
}

export interface TickerRow {
  symbol: string;
  ts: number;
  bid: number;
  ask: number;
  last: number;
  /** Base currency, 24 h. */
  volume: number;
  vwap: number;
  low: number;
  high: number;
  changePct: number;
}

export interface BookRow {
  symbol: string;
  bids: Level[];
  asks: Level[];
  checksum: number;
  ts?: number;
}

export type KrakenEvent =
  | { kind: 'ohlc'; snapshot: boolean; rows: OhlcRow[] }
  | { kind: 'ticker'; rows: TickerRow[] }
  | { kind: 'book'; snapshot: boolean; rows: BookRow[] }
  | { kind: 'heartbeat' }
  | { kind: 'status'; system: string }
  | { kind: 'ack'; method: string; success: boolean; channel?: string; symbol?: string; error?: string }
  | { kind: 'pong' };

type Obj = Record<string, unknown>;

const bad = (reason: string, msg: string, sample: unknown) => new ParseError(msg, reason, String(typeof sample === 'string' ? sample : JSON.stringify(sample)).slice(0, 300));

function num(v: unknown, key: string, o: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw bad('invalid_field', `field ${key} is not a number`, o);
  return n;
}

function str(v: unknown, key: string, o: unknown): string {
  if (typeof v !== 'string' || !v) throw bad('invalid_field', `field ${key} is not a string`, o);
  return v;
}

/** RFC 3339 with up to 9 fractional digits (`2026-09-10T17:40:00.000000000Z`) → epoch ms. */
export function parseTime(v: unknown, key: string, o: unknown): number {
  const ms = typeof v === 'string' ? utcTimeMs(v) : Number.NaN;
  if (Number.isFinite(ms)) return ms;
  throw bad('invalid_field', `field ${key} is not an RFC 3339 time`, o);
}

// Book prices and quantities keep the digits they had on the wire: JSON.parse would turn 0.10000000 into
// 0.1 and 45281.0 into 45281, and Kraken's CRC32 is computed over those digits. A number literal after
// "price"/"qty" is quoted before parsing (the key names occur nowhere else in a book frame).
const BOOK_NUMBER = /("(?:price|qty)"\s*:\s*)(-?\d[\d.eE+-]*)/g;

/**
 * One text frame. Throws ParseError with a `reason` (`invalid_json`, `invalid_field`, `unknown_event`)
 * that the caller counts; never anything else.
 */
export function parseFrame(text: string): KrakenEvent {
  const isBook = text.includes('"book"');
  let msg: unknown;
  try {
    msg = JSON.parse(isBook ? text.replace(BOOK_NUMBER, '$1"$2"') : text);
  } catch {
    throw bad('invalid_json', 'frame is not JSON', text);
  }
  if (!isObj(msg)) throw bad('unknown_event', 'frame is not an object', text);
  if (typeof msg.method === 'string') {
    if (msg.method === 'pong') return { kind: 'pong' };
    const r = isObj(msg.result) ? msg.result : {};
    const ev: KrakenEvent = { kind: 'ack', method: msg.method, success: msg.success === true };
    const channel = r.channel;
    const symbol = r.symbol ?? msg.symbol;
    if (typeof channel === 'string') ev.channel = channel;
    if (typeof symbol === 'string') ev.symbol = symbol;
    if (typeof msg.error === 'string') ev.error = msg.error;
    return ev;
  }
  switch (msg.channel) {
    case 'heartbeat':
      return { kind: 'heartbeat' };
    case 'status': {
      const d = Array.isArray(msg.data) && isObj(msg.data[0]) ? msg.data[0] : undefined;
      return { kind: 'status', system: d && typeof d.system === 'string' ? d.system : 'unknown' };
    }
    case 'ohlc':
      return { kind: 'ohlc', snapshot: msg.type === 'snapshot', rows: data(msg).map(ohlcRow) };
    case 'ticker':
      return { kind: 'ticker', rows: data(msg).map(tickerRow) };
    case 'book':
      if (msg.type !== 'snapshot' && msg.type !== 'update') throw bad('invalid_field', `book type ${String(msg.type)}`, text);
      return { kind: 'book', snapshot: msg.type === 'snapshot', rows: data(msg).map(bookRow) };
    default:
      throw bad('unknown_event', `unknown channel ${String(msg.channel)}`, text);
  }
}

function data(msg: Obj): Obj[] {
  if (!Array.isArray(msg.data) || !msg.data.every(isObj)) throw bad('invalid_field', 'data is not a list of objects', msg);
  return msg.data as Obj[];
}

function ohlcRow(d: Obj): OhlcRow {
  const interval = num(d.interval, 'interval', d);
  const openTime = parseTime(d.interval_begin, 'interval_begin', d);
  const volume = num(d.volume, 'volume', d);
  const vwap = num(d.vwap, 'vwap', d);
  return {
    symbol: str(d.symbol, 'symbol', d),
    interval,
    k: {
      openTime,
      closeTime: openTime + interval * MINUTE - 1,
      open: num(d.open, 'open', d),
      high: num(d.high, 'high', d),
      low: num(d.low, 'low', d),
      close: num(d.close, 'close', d),
      volume,
      quoteVolume: quoteVolume(vwap, volume),
      trades: num(d.trades, 'trades', d),
    },
  };
}

/** Kraken gives base volume and VWAP; their product is the quote volume (0 for a minute without trades). */
function quoteVolume(vwap: number, volume: number): number {
  return volume === 0 ? 0 : vwap * volume;
}

function tickerRow(d: Obj): TickerRow {
  return {
    symbol: str(d.symbol, 'symbol', d),
    ts: parseTime(d.timestamp, 'timestamp', d),
    bid: num(d.bid, 'bid', d),
    ask: num(d.ask, 'ask', d),
    last: num(d.last, 'last', d),
    volume: num(d.volume, 'volume', d),
    vwap: num(d.vwap, 'vwap', d),
    low: num(d.low, 'low', d),
    high: num(d.high, 'high', d),
    changePct: num(d.change_pct, 'change_pct', d),
  };
}

const HUGE_EXPONENT = /[eE][+-]?0*\d{3}/;

function levels(v: unknown, key: string, o: Obj): Level[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad('invalid_field', `${key} is not a list`, o);
  return v.map((l) => {
    if (!isObj(l) || typeof l.price !== 'string' || typeof l.qty !== 'string') throw bad('invalid_field', `${key} level is not {price, qty}`, o);
    const price = num(l.price, 'price', o);
    const qty = num(l.qty, 'qty', o);
    if (price <= 0 || qty < 0) throw bad('invalid_field', `${key} level out of range`, o);
    // the checksum spells a level's digits out in full (kraken/checksum.ts): an exponent like 1e-999999999
    // (qty 0 to JSON) would make a string too long to build. No price or qty needs more than 2 exponent digits.
    if (HUGE_EXPONENT.test(l.price) || HUGE_EXPONENT.test(l.qty)) throw bad('invalid_field', `${key} level number out of range`, o);
    // text: the wire digits; the checksum module normalises them (kraken/checksum.ts)
    return { price, qty, text: `${l.price} ${l.qty}` };
  });
}

function bookRow(d: Obj): BookRow {
  const row: BookRow = {
    symbol: str(d.symbol, 'symbol', d),
    bids: levels(d.bids, 'bids', d),
    asks: levels(d.asks, 'asks', d),
    checksum: num(typeof d.checksum === 'string' ? Number(d.checksum) : d.checksum, 'checksum', d),
  };
  if (d.timestamp !== undefined) row.ts = parseTime(d.timestamp, 'timestamp', d);
  return row;
}

// ------------------------------------------------------------------------------------------------ REST

export interface OhlcPage {
  /** Committed rows (openTime ≤ last), ascending. */
  rows: CandleFields[];
  /** Open time (ms) of the newest committed row: Kraken's `last`. */
  last: number;
}

/**
 * A `/0/public/OHLC` body that is not an error: `{"error":[],"result":{"<PAIR>":[[time,o,h,l,c,vwap,volume,count],…],"last":…}}`.
 * The pair key is Kraken's own name (`XXBTZUSD` for `XBTUSD`), so the one non-`last` key is taken. Rows
 * after `last` (the current, uncommitted minute) are left out.
 */
export function parseOhlcBody(body: unknown): OhlcPage {
  if (!isObj(body) || !isObj(body.result)) throw bad('invalid_field', 'OHLC body without result', body);
  const r = body.result;
  const last = num(r.last, 'last', body) * 1000;
  const key = Object.keys(r).find((k) => k !== 'last');
  const raw = key === undefined ? [] : r[key];
  if (!Array.isArray(raw)) throw bad('invalid_field', 'OHLC rows are not a list', body);
  const rows: CandleFields[] = [];
  for (const row of raw) {
    const k = parseOhlcRow(row);
    if (k.openTime <= last) rows.push(k);
  }
  rows.sort((a, b) => a.openTime - b.openTime);
  return { rows, last };
}

/** `[time (s), open, high, low, close, vwap, volume, count]`, numbers as strings except time and count. */
export function parseOhlcRow(row: unknown): CandleFields {
  if (!Array.isArray(row) || row.length < 8) throw bad('invalid_field', 'OHLC row is not an array of 8', row);
  const openTime = num(row[0], 'time', row) * 1000;
  const volume = num(row[6], 'volume', row);
  return {
    openTime,
    closeTime: openTime + MINUTE - 1,
    open: num(row[1], 'open', row),
    high: num(row[2], 'high', row),
    low: num(row[3], 'low', row),
    close: num(row[4], 'close', row),
    volume,
    quoteVolume: quoteVolume(num(row[5], 'vwap', row), volume),
    trades: num(row[7], 'count', row),
  };
}

/** A minute without trades, as Kraken's REST has it: flat at the previous close, no volume. */
export function flatCandle(openTime: number, prevClose: number): CandleFields {
  return { openTime, closeTime: openTime + MINUTE - 1, open: prevClose, high: prevClose, low: prevClose, close: prevClose, volume: 0, quoteVolume: 0, trades: 0 };
}

export function toCandle(symbol: string, k: CandleFields, receivedAt: number): Candle {
  return { exchange: EXCHANGE, symbol, assetType: 'crypto', interval: '1m', ...k, closed: true, receivedAt };
}

export function toTick(symbol: string, t: TickerRow, receivedAt: number): MarketTick {
  return {
    exchange: EXCHANGE,
    symbol,
    assetType: 'crypto',
    receivedAt,
    ts: t.ts,
    price: t.last,
    bid: t.bid,
    ask: t.ask,
    high24h: t.high,
    low24h: t.low,
    // quote currency, comparable with the other venues
    volume24h: t.volume * t.vwap,
    changePct24h: t.changePct,
  };
}
