// Yahoo Finance payloads → MarketTick and closed Candles. Pure functions; shapes as recorded in
// testing/fixtures/yahoo (v7 `quoteResponse.result[]`, v8 `chart.result[0]` with `meta`, `timestamp[]`,
// `indicators.quote[0]`, `events.splits`). Yahoo times are epoch SECONDS.
import { ParseError, type WatchItem } from '@mt/common';
import type { Candle, Interval, MarketTick } from '../types.js';
import { isObject, num } from '../polled-source.js';
import { TIMEFRAMES } from '../timeframes.js';

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
    marketState: typeof q.marketState === 'string' && q.marketState !== '' ? q.marketState : undefined,
  });
}

export type ChartOutcome = { kind: 'tick'; tick: MarketTick } | { kind: 'not_found'; description: string };

/**
 * A v8 chart body → tick from `meta` (the latest regular-market price and time). A chart with no bars
 * (weekend, holiday: `indicators.quote: [{}]`, no `timestamp`) still carries meta, so it is not an error.
 */
export function chartToTick(body: unknown, item: WatchItem, receivedAt: number): ChartOutcome {
  const r = chartResult(body);
  if (r.kind === 'not_found') return r;
  const meta = r.meta;
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
      marketState: stateFromTradingPeriods(meta.currentTradingPeriod, receivedAt),
    }),
  };
}

/**
 * The chart carries no `marketState`, but `meta.currentTradingPeriod` gives today's pre, regular and post
 * sessions (epoch seconds): where `nowMs` falls names the state, in Yahoo's words.
 */
export function stateFromTradingPeriods(periods: unknown, nowMs: number): string | undefined {
  if (!isObject(periods)) return undefined;
  const t = nowMs / 1000;
  const inside = (k: string) => {
    const p = periods[k];
    const start = isObject(p) ? num(p.start) : undefined;
    const end = isObject(p) ? num(p.end) : undefined;
    return start !== undefined && end !== undefined && t >= start && t < end;
  };
  if (!isObject(periods.regular)) return undefined;
  return inside('regular') ? 'REGULAR' : inside('pre') ? 'PRE' : inside('post') ? 'POST' : 'CLOSED';
}

function positive(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
}

function compact(t: MarketTick): MarketTick {
  for (const k of Object.keys(t) as (keyof MarketTick)[]) if (t[k] === undefined) delete t[k];
  return t;
}

type ChartResult = { kind: 'result'; meta: Record<string, unknown>; result: Record<string, unknown> } | { kind: 'not_found'; description: string };

/** `chart.result[0]` with its meta, or Yahoo's "Not Found"; anything else is a ParseError. */
function chartResult(body: unknown): ChartResult {
  const chart = isObject(body) ? body.chart : undefined;
  if (!isObject(chart)) throw new ParseError('yahoo: not a v8 chart body', 'unexpected_shape', JSON.stringify(body)?.slice(0, 200));
  if (isObject(chart.error)) {
    if (chart.error.code === 'Not Found') return { kind: 'not_found', description: String(chart.error.description ?? '') };
    throw new ParseError(`yahoo: chart error ${String(chart.error.code)}`, 'api_error', JSON.stringify(chart.error).slice(0, 200));
  }
  const result = Array.isArray(chart.result) && isObject(chart.result[0]) ? chart.result[0] : undefined;
  if (!result || !isObject(result.meta)) throw new ParseError('yahoo: chart without result[0].meta', 'unexpected_shape', JSON.stringify(chart).slice(0, 200));
  return { kind: 'result', meta: result.meta, result };
}

export interface Split {
  /** Epoch ms of the split (Yahoo: the session it took effect). */
  date: number;
  numerator: number;
  denominator: number;
}

export type ChartBarsOutcome = { kind: 'bars'; candles: Candle[]; splits: Split[] } | { kind: 'not_found'; description: string };

/** A bar is final this long after its end even without a later trade (an illiquid symbol). */
const FINAL_AFTER_S = 120;
/** Daily bars of one symbol are at least a day apart less a DST shift; a row closer than this is Yahoo's live row. */
const MIN_DAILY_GAP_S = 20 * 3600;

interface Period {
  start: number;
  end: number;
}

/**
 * A v8 chart body at `interval` → its CLOSED bars as candles (oldest first), and the splits it reports.
 * Yahoo's OHLC are split-adjusted as of the request (docs/INFLUXDB.md, "Timeframes"). Rows never stored:
 * - rows with a null open/high/low/close (Yahoo pads gaps with nulls);
 * - intraday rows outside the regular trading periods (`meta.tradingPeriods`; e.g. the zero-volume row
 *   stamped at the session's close) or off the interval grid counted from the period start (the live row
 *   stamped with the last trade time, `meta.regularMarketTime`);
 * - the unfinished bar: intraday, until the last trade time (or `nowMs` less FINAL_AFTER_S) has passed its
 *   end (the period's end for a shortened last bar); daily, the bar of the current session
 *   (`meta.currentTradingPeriod.regular`) until that session has ended, and any second row of a session.
 * Volume null → 0 (currencies report 0); Yahoo has no quote volume or trade count (left out of the point).
 */
export function chartToCandles(body: unknown, item: WatchItem, interval: Interval, nowMs: number): ChartBarsOutcome {
  const r = chartResult(body);
  if (r.kind === 'not_found') return r;
  const { meta, result } = r;
  const ts = Array.isArray(result.timestamp) ? result.timestamp : [];
  const ind = isObject(result.indicators) && Array.isArray(result.indicators.quote) && isObject(result.indicators.quote[0]) ? result.indicators.quote[0] : {};
  const col = (k: string): unknown[] => (Array.isArray(ind[k]) ? (ind[k] as unknown[]) : []);
  const [open, high, low, close, volume] = ['open', 'high', 'low', 'close', 'volume'].map(col) as [unknown[], unknown[], unknown[], unknown[], unknown[]];
  const iv = TIMEFRAMES[interval].ms / 1000;
  const nowS = nowMs / 1000;
  const lastTrade = num(meta.regularMarketTime) ?? -Infinity;
  const periods = tradingPeriods(meta.tradingPeriods);
  const ctp = isObject(meta.currentTradingPeriod) ? period(meta.currentTradingPeriod.regular) : undefined;
  const candles: Candle[] = [];
  let prevDaily = -Infinity;
  let currentSessionSeen = false;
  for (let i = 0; i < ts.length; i++) {
    const t = num(ts[i]);
    const [o, h, l, c] = [num(open[i]), num(high[i]), num(low[i]), num(close[i])];
    if (t === undefined || o === undefined || h === undefined || l === undefined || c === undefined) continue;
    let closed: boolean;
    if (interval === '1d') {
      if (t - prevDaily < MIN_DAILY_GAP_S) continue;
      if (ctp && t >= ctp.start) {
        if (currentSessionSeen) continue;
        currentSessionSeen = true;
        closed = nowS >= ctp.end;
      } else closed = true;
      prevDaily = t;
    } else {
      let end = t + iv;
      if (periods) {
        const p = periods.find((x) => t >= x.start && t < x.end);
        if (!p || (t - p.start) % iv !== 0) continue;
        end = Math.min(end, p.end);
      } else if (t % 60 !== 0) continue;
      closed = end <= lastTrade || end <= nowS - FINAL_AFTER_S;
    }
    if (!closed) continue;
    candles.push({
      exchange: EXCHANGE,
      symbol: item.symbol,
      assetType: item.asset_type,
      interval,
      openTime: t * 1000,
      closeTime: (t + iv) * 1000 - 1,
      open: o,
      high: h,
      low: l,
      close: c,
      volume: num(volume[i]) ?? 0,
      quoteVolume: NaN,
      trades: NaN,
      closed: true,
      receivedAt: nowMs,
    });
  }
  return { kind: 'bars', candles, splits: splits(result.events) };
}

/** `meta.tradingPeriods`: `[[{start,end}], …]`, or with pre/post `{ pre, regular, post }` (regular used). */
function tradingPeriods(v: unknown): Period[] | undefined {
  const raw = isObject(v) ? v.regular : v;
  if (!Array.isArray(raw)) return undefined;
  const out = raw.flat().map(period).filter((p): p is Period => p !== undefined);
  return out.length ? out : undefined;
}

function period(v: unknown): Period | undefined {
  if (!isObject(v)) return undefined;
  const start = num(v.start);
  const end = num(v.end);
  return start !== undefined && end !== undefined && end > start ? { start, end } : undefined;
}

/** `events.splits`: `{ "<epoch s>": { date, numerator, denominator, splitRatio } }`. */
function splits(events: unknown): Split[] {
  const s = isObject(events) && isObject(events.splits) ? events.splits : {};
  return Object.values(s)
    .filter(isObject)
    .flatMap((x) => {
      const date = num(x.date);
      const numerator = num(x.numerator);
      const denominator = num(x.denominator);
      return date !== undefined && numerator && denominator ? [{ date: date * 1000, numerator, denominator }] : [];
    })
    .sort((a, b) => a.date - b.date);
}
