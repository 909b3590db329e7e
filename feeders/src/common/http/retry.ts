// The retry decision of every HTTP client, in one class: the error says whether another try can help
// (RetryableAwareError.retryable: 408/425/429/418/5xx and transport failures yes, 451 and other 4xx and
// unreadable bodies no) and what the server asked for (Retry-After, the floor of the wait); the policy
// says how long to wait (exponential backoff with full jitter). docs/SOURCES.md, "One HTTP helper".
import { Backoff, isRetryable, type BackoffOptions } from '@mt/common';
import { HTTP_DEFAULTS } from './options.js';

export interface RetryDecision {
  /** Whether another try can help (a non-retryable error fails the call, or waits for the next poll). */
  retry: boolean;
  /** How long to wait before the next try: the backoff, never shorter than the server's Retry-After. */
  delayMs: number;
  /** The server's Retry-After, in ms, if it sent one. */
  retryAfterMs: number | undefined;
}

export class RetryPolicy {
  readonly backoff: Backoff;

  constructor(backoff: Backoff | BackoffOptions = {}) {
    this.backoff = backoff instanceof Backoff ? backoff : new Backoff({ ...HTTP_DEFAULTS.backoff, ...backoff });
  }

  /** The decision after `err`; every call advances the backoff. */
  next(err: unknown): RetryDecision {
    const retryAfterMs = retryAfterOf(err);
    return { retry: isRetryable(err), delayMs: this.backoff.next(retryAfterMs), retryAfterMs };
  }

  /** A success: the next failure waits the shortest time again. */
  reset(): void {
    this.backoff.reset();
  }
}

/** Retry-After (ms) an error carries (HttpStatusError and its kin), or undefined. */
export function retryAfterOf(err: unknown): number | undefined {
  const v = typeof err === 'object' && err !== null ? (err as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  return typeof v === 'number' ? v : undefined;
}
