// Every polled source (Yahoo, CoinGecko, Fear & Greed, CryptoPanic, NewsAPI, RSS) runs in this loop:
// fixed interval when healthy; exponential backoff with jitter after a failure, never shorter than the
// server's Retry-After; one failing source never stops another. Metrics and logs are per source.
import type { Logger } from 'pino';
import { Backoff, ParseError, sleep, type BackoffOptions } from '@mt/common';
import { errorKind, type SourceMetrics } from './metrics.js';
import { HTTP_DEFAULTS, RetryPolicy, retryAfterOf } from './http/index.js';

export interface PollerOptions<T> {
  /** Source name: the `source` label and the logger's `source` field. */
  name: string;
  intervalMs: number;
  /** One poll. Throw HttpStatusError/ParseError/TransportError (or anything) on failure. */
  fetch: (signal: AbortSignal) => Promise<T>;
  onData: (data: T) => Promise<void> | void;
  log: Logger;
  metrics: SourceMetrics;
  backoff?: BackoffOptions;
  /** Abort a poll that takes longer than this (default HTTP_DEFAULTS.pollTimeoutMs). */
  timeoutMs?: number;
  /** Delay before the first poll (spreads start-up load). */
  initialDelayMs?: number;
}

export class Poller<T> {
  private readonly ctrl = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly retry: RetryPolicy;
  lastSuccessAt = 0;
  consecutiveFailures = 0;

  constructor(private readonly o: PollerOptions<T>) {
    this.retry = new RetryPolicy(new Backoff({ initialMs: Math.min(5_000, o.intervalMs), maxMs: Math.max(o.intervalMs * 8, 60_000), ...o.backoff }));
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Run one poll now (tests, and the first poll at start-up). Returns whether it succeeded. */
  async pollOnce(): Promise<{ ok: true } | { ok: false; err: unknown; retryAfterMs?: number }> {
    const { name, log, metrics } = this.o;
    const signal = AbortSignal.any([this.ctrl.signal, AbortSignal.timeout(this.o.timeoutMs ?? HTTP_DEFAULTS.pollTimeoutMs)]);
    try {
      const data = await this.o.fetch(signal).catch((err: unknown) => {
        // a body that could not be understood is bad input: counted as such, for every source alike
        // (logged with the failure below: once per streak, with its reason)
        if (err instanceof ParseError) metrics.parseErrors.inc({ source: name, reason: err.reason });
        throw err;
      });
      await this.o.onData(data);
      this.lastSuccessAt = Date.now();
      this.consecutiveFailures = 0;
      metrics.up.set({ source: name }, 1);
      metrics.lastMessage.set({ source: name }, this.lastSuccessAt / 1000);
      return { ok: true };
    } catch (err) {
      if (this.ctrl.signal.aborted) return { ok: false, err };
      this.consecutiveFailures++;
      metrics.up.set({ source: name }, 0);
      metrics.sourceErrors.inc({ source: name, kind: errorKind(err) });
      const retryAfterMs = retryAfterOf(err);
      // first failure at warn, repeats at debug: a source down for an hour is one line, not 240
      // a body we cannot read says why (reason, first bytes): an unreadable feed is one line, not one per poll
      const bad = err instanceof ParseError ? { reason: err.reason, sample: err.sample } : {};
      log[this.consecutiveFailures === 1 ? 'warn' : 'debug']({ err, retryAfterMs, failures: this.consecutiveFailures, ...bad }, 'poll failed');
      return { ok: false, err, retryAfterMs };
    }
  }

  private async run(): Promise<void> {
    if (this.o.initialDelayMs) await sleep(this.o.initialDelayMs, this.ctrl.signal);
    while (!this.ctrl.signal.aborted) {
      const res = await this.pollOnce();
      if (this.ctrl.signal.aborted) break;
      let delay: number;
      if (res.ok) {
        this.retry.reset();
        delay = this.o.intervalMs;
      } else {
        // a non-retryable error (e.g. a 4xx other than 429) still polls again, but on the slow path
        const d = this.retry.next(res.err);
        delay = d.retry ? d.delayMs : Math.max(this.o.intervalMs, d.delayMs);
        this.o.metrics.reconnects.inc({ source: this.o.name });
      }
      await sleep(delay, this.ctrl.signal);
    }
  }

  async stop(): Promise<void> {
    this.ctrl.abort();
    await this.loop;
  }
}
