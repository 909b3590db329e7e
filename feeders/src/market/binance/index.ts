// Binance real-time source: combined streams for every crypto/binance symbol in the watch set → ticks,
// closed 1 m candles (REST backfill: none missing or doubled) and top of book for the core; for the
// symbols in DEPTH_BOOKS a maintained L2 book from the diff stream and REST snapshots (docs/ORDER_BOOKS.md).
import { ParseError, binanceRestSymbol, binanceStreamSymbol, type WatchItem } from '@mt/common';
import type { MarketComponent, MarketContext } from '../context.js';
import { VenueStream, streamSource, type SocketLink } from '../stream/index.js';
import { BackfillBoundaries, Backfiller, CandleLedger } from '../stream/backfill.js';
import { BinanceRest, binanceCandleFetcher } from './rest.js';
import { toCandle, toTick, type BinanceEvent } from './mappers.js';
import { binanceSpotSpec } from './spec.js';
import { venueDepthBook, type DiffBook } from './depth.js';
import { topOfBook } from '../book/index.js';

/** Levels per side of the REST snapshot a depth book starts from (weight 50). */
const SNAPSHOT_LIMIT = 1000;

/** Per-symbol state of the frame handler, one object so a frame costs one map look-up. */
interface SymbolState {
  symbol: string;
  /** Last trade id seen (trade stream continuity); cleared when the symbol is unwatched. */
  lastTradeId: number | undefined;
  lastPrice: number | undefined;
  /** The maintained L2 book, for DEPTH_BOOKS symbols while watched. */
  depth: DiffBook | undefined;
}

/** The streams followed per symbol (`btcusdt`); with `depth`, the 100 ms diff stream too. */
export function streamsFor(sym: string, depth = false): string[] {
  const s = [`${sym}@trade`, `${sym}@kline_1m`, `${sym}@ticker`, `${sym}@bookTicker`];
  if (depth) s.push(`${sym}@depth@100ms`);
  return s;
}

export function createBinanceSource(ctx: MarketContext): MarketComponent {
  const log = ctx.log.child({ source: 'binance' });
  const m = ctx.sourceMetrics;
  /** stream symbol (`btcusdt`) → our symbol (`BTC/USDT`); Binance's own `s` (`BTCUSDT`) → its state. */
  const byStream = new Map<string, string>();
  const byRest = new Map<string, SymbolState>();
  /** Every symbol ever followed: the last price outlives an unwatch (as the price of a later book tick). */
  const states = new Map<string, SymbolState>();
  /** Symbols whose first kline on a given socket was seen (the backfill boundary), per socket. */
  const boundaries = new BackfillBoundaries();
  /** Stream symbols (`btcusdt`) whose L2 book is kept (DEPTH_BOOKS entries `binance:BTC/USDT`). */
  const depthWanted = new Set([...ctx.cfg.DEPTH_BOOKS].filter((k) => k.startsWith('binance:')).map((k) => binanceStreamSymbol(k.slice('binance:'.length))));

  const stream = new VenueStream<BinanceEvent>({
    spec: binanceSpotSpec({
      baseUrl: ctx.cfg.BINANCE_WS_URL,
      staleMs: ctx.cfg.BINANCE_STALE_MS,
      maxAgeMs: ctx.cfg.BINANCE_MAX_CONNECTION_AGE_MS,
      streamsFor: (sym) => streamsFor(sym, depthWanted.has(sym)),
    }),
    log: log.child({ part: 'ws' }),
    metrics: m,
    registry: ctx.registry,
    onData: onEvent,
  });
  const { gaps, bookResyncs } = stream.counters;

  const rest = new BinanceRest({ baseUrl: ctx.cfg.BINANCE_REST_URL, log: log.child({ part: 'rest' }), metrics: m });
  const ledger = new CandleLedger();
  const backfill = new Backfiller({
    fetcher: binanceCandleFetcher(rest),
    influxql: ctx.influxql,
    ledger,
    log: log.child({ part: 'backfill' }),
    backfillHours: ctx.cfg.BACKFILL_HOURS,
    emit: (c) => ctx.out.candle(c),
    backfilled: stream.counters.backfilled,
    gaps,
    onError: (err) => {
      if (err instanceof ParseError) m.parseErrors.inc({ source: 'binance_rest', reason: err.reason });
    },
  });

  /** A data frame of any socket, parsed (acks, errors and serverShutdown are the stream layer's). */
  function onEvent(ev: BinanceEvent, receivedAt: number, link: SocketLink): void {
    if (ev.kind === 'result' || ev.kind === 'error' || ev.kind === 'shutdown') return;
    const st = byRest.get(ev.symbol);
    if (!st) return; // a stream just unsubscribed
    const { symbol } = st;
    switch (ev.kind) {
      case 'kline': {
        if (ev.interval !== '1m') return;
        if (boundaries.first(link.socketId, symbol)) backfill.request(symbol, ev.k.openTime);
        if (ev.closed && ledger.accept(symbol, ev.k.openTime)) ctx.out.candle(toCandle(symbol, ev.k, true, receivedAt));
        return;
      }
      case 'trade': {
        const last = st.lastTradeId;
        if (last !== undefined && ev.tradeId <= last) return; // overlap of two sockets during a roll
        if (last !== undefined && ev.tradeId > last + 1) gaps.inc({ exchange: 'binance', symbol, kind: 'trade_id' });
        st.lastTradeId = ev.tradeId;
        st.lastPrice = ev.price;
        break;
      }
      case 'aggTrade':
        st.lastPrice = ev.price;
        break;
      case 'book':
        // top of book, unless the maintained L2 book of this symbol speaks for it (with depth)
        if (!st.depth) {
          const b = topOfBook({ exchange: 'binance', symbol, assetType: 'crypto', ts: receivedAt, receivedAt }, ev.bid, ev.ask);
          if (b) ctx.out.book?.(b);
        }
        break;
      case 'depth':
        st.depth?.onDiff(ev, receivedAt);
        return;
      default:
        break;
    }
    const tick = toTick(symbol, ev, receivedAt, st.lastPrice);
    if (tick) ctx.out.tick(tick);
  }

  function depthBook(symbol: string): DiffBook {
    return venueDepthBook({
      exchange: 'binance',
      symbol,
      fetchSnapshot: (signal) => rest.depth(binanceRestSymbol(symbol), SNAPSHOT_LIMIT, signal),
      out: (b) => ctx.out.book?.(b),
      resyncs: bookResyncs,
      metrics: m,
      restSource: 'binance_rest',
      log,
    });
  }

  function apply(items: WatchItem[]): void {
    const want = new Map<string, string>();
    for (const i of items) if (i.asset_type === 'crypto' && i.exchange === 'binance') want.set(binanceStreamSymbol(i.symbol), i.symbol);
    for (const [sym, symbol] of byStream) {
      if (want.has(sym)) continue;
      byStream.delete(sym);
      byRest.delete(binanceRestSymbol(symbol));
      backfill.cancel(symbol);
      const st = states.get(symbol);
      if (st) st.lastTradeId = undefined;
      st?.depth?.stop();
      if (st) st.depth = undefined;
      // Forget the per-process ledger too: if the symbol comes back, the backfill restarts from storage.
      ledger.forget(symbol);
      boundaries.forget(symbol);
    }
    for (const [sym, symbol] of want) {
      byStream.set(sym, symbol);
      let st = states.get(symbol);
      if (!st) states.set(symbol, (st = { symbol, lastTradeId: undefined, lastPrice: undefined, depth: undefined }));
      if (depthWanted.has(sym) && !st.depth) st.depth = depthBook(symbol);
      byRest.set(binanceRestSymbol(symbol), st);
    }
    stream.setSymbols(want.keys());
  }

  return streamSource({
    name: 'binance',
    stream,
    apply,
    onStop() {
      for (const st of states.values()) st.depth?.stop();
      backfill.stop();
    },
    health() {
      const books = [...states.values()].filter((s) => s.depth);
      return { symbols: byStream.size, backfillQueued: backfill.queued(), depthBooks: books.length, depthBooksLive: books.filter((s) => s.depth!.live).length };
    },
  });
}
