// Kraken real-time source (docs/SOURCES.md "Kraken", docs/ORDER_BOOKS.md): websocket v2 `ohlc`, `ticker`
// and, for the symbols in DEPTH_BOOKS, `book` on the generic streaming layer (docs/STREAMING.md) → ticks,
// top of book, maintained L2 books and gap-free exactly-once 1 m candles (REST OHLC backfill up to each
// snapshot, the candle ledger's watermarks; the feed logic is in feed.ts).
import { ParseError, krakenRestPair, krakenWsSymbol, type WatchItem } from '@mt/common';
import type { MarketComponent, MarketContext } from '../context.js';
import { VenueStream, streamSource } from '../stream/index.js';
import { Backfiller, CandleLedger, type RestCandleFetcher } from '../stream/backfill.js';
import { KrakenFeed, type FeedSymbol } from './feed.js';
import { toCandle } from './mappers.js';
import { KrakenRest } from './rest.js';
import { krakenSpec, streamName } from './spec.js';

const EXCHANGE = 'kraken';
/** Kraken returns at most the 720 newest 1 m rows per call. */
export const OHLC_PAGE = 720;

export function krakenCandleFetcher(rest: KrakenRest): RestCandleFetcher {
  return {
    exchange: EXCHANGE,
    pageSize: OHLC_PAGE,
    async minuteCandles(symbol, from, to, signal) {
      const rows = await rest.klines(krakenRestPair(symbol), from, to, signal);
      const receivedAt = Date.now();
      return rows.map((k) => toCandle(symbol, k, receivedAt));
    },
  };
}

export function createKrakenSource(ctx: MarketContext): MarketComponent {
  const log = ctx.log.child({ source: EXCHANGE });
  const cfg = ctx.cfg;
  /** wire symbol (`BTC/USD`) → what we follow; resync generation of its book stream. */
  let symbols = new Map<string, FeedSymbol>();
  const generation = new Map<string, number>();
  const ledger = new CandleLedger();
  const rest = new KrakenRest({ baseUrl: cfg.KRAKEN_REST_URL, log: log.child({ part: 'rest' }), metrics: ctx.sourceMetrics, minIntervalMs: cfg.KRAKEN_REST_INTERVAL_MS });

  const streamsFor = (wire: string): string[] => {
    const s = symbols.get(wire);
    const out = [streamName({ channel: 'ohlc', symbol: wire }), streamName({ channel: 'ticker', symbol: wire })];
    if (s?.depth !== undefined) out.push(streamName({ channel: 'book', symbol: wire, depth: s.depth }, generation.get(wire) ?? 0));
    return out;
  };

  const stream = new VenueStream({
    spec: krakenSpec({ baseUrl: cfg.KRAKEN_WS_URL, staleMs: cfg.KRAKEN_STALE_MS, maxAgeMs: cfg.KRAKEN_MAX_CONNECTION_AGE_MS, streamsFor }),
    log: log.child({ part: 'ws' }),
    metrics: ctx.sourceMetrics,
    registry: ctx.registry,
    onData: (ev, receivedAt, link) => feed.onEvent(ev, receivedAt, link.socketId),
  });
  const { gaps, backfilled, bookResyncs } = stream.counters;

  const backfill = new Backfiller({
    fetcher: krakenCandleFetcher(rest),
    influxql: ctx.influxql,
    ledger,
    log: log.child({ part: 'backfill' }),
    backfillHours: cfg.BACKFILL_HOURS,
    emit: (c) => ctx.out.candle(c),
    backfilled,
    gaps,
    onError: (err) => {
      if (err instanceof ParseError) ctx.sourceMetrics.parseErrors.inc({ source: 'kraken_rest', reason: err.reason });
    },
  });

  const feed = new KrakenFeed(ledger, {
    tick: (t) => ctx.out.tick(t),
    candle: (c) => ctx.out.candle(c),
    book: (b) => ctx.out.book?.(b),
    boundary: (symbol, openTime) => backfill.request(symbol, openTime),
    resync: (symbol, reason) => {
      // counted like every venue's book resync (docs/METRICS.md); the book stream of this symbol alone is resubscribed
      bookResyncs.inc({ exchange: EXCHANGE, symbol, reason });
      const wire = krakenWsSymbol(symbol);
      log.warn({ symbol, reason }, 'kraken book invalid, resubscribing it');
      generation.set(wire, (generation.get(wire) ?? 0) + 1);
      stream.refresh([wire]);
    },
  });

  function apply(items: WatchItem[]): void {
    const next = new Map<string, FeedSymbol>();
    for (const i of items) {
      if (i.asset_type !== 'crypto' || i.exchange !== EXCHANGE) continue;
      const deep = cfg.DEPTH_BOOKS.has(`${EXCHANGE}:${i.symbol}`);
      next.set(krakenWsSymbol(i.symbol), deep ? { symbol: i.symbol, depth: cfg.KRAKEN_BOOK_DEPTH } : { symbol: i.symbol });
    }
    for (const [wire, s] of symbols) {
      if (next.has(wire)) continue;
      backfill.cancel(s.symbol);
      generation.delete(wire);
    }
    const changed = [...next].filter(([wire, s]) => symbols.has(wire) && symbols.get(wire)!.depth !== s.depth).map(([wire]) => wire);
    symbols = next;
    feed.setSymbols(next);
    stream.setSymbols(next.keys());
    if (changed.length) stream.refresh(changed);
  }

  return streamSource({
    name: EXCHANGE,
    stream,
    apply,
    onStop: () => backfill.stop(),
    health: () => ({ symbols: symbols.size, backfillQueued: backfill.queued() }),
  });
}
