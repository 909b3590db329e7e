// Binance USDⓈ-M futures (exchange `binance-futures`, docs/SOURCES.md "Binance USDⓈ-M futures"): combined
// fstream streams for every watched perpetual (`BTC/USDT:USDT`) → ticks, top of book, funding (mark/index
// price, funding rate) and liquidations for the core, closed 1 m candles kept gap-free by the same
// ledger + REST backfill as spot (/fapi/v1/klines), and open interest polled over REST. For the
// perpetuals in DEPTH_BOOKS (`binance-futures:BTC/USDT:USDT`) a maintained L2 book from the diff stream
// and /fapi/v1/depth snapshots (binance-futures/depth.ts) instead of bookTicker's top of book.
import { ParseError, binanceFuturesRestSymbol, binanceFuturesStreamSymbol, type WatchItem } from '@mt/common';
import type { MarketComponent, MarketContext } from '../context.js';
import { BinanceRest, binanceCandleFetcher } from '../binance/rest.js';
import { binanceSpec } from '../binance/spec.js';
import { BackfillBoundaries, Backfiller, CandleLedger } from '../stream/backfill.js';
import { VenueStream, streamSource, type SocketLink } from '../stream/index.js';
import {
  EXCHANGE,
  futuresBook,
  futuresCandle,
  futuresFunding,
  futuresLiquidation,
  futuresOpenInterest,
  futuresTick,
  parseFuturesFrame,
  type FuturesEvent,
} from './mappers.js';
import { OpenInterestPoller } from './open-interest.js';
import { FundingIntervals } from './funding-info.js';
import { FUTURES_SNAPSHOT_LIMIT, futuresDepthBook, futuresDepthStream } from './depth.js';
import type { DiffBook } from '../binance/depth.js';

const WS = 'binance_futures_ws';
const REST = 'binance_futures_rest';
/** Below the 2400 per minute of REQUEST_WEIGHT (testing/fixtures/LIMITS.md), leaving room for a restart's burst. */
const WEIGHT_BUDGET = 1800;

/**
 * The streams followed per perpetual (`btcusdt`): 6 per symbol, so 170 symbols per 1024-stream connection;
 * with `depth` (DEPTH_BOOKS), the 100 ms diff stream too.
 */
export function futuresStreamsFor(sym: string, depth = false): string[] {
  const s = [`${sym}@aggTrade`, `${sym}@kline_1m`, `${sym}@bookTicker`, `${sym}@markPrice@1s`, `${sym}@forceOrder`, `${sym}@ticker`];
  if (depth) s.push(futuresDepthStream(sym));
  return s;
}

interface SymbolState {
  symbol: string;
  lastPrice: number | undefined;
  /**
   * Newest aggregate-trade id, book update id, mark-price and liquidation time seen: while two sockets
   * overlap (a roll) each event arrives twice, and only the first is handed on. Cleared on unwatch.
   */
  lastAggId: number;
  lastBookId: number;
  lastMarkAt: number;
  lastLiquidationAt: number;
  /** Latest mark price: values open interest in quote currency. */
  markPrice: number | undefined;
  /** The maintained L2 book, for DEPTH_BOOKS perpetuals while watched. */
  depth: DiffBook | undefined;
}

/** Test seams: how often GET /fapi/v1/fundingInfo is read again, and after a failure (defaults 1 h, 1 min). */
export interface FuturesSourceOptions {
  fundingInfoRefreshMs?: number;
  fundingInfoRetryMs?: number;
}

export function createBinanceFuturesSource(ctx: MarketContext, opts: FuturesSourceOptions = {}): MarketComponent {
  const log = ctx.log.child({ source: EXCHANGE });
  const m = ctx.sourceMetrics;
  const byStream = new Map<string, string>();
  /** Binance's own `s` (`BTCUSDT`) → state, for the watched symbols only. */
  const byRest = new Map<string, SymbolState>();
  const states = new Map<string, SymbolState>();
  const boundaries = new BackfillBoundaries();
  /** Stream symbols (`btcusdt`) whose L2 book is kept (DEPTH_BOOKS entries `binance-futures:BTC/USDT:USDT`). */
  const depthWanted = new Set(
    [...ctx.cfg.DEPTH_BOOKS].filter((k) => k.startsWith(`${EXCHANGE}:`)).map((k) => binanceFuturesStreamSymbol(k.slice(EXCHANGE.length + 1))),
  );

  // fstream speaks spot's protocol (docs/STREAMING.md) with 10 incoming messages/s instead of 5
  // (testing/fixtures/LIMITS.md): ≤ 6.6 control messages/s, leaving room for pongs.
  const stream = new VenueStream<FuturesEvent>({
    spec: binanceSpec(
      {
        baseUrl: ctx.cfg.BINANCE_FUTURES_WS_URL,
        staleMs: ctx.cfg.BINANCE_STALE_MS,
        maxAgeMs: ctx.cfg.BINANCE_MAX_CONNECTION_AGE_MS,
        streamsFor: (sym) => futuresStreamsFor(sym, depthWanted.has(sym)),
        exchange: EXCHANGE,
        source: WS,
        controlIntervalMs: 150,
      },
      parseFuturesFrame,
    ),
    log: log.child({ part: 'ws' }),
    metrics: m,
    registry: ctx.registry,
    onData: onEvent,
  });
  const { gaps, backfilled, bookResyncs } = stream.counters;

  const rest = new BinanceRest({
    baseUrl: ctx.cfg.BINANCE_FUTURES_REST_URL,
    log: log.child({ part: 'rest' }),
    metrics: m,
    source: REST,
    klinesPath: '/fapi/v1/klines',
    depthPath: '/fapi/v1/depth',
    weightBudget: WEIGHT_BUDGET,
  });
  const ledger = new CandleLedger();
  const countRestError = (err: unknown) => {
    if (err instanceof ParseError) m.parseErrors.inc({ source: REST, reason: err.reason });
  };
  const backfill = new Backfiller({
    fetcher: binanceCandleFetcher(rest, { exchange: EXCHANGE, restSymbol: binanceFuturesRestSymbol }),
    influxql: ctx.influxql,
    ledger,
    log: log.child({ part: 'backfill' }),
    backfillHours: ctx.cfg.BACKFILL_HOURS,
    emit: (c) => ctx.out.candle(c),
    backfilled,
    gaps,
    onError: countRestError,
  });
  const openInterest = new OpenInterestPoller({
    rest,
    log: log.child({ part: 'open_interest' }),
    intervalMs: ctx.cfg.BINANCE_FUTURES_OI_POLL_MS,
    emit: (symbol, oi, receivedAt) => ctx.out.openInterest?.(futuresOpenInterest(symbol, oi, receivedAt, states.get(symbol)?.markPrice)),
    onError: (_symbol, err) => countRestError(err),
  });
  const fundingIntervals = new FundingIntervals({
    rest,
    log: log.child({ part: 'funding_info' }),
    refreshMs: opts.fundingInfoRefreshMs,
    retryMs: opts.fundingInfoRetryMs,
    onParseError: countRestError,
  });

  /** A data frame of any socket, parsed (acks, errors and serverShutdown are the stream layer's). */
  function onEvent(ev: FuturesEvent, receivedAt: number, link: SocketLink): void {
    if (ev.kind === 'result' || ev.kind === 'error' || ev.kind === 'shutdown') return;
    const st = byRest.get(ev.symbol);
    if (!st) return; // a stream just unsubscribed
    const { symbol } = st;
    switch (ev.kind) {
      case 'kline': {
        if (ev.interval !== '1m') return;
        if (boundaries.first(link.socketId, symbol)) backfill.request(symbol, ev.k.openTime);
        if (ev.closed && ledger.accept(symbol, ev.k.openTime)) ctx.out.candle(futuresCandle(symbol, ev.k, receivedAt));
        return;
      }
      case 'markPrice':
        if (ev.ts <= st.lastMarkAt) return;
        st.lastMarkAt = ev.ts;
        st.markPrice = ev.markPrice;
        ctx.out.funding?.(futuresFunding(symbol, ev, receivedAt, fundingIntervals.hoursFor(ev.symbol)));
        return;
      case 'liquidation':
        // One snapshot per symbol per second at most (testing/fixtures/LIMITS.md): its time identifies it.
        if (ev.ts <= st.lastLiquidationAt) return;
        st.lastLiquidationAt = ev.ts;
        ctx.out.liquidation?.(futuresLiquidation(symbol, ev, receivedAt));
        return;
      case 'book':
        if (ev.updateId <= st.lastBookId) return;
        st.lastBookId = ev.updateId;
        // top of book, unless the maintained L2 book of this perpetual speaks for it (DEPTH_BOOKS)
        if (!st.depth) ctx.out.book?.(futuresBook(symbol, ev, receivedAt));
        break;
      case 'depth':
        st.depth?.onDiff(ev, receivedAt);
        return;
      case 'aggTrade':
        if (ev.aggId <= st.lastAggId) return;
        if (st.lastAggId > 0 && ev.aggId > st.lastAggId + 1) gaps.inc({ exchange: EXCHANGE, symbol, kind: 'agg_trade_id' });
        st.lastAggId = ev.aggId;
        st.lastPrice = ev.price;
        break;
      default:
        break;
    }
    const tick = futuresTick(symbol, ev, receivedAt, st.lastPrice);
    if (tick) ctx.out.tick(tick);
  }

  function depthBook(symbol: string): DiffBook {
    return futuresDepthBook({
      exchange: EXCHANGE,
      symbol,
      fetchSnapshot: (signal) => rest.depth(binanceFuturesRestSymbol(symbol), FUTURES_SNAPSHOT_LIMIT, signal),
      out: (b) => ctx.out.book?.(b),
      resyncs: bookResyncs,
      metrics: m,
      restSource: REST,
      log,
    });
  }

  function apply(items: WatchItem[]): void {
    const want = new Map<string, string>();
    for (const i of items) if (i.asset_type === 'crypto' && i.exchange === EXCHANGE) want.set(binanceFuturesStreamSymbol(i.symbol), i.symbol);
    for (const [sym, symbol] of byStream) {
      if (want.has(sym)) continue;
      byStream.delete(sym);
      byRest.delete(binanceFuturesRestSymbol(symbol));
      backfill.cancel(symbol);
      ledger.forget(symbol);
      const st = states.get(symbol);
      if (st) st.lastAggId = st.lastBookId = st.lastMarkAt = st.lastLiquidationAt = 0;
      st?.depth?.stop();
      if (st) st.depth = undefined;
      boundaries.forget(symbol);
    }
    const oi = new Map<string, string>();
    for (const [sym, symbol] of want) {
      byStream.set(sym, symbol);
      let st = states.get(symbol);
      if (!st) states.set(symbol, (st = { symbol, lastPrice: undefined, markPrice: undefined, lastAggId: 0, lastBookId: 0, lastMarkAt: 0, lastLiquidationAt: 0, depth: undefined }));
      if (depthWanted.has(sym) && !st.depth) st.depth = depthBook(symbol);
      byRest.set(binanceFuturesRestSymbol(symbol), st);
      oi.set(binanceFuturesRestSymbol(symbol), symbol);
    }
    stream.setSymbols(want.keys());
    openInterest.setSymbols(oi);
  }

  return streamSource({
    name: EXCHANGE,
    stream,
    apply,
    onStart() {
      fundingIntervals.start();
      openInterest.start();
    },
    onStop() {
      for (const st of states.values()) st.depth?.stop();
      backfill.stop();
      openInterest.stop();
      fundingIntervals.stop();
    },
    health() {
      const books = [...states.values()].filter((s) => s.depth);
      return {
        symbols: byStream.size,
        backfillQueued: backfill.queued(),
        restUsedWeight: rest.usedWeight,
        fundingIntervalsRead: fundingIntervals.loaded,
        depthBooks: books.length,
        depthBooksLive: books.filter((s) => s.depth!.live).length,
      };
    },
  });
}
