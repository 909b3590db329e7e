// What the polled market sources (Yahoo, CoinGecko, Fear & Greed, Alpha Vantage, ExchangeRate-API)
// share: their request defaults on the one HTTP helper (docs/SOURCES.md, "One HTTP helper"), and a
// MarketComponent around a Poller that counts malformed payloads in feeder_parse_errors_total.
import type { Logger } from 'pino';
import type { ParseError, WatchItem } from '@mt/common';
import { Poller } from '../common/poller.js';
import type { SourceMetrics } from '../common/metrics.js';
import { httpGet, type HttpResponse } from '../common/http/index.js';
import type { MarketComponent } from './context.js';

export { expectJson, type HttpResponse } from '../common/http/index.js';

// Yahoo refuses some default client user agents; an honest browser-compatible one works (yahoo-finance2 does the same).
export const USER_AGENT = 'Mozilla/5.0 (compatible; market-terminal/0.1)';

/** GET with the polled market sources' defaults (that user agent, JSON, redirects not followed); typed errors, no bare fetch error. */
export function marketGet(url: string, opts: { signal: AbortSignal; headers?: Record<string, string>; source?: string; secret?: string }): Promise<HttpResponse> {
  return httpGet(url, { ...opts, redirect: 'manual', headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...opts.headers } });
}

export { isObject } from '@mt/common';

/** A finite number, or undefined (Yahoo and CoinGecko leave fields out or null them). */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export interface PolledSourceDeps {
  log: Logger;
  metrics: SourceMetrics;
  intervalMs: number;
  /** Poll timeout (default 20 s). */
  timeoutMs?: number;
}

/** One polled source as a MarketComponent: subclasses implement poll() and, if they need it, setWatch(). */
export abstract class PolledSource<T> implements MarketComponent {
  protected readonly log: Logger;
  protected readonly metrics: SourceMetrics;
  readonly poller: Poller<T>;

  constructor(
    readonly name: string,
    deps: PolledSourceDeps,
  ) {
    this.log = deps.log.child({ source: name });
    this.metrics = deps.metrics;
    this.poller = new Poller<T>({
      name,
      intervalMs: deps.intervalMs,
      timeoutMs: deps.timeoutMs,
      log: this.log,
      metrics: deps.metrics,
      fetch: (signal) => this.fetch(signal),
      onData: (d) => this.onData(d),
    });
  }

  protected abstract fetch(signal: AbortSignal): Promise<T>;
  protected abstract onData(data: T): void | Promise<void>;

  setWatch(_items: WatchItem[]): void {}

  /** Count a malformed payload (or item); the whole poll fails only when the caller rethrows. */
  protected parseError(err: ParseError): void {
    this.metrics.parseErrors.inc({ source: this.name, reason: err.reason });
    this.log.warn({ reason: err.reason, sample: err.sample }, err.message);
  }

  start(): void {
    this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller.stop();
  }

  health(): Record<string, unknown> {
    return {
      lastSuccessAt: this.poller.lastSuccessAt ? new Date(this.poller.lastSuccessAt).toISOString() : null,
      consecutiveFailures: this.poller.consecutiveFailures,
    };
  }
}
