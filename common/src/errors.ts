// Errors carry their own retry decision, so loops do not re-derive it from status codes everywhere
// (the shape of @influxdata/influxdb-client's errors.ts).

export abstract class RetryableAwareError extends Error {
  abstract readonly retryable: boolean;
  /** Minimum wait the server asked for, in ms. */
  readonly retryAfterMs: number | undefined = undefined;
}

/** A non-2xx HTTP answer from a source. 408, 425, 429, 5xx and 418 (Binance ban, after waiting) retry. */
export class HttpStatusError extends RetryableAwareError {
  override readonly name = 'HttpStatusError';
  readonly retryable: boolean;
  override readonly retryAfterMs: number | undefined;
  constructor(
    readonly status: number,
    readonly body: string,
    retryAfterMs?: number,
    readonly source?: string,
  ) {
    super(`${source ? source + ': ' : ''}HTTP ${status}${body ? ': ' + body.slice(0, 200) : ''}`);
    this.retryable = status === 408 || status === 425 || status === 429 || status === 418 || status >= 500;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A payload that could not be understood. Never retryable: the same bytes will fail again. */
export class ParseError extends RetryableAwareError {
  override readonly name = 'ParseError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly reason: string,
    readonly sample?: string,
  ) {
    super(message);
  }
}

/** Network-level failure (refused, reset, timeout): always worth another try. */
export class TransportError extends RetryableAwareError {
  override readonly name = 'TransportError';
  readonly retryable = true;
  constructor(
    message: string,
    override readonly cause?: unknown,
    /** The system error code (ECONNREFUSED …); ETIMEDOUT for a request that timed out. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RetryableAwareError ? err.retryable : true;
}
