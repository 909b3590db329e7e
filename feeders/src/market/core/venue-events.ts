// The core's store of the venues' book and derivatives events (docs/INFLUXDB.md, "order_book", "funding",
// "open_interest", "liquidations"): books and funding at most once per symbol per second (latest wins, the
// first at once), open interest and liquidations as they come. A crossed or stale book, or an event with a
// non-finite or non-positive price, is never stored and is counted (market_events_rejected_total).
import type { Point } from '@influxdata/influxdb-client';
import type { WatchItem } from '@mt/common';
import { watchItemKey } from '@mt/common';
import type { BookSummary, FundingUpdate, Liquidation, OpenInterestUpdate } from '../types.js';
import type { MarketMetrics } from '../metrics.js';
import { fundingPoint, liquidationPoint, openInterestPoint, orderBookPoint } from '@mt/common';

export interface VenueEventStoreOptions {
  write(measurement: string, p: Point): void;
  metrics: () => MarketMetrics | undefined;
  now: () => number;
  /** Minimum spacing of order_book and funding points per symbol. Default 1000. */
  throttleMs?: number;
  /** A book whose venue time is older than this (against our clock) is stale. Default 5000. */
  bookStaleMs?: number;
}

type Keyed = { exchange: string; symbol: string };

interface Slot<T> {
  value: T | undefined;
  lastEmitAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One point per key per `throttleMs`: the first at once, then the latest held until its slot. Held by
 * exchange, then symbol: no key string is built per event (books arrive with most frames of a venue).
 */
class LatestPerKey<T extends Keyed> {
  private readonly held = new Map<string, Map<string, Slot<T>>>();

  constructor(
    private readonly throttleMs: number,
    private readonly now: () => number,
    private readonly emit: (v: T) => void,
  ) {}

  offer(v: T): void {
    let bySymbol = this.held.get(v.exchange);
    if (!bySymbol) this.held.set(v.exchange, (bySymbol = new Map()));
    let st = bySymbol.get(v.symbol);
    if (!st) bySymbol.set(v.symbol, (st = { value: undefined, lastEmitAt: -Infinity, timer: undefined }));
    st.value = v;
    const wait = st.lastEmitAt + this.throttleMs - this.now();
    if (wait <= 0) this.fire(st);
    else if (!st.timer) {
      const slot = st;
      slot.timer = setTimeout(() => this.fire(slot), wait).unref();
    }
  }

  /** Emit what is held for keys (watchItemKey) not in `keep` (all when undefined) and forget them. */
  flush(keep?: Set<string>): void {
    for (const [exchange, bySymbol] of this.held) {
      for (const [symbol, st] of [...bySymbol]) {
        if (keep?.has(watchItemKey({ exchange, symbol }))) continue;
        this.fire(st);
        bySymbol.delete(symbol);
      }
    }
  }

  private fire(st: Slot<T>): void {
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    const v = st.value;
    if (v === undefined) return;
    st.value = undefined;
    st.lastEmitAt = this.now();
    this.emit(v);
  }
}

const positive = (v: number | undefined) => v !== undefined && Number.isFinite(v) && v > 0;
const finiteOrAbsent = (v: number | undefined) => v === undefined || Number.isFinite(v);

export class VenueEventStore {
  private readonly books: LatestPerKey<BookSummary>;
  private readonly fundings: LatestPerKey<FundingUpdate>;
  /** Series key (exchange:symbol:side) → timestamp of its last stored liquidation. */
  private readonly lastLiquidationTs = new Map<string, number>();
  private readonly bookStaleMs: number;

  constructor(private readonly o: VenueEventStoreOptions) {
    const throttleMs = o.throttleMs ?? 1000;
    this.bookStaleMs = o.bookStaleMs ?? 5000;
    this.books = new LatestPerKey(throttleMs, o.now, (b) => o.write('order_book', orderBookPoint(b)));
    this.fundings = new LatestPerKey(throttleMs, o.now, (f) => o.write('funding', fundingPoint(f)));
  }

  book(b: BookSummary): void {
    if (!positive(b.bestBid) || !positive(b.bestAsk) || !finiteOrAbsent(b.bidDepth1pct) || !finiteOrAbsent(b.askDepth1pct) || !finiteOrAbsent(b.imbalance)) {
      return this.reject('book', 'invalid');
    }
    if (b.bestBid >= b.bestAsk) return this.reject('book', 'crossed');
    if (!Number.isFinite(b.ts) || this.o.now() - b.ts > this.bookStaleMs) return this.reject('book', 'stale');
    this.books.offer(b);
  }

  funding(f: FundingUpdate): void {
    if (!positive(f.markPrice) || !Number.isFinite(f.fundingRate) || !Number.isFinite(f.nextFundingTime) || !finiteOrAbsent(f.indexPrice) || (f.fundingIntervalHours !== undefined && !positive(f.fundingIntervalHours)) || !Number.isFinite(f.ts)) {
      return this.reject('funding', 'invalid');
    }
    this.fundings.offer(f);
  }

  openInterest(oi: OpenInterestUpdate): void {
    if (!Number.isFinite(oi.openInterest) || oi.openInterest < 0 || !finiteOrAbsent(oi.openInterestValue) || !Number.isFinite(oi.ts)) {
      return this.reject('open_interest', 'invalid');
    }
    this.o.write('open_interest', openInterestPoint(oi));
  }

  liquidation(l: Liquidation): void {
    if (!positive(l.price) || !positive(l.quantity) || !Number.isFinite(l.value) || (l.side !== 'buy' && l.side !== 'sell') || !Number.isFinite(l.ts)) {
      return this.reject('liquidation', 'invalid');
    }
    // InfluxDB keeps one point per series and millisecond: a second liquidation in the same millisecond
    // is moved 1 ms later rather than overwriting the first (docs/INFLUXDB.md, "liquidations")
    const key = `${l.exchange}:${l.symbol}:${l.side}`;
    const last = this.lastLiquidationTs.get(key);
    const ts = last !== undefined && l.ts <= last && last - l.ts < 1000 ? last + 1 : l.ts;
    this.lastLiquidationTs.set(key, Math.max(ts, last ?? -Infinity));
    this.o.write('liquidations', liquidationPoint(l, ts));
  }

  /** Symbols that left the watch set: their held points are stored, their state forgotten. */
  setWatch(items: WatchItem[]): void {
    const keys = new Set(items.map(watchItemKey));
    this.books.flush(keys);
    this.fundings.flush(keys);
    for (const key of [...this.lastLiquidationTs.keys()]) if (!keys.has(key.slice(0, key.lastIndexOf(':')))) this.lastLiquidationTs.delete(key);
  }

  /** Store every held point now (shutdown). */
  flush(): void {
    this.books.flush();
    this.fundings.flush();
  }

  private reject(event: string, reason: string): void {
    this.o.metrics()?.eventsRejected.inc({ event, reason });
  }
}
