// REST transport for the backfill: GET /0/public/OHLC?pair=&interval=1&since= (docs/SOURCES.md "Kraken").
// Kraken answers errors with HTTP 200 and `{"error":["EQuery:Unknown asset pair"]}`: the error names say
// whether another try can help. Public calls are limited per IP (about one a second, no published
// number), so calls are spaced by `minIntervalMs`; a 429 or a rate-limit error waits and retries
// (the shared RestClient: docs/SOURCES.md, "One HTTP helper").
import { ParseError, RetryableAwareError } from '@mt/common';
import { RestClient, RetryPolicy, type VenueRestOptions } from '../../common/http/index.js';
import { MINUTE, parseOhlcBody, type CandleFields, type OhlcPage } from './mappers.js';

/** An `error` list in a Kraken REST body. Service/rate errors retry; query/argument errors do not. */
export class KrakenApiError extends RetryableAwareError {
  override readonly name = 'KrakenApiError';
  /** Its `kind` in feeder_source_errors_total. */
  readonly kind = 'api_error';
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

export interface KrakenRestOptions extends VenueRestOptions {
  /** Gap between two calls (Kraken public REST: about 1/s per IP). Default 1000. */
  minIntervalMs?: number;
}

export class KrakenRest {
  private readonly http: RestClient;

  constructor(o: KrakenRestOptions) {
    this.http = new RestClient({
      baseUrl: o.baseUrl,
      source: 'kraken_rest',
      label: 'kraken REST',
      log: o.log,
      metrics: o.metrics,
      timeoutMs: o.timeoutMs,
      minIntervalMs: o.minIntervalMs ?? 1000,
      retry: new RetryPolicy(o.backoff ?? { initialMs: 1000, maxMs: 60_000 }),
      check: (body) => {
        const errors = (body as { error?: unknown }).error;
        if (Array.isArray(errors) && errors.length > 0) throw new KrakenApiError(errors.map(String));
      },
    });
  }

  /** One OHLC page: committed 1 m rows after `sinceMs` (Kraken returns at most the 720 newest). */
  async ohlc(pair: string, sinceMs: number, signal: AbortSignal): Promise<OhlcPage> {
    const q = new URLSearchParams({ pair, interval: '1', since: String(Math.floor(sinceMs / 1000)) });
    const body = await this.http.getJson(`/0/public/OHLC?${q}`, signal);
    try {
      return parseOhlcBody(body);
    } catch (err) {
      if (err instanceof ParseError) this.http.parseError(err);
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
}
