// The REST side of Coinbase candles (docs/SOURCES.md "Coinbase: candles from trades"): minutes the trade
// stream cannot vouch for are taken from GET /products/{id}/candles, and at a symbol's first trade in
// this process everything from BACKFILL_HOURS back up to that minute is filled, skipping what InfluxDB
// already holds (a minute without trades has no candle, so storage cannot tell a hole from a quiet
// minute: the window is compared row by row). One queue for all symbols: REST limits are per IP.
import type { Logger } from 'pino';
import type { InfluxQLClient } from '@mt/common';
import { SerialJobs, storedCandleTimes, type CandleLedger } from '../stream/backfill.js';
import { EXCHANGE, parseCandleRow, type RestCandle } from './mappers.js';
import { CANDLES_PAGE, type CoinbaseRest } from './rest.js';
import { MINUTE } from './trade-candles.js';

interface Job {
  symbol: string;
  from: number;
  to: number;
  /** Minutes the answer must contain (trades were seen in them). */
  traded: number[];
  /** The start-up fill: skip what InfluxDB holds. */
  initial: boolean;
  attempts: number;
  notBefore: number;
}

export interface FillerOptions {
  rest: CoinbaseRest;
  influxql: InfluxQLClient;
  ledger: CandleLedger;
  log: Logger;
  backfillHours: number;
  /** Real ms after a minute closes before its REST candle is trusted to hold all its trades. */
  settleMs: number;
  /** Attempts for a minute with trades that the REST answer lacks (not settled yet). */
  maxAttempts?: number;
  product(symbol: string): string;
  emit(symbol: string, c: RestCandle): void;
  /** `live`: minutes of a followed symbol the trade stream could not vouch for; `startup`: the window before its first trade. */
  filled(symbol: string, kind: 'live' | 'startup', n: number): void;
  /** Minutes with trades that the venue's REST never showed, after every retry. */
  unreconciled(symbol: string, n: number): void;
  onError(err: unknown): void;
}

export class CandleFiller extends SerialJobs<Job> {
  private readonly jobs: Job[] = [];
  private wake: (() => void) | undefined;
  /** Each symbol's first live minute: an earlier run may have stored it, so it is checked like the start-up window. */
  private readonly firstLive = new Map<string, number>();

  constructor(private readonly o: FillerOptions) {
    super({ log: o.log, onError: o.onError, what: 'coinbase candles fetch' });
  }

  /** The symbol's first trade in this process opens `minute`: fill the window before it. */
  boundary(symbol: string, minute: number): void {
    const from = Math.floor((minute - this.o.backfillHours * 3600_000) / MINUTE) * MINUTE;
    this.firstLive.set(symbol, minute);
    this.push({ symbol, from, to: minute, traded: [], initial: true, attempts: 0, notBefore: 0 });
  }

  /** Minutes [from, to) of a live symbol, once the venue has settled them. */
  fetch(symbol: string, from: number, to: number, traded: number[]): void {
    this.push({ symbol, from, to, traded, initial: false, attempts: 0, notBefore: Date.now() + this.o.settleMs });
  }

  cancel(symbol: string): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) if (this.jobs[i]!.symbol === symbol) this.jobs.splice(i, 1);
    this.firstLive.delete(symbol);
  }

  queued(): number {
    return this.jobs.length;
  }

  protected dropQueued(): void {
    this.jobs.length = 0;
    this.wake?.();
  }

  private push(j: Job): void {
    if (this.abort.signal.aborted) return;
    this.jobs.push(j);
    this.wake?.();
    void this.run();
  }

  /** The due job that is oldest in venue time first: a start-up fill before later live minutes. */
  protected async next(): Promise<Job | undefined> {
    while (!this.abort.signal.aborted && this.jobs.length) {
      const now = Date.now();
      let pick = -1;
      for (let i = 0; i < this.jobs.length; i++) {
        const j = this.jobs[i]!;
        if (j.notBefore <= now && (pick < 0 || j.from < this.jobs[pick]!.from)) pick = i;
      }
      if (pick >= 0) return this.jobs.splice(pick, 1)[0]!;
      const due = Math.min(...this.jobs.map((j) => j.notBefore));
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, due - now));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = undefined;
    }
    return undefined;
  }

  protected async retry(job: Job): Promise<void> {
    this.jobs.push({ ...job, notBefore: Date.now() + 2000 });
  }

  protected describe(job: Job): Record<string, unknown> {
    return { symbol: job.symbol, from: job.from, to: job.to };
  }

  protected async work(job: Job): Promise<void> {
    const { symbol } = job;
    const first = this.firstLive.get(symbol);
    const checkStored = job.initial || (first !== undefined && first >= job.from && first < job.to);
    const stored = checkStored ? await this.storedTimes(symbol, job.from, job.to) : new Set<number>();
    const got = new Set<number>();
    let filled = 0;
    for (let start = job.from; start < job.to && !this.abort.signal.aborted; start += CANDLES_PAGE * MINUTE) {
      const end = Math.min(start + (CANDLES_PAGE - 1) * MINUTE, job.to - MINUTE);
      const rows = await this.o.rest.candles(this.o.product(symbol), start, end, this.abort.signal);
      // newest first, and rows before `start` may come too (docs): keep the asked range, oldest first
      const candles = rows.map(parseCandleRow).filter((c) => c.openTime >= start && c.openTime <= end && c.openTime % MINUTE === 0);
      candles.sort((a, b) => a.openTime - b.openTime);
      for (const c of candles) {
        got.add(c.openTime);
        if (stored.has(c.openTime) || !this.o.ledger.accept(symbol, c.openTime)) continue;
        this.o.emit(symbol, c);
        filled++;
      }
    }
    if (this.abort.signal.aborted) return;
    if (filled) this.o.filled(symbol, job.initial ? 'startup' : 'live', filled);
    const missing = job.traded.filter((t) => !got.has(t) && !this.o.ledger.has(symbol, t));
    if (!missing.length) return;
    if (job.attempts + 1 >= (this.o.maxAttempts ?? 10)) {
      this.o.unreconciled(symbol, missing.length);
      this.o.log.error({ symbol, minutes: missing.map((t) => new Date(t).toISOString()) }, 'coinbase has no candle for a minute with trades after every retry');
      return;
    }
    // traded minutes the venue does not show yet: ask again for just those, a little later
    for (const t of missing) this.jobs.push({ symbol, from: t, to: t + MINUTE, traded: [t], initial: false, attempts: job.attempts + 1, notBefore: Date.now() + Math.max(500, this.o.settleMs) * (job.attempts + 1) });
  }

  /** Open times stored for `symbol` in [from, to). */
  private async storedTimes(symbol: string, from: number, to: number): Promise<Set<number>> {
    return new Set(await storedCandleTimes(this.o.influxql, { exchange: EXCHANGE, symbol, fromMs: from, toMs: to }));
  }
}
