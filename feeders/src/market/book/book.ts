// A maintained L2 order book, venue-neutral (docs/ORDER_BOOKS.md): price levels per side set or removed
// by price, kept sorted best-first in plain arrays (binary search; a venue's book is tens to a few
// thousand levels, where an array beats a tree). The venue decides when the book is valid (snapshot
// received, sequence or checksum intact); the book answers what a trader sees of it: best bid/ask, depth
// and imbalance within 1 % of the mid, whether it is crossed, and the BookSummary the core stores.
import type { AssetType } from '@mt/common';
import type { BookSummary } from '../types.js';

export type Side = 'bid' | 'ask';

export interface Level {
  price: number;
  qty: number;
  /**
   * The venue's own spelling of this level, kept for its checksum (Kraken: price and qty digits as sent,
   * which a JS number cannot give back). Opaque to the book.
   */
  text?: string;
}

/** Top levels handed to a checksum: asks ascending, bids descending (best first). */
export type ChecksumFn = (bids: readonly Level[], asks: readonly Level[]) => number;

export interface BookOptions {
  /** Levels kept per side after every update; 0 = all. Default 0. */
  depth?: number;
  /** The venue's checksum over the book (see verify()). Default none. */
  checksum?: ChecksumFn;
  /** Band around the mid for depth and imbalance, as a fraction. Default 0.01 (1 %). */
  band?: number;
}

export interface BookMeta {
  exchange: string;
  symbol: string;
  assetType: AssetType;
  /** The venue's time of the book's last update, epoch ms. */
  ts: number;
  receivedAt: number;
}

/** One side, best first: bids descending, asks ascending. */
class BookSide {
  readonly levels: Level[] = [];
  constructor(private readonly desc: boolean) {}

  /** Index of `price`, or of where it would go (then `found` is false). */
  private find(price: number): { i: number; found: boolean } {
    const a = this.levels;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = a[mid]!.price;
      if (p === price) return { i: mid, found: true };
      // better than `price` (higher bid / lower ask) → look right
      if (this.desc ? p > price : p < price) lo = mid + 1;
      else hi = mid;
    }
    return { i: lo, found: false };
  }

  set(price: number, qty: number, text?: string): void {
    const { i, found } = this.find(price);
    if (qty > 0) {
      const level: Level = text === undefined ? { price, qty } : { price, qty, text };
      if (found) this.levels[i] = level;
      else this.levels.splice(i, 0, level);
    } else if (found) this.levels.splice(i, 1);
  }

  remove(price: number): boolean {
    const { i, found } = this.find(price);
    if (found) this.levels.splice(i, 1);
    return found;
  }

  truncate(depth: number): void {
    if (depth > 0 && this.levels.length > depth) this.levels.length = depth;
  }

  /** Σ price × qty of the levels from the best one up to `limit` (bids: price ≥ limit, asks: price ≤ limit). */
  notional(limit: number): number {
    let sum = 0;
    const a = this.levels;
    for (let i = 0; i < a.length; i++) {
      const l = a[i]!;
      if (this.desc ? l.price < limit : l.price > limit) break;
      sum += l.price * l.qty;
    }
    return sum;
  }
}

export class OrderBook {
  private readonly bidSide = new BookSide(true);
  private readonly askSide = new BookSide(false);
  readonly depth: number;
  readonly band: number;

  constructor(private readonly o: BookOptions = {}) {
    this.depth = o.depth ?? 0;
    this.band = o.band ?? 0.01;
  }

  /** Set a level; a quantity of 0 (or below) removes it. Call truncate() after a batch (or let apply() do it). */
  set(side: Side, price: number, qty: number, text?: string): void {
    this.sideOf(side).set(price, qty, text);
  }

  remove(side: Side, price: number): boolean {
    return this.sideOf(side).remove(price);
  }

  clear(): void {
    this.bidSide.levels.length = 0;
    this.askSide.levels.length = 0;
  }

  /** A batch of updates in the venue's order, then truncation to `depth` (a snapshot: clear() first). */
  apply(bids: Iterable<Level>, asks: Iterable<Level>): void {
    for (const l of bids) this.bidSide.set(l.price, l.qty, l.text);
    for (const l of asks) this.askSide.set(l.price, l.qty, l.text);
    this.truncate(this.depth);
  }

  /** Keep the `depth` best levels per side (Kraken: levels pushed out of the subscribed depth get no delete). */
  truncate(depth: number): void {
    this.bidSide.truncate(depth);
    this.askSide.truncate(depth);
  }

  /** The `n` best levels of a side (all when n is omitted), best first. */
  top(side: Side, n?: number): readonly Level[] {
    const l = this.sideOf(side).levels;
    return n === undefined || n >= l.length ? l : l.slice(0, n);
  }

  size(side: Side): number {
    return this.sideOf(side).levels.length;
  }

  get bestBid(): Level | undefined {
    return this.bidSide.levels[0];
  }

  get bestAsk(): Level | undefined {
    return this.askSide.levels[0];
  }

  get mid(): number | undefined {
    const b = this.bestBid;
    const a = this.bestAsk;
    return b && a ? (b.price + a.price) / 2 : undefined;
  }

  /** Best bid at or above best ask: impossible on a live venue, so our copy is wrong. */
  crossed(): boolean {
    const b = this.bestBid;
    const a = this.bestAsk;
    return !!b && !!a && b.price >= a.price;
  }

  /** Quote-currency notional within `band` of the mid, per side; undefined while a side is empty. */
  depthWithinBand(): { bid: number; ask: number } | undefined {
    const mid = this.mid;
    if (mid === undefined) return undefined;
    const lo = mid * (1 - this.band);
    const hi = mid * (1 + this.band);
    return { bid: this.bidSide.notional(lo), ask: this.askSide.notional(hi) };
  }

  /** (bid − ask) / (bid + ask) of depthWithinBand(), −1…1; undefined when both are 0 or a side is empty. */
  imbalance(): number | undefined {
    const d = this.depthWithinBand();
    if (!d || d.bid + d.ask === 0) return undefined;
    return (d.bid - d.ask) / (d.bid + d.ask);
  }

  /** The venue's checksum of the book as it stands (needs `checksum` in the options). */
  checksum(): number {
    if (!this.o.checksum) throw new Error('this book has no checksum function');
    return this.o.checksum(this.bidSide.levels, this.askSide.levels);
  }

  /** True when the venue's checksum matches ours. */
  verify(expected: number): boolean {
    return this.checksum() === expected;
  }

  /**
   * What the core stores (order_book): undefined while a side is empty or the book is crossed, since
   * neither is a market anyone could trade on.
   */
  summary(meta: BookMeta): BookSummary | undefined {
    const b = this.bestBid;
    const a = this.bestAsk;
    if (!b || !a || b.price >= a.price) return undefined;
    // one literal, no spread: this runs on every book update
    const mid = (b.price + a.price) / 2;
    const bid = this.bidSide.notional(mid * (1 - this.band));
    const ask = this.askSide.notional(mid * (1 + this.band));
    const s: BookSummary = {
      exchange: meta.exchange,
      symbol: meta.symbol,
      assetType: meta.assetType,
      ts: meta.ts,
      receivedAt: meta.receivedAt,
      bestBid: b.price,
      bestAsk: a.price,
      bidDepth1pct: bid,
      askDepth1pct: ask,
    };
    if (bid + ask > 0) s.imbalance = (bid - ask) / (bid + ask);
    return s;
  }

  private sideOf(side: Side): BookSide {
    return side === 'bid' ? this.bidSide : this.askSide;
  }
}

/** A top-of-book summary from a venue's best bid/ask alone (ticker): no depth, no imbalance. */
export function topOfBook(meta: BookMeta, bestBid: number, bestAsk: number): BookSummary | undefined {
  if (!(bestBid > 0) || !(bestAsk > 0) || bestBid >= bestAsk) return undefined;
  // a literal, not `{ ...meta }`: this runs on every ticker frame (docs/BENCHMARKS.md §1 on spreads)
  return { exchange: meta.exchange, symbol: meta.symbol, assetType: meta.assetType, ts: meta.ts, receivedAt: meta.receivedAt, bestBid, bestAsk };
}
