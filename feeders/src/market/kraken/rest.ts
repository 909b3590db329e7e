// REST transport for the backfill: GET /0/public/OHLC?pair=&interval=1&since= (docs/SOURCES.md "Kraken").
// Kraken answers errors with HTTP 200 and `{"error":["EQuery:Unknown asset pair"]}`: the error names say
// whether another try can help. Public calls are limited per IP (about one a second, no published
// number), so calls are spaced by `minIntervalMs`; a 429 or a rate-limit error waits and retries.
import type { Logger } from 'pino';
import { Backoff, HttpStatusError, ParseError, RetryableAwareError, TransportError, isRetryable, parseRetryAfter, sleep } from '@mt/common';
import { errorKind, type SourceMetrics } from '../../common/metrics.js';
import { MINUTE, parseOhlcBody, type CandleFields, type OhlcPage } from './mappers.js';

const SOURCE = 'kraken_rest';

/** An `error` list in a Kraken REST body. Service/rate errors retry; query/argument errors do not. */
export class KrakenApiError extends RetryableAwareError {
  override readonly name = 'KrakenApiError';
  readonly retryable: boolean;
  constructor(readonly errors: string[]) {
    super(`kraken REST: ${errors.join(', ')}`);
    this.retryable = errors.some((e) => e.startsWith('EService:') || e.startsWith('EAPI:Rate limit') || e.startsWith('EGeneral:Too many requests') || e.startsWith('EGeneral:Temporary'));
  }
}

/** The minutes asked for are not all committed at the exchange yet (its `last` is behind): ask again soon. */
export class NotCommittedError extends RetryableAwareError {
  override readonly name = 'NotCommittedError';
  readonly retryable = true;
}

export interface KrakenRestOptions {
  baseUrl: string;
  log: Logger;
  metrics: SourceMetrics;
  /** Gap between two calls (Kraken public REST: about 1/s per IP). Default 1000. */
  minIntervalMs?: number;
  timeoutMs?: number;
  backoff?: Backoff;
}

export class KrakenRest {
  private readonly backoff: Backoff;
  private lastCallAt = 0;

  constructor(private readonly o: KrakenRestOptions) {
    this.backoff = o.backoff ?? new Backoff({ initialMs: 1000, maxMs: 60_000 });
  }

  /** One OHLC page: committed 1 m rows after `sinceMs` (Kraken returns at most the 720 newest). */
  async ohlc(pair: string, sinceMs: number, signal: AbortSignal): Promise<OhlcPage> {
    const q = new URLSearchParams({ pair, interval: '1', since: String(Math.floor(sinceMs / 1000)) });
    const body = await this.get(`/0/public/OHLC?${q}`, signal);
    try {
      return parseOhlcBody(body);
    } catch (err) {
      if (err instanceof ParseError) this.o.metrics.parseErrors.inc({ source: SOURCE, reason: err.reason });
      throw err;
    }
  }

  /**
   * The Backfiller's page call: committed candles with open time in [startTime, endTime], as parsed rows.
   * Throws NotCommittedError while Kraken's `last` is still before the minute opening at endTime − 59 999.
   */
  async klines(pair: string, startTime: number, endTime: number, signal: AbortSignal): Promise<CandleFields[]> {
    const page = await this.ohlc(pair, startTime - MINUTE, signal);
    const wantLast = Math.floor(endTime / MINUTE) * MINUTE;
    if (page.last < wantLast) throw new NotCommittedError(`kraken OHLC ${pair}: last ${page.last} before ${wantLast}`);
    return page.rows.filter((k) => k.openTime >= startTime && k.openTime <= endTime);
  }

  private async get(path: string, signal: AbortSignal): Promise<unknown> {
    for (;;) {
      const wait = this.lastCallAt + (this.o.minIntervalMs ?? 1000) - Date.now();
      if (wait > 0) await sleep(wait, signal);
      if (signal.aborted) throw new TransportError('aborted');
      this.lastCallAt = Date.now();
      try {
        const body = await this.once(path, signal);
        this.backoff.reset();
        this.o.metrics.up.set({ source: SOURCE }, 1);
        this.o.metrics.lastMessage.set({ source: SOURCE }, Date.now() / 1000);
        return body;
      } catch (err) {
        if (signal.aborted) throw err;
        this.o.metrics.sourceErrors.inc({ source: SOURCE, kind: err instanceof KrakenApiError ? 'api_error' : errorKind(err) });
        this.o.metrics.up.set({ source: SOURCE }, 0);
        if (!isRetryable(err)) throw err;
        const retryAfterMs = (err as HttpStatusError).retryAfterMs;
        const pause = this.backoff.next(retryAfterMs);
        this.o.log.warn({ err: String(err), retryAfterMs, waitMs: pause }, 'kraken REST failed, retrying');
        this.o.metrics.reconnects.inc({ source: SOURCE });
        await sleep(pause, signal);
      }
    }
  }

  private async once(path: string, signal: AbortSignal): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.o.baseUrl.replace(/\/+$/, '')}${path}`, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs ?? 10_000)]) });
    } catch (err) {
      throw new TransportError(`kraken REST ${path}: ${String(err)}`, err);
    }
    const text = await res.text();
    if (!res.ok) throw new HttpStatusError(res.status, text, parseRetryAfter(res.headers.get('retry-after')), SOURCE);
    this.o.metrics.messages.inc({ source: SOURCE });
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      this.o.metrics.parseErrors.inc({ source: SOURCE, reason: 'invalid_json' });
      throw new ParseError(`kraken REST ${path}: body is not JSON`, 'invalid_json', text.slice(0, 200));
    }
    const errors = (body as { error?: unknown }).error;
    if (Array.isArray(errors) && errors.length > 0) throw new KrakenApiError(errors.map(String));
    return body;
  }
}
