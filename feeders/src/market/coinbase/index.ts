// Coinbase Exchange real-time source (docs/SOURCES.md "Coinbase"): every crypto/coinbase item of the
// watch set followed on the market-data websocket through the generic streaming layer — `matches`
// (trades → 1 m candles, trade-id continuity), `ticker` (quote ticks, top of book), `heartbeat` (the
// venue's clock, closing quiet minutes) — and REST candles for every minute the trades cannot vouch
// for, so candles are stored exactly once with none missing across drops, stalls, restarts and SIGKILL.
import { ParseError, coinbaseProductId, watchItemKey, type WatchItem } from '@mt/common';
import type { MarketComponent, MarketContext } from '../context.js';
import type { Candle } from '../types.js';
import { OrderBook } from '../book/index.js';
import { VenueStream, streamSource, type SocketLink } from '../stream/index.js';
import { EXCHANGE, tickerBook, toTick, tradeTick, type CoinbaseEvent, type RestCandle } from './mappers.js';
import { CoinbaseRest } from './rest.js';
import { CandleFiller } from './filler.js';
import { CandleLedger } from '../stream/backfill.js';
import { MINUTE, TradeCandles, type BuiltCandle } from './trade-candles.js';
import { coinbaseSpec, coinbaseStreams } from './spec.js';

interface SymbolState {
  symbol: string;
  candles: TradeCandles;
  /** The maintained L2 book (DEPTH_BOOKS only); valid from a snapshot until the socket changes or it crosses. */
  book?: { ob: OrderBook; valid: boolean };
  /** The socket that delivered this product's last frame; a newer one means the old one went away. */
  socketId: number;
}

export interface CoinbaseSource extends MarketComponent {
  /** Resolves when no REST fetch is queued or running (tests). */
  idle(): Promise<void>;
}

export function createCoinbaseSource(ctx: MarketContext): CoinbaseSource {
  const log = ctx.log.child({ source: EXCHANGE });
  const m = ctx.sourceMetrics;
  const byProduct = new Map<string, SymbolState>();
  const depthBooks = ctx.cfg.DEPTH_BOOKS;
  /** Products whose level2 subscription is being dropped and taken again for a fresh snapshot. */
  const resyncing = new Set<string>();

  const keepMs = (ctx.cfg.BACKFILL_HOURS + 2) * 3600_000;
  const ledger = new CandleLedger({ keepMs });
  const rest = new CoinbaseRest({ baseUrl: ctx.cfg.COINBASE_REST_URL, log: log.child({ part: 'rest' }), metrics: m, minIntervalMs: ctx.cfg.COINBASE_REST_INTERVAL_MS });

  const candle = (symbol: string, c: BuiltCandle | RestCandle, quoteVolume: number, trades: number): Candle => ({
    exchange: EXCHANGE,
    symbol,
    assetType: 'crypto',
    interval: '1m',
    openTime: c.openTime,
    closeTime: c.openTime + MINUTE - 1,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
    // REST candles have neither: left out of the point rather than stored as zeros
    quoteVolume,
    trades,
    closed: true,
    receivedAt: Date.now(),
  });

  const stream = new VenueStream<CoinbaseEvent>({
    spec: coinbaseSpec({
      baseUrl: ctx.cfg.COINBASE_WS_URL,
      staleMs: ctx.cfg.COINBASE_STALE_MS,
      maxAgeMs: ctx.cfg.COINBASE_MAX_CONNECTION_AGE_MS,
      streamsFor: (product) => {
        const st = byProduct.get(product);
        return coinbaseStreams(product, !!st?.book && !resyncing.has(product));
      },
    }),
    log: log.child({ part: 'ws' }),
    metrics: m,
    registry: ctx.registry,
    onData,
  });
  const { gaps, backfilled, bookResyncs } = stream.counters;

  const filler = new CandleFiller({
    rest,
    influxql: ctx.influxql,
    ledger,
    log: log.child({ part: 'candles' }),
    backfillHours: ctx.cfg.BACKFILL_HOURS,
    settleMs: ctx.cfg.COINBASE_REST_SETTLE_MS,
    product: coinbaseProductId,
    emit: (symbol, c) => ctx.out.candle(candle(symbol, c, NaN, NaN)),
    filled: (symbol, kind, n) => {
      backfilled.inc({ exchange: EXCHANGE, symbol }, n);
      if (kind === 'live') gaps.inc({ exchange: EXCHANGE, symbol, kind: 'candle' }, n);
    },
    unreconciled: (symbol, n) => gaps.inc({ exchange: EXCHANGE, symbol, kind: 'candle_unreconciled' }, n),
    onError: (err) => {
      if (err instanceof ParseError) m.parseErrors.inc({ source: 'coinbase_rest', reason: err.reason });
    },
  });

  function state(symbol: string): SymbolState {
    const st: SymbolState = {
      symbol,
      book: depthBooks.has(watchItemKey({ exchange: EXCHANGE, symbol })) ? { ob: new OrderBook(), valid: false } : undefined,
      socketId: 0,
      candles: new TradeCandles({
        built: (c) => {
          if (ledger.accept(symbol, c.openTime)) ctx.out.candle(candle(symbol, c, c.quoteVolume, c.trades));
        },
        fetch: (from, to, traded) => filler.fetch(symbol, from, to, traded),
        boundary: (minute) => filler.boundary(symbol, minute),
      }),
    };
    return st;
  }

  function onData(ev: CoinbaseEvent, receivedAt: number, link: SocketLink): void {
    if (!('product' in ev)) return;
    const st = byProduct.get(ev.product);
    if (!st) return; // just unsubscribed
    if (link.socketId > st.socketId) {
      // the product moved to a new socket (reconnect, roll): the old one may have lost frames
      if (st.socketId !== 0) st.candles.socketLost();
      st.socketId = link.socketId;
      // level2 has no sequence numbers: the book is trusted again only from the new socket's snapshot
      if (st.book) st.book.valid = false;
    }
    switch (ev.kind) {
      case 'match': {
        const last = st.candles.lastTradeId;
        if (last !== undefined && ev.tradeId > last + 1) gaps.inc({ exchange: EXCHANGE, symbol: st.symbol, kind: 'trade_id' });
        if (st.candles.trade(ev.tradeId, ev.ts, ev.price, ev.size) !== 'duplicate' && !ev.last) ctx.out.tick(tradeTick(st.symbol, ev, receivedAt));
        return;
      }
      case 'ticker': {
        ctx.out.tick(toTick(st.symbol, ev, receivedAt));
        if (ev.tradeId !== undefined && Number.isFinite(ev.ts)) st.candles.hint(ev.tradeId, ev.ts);
        // a symbol with a maintained book stores that book's summary (with depth) instead
        if (!st.book) {
          const b = tickerBook(st.symbol, ev, receivedAt);
          if (b) ctx.out.book?.(b);
        }
        if (Number.isFinite(ev.ts)) st.candles.clock(ev.ts);
        return;
      }
      case 'heartbeat':
        // live heartbeats are reported to carry last_trade_id 0 (go-coinbasepro #89): a hint only when set
        if (ev.lastTradeId > 0) st.candles.hint(ev.lastTradeId, ev.ts);
        st.candles.clock(ev.ts);
        return;
      case 'snapshot': {
        if (!st.book) return;
        const { ob } = st.book;
        ob.clear();
        ob.apply(
          ev.bids.map(([price, qty]) => ({ price, qty })),
          ev.asks.map(([price, qty]) => ({ price, qty })),
        );
        st.book.valid = true;
        emitBook(st, ev.product, receivedAt, receivedAt);
        return;
      }
      case 'l2update': {
        if (!st.book?.valid) return;
        for (const [side, price, size] of ev.changes) st.book.ob.set(side === 'buy' ? 'bid' : 'ask', price, size);
        emitBook(st, ev.product, ev.ts, receivedAt);
        return;
      }
      default:
        return;
    }
  }

  function emitBook(st: SymbolState, product: string, ts: number, receivedAt: number): void {
    const book = st.book!;
    if (book.ob.crossed()) {
      // our copy is wrong (a lost update): drop the subscription and take it again for a new snapshot
      book.valid = false;
      bookResyncs.inc({ exchange: EXCHANGE, symbol: st.symbol, reason: 'crossed' });
      log.warn({ symbol: st.symbol }, 'coinbase book crossed: resubscribing level2 for a new snapshot');
      resyncing.add(product);
      stream.refresh([product]);
      resyncing.delete(product);
      stream.refresh([product]);
      return;
    }
    const summary = book.ob.summary({ exchange: EXCHANGE, symbol: st.symbol, assetType: 'crypto', ts, receivedAt });
    if (summary) ctx.out.book?.(summary);
  }

  function apply(items: WatchItem[]): void {
    const want = new Map<string, string>();
    for (const i of items) if (i.asset_type === 'crypto' && i.exchange === EXCHANGE) want.set(coinbaseProductId(i.symbol), i.symbol);
    for (const [product, st] of byProduct) {
      if (want.get(product) === st.symbol) continue;
      byProduct.delete(product);
      filler.cancel(st.symbol);
      // if it comes back, it starts over: backfill from storage, first minute from REST
      ledger.forget(st.symbol);
    }
    for (const [product, symbol] of want) if (!byProduct.has(product)) byProduct.set(product, state(symbol));
    stream.setSymbols(want.keys());
  }

  return {
    ...streamSource({
      name: EXCHANGE,
      stream,
      apply,
      onStop: () => filler.stop(),
      health: () => ({ symbols: byProduct.size, restQueued: filler.queued() }),
    }),
    idle: () => filler.idle(),
  };
}
