// What the Kraken source does with parsed frames, transport aside (docs/SOURCES.md "Kraken"): closed 1 m
// candles from `ohlc`, ticks and top of book from `ticker`, maintained L2 books from `book`.
//
// Candles. Kraken sends an `ohlc` update on every trade, so a minute is over when a later minute's update
// arrives, and a minute without trades sends nothing (its candle is flat at the previous close, as REST
// OHLC has it). Per symbol one socket owns the stream: the one whose snapshot came last (during an
// overlapping roll both sockets deliver). Each snapshot is a backfill boundary: every minute before its
// newest row is fetched over REST (the ledger drops what was handed on already); after that only the
// owner's updates close minutes, and the minutes skipped between two of its updates are flat.
//
// Books. A snapshot on a socket makes it the book's owner; each update is applied, truncated to the
// depth and checked against Kraken's CRC32; a mismatch or a crossed book invalidates that symbol's book
// and asks for a resubscription of it alone. Nothing is handed on from an invalid book.
import type { Candle, MarketTick, BookSummary } from '../types.js';
import { OrderBook, topOfBook } from '../book/index.js';
import type { CandleLedger } from '../stream/backfill.js';
import { krakenChecksum, toChecksumLevels, type Precision } from './checksum.js';
import { EXCHANGE, MINUTE, flatCandle, toCandle, toTick, type BookRow, type CandleFields, type KrakenEvent, type OhlcRow } from './mappers.js';

export type ResyncReason = 'checksum' | 'crossed';

export interface FeedOutput {
  tick(t: MarketTick): void;
  candle(c: Candle): void;
  book(b: BookSummary): void;
  /** Fetch every candle of `symbol` before `openTime` (exclusive) over REST. */
  boundary(symbol: string, openTime: number): void;
  /** The book of `symbol` is wrong: resubscribe it (and count it). */
  resync(symbol: string, reason: ResyncReason): void;
}

export interface FeedSymbol {
  /** Unified (`BTC/USD`). */
  symbol: string;
  /** Depth of the maintained L2 book (10, 25, …); undefined = top of book from the ticker only. */
  depth?: number;
  /** The pair's price/qty decimals, when known (checksum of re-encoded numbers). */
  precision?: Precision;
}

interface SymbolState {
  spec: FeedSymbol;
  /** The minute being built and the socket that owns this symbol's ohlc stream. */
  cur?: CandleFields;
  ohlcOwner?: number;
  book?: OrderBook;
  bookOwner?: number;
  bookValid: boolean;
}

export class KrakenFeed {
  /** wire symbol (`BTC/USD` in v2) → state */
  private readonly byWire = new Map<string, SymbolState>();

  constructor(
    private readonly ledger: CandleLedger,
    private readonly out: FeedOutput,
  ) {}

  /** The followed symbols by wire name. State of dropped ones (and their ledger) is forgotten. */
  setSymbols(symbols: Map<string, FeedSymbol>): void {
    for (const [wire, st] of this.byWire) {
      if (symbols.has(wire)) continue;
      this.byWire.delete(wire);
      this.ledger.forget(st.spec.symbol);
    }
    for (const [wire, spec] of symbols) {
      const st = this.byWire.get(wire);
      if (!st) this.byWire.set(wire, { spec, bookValid: false });
      else {
        if (st.spec.depth !== spec.depth) {
          st.book = undefined;
          st.bookValid = false;
          st.bookOwner = undefined;
        }
        st.spec = spec;
      }
    }
  }

  /** Mark a book stale (e.g. when resubscribing it): nothing is handed on until its next snapshot. */
  invalidateBook(wire: string): void {
    const st = this.byWire.get(wire);
    if (st) st.bookValid = false;
  }

  onEvent(ev: KrakenEvent, receivedAt: number, socketId: number): void {
    switch (ev.kind) {
      case 'ohlc': {
        for (const row of sortRows(ev.rows)) this.onOhlc(row, ev.snapshot, socketId, receivedAt);
        if (!ev.snapshot) return;
        for (const wire of new Set(ev.rows.map((r) => r.symbol))) {
          const st = this.byWire.get(wire);
          if (st?.cur && st.ohlcOwner === socketId) this.out.boundary(st.spec.symbol, st.cur.openTime);
        }
        return;
      }
      case 'ticker':
        for (const t of ev.rows) {
          const st = this.byWire.get(t.symbol);
          if (!st) continue;
          const { symbol } = st.spec;
          this.out.tick(toTick(symbol, t, receivedAt));
          if (st.spec.depth === undefined) {
            const b = topOfBook({ exchange: EXCHANGE, symbol, assetType: 'crypto', ts: t.ts, receivedAt }, t.bid, t.ask);
            if (b) this.out.book(b);
          }
        }
        return;
      case 'book':
        for (const row of ev.rows) this.onBook(row, ev.snapshot, socketId, receivedAt);
        return;
      default:
        return;
    }
  }

  private onOhlc(row: OhlcRow, snapshot: boolean, socketId: number, receivedAt: number): void {
    const st = this.byWire.get(row.symbol);
    if (!st || row.interval !== 1) return;
    const { symbol } = st.spec;
    const k = row.k;
    if (snapshot) {
      // Called once per row, ascending: the newest row is the last one to arrive.
      st.ohlcOwner = socketId;
      if (st.cur === undefined || k.openTime >= st.cur.openTime) st.cur = k;
      return;
    }
    if (socketId !== st.ohlcOwner) return; // the old socket of a roll, or before any snapshot
    const cur = st.cur;
    if (cur === undefined) {
      // an empty snapshot: this first update is the boundary
      st.cur = k;
      this.out.boundary(symbol, k.openTime);
      return;
    }
    if (k.openTime < cur.openTime) return;
    if (k.openTime === cur.openTime) {
      st.cur = k;
      return;
    }
    this.close(symbol, cur, receivedAt);
    for (let t = cur.openTime + MINUTE; t < k.openTime; t += MINUTE) this.close(symbol, flatCandle(t, cur.close), receivedAt);
    st.cur = k;
  }

  private close(symbol: string, k: CandleFields, receivedAt: number): void {
    if (this.ledger.accept(symbol, k.openTime)) this.out.candle(toCandle(symbol, k, receivedAt));
  }

  private onBook(row: BookRow, snapshot: boolean, socketId: number, receivedAt: number): void {
    const st = this.byWire.get(row.symbol);
    if (!st || st.spec.depth === undefined) return;
    if (snapshot) {
      st.book = new OrderBook({ depth: st.spec.depth, checksum: krakenChecksum() });
      st.bookOwner = socketId;
      st.bookValid = true;
    } else if (socketId !== st.bookOwner || !st.bookValid || !st.book) return;
    const book = st.book!;
    const p = st.spec.precision;
    book.apply(toChecksumLevels(row.bids, p), toChecksumLevels(row.asks, p));
    if (!book.verify(row.checksum)) return this.resync(st, 'checksum');
    if (book.crossed()) return this.resync(st, 'crossed');
    const s = book.summary({ exchange: EXCHANGE, symbol: st.spec.symbol, assetType: 'crypto', ts: row.ts ?? receivedAt, receivedAt });
    if (s) this.out.book(s);
  }

  private resync(st: SymbolState, reason: ResyncReason): void {
    st.bookValid = false;
    this.out.resync(st.spec.symbol, reason);
  }

  /** Per-symbol state for health and tests. */
  state(wire: string): { bookValid: boolean; bookLevels: number; currentMinute?: number } | undefined {
    const st = this.byWire.get(wire);
    if (!st) return undefined;
    return { bookValid: st.bookValid, bookLevels: st.book ? st.book.size('bid') + st.book.size('ask') : 0, currentMinute: st.cur?.openTime };
  }
}

function sortRows(rows: OhlcRow[]): OhlcRow[] {
  return rows.length > 1 ? [...rows].sort((a, b) => a.k.openTime - b.k.openTime) : rows;
}
