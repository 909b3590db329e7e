// Gap-free 1 m candles for any streamed venue (docs/STREAMING.md, "Candles"). The ledger hands each (symbol, openTime) downstream once per process; its
// per-symbol watermark is the open time up to which every candle is known to be handed over. Each time a
// socket delivers its first kline for a symbol, that kline's open time is the boundary: everything from
// the watermark up to (not including) it is fetched over REST. The boundary comes from the stream, not
// our clock, so this holds whatever the exchange's clock says (and under the test server's fast clock).
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { candleTimesQuery, isRetryable, lastCandleQuery, MARKETS_DB, sleep, type InfluxQLClient } from '@mt/common';
import type { Candle } from '../types.js';

export const MINUTE = 60_000;

export class CandleLedger {
  private readonly state = new Map<string, { watermark?: number; seen: Set<number> }>();

  private get(symbol: string) {
    let s = this.state.get(symbol);
    if (!s) this.state.set(symbol, (s = { seen: new Set() }));
    return s;
  }

  watermark(symbol: string): number | undefined {
    return this.state.get(symbol)?.watermark;
  }

  /** True the first time a closed candle is seen (hand it downstream), false for a repeat. */
  accept(symbol: string, openTime: number): boolean {
    const s = this.get(symbol);
    if ((s.watermark !== undefined && openTime <= s.watermark) || s.seen.has(openTime)) return false;
    s.seen.add(openTime);
    this.advance(s);
    return true;
  }

  /** Everything up to `openTime` is accounted for (stored earlier, or fetched from the exchange). */
  raiseWatermark(symbol: string, openTime: number): void {
    const s = this.get(symbol);
    if (s.watermark !== undefined && s.watermark >= openTime) return;
    s.watermark = openTime;
    for (const t of s.seen) if (t <= openTime) s.seen.delete(t);
    this.advance(s);
  }

  forget(symbol: string): void {
    this.state.delete(symbol);
  }

  private advance(s: { watermark?: number; seen: Set<number> }): void {
    if (s.watermark === undefined) return;
    while (s.seen.delete(s.watermark + MINUTE)) s.watermark += MINUTE;
  }
}

/** A venue's REST candles, the one thing the Backfiller needs from a venue. */
/**
 * Which symbols have had their first 1 m candle on each socket: that first candle is the backfill boundary
 * (docs/RELIABILITY.md) — everything before it comes from REST. Sockets come and go with reconnects and
 * rolls; only recent ones can still deliver frames, so a bounded number is remembered.
 */
export class BackfillBoundaries {
  private readonly bySocket = new Map<number, Set<string>>();
  constructor(private readonly maxSockets = 64) {}

  /** True the first time `symbol` is seen on socket `socketId`. */
  first(socketId: number, symbol: string): boolean {
    let seen = this.bySocket.get(socketId);
    if (!seen) {
      this.bySocket.set(socketId, (seen = new Set()));
      for (const id of this.bySocket.keys()) if (this.bySocket.size > this.maxSockets) this.bySocket.delete(id);
    }
    if (seen.has(symbol)) return false;
    seen.add(symbol);
    return true;
  }

  /** The symbol was unwatched: its next candle on any socket is a boundary again. */
  forget(symbol: string): void {
    for (const s of this.bySocket.values()) s.delete(symbol);
  }
}

export interface RestCandleFetcher {
  /** Exchange name: the `exchange` tag of the stored candles it resumes after. */
  readonly exchange: string;
  /** Most candles one call returns: a shorter answer means there is nothing more up to `to`. */
  readonly pageSize: number;
  /**
   * Closed 1-minute candles of `symbol` (our spelling, `BTC/USDT`) opening in [from, to], ascending.
   * Retries what is retryable itself until `signal` aborts; throws what is not (errors carry isRetryable).
   */
  minuteCandles(symbol: string, from: number, to: number, signal: AbortSignal): Promise<Candle[]>;
}

export interface BackfillOptions {
  fetcher: RestCandleFetcher;
  influxql: InfluxQLClient;
  ledger: CandleLedger;
  log: Logger;
  backfillHours: number;
  emit(c: Candle): void;
  backfilled: Counter<'exchange' | 'symbol'>;
  gaps: Counter<'exchange' | 'symbol' | 'kind'>;
  onError(err: unknown): void;
}

/** A queue of (symbol → newest boundary), worked off one symbol at a time (REST weight is per IP). */
export class Backfiller {
  private readonly pending = new Map<string, number>();
  private readonly abort = new AbortController();
  private running = false;
  private readonly initialised = new Set<string>();

  constructor(private readonly o: BackfillOptions) {}

  /** Fill `symbol` up to the candle opening at `boundary` (exclusive). */
  request(symbol: string, boundary: number): void {
    this.pending.set(symbol, Math.max(boundary, this.pending.get(symbol) ?? 0));
    void this.run();
  }

  cancel(symbol: string): void {
    this.pending.delete(symbol);
    this.initialised.delete(symbol);
  }

  queued(): number {
    return this.pending.size;
  }

  stop(): void {
    this.abort.abort();
    this.pending.clear();
  }

  /** Resolves when nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.running || this.pending.size) await sleep(50);
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.abort.signal.aborted) {
        const next = this.pending.entries().next();
        if (next.done) break;
        const [symbol, boundary] = next.value;
        this.pending.delete(symbol);
        try {
          await this.fill(symbol, boundary);
        } catch (err) {
          if (this.abort.signal.aborted) break;
          this.o.onError(err);
          if (!isRetryable(err)) {
            // The same request would fail the same way; the next reconnect asks again.
            this.o.log.error({ err: String(err), symbol }, 'backfill failed, not retrying');
            continue;
          }
          this.o.log.warn({ err: String(err), symbol }, 'backfill failed, will retry');
          // Keep the job (unless a newer boundary arrived meanwhile) and try again shortly.
          this.pending.set(symbol, Math.max(boundary, this.pending.get(symbol) ?? 0));
          await sleep(2000, this.abort.signal);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async fill(symbol: string, boundary: number): Promise<void> {
    const { ledger, log, fetcher } = this.o;
    const exchange = fetcher.exchange;
    const first = !this.initialised.has(symbol);
    if (ledger.watermark(symbol) === undefined) {
      const stored = await this.resumePoint(symbol, boundary);
      const start = stored ?? Math.floor((boundary - this.o.backfillHours * 3600_000) / MINUTE) * MINUTE - MINUTE;
      // Never go past the boundary: candles at/after it come from the live stream.
      ledger.raiseWatermark(symbol, Math.min(start, boundary - MINUTE));
      log.info({ symbol, resumeAfter: stored, from: start + MINUTE, boundary }, 'backfill start point');
    }
    this.initialised.add(symbol);
    let from = ledger.watermark(symbol)! + MINUTE;
    let filled = 0;
    while (from < boundary && !this.abort.signal.aborted) {
      const rows = await fetcher.minuteCandles(symbol, from, boundary - 1, this.abort.signal);
      let last = from - MINUTE;
      for (const c of rows) {
        if (c.openTime >= boundary) break;
        last = c.openTime;
        if (ledger.accept(symbol, c.openTime)) {
          this.o.emit(c);
          this.o.backfilled.inc({ exchange, symbol });
          filled++;
        }
      }
      // The exchange had nothing more (or a short page): everything before the boundary is settled.
      if (rows.length < fetcher.pageSize || last < from) break;
      from = last + MINUTE;
    }
    if (this.abort.signal.aborted) return;
    ledger.raiseWatermark(symbol, boundary - MINUTE);
    if (!first && filled > 0) {
      this.o.gaps.inc({ exchange, symbol, kind: 'candle' }, filled);
      log.info({ symbol, filled, boundary }, 'candles missed while disconnected were backfilled');
    } else if (filled > 0) log.info({ symbol, filled }, 'initial backfill done');
  }

  /**
   * Open time of the stored candle to resume after. Within the BACKFILL_HOURS window the stored run is
   * walked from its oldest candle and the first hole wins: a process killed after storing live candles
   * but before its reconnect backfill finished leaves such a hole, and last() alone would skip it.
   */
  private async resumePoint(symbol: string, boundary: number): Promise<number | undefined> {
    const from = Math.floor((boundary - this.o.backfillHours * 3600_000) / MINUTE) * MINUTE;
    const key = { exchange: this.o.fetcher.exchange, symbol };
    const times = (series: { values: unknown[][] }[]) => (series[0]?.values ?? []).map((v) => toMs(v[0])).filter((t): t is number => t !== undefined);
    const stored = times(await this.o.influxql.query(MARKETS_DB, candleTimesQuery({ ...key, fromMs: from, toMs: boundary })));
    if (stored.length) {
      let t = stored[0]!;
      for (const x of stored.slice(1)) {
        if (x !== t + MINUTE) break;
        t = x;
      }
      return t;
    }
    return times(await this.o.influxql.query(MARKETS_DB, lastCandleQuery({ ...key, beforeMs: boundary })))[0];
  }
}

function toMs(v: unknown): number | undefined {
  const ms = typeof v === 'number' ? v : Date.parse(String(v));
  return Number.isFinite(ms) ? ms : undefined;
}
