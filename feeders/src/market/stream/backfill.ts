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

/**
 * Each venue's record of the closed candles handed downstream (Binance, USDⓈ-M and Kraken with a watermark
 * raised by the Backfiller; Coinbase, whose quiet minutes have no candle, without one and with `keepMs`).
 */
export class CandleLedger {
  private readonly state = new Map<string, { watermark?: number; seen: Set<number> }>();

  /**
   * `keepMs`: a ledger whose watermark is never raised forgets open times more than this far behind the
   * newest one it accepts (nothing fetches further back than that).
   */
  constructor(private readonly o: { keepMs?: number } = {}) {}

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
    const keep = this.o.keepMs;
    if (keep !== undefined && s.seen.size > 2 * (keep / MINUTE)) for (const t of s.seen) if (t < openTime - keep) s.seen.delete(t);
    return true;
  }

  /** Whether the candle opening at `openTime` was handed downstream (or lies at or below the watermark). */
  has(symbol: string, openTime: number): boolean {
    const s = this.state.get(symbol);
    return !!s && ((s.watermark !== undefined && openTime <= s.watermark) || s.seen.has(openTime));
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

/** Open times (epoch ms) of the first series of an InfluxQL answer, in its order. */
function seriesTimes(series: { values: unknown[][] }[]): number[] {
  return (series[0]?.values ?? []).map((v) => toMs(v[0])).filter((t): t is number => t !== undefined);
}

/** Open times of the stored 1 m candles of one series in [fromMs, toMs), ascending. */
export async function storedCandleTimes(influxql: InfluxQLClient, o: { exchange: string; symbol: string; fromMs: number; toMs: number }): Promise<number[]> {
  return seriesTimes(await influxql.query(MARKETS_DB, candleTimesQuery(o)));
}

/**
 * One REST job at a time (a venue's REST limits are per IP), for the Backfiller and Coinbase's CandleFiller:
 * a failed job is counted and logged, queued again when the same request may succeed later, dropped when it
 * would fail the same way (the next reconnect or gap asks again).
 */
export abstract class SerialJobs<J> {
  protected readonly abort = new AbortController();
  private running = false;

  constructor(private readonly runner: { log: Logger; onError(err: unknown): void; what: string }) {}

  abstract queued(): number;

  /** Nothing more runs; what is queued is dropped. */
  stop(): void {
    this.abort.abort();
    this.dropQueued();
  }

  /** Resolves when nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.running || this.queued()) await sleep(50);
  }

  /** The next job to run (waiting for one that is queued but not yet due); undefined when none is queued. */
  protected abstract next(): Promise<J | undefined>;
  protected abstract dropQueued(): void;
  protected abstract work(job: J): Promise<void>;
  /** Queue `job` again after a failure that may pass. */
  protected abstract retry(job: J): Promise<void>;
  /** The job's fields in a log line. */
  protected abstract describe(job: J): Record<string, unknown>;

  protected async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.abort.signal.aborted) {
        const job = await this.next();
        if (job === undefined) break;
        try {
          await this.work(job);
        } catch (err) {
          if (this.abort.signal.aborted) break;
          this.runner.onError(err);
          if (!isRetryable(err)) {
            this.runner.log.error({ err: String(err), ...this.describe(job) }, `${this.runner.what} failed, not retrying`);
            continue;
          }
          this.runner.log.warn({ err: String(err), ...this.describe(job) }, `${this.runner.what} failed, will retry`);
          await this.retry(job);
        }
      }
    } finally {
      this.running = false;
    }
  }
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
export class Backfiller extends SerialJobs<{ symbol: string; boundary: number }> {
  private readonly pending = new Map<string, number>();
  private readonly initialised = new Set<string>();

  constructor(private readonly o: BackfillOptions) {
    super({ log: o.log, onError: o.onError, what: 'backfill' });
  }

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

  protected dropQueued(): void {
    this.pending.clear();
  }

  protected async next(): Promise<{ symbol: string; boundary: number } | undefined> {
    const next = this.pending.entries().next();
    if (next.done) return undefined;
    const [symbol, boundary] = next.value;
    this.pending.delete(symbol);
    return { symbol, boundary };
  }

  protected work(job: { symbol: string; boundary: number }): Promise<void> {
    return this.fill(job.symbol, job.boundary);
  }

  protected async retry({ symbol, boundary }: { symbol: string; boundary: number }): Promise<void> {
    // Keep the job (unless a newer boundary arrived meanwhile) and try again shortly.
    this.pending.set(symbol, Math.max(boundary, this.pending.get(symbol) ?? 0));
    await sleep(2000, this.abort.signal);
  }

  protected describe(job: { symbol: string }): Record<string, unknown> {
    return { symbol: job.symbol };
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
    const stored = await storedCandleTimes(this.o.influxql, { ...key, fromMs: from, toMs: boundary });
    if (stored.length) {
      let t = stored[0]!;
      for (const x of stored.slice(1)) {
        if (x !== t + MINUTE) break;
        t = x;
      }
      return t;
    }
    return seriesTimes(await this.o.influxql.query(MARKETS_DB, lastCandleQuery({ ...key, beforeMs: boundary })))[0];
  }
}

function toMs(v: unknown): number | undefined {
  const ms = typeof v === 'number' ? v : Date.parse(String(v));
  return Number.isFinite(ms) ? ms : undefined;
}
