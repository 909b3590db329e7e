// REST transport for backfill: GET /api/v3/klines (futures: /fapi/v1/klines), paged (limit 1000), weight-aware. Every answer
// carries X-MBX-USED-WEIGHT-1M; above `weightBudget` we wait for the next minute instead of running into
// a 429. A 429 or 418 (ban) is obeyed: Retry-After is seconds and is the minimum wait (Backoff floor).
import type { Logger } from 'pino';
import { Backoff, HttpStatusError, ParseError, TransportError, binanceRestSymbol, isRetryable, parseRetryAfter, sleep } from '@mt/common';
import type { RestCandleFetcher } from '../stream/backfill.js';
import { parseKlineRow, toCandle } from './mappers.js';
import { errorKind, type SourceMetrics } from '../../common/metrics.js';

export const KLINES_PAGE = 1000;

export interface RestOptions {
  baseUrl: string;
  log: Logger;
  metrics: SourceMetrics;
  /** Used weight per minute above which we pause until the minute rolls over (spot limit 6000; default 4800). */
  weightBudget?: number;
  /** Name in the feeder_* metrics (default `binance_rest`). */
  source?: string;
  /** Path of the klines endpoint (default `/api/v3/klines`; USDⓈ-M futures: `/fapi/v1/klines`). */
  klinesPath?: string;
  timeoutMs?: number;
  backoff?: Backoff;
  /** Wall clock (ms) that defines Binance's weight minute; injectable for tests. */
  now?: () => number;
}

export class BinanceRest {
  /** Last X-MBX-USED-WEIGHT-1M seen. */
  usedWeight = 0;
  private readonly backoff: Backoff;
  private readonly source: string;

  constructor(private readonly o: RestOptions) {
    this.backoff = o.backoff ?? new Backoff({ initialMs: 500, maxMs: 60_000 });
    this.source = o.source ?? 'binance_rest';
  }

  /**
   * One page of 1 m klines (raw rows) with openTime in [startTime, endTime]. Retries what is retryable
   * (429/418 after Retry-After, 5xx, network) until `signal` aborts; throws what is not (400 …).
   */
  async klines(symbol: string, startTime: number, endTime: number, signal: AbortSignal): Promise<unknown[]> {
    const q = new URLSearchParams({ symbol, interval: '1m', startTime: String(startTime), endTime: String(endTime), limit: String(KLINES_PAGE) });
    return this.get(`${this.o.klinesPath ?? '/api/v3/klines'}?${q}`, signal) as Promise<unknown[]>;
  }

  /** GET `path` (with its query) → parsed JSON, with the same weight, retry and Retry-After rules as klines. */
  /**
   * The order book snapshot (raw body) with `limit` levels per side (weight: 5 up to 100, 25 up to 500,
   * 50 up to 1000, 250 up to 5000). Retries like klines().
   */
  async depth(symbol: string, limit: number, signal: AbortSignal): Promise<unknown> {
    return this.get(`/api/v3/depth?${new URLSearchParams({ symbol, limit: String(limit) })}`, signal);
  }

  async get(path: string, signal: AbortSignal): Promise<unknown> {
    for (;;) {
      await this.respectWeight(signal);
      if (signal.aborted) throw new TransportError('aborted');
      try {
        const body = await this.once(path, signal);
        this.backoff.reset();
        this.o.metrics.up.set({ source: this.source }, 1);
        this.o.metrics.lastMessage.set({ source: this.source }, Date.now() / 1000);
        return body;
      } catch (err) {
        if (signal.aborted) throw err;
        this.o.metrics.sourceErrors.inc({ source: this.source, kind: errorKind(err) });
        this.o.metrics.up.set({ source: this.source }, 0);
        if (!isRetryable(err)) throw err;
        const retryAfterMs = (err as HttpStatusError).retryAfterMs;
        const wait = this.backoff.next(retryAfterMs);
        this.o.log.warn({ err: String(err), retryAfterMs, waitMs: wait }, 'binance REST failed, retrying');
        this.o.metrics.reconnects.inc({ source: this.source });
        await sleep(wait, signal);
      }
    }
  }

  private async once(path: string, signal: AbortSignal): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.o.baseUrl.replace(/\/+$/, '')}${path}`, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs ?? 10_000)]) });
    } catch (err) {
      throw new TransportError(`binance REST ${path}: ${String(err)}`, err);
    }
    const used = Number(res.headers.get('x-mbx-used-weight-1m'));
    if (Number.isFinite(used) && res.headers.has('x-mbx-used-weight-1m')) this.usedWeight = used;
    const text = await res.text();
    if (!res.ok) throw new HttpStatusError(res.status, text, parseRetryAfter(res.headers.get('retry-after')), this.source);
    this.o.metrics.messages.inc({ source: this.source });
    try {
      return JSON.parse(text) as unknown;
    } catch {
      this.o.metrics.parseErrors.inc({ source: this.source, reason: 'invalid_json' });
      throw new ParseError(`binance REST ${path}: body is not JSON`, 'invalid_json', text.slice(0, 200));
    }
  }

  private async respectWeight(signal: AbortSignal): Promise<void> {
    const budget = this.o.weightBudget ?? 4800;
    if (this.usedWeight < budget) return;
    // The weight window is the wall-clock minute; wait for the next one.
    const wait = 60_000 - ((this.o.now ?? Date.now)() % 60_000) + 250;
    this.o.log.info({ usedWeight: this.usedWeight, waitMs: wait }, 'binance REST weight budget reached, pausing');
    this.usedWeight = 0;
    await sleep(wait, signal);
  }
}

/**
 * Binance's klines as the venue-neutral candle fetcher of the Backfiller (docs/STREAMING.md, "Candles");
 * USDⓈ-M futures passes its exchange name and symbol spelling (its klines path is the client's).
 */
export function binanceCandleFetcher(rest: BinanceRest, o: { exchange?: string; restSymbol?: (symbol: string) => string } = {}): RestCandleFetcher {
  const exchange = o.exchange ?? 'binance';
  const restSymbol = o.restSymbol ?? binanceRestSymbol;
  return {
    exchange,
    pageSize: KLINES_PAGE,
    async minuteCandles(symbol, from, to, signal) {
      const rows = await rest.klines(restSymbol(symbol), from, to, signal);
      const receivedAt = Date.now();
      return rows.map((row) => toCandle(symbol, parseKlineRow(row), true, receivedAt, exchange));
    },
  };
}
