// The sink's retry policy (docs/INFLUXDB.md "Failure handling"), in one class: exponential backoff with
// full jitter, the server's Retry-After as the floor, no attempt limit. While InfluxDB does not answer at
// all (refused, reset) a readiness probe (GET /ping, 204 on 1.x and 2.x) ends the wait as soon as it is
// answered: after an outage the backlog goes out at once, not up to the backoff's cap later while the
// bounded buffer keeps dropping its oldest points. An HTTP answer (429, 5xx, 401/403, 404) or a timeout
// is never probed: the server is up, a ping says nothing about whether it can take the write, and
// probing would only send the write again sooner to a server that is struggling.
import type { Transport } from '@influxdata/influxdb-client';
import type { Counter } from 'prom-client';
import { Backoff, sleep, type BackoffOptions } from '../backoff.js';
import { TransportError, type RetryableAwareError } from '../errors.js';

export interface WriteRetryDecision {
  /** The longest wait before the next try: the backoff, never shorter than the server's Retry-After. */
  delayMs: number;
  /** Whether the readiness probe may end the wait early: only when no server answered the write. */
  probe: boolean;
}

export class WriteRetryPolicy {
  private readonly backoff: Backoff;

  constructor(
    backoff: BackoffOptions,
    private readonly probe: ReadinessProbe | undefined,
  ) {
    this.backoff = new Backoff(backoff);
  }

  /** The decision after a failed write; every call advances the backoff. */
  next(err: RetryableAwareError): WriteRetryDecision {
    const unanswered = err instanceof TransportError && err.code !== 'ETIMEDOUT';
    return { delayMs: this.backoff.next(err.retryAfterMs), probe: unanswered && this.probe !== undefined };
  }

  /**
   * Waits as decided. When the probe finds InfluxDB answering first, returns at once and resets the
   * backoff (a server that is back starts a new episode: a write that fails again backs off from the
   * start, with its Retry-After as the floor).
   */
  async wait(d: WriteRetryDecision, signal: AbortSignal): Promise<void> {
    if (!d.probe || !this.probe || signal.aborted) return sleep(d.delayMs, signal);
    const done = new AbortController();
    const stop = () => done.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const ready = await Promise.race([sleep(d.delayMs, done.signal).then(() => false), this.probe.whenReady(done.signal)]);
      if (ready) this.backoff.reset();
    } finally {
      stop();
      signal.removeEventListener('abort', stop);
    }
  }

  /** A write succeeded: the next failure waits the shortest time again. */
  reset(): void {
    this.backoff.reset();
  }
}

/**
 * GET /ping every `intervalMs` while at least one bucket writer of the sink waits on it: one probe
 * loop per sink however many buckets are backing off, none while nothing waits.
 */
export class ReadinessProbe {
  private round: { waiting: number; ready: Promise<boolean> } | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly intervalMs: number,
    private readonly probes: Counter<'outcome'>,
    private readonly closed: AbortSignal,
  ) {}

  /** Resolves true once InfluxDB answers /ping, false when `signal` aborts first or the sink closes. */
  whenReady(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted || this.closed.aborted) return Promise.resolve(false);
    const r = (this.round ??= this.start());
    r.waiting++;
    return new Promise((resolve) => {
      const leave = () => {
        r.waiting--;
        resolve(false);
      };
      signal.addEventListener('abort', leave, { once: true });
      void r.ready.then((ok) => {
        signal.removeEventListener('abort', leave);
        resolve(ok);
      });
    });
  }

  private start(): { waiting: number; ready: Promise<boolean> } {
    const r = { waiting: 0, ready: Promise.resolve(false) };
    r.ready = (async () => {
      try {
        for (;;) {
          // the write has just failed to connect: the first ping waits one interval too
          await sleep(this.intervalMs, this.closed);
          if (r.waiting === 0 || this.closed.aborted) return false;
          if (await this.ping()) return true;
        }
      } finally {
        if (this.round === r) this.round = undefined;
      }
    })();
    return r;
  }

  private async ping(): Promise<boolean> {
    // per request, as the sink's writes: the library never removes its abort listener
    const request = new AbortController();
    const t = setTimeout(() => request.abort(), this.intervalMs);
    try {
      await this.transport.request('/ping', '', { method: 'GET', signal: request.signal });
      this.probes.inc({ outcome: 'ready' });
      return true;
    } catch {
      this.probes.inc({ outcome: 'down' });
      return false;
    } finally {
      clearTimeout(t);
    }
  }
}
