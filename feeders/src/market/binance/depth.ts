// A maintained L2 book from a diff stream plus a REST snapshot, by Binance's rules ("How to manage a local
// order book correctly", docs/ORDER_BOOKS.md "Binance spot"): diffs are buffered while the snapshot is
// fetched; a snapshot older than the first buffered diff is fetched again; diffs with u ≤ lastUpdateId are
// dropped; the first one applied has U ≤ lastUpdateId + 1 ≤ u; every later one continues the previous
// (spot: U = previous u + 1; futures: pu = previous u). A break in the sequence, or a book that turns out
// crossed, resyncs this symbol alone (counted by the caller). Diffs at or below the last applied id (the
// overlap of two sockets during a roll) are dropped.
import type { AssetType } from '@mt/common';
import { OrderBook } from '../book/index.js';
import type { BookSummary } from '../types.js';
import type { DepthLevel } from './mappers.js';

export interface DepthDiff {
  ts: number;
  firstUpdateId: number;
  lastUpdateId: number;
  /** Futures only (`pu`): the final update id of the previous event. */
  prevLastUpdateId?: number;
  bids: DepthLevel[];
  asks: DepthLevel[];
}

export interface DepthSnapshot {
  lastUpdateId: number;
  bids: DepthLevel[];
  asks: DepthLevel[];
}

export type ResyncReason = 'gap' | 'crossed';

export interface DiffBookOptions {
  exchange: string;
  symbol: string;
  assetType: AssetType;
  /** The REST snapshot; retries what is retryable itself, throws what is not. */
  snapshot(signal: AbortSignal): Promise<DepthSnapshot>;
  /** Whether `d` follows the event that ended at `prevLast`. Default (spot): U = prevLast + 1. */
  continues?(prevLast: number, d: DepthDiff): boolean;
  /** A valid, uncrossed book after an applied diff. */
  onBook(b: BookSummary): void;
  /** This symbol's book was dropped and is being rebuilt. */
  onResync(reason: ResyncReason): void;
  /** A snapshot could not be had (a non-retryable error); the next diff tries again. */
  onError(err: unknown): void;
  /** Levels kept per side. Default 5000 (Binance's deepest snapshot). */
  depth?: number;
  /** Diffs buffered while a snapshot is on its way; beyond it the oldest go (the snapshot then starts a new wait). Default 1000. */
  maxBuffer?: number;
}

const spotContinues = (prevLast: number, d: DepthDiff) => d.firstUpdateId === prevLast + 1;

export class DiffBook {
  private readonly book: OrderBook;
  private state: 'idle' | 'syncing' | 'live' | 'stopped' = 'idle';
  private buffer: DepthDiff[] = [];
  private lastApplied = 0;
  /** The next diff is the first after a snapshot: it must straddle lastUpdateId + 1. */
  private first = true;
  private readonly abort = new AbortController();
  private receivedAt = 0;

  constructor(private readonly o: DiffBookOptions) {
    this.book = new OrderBook({ depth: o.depth ?? 5000 });
  }

  get live(): boolean {
    return this.state === 'live';
  }

  /** One diff from the stream. */
  onDiff(d: DepthDiff, receivedAt: number): void {
    this.receivedAt = receivedAt;
    switch (this.state) {
      case 'stopped':
        return;
      case 'idle':
        this.buffer = [d];
        void this.sync();
        return;
      case 'syncing':
        this.buffer.push(d);
        if (this.buffer.length > (this.o.maxBuffer ?? 1000)) this.buffer.shift();
        return;
      case 'live':
        if (d.lastUpdateId <= this.lastApplied) return; // already applied (two sockets overlapping)
        if (!this.follows(d)) return this.resync('gap', d);
        this.apply(d);
        this.publish(d.ts);
        return;
    }
  }

  stop(): void {
    this.state = 'stopped';
    this.abort.abort();
    this.buffer = [];
  }

  private resync(reason: ResyncReason, d?: DepthDiff): void {
    this.o.onResync(reason);
    this.book.clear();
    this.buffer = d ? [d] : [];
    void this.sync();
  }

  private async sync(): Promise<void> {
    this.state = 'syncing';
    try {
      for (;;) {
        const snap = await this.o.snapshot(this.abort.signal);
        if (this.abort.signal.aborted) return;
        // a snapshot older than the first diff we hold cannot be continued: fetch again
        const first = this.buffer[0];
        if (first && snap.lastUpdateId < first.firstUpdateId) continue;
        this.book.clear();
        this.book.apply(snap.bids, snap.asks);
        this.lastApplied = snap.lastUpdateId;
        const pending = this.buffer.filter((x) => x.lastUpdateId > snap.lastUpdateId);
        this.buffer = [];
        this.state = 'live';
        this.first = true;
        let ts: number | undefined;
        for (const x of pending) {
          if (!this.follows(x)) return this.resync('gap', x);
          this.apply(x);
          ts = x.ts;
        }
        if (this.book.crossed()) return this.resync('crossed');
        if (ts !== undefined) this.publish(ts);
        return;
      }
    } catch (err) {
      if (this.abort.signal.aborted) return;
      this.state = 'idle';
      this.buffer = [];
      this.o.onError(err);
    }
  }

  /** The first diff after a snapshot straddles lastUpdateId + 1; every later one continues the previous. */
  private follows(d: DepthDiff): boolean {
    if (this.first) return d.firstUpdateId <= this.lastApplied + 1 && this.lastApplied + 1 <= d.lastUpdateId;
    return (this.o.continues ?? spotContinues)(this.lastApplied, d);
  }

  private apply(d: DepthDiff): void {
    this.book.apply(d.bids, d.asks);
    this.lastApplied = d.lastUpdateId;
    this.first = false;
  }

  private publish(ts: number): void {
    if (this.book.crossed()) return this.resync('crossed');
    const s = this.book.summary({ exchange: this.o.exchange, symbol: this.o.symbol, assetType: this.o.assetType, ts, receivedAt: this.receivedAt });
    if (s) this.o.onBook(s);
  }
}
