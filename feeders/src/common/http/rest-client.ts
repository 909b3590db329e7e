// A retrying JSON GET for the venues' REST APIs (Binance, Binance USDⓈ-M, Coinbase, Kraken): requests
// paced over the process, a venue hook before each try (Binance's weight budget) and on each answer
// (its weight header), a check of the parsed body (Kraken's in-body errors), retries by RetryPolicy
// until the caller's signal aborts, and the feeder_* source metrics counted the same way for all
// (docs/METRICS.md, docs/SOURCES.md "One HTTP helper").
import type { Logger } from 'pino';
import { ParseError, TransportError, sleep, type Backoff } from '@mt/common';
import { errorKind, type SourceMetrics } from '../metrics.js';
import { HTTP_DEFAULTS } from './options.js';
import { RetryPolicy } from './retry.js';
import { httpGet, statusError, type HttpResponse } from './send.js';

/** What a venue's REST client (Binance, Coinbase, Kraken) takes from its caller; the venue sets the rest. */
export interface VenueRestOptions {
  baseUrl: string;
  log: Logger;
  metrics: SourceMetrics;
  /** Per request; default HTTP_DEFAULTS.requestTimeoutMs. */
  timeoutMs?: number;
  /** Retry waits; default the venue's. */
  backoff?: Backoff;
}

export interface RestClientOptions {
  baseUrl: string;
  /** `source` label of the feeder_* metrics (e.g. `binance_rest`). */
  source: string;
  /** Names the client in log lines and error messages (e.g. `binance REST`); default `source`. */
  label?: string;
  log: Logger;
  metrics: SourceMetrics;
  /** Per request; default HTTP_DEFAULTS.requestTimeoutMs. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Minimum spacing of requests (tries included); default HTTP_DEFAULTS.minIntervalMs. */
  minIntervalMs?: number;
  retry?: RetryPolicy;
  /** Before every try, after pacing (Binance waits out its weight minute here). */
  beforeTry?: (signal: AbortSignal) => Promise<void>;
  /** Every answer, 2xx or not, before its status is looked at (Binance reads its used weight here). */
  onResponse?: (res: HttpResponse) => void;
  /** A parsed 2xx body: throw to fail the try (Kraken answers errors with HTTP 200). */
  check?: (body: unknown) => void;
}

export class RestClient {
  readonly retry: RetryPolicy;
  readonly source: string;
  private readonly label: string;
  private readonly base: string;
  private next = 0;

  constructor(private readonly o: RestClientOptions) {
    this.retry = o.retry ?? new RetryPolicy();
    this.source = o.source;
    this.label = o.label ?? o.source;
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  /**
   * GET `path` (with its query) → parsed JSON. Retries what is retryable (429/418 after Retry-After, 5xx,
   * network, timeout) until `signal` aborts; throws what is not (400, 451, a body that is not JSON …).
   */
  async getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const { metrics, log } = this.o;
    for (;;) {
      await this.pace(signal);
      await this.o.beforeTry?.(signal);
      if (signal.aborted) throw new TransportError('aborted');
      try {
        const body = await this.once(path, signal);
        this.retry.reset();
        metrics.up.set({ source: this.source }, 1);
        metrics.lastMessage.set({ source: this.source }, Date.now() / 1000);
        return body;
      } catch (err) {
        if (signal.aborted) throw err;
        metrics.sourceErrors.inc({ source: this.source, kind: errorKind(err) });
        metrics.up.set({ source: this.source }, 0);
        const d = this.retry.next(err);
        if (!d.retry) throw err;
        log.warn({ err: String(err), retryAfterMs: d.retryAfterMs, waitMs: d.delayMs }, `${this.label} failed, retrying`);
        metrics.reconnects.inc({ source: this.source });
        await sleep(d.delayMs, signal);
      }
    }
  }

  /** Count a body that passed JSON but not the caller's shape check (feeder_parse_errors_total). */
  parseError(err: ParseError): ParseError {
    this.o.metrics.parseErrors.inc({ source: this.source, reason: err.reason });
    return err;
  }

  private async once(path: string, signal: AbortSignal): Promise<unknown> {
    const res = await httpGet(`${this.base}${path}`, {
      signal,
      headers: this.o.headers,
      timeoutMs: this.o.timeoutMs ?? HTTP_DEFAULTS.requestTimeoutMs,
      source: this.label,
    }).catch((err: unknown) => {
      if (err instanceof ParseError) this.parseError(err);
      throw err;
    });
    this.o.onResponse?.(res);
    if (!res.ok) throw statusError(res, this.source);
    this.o.metrics.messages.inc({ source: this.source });
    let body: unknown;
    try {
      body = JSON.parse(res.text) as unknown;
    } catch {
      throw this.parseError(new ParseError(`${this.label} ${path}: body is not JSON`, 'invalid_json', res.text.slice(0, 200)));
    }
    this.o.check?.(body);
    return body;
  }

  /**
   * Wait until `minIntervalMs` has passed since the last try began, over every caller of this client:
   * the check and the claim happen in one turn, so concurrent callers are spaced too, each by the real
   * start of the one before (a late timer never brings two tries closer).
   */
  private async pace(signal: AbortSignal): Promise<void> {
    const gap = this.o.minIntervalMs ?? HTTP_DEFAULTS.minIntervalMs;
    if (gap <= 0) return;
    for (;;) {
      const now = Date.now();
      if (now >= this.next) {
        this.next = now + gap;
        return;
      }
      await sleep(this.next - now, signal);
      if (signal.aborted) return;
    }
  }
}
