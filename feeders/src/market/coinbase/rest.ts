// REST transport for Coinbase candles: GET /products/{id}/candles?granularity=60&start=&end= (seconds),
// ≤ 300 rows a request, newest first. Public endpoints allow 10 requests/s per IP (bursts 15,
// testing/fixtures/LIMITS.md "Coinbase Exchange"): requests are spaced `minIntervalMs` apart over the
// whole process, and a 429 (no Retry-After documented) or 5xx backs off with jitter and retries
// (the shared RestClient: docs/SOURCES.md, "One HTTP helper").
import { ParseError } from '@mt/common';
import { RestClient, RetryPolicy, type VenueRestOptions } from '../../common/http/index.js';

/** Most rows a candles request may cover; a wider range is rejected by the venue. */
export const CANDLES_PAGE = 300;

export interface CoinbaseRestOptions extends VenueRestOptions {
  /** Minimum spacing of requests (default 200 ms = 5/s, half the public limit: other clients may share the IP). */
  minIntervalMs?: number;
}

export class CoinbaseRest {
  private readonly http: RestClient;

  constructor(o: CoinbaseRestOptions) {
    this.http = new RestClient({
      baseUrl: o.baseUrl,
      source: 'coinbase_rest',
      label: 'coinbase REST',
      log: o.log,
      metrics: o.metrics,
      timeoutMs: o.timeoutMs,
      minIntervalMs: o.minIntervalMs ?? 200,
      // the public API refuses requests without a User-Agent
      headers: { 'user-agent': 'market-terminal-feeder', accept: 'application/json' },
      retry: new RetryPolicy(o.backoff ?? { initialMs: 500, maxMs: 30_000 }),
    });
  }

  /**
   * Raw 1 m candle rows of `product` for open times in [from, to] (ms, minute aligned, ≤ 300 minutes).
   * Retries what is retryable until `signal` aborts; throws what is not (400, 404).
   */
  async candles(product: string, from: number, to: number, signal: AbortSignal): Promise<unknown[]> {
    const q = new URLSearchParams({ granularity: '60', start: String(from / 1000), end: String(to / 1000) });
    const body = await this.http.getJson(`/products/${encodeURIComponent(product)}/candles?${q}`, signal);
    if (!Array.isArray(body)) {
      throw this.http.parseError(new ParseError(`coinbase candles ${product}: body is not an array`, 'invalid_field', JSON.stringify(body).slice(0, 200)));
    }
    return body;
  }
}
