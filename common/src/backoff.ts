// Exponential backoff with full jitter (AWS architecture blog): spreads reconnects of many clients and
// keeps a flapping source from hammering the provider. A server's Retry-After always wins when longer.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0..1 share of the delay that is randomised (1 = full jitter). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly o: Required<BackoffOptions>;

  constructor(opts: BackoffOptions = {}) {
    this.o = { initialMs: 500, maxMs: 60_000, factor: 2, jitter: 1, random: Math.random, ...opts };
  }

  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next attempt; `retryAfterMs` (from the server) is a floor. */
  next(retryAfterMs?: number): number {
    const base = Math.min(this.o.maxMs, this.o.initialMs * this.o.factor ** this.attempt);
    this.attempt++;
    const delay = base * (1 - this.o.jitter) + base * this.o.jitter * this.o.random();
    return Math.max(Math.round(delay), retryAfterMs ?? 0);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** setTimeout as a promise that an AbortSignal cancels (resolves early, never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Retry-After is seconds (RFC 9110 §10.2.3) or an HTTP-date. Returns milliseconds, or undefined when
 * absent or unparseable. (@influxdata/influxdb-client reads the number as milliseconds; we do not.)
 */
export function parseRetryAfter(value: string | string[] | number | undefined | null, now = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const s = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const date = Date.parse(s);
  if (!Number.isNaN(date)) return Math.max(0, date - now);
  return undefined;
}
