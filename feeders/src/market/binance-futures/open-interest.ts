// Open interest has no stream on Binance USDⓈ-M: GET /fapi/v1/openInterest (weight 1) per watched
// perpetual, the requests spread evenly over the poll period, one at a time, through the venue's REST
// client (which shares the IP's weight budget with the klines backfill and obeys 429/418 Retry-After).
import type { Logger } from 'pino';
import { HttpStatusError, ParseError, sleep } from '@mt/common';
import type { BinanceRest } from '../binance/rest.js';
import { parseOpenInterest } from './mappers.js';

export interface OpenInterestOptions {
  rest: BinanceRest;
  log: Logger;
  /** Each symbol once per this period. */
  intervalMs: number;
  emit(symbol: string, oi: { openInterest: number; time: number }, receivedAt: number): void;
  /** A failed request (counted by the caller); the next round asks again. */
  onError(symbol: string, err: unknown): void;
}

export class OpenInterestPoller {
  /** REST symbol (`BTCUSDT`) → ours (`BTC/USDT:USDT`). */
  private readonly symbols = new Map<string, string>();
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private running = false;
  /** Symbols whose last request failed with a 4xx: logged once until they succeed again. */
  private readonly failing = new Set<string>();

  constructor(private readonly o: OpenInterestOptions) {}

  setSymbols(symbols: Map<string, string>): void {
    this.symbols.clear();
    for (const [rest, ours] of symbols) this.symbols.set(rest, ours);
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop().finally(() => (this.running = false));
  }

  stop(): void {
    this.abort.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      const round = [...this.symbols.keys()];
      if (!round.length) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        continue;
      }
      const gap = this.o.intervalMs / round.length;
      for (const rest of round) {
        if (signal.aborted) return;
        const started = Date.now();
        const ours = this.symbols.get(rest);
        if (ours) await this.pollOne(rest, ours, signal);
        await sleep(Math.max(0, gap - (Date.now() - started)), signal);
      }
    }
  }

  private async pollOne(rest: string, ours: string, signal: AbortSignal): Promise<void> {
    try {
      const body = await this.o.rest.get(`/fapi/v1/openInterest?symbol=${encodeURIComponent(rest)}`, signal);
      const oi = parseOpenInterest(body);
      if (oi.symbol !== rest) throw new ParseError(`openInterest answered for ${oi.symbol}, asked ${rest}`, 'invalid_field', JSON.stringify(body).slice(0, 300));
      this.failing.delete(rest);
      // still watched? (the answer may arrive after an unwatch)
      if (this.symbols.get(rest) === ours) this.o.emit(ours, oi, Date.now());
    } catch (err) {
      if (signal.aborted) return;
      this.o.onError(ours, err);
      const first = !this.failing.has(rest);
      this.failing.add(rest);
      const line = { symbol: ours, err: String(err), status: err instanceof HttpStatusError ? err.status : undefined };
      if (first) this.o.log.warn(line, 'open interest request failed');
      else this.o.log.debug(line, 'open interest request failed again');
    }
  }
}
