// What the polled market sources (Yahoo, CoinGecko, Fear & Greed) share: one HTTP GET that turns every
// failure into the typed errors the Poller understands, and a MarketComponent around a Poller that
// counts malformed payloads in feeder_parse_errors_total.
import type { Logger } from 'pino';
import type { WatchItem } from '@mt/common';
import { HttpStatusError, ParseError, TransportError, parseRetryAfter } from '@mt/common';
import { Poller } from '../common/poller.js';
import type { SourceMetrics } from '../common/metrics.js';
import type { MarketComponent } from './context.js';

// Yahoo refuses some default client user agents; an honest browser-compatible one works (yahoo-finance2 does the same).
export const USER_AGENT = 'Mozilla/5.0 (compatible; market-terminal/0.1)';

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** GET that never rejects with a bare fetch error: transport problems become TransportError (timeouts stay TimeoutError). */
export async function httpGet(url: string, opts: { signal: AbortSignal; headers?: Record<string, string> }): Promise<HttpResponse> {
  let res: Response;
  try {
    res = await fetch(url, { signal: opts.signal, headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...opts.headers }, redirect: 'manual' });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason ?? err;
    throw new TransportError(`GET ${new URL(url).pathname}: ${(err as Error).message}`, err);
  }
}

/** Non-2xx → HttpStatusError (with Retry-After); a body that is not JSON → ParseError. */
export function expectJson(res: HttpResponse, source: string): unknown {
  if (res.status < 200 || res.status > 299) throw new HttpStatusError(res.status, res.text, parseRetryAfter(res.headers.get('retry-after')), source);
  try {
    return JSON.parse(res.text);
  } catch {
    throw new ParseError(`${source}: body is not JSON`, 'invalid_json', res.text.slice(0, 200));
  }
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
