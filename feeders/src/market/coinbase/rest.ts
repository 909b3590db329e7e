// REST transport for Coinbase candles: GET /products/{id}/candles?granularity=60&start=&end= (seconds),
// ≤ 300 rows a request, newest first. Public endpoints allow 10 requests/s per IP (bursts 15,
// testing/fixtures/LIMITS.md "Coinbase Exchange"): requests are spaced `minIntervalMs` apart over the
// whole process, and a 429 (no Retry-After documented) or 5xx backs off with jitter and retries.
import type { Logger } from 'pino';
import { Backoff, HttpStatusError, ParseError, TransportError, isRetryable, parseRetryAfter, sleep } from '@mt/common';
import { errorKind, type SourceMetrics } from '../../common/metrics.js';

const SOURCE = 'coinbase_rest';
/** Most rows a candles request may cover; a wider range is rejected by the venue. */
export const CANDLES_PAGE = 300;

export interface CoinbaseRestOptions {
  baseUrl: string;
  log: Logger;
  metrics: SourceMetrics;
  /** Minimum spacing of requests (default 200 ms = 5/s, half the public limit: other clients may share the IP). */
  minIntervalMs?: number;
  timeoutMs?: number;
  backoff?: Backoff;
}

export class CoinbaseRest {
  private readonly backoff: Backoff;
  private next = 0;

  constructor(private readonly o: CoinbaseRestOptions) {
    this.backoff = o.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 });
  }

  /**
   * Raw 1 m candle rows of `product` for open times in [from, to] (ms, minute aligned, ≤ 300 minutes).
   * Retries what is retryable until `signal` aborts; throws what is not (400, 404).
   */
  async candles(product: string, from: number, to: number, signal: AbortSignal): Promise<unknown[]> {
    const q = new URLSearchParams({ granularity: '60', start: String(from / 1000), end: String(to / 1000) });
    const body = await this.get(`/products/${encodeURIComponent(product)}/candles?${q}`, signal);
    if (!Array.isArray(body)) {
      this.o.metrics.parseErrors.inc({ source: SOURCE, reason: 'invalid_field' });
      throw new ParseError(`coinbase candles ${product}: body is not an array`, 'invalid_field', JSON.stringify(body).slice(0, 200));
    }
    return body;
  }

  private async get(path: string, signal: AbortSignal): Promise<unknown> {
    for (;;) {
      await this.pace(signal);
      if (signal.aborted) throw new TransportError('aborted');
      try {
        const body = await this.once(path, signal);
        this.backoff.reset();
        this.o.metrics.up.set({ source: SOURCE }, 1);
        this.o.metrics.lastMessage.set({ source: SOURCE }, Date.now() / 1000);
        return body;
      } catch (err) {
        if (signal.aborted) throw err;
        this.o.metrics.sourceErrors.inc({ source: SOURCE, kind: errorKind(err) });
        this.o.metrics.up.set({ source: SOURCE }, 0);
        if (!isRetryable(err)) throw err;
        const wait = this.backoff.next((err as HttpStatusError).retryAfterMs);
        this.o.log.warn({ err: String(err), waitMs: wait }, 'coinbase REST failed, retrying');
        this.o.metrics.reconnects.inc({ source: SOURCE });
        await sleep(wait, signal);
      }
    }
  }

  private async once(path: string, signal: AbortSignal): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.o.baseUrl.replace(/\/+$/, '')}${path}`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs ?? 10_000)]),
        // the public API refuses requests without a User-Agent
        headers: { 'user-agent': 'market-terminal-feeder', accept: 'application/json' },
      });
    } catch (err) {
      throw new TransportError(`coinbase REST ${path}: ${String(err)}`, err);
    }
    const text = await res.text();
    if (!res.ok) throw new HttpStatusError(res.status, text, parseRetryAfter(res.headers.get('retry-after')), SOURCE);
    this.o.metrics.messages.inc({ source: SOURCE });
    try {
      return JSON.parse(text) as unknown;
    } catch {
      this.o.metrics.parseErrors.inc({ source: SOURCE, reason: 'invalid_json' });
      throw new ParseError(`coinbase REST ${path}: body is not JSON`, 'invalid_json', text.slice(0, 200));
    }
  }

  private async pace(signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + (this.o.minIntervalMs ?? 200);
    if (at > now) await sleep(at - now, signal);
  }
}
