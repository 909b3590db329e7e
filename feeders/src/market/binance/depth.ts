// A maintained L2 book from a diff stream plus a REST snapshot, by Binance's rules ("How to manage a local
// order book correctly", docs/ORDER_BOOKS.md "Binance spot" and "Binance USDⓈ-M futures"): diffs are
// buffered while the snapshot is fetched; a snapshot older than the first buffered diff is fetched again;
// diffs the snapshot already holds are dropped; the first one applied straddles the snapshot's
// lastUpdateId; every later one continues the previous. What "holds", "straddles" and "continues" mean
// differs between spot and futures (SequenceRules: SPOT_RULES here, FUTURES_RULES in
// binance-futures/depth.ts). A break in the sequence, or a book that turns out crossed, resyncs this
// symbol alone (counted by the caller). Diffs at or below the last applied id (the overlap of two
// sockets during a roll) are dropped.
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { ParseError, sleep, type AssetType } from '@mt/common';
import { OrderBook } from '../book/index.js';
import type { BookSummary } from '../types.js';
import type { SourceMetrics } from '../../common/metrics.js';
import { parseDepthSnapshot, type DepthLevel } from './mappers.js';

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

/** A venue's update-id rules for diffs against a snapshot (`snapId`: its lastUpdateId). */
export interface SequenceRules {
  /** The snapshot already holds this diff: drop it. */
  held(d: DepthDiff, snapId: number): boolean;
  /** The first diff applied after a snapshot. */
  first(d: DepthDiff, snapId: number): boolean;
  /** `d` follows the event that ended at `prevLast`. */
  continues(prevLast: number, d: DepthDiff): boolean;
}

/** Spot: drop u ≤ lastUpdateId; the first has U ≤ lastUpdateId + 1 ≤ u; each next U = previous u + 1. */
export const SPOT_RULES: SequenceRules = {
  held: (d, snapId) => d.lastUpdateId <= snapId,
  first: (d, snapId) => d.firstUpdateId <= snapId + 1 && snapId + 1 <= d.lastUpdateId,
  continues: (prevLast, d) => d.firstUpdateId === prevLast + 1,
};

export interface DiffBookOptions {
  exchange: string;
  symbol: string;
  assetType: AssetType;
  /** The REST snapshot; retries what is retryable itself, throws what is not. */
  snapshot(signal: AbortSignal): Promise<DepthSnapshot>;
  /** The venue's update-id rules. Default SPOT_RULES. */
  rules?: SequenceRules;
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
  /**
   * Wait before fetching again a snapshot older than the first buffered diff: 250 ms, doubling up to this
   * (default 5000). Each snapshot costs REST weight (spot 50, futures 20): a venue whose REST lags its
   * stream must not drain the weight the candle backfill shares.
   */
  maxRefetchWaitMs?: number;
}

export class DiffBook {
  private readonly book: OrderBook;
  private state: 'idle' | 'syncing' | 'live' | 'stopped' = 'idle';
  private buffer: DepthDiff[] = [];
  private lastApplied = 0;
  /** The next diff is the first after a snapshot: it must straddle lastUpdateId + 1. */
  private first = true;
  private readonly abort = new AbortController();
  private receivedAt = 0;

  private readonly rules: SequenceRules;

  constructor(private readonly o: DiffBookOptions) {
    this.book = new OrderBook({ depth: o.depth ?? 5000 });
    this.rules = o.rules ?? SPOT_RULES;
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
      for (let tries = 0; ; tries++) {
        const snap = await this.o.snapshot(this.abort.signal);
        if (this.abort.signal.aborted) return;
        // a snapshot older than the first diff we hold cannot be continued: fetch again, after a pause
        const first = this.buffer[0];
        if (first && snap.lastUpdateId < first.firstUpdateId) {
          await sleep(Math.min(this.o.maxRefetchWaitMs ?? 5000, 250 * 2 ** tries), this.abort.signal);
          if (this.abort.signal.aborted) return;
          continue;
        }
        this.book.clear();
        this.book.apply(snap.bids, snap.asks);
        this.lastApplied = snap.lastUpdateId;
        const pending = this.buffer.filter((x) => !this.rules.held(x, snap.lastUpdateId));
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

  /** The first diff after a snapshot straddles its lastUpdateId; every later one continues the previous. */
  private follows(d: DepthDiff): boolean {
    return this.first ? this.rules.first(d, this.lastApplied) : this.rules.continues(this.lastApplied, d);
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

export interface VenueDepthBookOptions {
  exchange: string;
  symbol: string;
  rules?: SequenceRules;
  /** GET the venue's depth snapshot (raw body; parsed here, spot and futures share the shape). */
  fetchSnapshot(signal: AbortSignal): Promise<unknown>;
  /** A valid, uncrossed book (the core stores it at most once a second). */
  out(b: BookSummary): void;
  /** `market_book_resyncs_total` (docs/METRICS.md). */
  resyncs: Counter<'exchange' | 'symbol' | 'reason'>;
  metrics: SourceMetrics;
  /** Source label of a snapshot's parse errors (`binance_rest`, `binance_futures_rest`). */
  restSource: string;
  log: Logger;
}

/** One DEPTH_BOOKS symbol's DiffBook, wired the same way for Binance spot and USDⓈ-M futures. */
export function venueDepthBook(o: VenueDepthBookOptions): DiffBook {
  const { exchange, symbol } = o;
  return new DiffBook({
    exchange,
    symbol,
    assetType: 'crypto',
    ...(o.rules ? { rules: o.rules } : {}),
    snapshot: async (signal) => parseDepthSnapshot(await o.fetchSnapshot(signal)),
    onBook: o.out,
    onResync: (reason) => {
      o.resyncs.inc({ exchange, symbol, reason });
      o.log.info({ symbol, reason }, `${exchange} order book resync`);
    },
    onError: (err) => {
      if (err instanceof ParseError) o.metrics.parseErrors.inc({ source: o.restSource, reason: err.reason });
      o.log.warn({ symbol, err: String(err) }, `${exchange} order book snapshot failed; retried with the next diff`);
    },
  });
}
