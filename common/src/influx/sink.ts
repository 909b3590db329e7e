// The write side: one long-lived writer per bucket with its own FIFO of line-protocol strings, one bound over all of them.
// We use the library's Point (line protocol) and transport, but not its WriteApi: that one reads
// Retry-After as milliseconds, gives up after a few retries, never retries or splits a 413 and drops
// a whole batch for one bad line. Here: backoff + jitter with Retry-After in seconds as the floor and a
// readiness probe while InfluxDB is unreachable (retry.ts), retry for as long as the buffer holds
// (outages lose nothing within the bound), 413 → halves, poison lines → dropped and counted while the
// rest of the batch lands.
import { HttpError, RequestTimedOutError, currentTime, dateToProtocolTimestamp, type Point, type Transport } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BackoffOptions } from '../backoff.js';
import { toTypedError } from './query.js';
import { ReadinessProbe, WriteRetryPolicy, type WriteRetryDecision } from './retry.js';
import { createInfluxTransport, writePath } from './transport.js';
import type { InfluxConfig, InfluxSink } from './types.js';

/** Over all buckets. A buffered line costs ~250 bytes (see flatten), so the default bound is ~50 MB of heap. */
export const DEFAULT_MAX_BUFFER_POINTS = 200_000;

/** Every default of the sink's options, in one place (docs/INFLUXDB.md "Write path", "Failure handling"). */
export const INFLUX_SINK_DEFAULTS = {
  flushIntervalMs: 1000,
  batchSize: 5000,
  maxBufferPoints: DEFAULT_MAX_BUFFER_POINTS,
  gzipThreshold: 1000,
  closeTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  retry: { initialMs: 500, maxMs: 10_000 } as BackoffOptions,
  probeIntervalMs: 1000,
};

export interface InfluxSinkOptions {
  log: Logger;
  registry: Registry;
  /** Send what is queued at least this often (ms). */
  flushIntervalMs?: number;
  /** Lines per write request. */
  batchSize?: number;
  /**
   * Lines held over all buckets of this sink, not counting one batch on the wire (the largest, ≤ batchSize);
   * beyond it the oldest queued lines of the fullest bucket are dropped (`buffer_full`), so a process writing
   * several buckets keeps one memory bound: at most maxBufferPoints + batchSize lines.
   */
  maxBufferPoints?: number;
  /** Bodies larger than this (bytes) are gzipped. */
  gzipThreshold?: number;
  /** close() waits this long (ms) for the last writes, then counts the rest as `retries_exhausted`. */
  closeTimeoutMs?: number;
  /** Timeout of one write request (ms). */
  requestTimeoutMs?: number;
  retry?: BackoffOptions;
  /**
   * While a write waits after InfluxDB could not be reached, GET /ping this often (ms) and retry at once
   * when it answers; 0 = wait for the backoff alone.
   */
  probeIntervalMs?: number;
  transport?: Transport;
}

const SEC = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface SinkMetrics {
  written: Counter<'bucket'>;
  dropped: Counter<'bucket' | 'reason'>;
  duration: Histogram<'bucket'>;
  errors: Counter<'bucket' | 'status'>;
  buffer: Gauge<'bucket'>;
  probes: Counter<'outcome'>;
  /** Every sink on this registry reports its buffers at scrape time. */
  sources: Set<() => Record<string, number>>;
}

const metricsByRegistry = new WeakMap<Registry, SinkMetrics>();

function sinkMetrics(registry: Registry): SinkMetrics {
  let m = metricsByRegistry.get(registry);
  if (m) return m;
  const sources = new Set<() => Record<string, number>>();
  m = {
    sources,
    written: new Counter({ name: 'influx_points_written_total', help: 'Points acknowledged by InfluxDB', labelNames: ['bucket'] as const, registers: [registry] }),
    dropped: new Counter({ name: 'influx_points_dropped_total', help: 'Points given up on', labelNames: ['bucket', 'reason'] as const, registers: [registry] }),
    duration: new Histogram({ name: 'influx_write_duration_seconds', help: 'Duration of one write request', labelNames: ['bucket'] as const, buckets: SEC, registers: [registry] }),
    errors: new Counter({ name: 'influx_write_errors_total', help: 'Failed write requests', labelNames: ['bucket', 'status'] as const, registers: [registry] }),
    probes: new Counter({ name: 'influx_probes_total', help: 'Readiness probes (GET /ping) while writes wait for an unreachable InfluxDB', labelNames: ['outcome'] as const, registers: [registry] }),
    buffer: new Gauge({
      name: 'influx_buffer_points',
      help: 'Points queued, not yet acknowledged',
      labelNames: ['bucket'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const total: Record<string, number> = {};
        for (const s of sources) for (const [b, n] of Object.entries(s())) total[b] = (total[b] ?? 0) + n;
        for (const [b, n] of Object.entries(total)) this.set({ bucket: b }, n);
      },
    }),
  };
  metricsByRegistry.set(registry, m);
  return m;
}

/** FIFO of lines with O(1) removal at the head (drop-oldest and batch-taking). */
class LineQueue {
  private a: string[] = [];
  private h = 0;
  get length(): number {
    return this.a.length - this.h;
  }
  push(line: string): void {
    this.a.push(line);
  }
  /** Lines back at the head, in order (a failed batch). */
  unshift(lines: string[]): void {
    this.a = lines.concat(this.a.slice(this.h));
    this.h = 0;
  }
  take(n: number): string[] {
    const out = this.a.slice(this.h, this.h + n);
    this.skip(out.length);
    return out;
  }
  skip(n: number): void {
    this.h += n;
    if (this.h === this.a.length) {
      this.a = [];
      this.h = 0;
      return;
    }
    // compact once the dead head outweighs the live part, so memory follows the live size
    if (this.h > 4096 && this.h * 2 > this.a.length) {
      this.a = this.a.slice(this.h);
      this.h = 0;
    }
  }
}

type Outcome = { kind: 'written' } | { kind: 'split' } | { kind: 'partial'; bad: number } | { kind: 'rejected' } | { kind: 'aborted' } | { kind: 'retry'; decision: WriteRetryDecision };

/** `ms` precision; a number timestamp is taken as epoch ms (as our point builders use). */
const pointSettings = {
  convertTime: (v: string | number | Date | undefined): string | undefined =>
    v === undefined ? currentTime.millis() : v instanceof Date ? dateToProtocolTimestamp.ms(v) : typeof v === 'number' ? String(Math.floor(v)) : v || undefined,
};

class BucketWriter {
  private q = new LineQueue();
  /** seq of the oldest line in q; lines are numbered in write order so flush() can wait for a prefix. */
  private headSeq = 0;
  private nextSeq = 0;
  /**
   * What is left of a batch whose write failed, queued again ahead of q until the next try (seq of its
   * first line in backSeq). Kept apart from q: lines dropped from q's head meanwhile leave a gap in seq.
   */
  private back = new LineQueue();
  private backSeq = 0;
  private inFlight: { startSeq: number; left: number } | undefined;
  private draining: Promise<void> | undefined;
  private waiters: { target: number; resolve: () => void }[] = [];
  private readonly retry: WriteRetryPolicy;
  private failing: { since: number; attempts: number; lastLog: number } | undefined;
  private lastDropLog = 0;
  private readonly path: string;
  /** Per request, not the sink's signal: the library adds an abort listener per request and never removes it. */
  private request: AbortController | undefined;

  constructor(
    readonly bucket: string,
    private readonly s: Sink,
  ) {
    this.retry = new WriteRetryPolicy({ ...INFLUX_SINK_DEFAULTS.retry, ...s.opts.retry }, s.probe);
    this.path = writePath(s.cfg, bucket, 'ms');
  }

  pending(): number {
    return this.queued() + this.onWire();
  }

  onWire(): number {
    return this.inFlight?.left ?? 0;
  }

  enqueue(lines: string[]): void {
    for (const l of lines) this.q.push(l);
    this.nextSeq += lines.length;
    this.s.bound();
    if (this.q.length >= this.s.batchSize) this.kick();
  }

  queued(): number {
    return this.back.length + this.q.length;
  }

  /** Drop up to `over` of the oldest queued lines; returns how many were dropped. */
  dropOldest(over: number): number {
    // The batch on the wire is the oldest data, but it may yet land: drop the oldest still queued, a failed
    // batch that is back in the queue first.
    const fromBack = Math.min(over, this.back.length);
    this.back.skip(fromBack);
    this.backSeq += fromBack;
    const fromQ = Math.min(over - fromBack, this.q.length);
    this.q.skip(fromQ);
    this.headSeq += fromQ;
    const n = fromBack + fromQ;
    this.s.m.dropped.inc({ bucket: this.bucket, reason: 'buffer_full' }, n);
    const now = Date.now();
    if (now - this.lastDropLog > 10_000) {
      this.lastDropLog = now;
      this.s.log.warn({ bucket: this.bucket, dropped: n, buffered: this.pending() }, 'influx buffer full, dropping oldest points');
    }
    this.settle();
    return n;
  }

  kick(): void {
    if (this.draining || this.queued() === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.settle();
      if (this.queued() > 0 && !this.s.aborted.signal.aborted) this.kick();
    });
  }

  /** Resolves when every line written before this call is acknowledged or given up on. */
  flush(): Promise<void> {
    const target = this.nextSeq;
    if (this.doneUpTo(target)) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
    this.kick();
    return p;
  }

  /** Count everything still queued as given up (close deadline). */
  abandon(): void {
    this.request?.abort();
    const n = this.queued();
    // the batch in flight is counted by drain() once its aborted request returns; the log names it too,
    // since at a few hundred points/s the whole backlog is that one batch
    const inFlight = this.onWire();
    if (n > 0) {
      this.backSeq += this.back.length;
      this.back.skip(this.back.length);
      this.headSeq += this.q.length;
      this.q.skip(this.q.length);
      this.s.m.dropped.inc({ bucket: this.bucket, reason: 'retries_exhausted' }, n);
    }
    if (n + inFlight > 0) this.s.log.error({ bucket: this.bucket, points: n + inFlight, queued: n, inFlight }, 'influx sink closed with unwritten points');
    this.settle();
  }

  private doneUpTo(target: number): boolean {
    if (this.inFlight && this.inFlight.startSeq < target) return false;
    if (this.back.length > 0 && this.backSeq < target) return false;
    return this.q.length === 0 || this.headSeq >= target;
  }

  private settle(): void {
    if (!this.waiters.length) return;
    this.waiters = this.waiters.filter((w) => {
      if (!this.doneUpTo(w.target)) return true;
      w.resolve();
      return false;
    });
  }

  private async drain(): Promise<void> {
    const signal = this.s.aborted.signal;
    while (this.queued() > 0 && !signal.aborted) {
      const fromBack = this.back.length > 0;
      const startSeq = fromBack ? this.backSeq : this.headSeq;
      const batch = fromBack ? this.back.take(this.s.batchSize) : this.q.take(this.s.batchSize);
      if (fromBack) this.backSeq += batch.length;
      else this.headSeq += batch.length;
      this.inFlight = { startSeq, left: batch.length };
      const retry = await this.send(batch);
      this.inFlight = undefined;
      this.settle();
      if (retry) await this.retry.wait(retry, signal);
    }
  }

  /**
   * One batch, one attempt per piece; returns the wait before the next try when a piece failed and may
   * recover — what is left of the batch is then queued again at the head, where it counts in the bound.
   */
  private async send(batch: string[]): Promise<WriteRetryDecision | undefined> {
    const inFlight = this.inFlight!;
    // Depth-first over halves keeps the order of the lines that land.
    const stack = [batch];
    while (stack.length) {
      const lines = stack.pop()!;
      const r = await this.sendOnce(lines);
      if (r.kind === 'split') {
        const mid = Math.ceil(lines.length / 2);
        stack.push(lines.slice(mid), lines.slice(0, mid));
        continue;
      }
      if (r.kind === 'retry') {
        // The rest is the oldest data: back at the head of the queue, where the bound counts it again
        // (docs/INFLUXDB.md "Failure handling") and, over it, drops its oldest lines first.
        this.back.unshift([lines, ...stack.reverse()].flat());
        this.backSeq = inFlight.startSeq + batch.length - inFlight.left;
        inFlight.left = 0;
        this.s.bound();
        return r.decision;
      }
      inFlight.left -= lines.length;
      if (r.kind === 'written') this.s.m.written.inc({ bucket: this.bucket }, lines.length);
      else if (r.kind === 'partial') {
        this.s.m.written.inc({ bucket: this.bucket }, lines.length - r.bad);
        this.s.m.dropped.inc({ bucket: this.bucket, reason: 'rejected' }, r.bad);
      } else if (r.kind === 'rejected') this.s.m.dropped.inc({ bucket: this.bucket, reason: 'rejected' }, lines.length);
      else {
        this.s.m.dropped.inc({ bucket: this.bucket, reason: 'retries_exhausted' }, lines.length);
        for (const rest of stack) this.s.m.dropped.inc({ bucket: this.bucket, reason: 'retries_exhausted' }, rest.length);
        stack.length = 0;
      }
    }
    return undefined;
  }

  /** One request: written, rejected, split, to be retried, or the sink is aborted. */
  private async sendOnce(lines: string[]): Promise<Outcome> {
    const body = lines.join('\n');
    const signal = this.s.aborted.signal;
    if (signal.aborted) return { kind: 'aborted' };
    const end = this.s.m.duration.startTimer({ bucket: this.bucket });
    this.request = new AbortController();
    try {
      await this.s.transport.request(this.path, body, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        gzipThreshold: this.s.gzipThreshold,
        signal: this.request.signal,
      });
      end();
      this.recovered();
      return { kind: 'written' };
    } catch (err) {
      end();
      if (signal.aborted) return { kind: 'aborted' };
      // The library reports a timeout but leaves the request open: close its socket, or a frozen server
      // collects one hung connection per retry.
      if (err instanceof RequestTimedOutError) this.request.abort();
      const status = err instanceof HttpError ? err.statusCode : undefined;
      this.s.m.errors.inc({ bucket: this.bucket, status: statusLabel(err) });
      if (status === 413) {
        if (lines.length > 1) return { kind: 'split' };
        this.s.log.error({ bucket: this.bucket, bytes: body.length }, 'influx rejected a single line as too large');
        return { kind: 'rejected' };
      }
      if (err instanceof HttpError && (status === 400 || status === 422) && !/not found/i.test(err.body ?? '')) {
        const text = err.body ?? err.message;
        this.logRejected(text, lines.length);
        const bad = partialWriteBad(text);
        // "partial write": the server stored the good lines (1.x parse errors and type conflicts,
        // 2.x type conflicts) — nothing to resend. Otherwise nothing was stored.
        if (bad !== undefined) {
          this.recovered();
          return { kind: 'partial', bad: Math.min(bad, lines.length) };
        }
        // 1.x answers without "partial write" only when no line at all parsed.
        if (this.s.cfg.api === 'v1' && /unable to parse/.test(text)) return { kind: 'rejected' };
        return lines.length > 1 ? { kind: 'split' } : { kind: 'rejected' };
      }
      // Everything else (down, 5xx, 429, 401/403 during token rotation, db not created yet) may recover.
      const decision = this.retry.next(toTypedError(err));
      this.logFailure(err, decision.delayMs, lines.length);
      return { kind: 'retry', decision };
    }
  }

  private recovered(): void {
    if (this.failing) {
      this.s.log.info({ bucket: this.bucket, attempts: this.failing.attempts, downMs: Date.now() - this.failing.since }, 'influx writes recovered');
      this.failing = undefined;
    }
    this.retry.reset();
  }

  /** First failure, then at most one line per 30 s while it keeps failing. */
  private logFailure(err: unknown, waitMs: number, points: number): void {
    const now = Date.now();
    const f = (this.failing ??= { since: now, attempts: 0, lastLog: 0 });
    f.attempts++;
    if (now - f.lastLog < 30_000) return;
    f.lastLog = now;
    this.s.log.warn(
      { bucket: this.bucket, err: err instanceof Error ? err.message : String(err), status: statusLabel(err), attempts: f.attempts, retryInMs: waitMs, points, buffered: this.pending() },
      'influx write failed, retrying',
    );
  }

  private logRejected(text: string, points: number): void {
    const now = Date.now();
    if (now - this.s.lastRejectLog < 10_000) return;
    this.s.lastRejectLog = now;
    this.s.log.warn({ bucket: this.bucket, points, err: text.slice(0, 500) }, 'influx rejected lines in a batch');
  }
}

function statusLabel(err: unknown): string {
  if (err instanceof HttpError) return err.statusCode >= 500 ? '5xx' : String(err.statusCode);
  if (err instanceof RequestTimedOutError) return 'timeout';
  return 'transport';
}

/**
 * Lines a "partial write" answer says were not stored, or undefined when the answer is not a partial
 * write. influxd 1.6: `partial write: unable to parse '…': …\nunable to parse '…': … dropped=0` (parse
 * failures are listed, not counted) and `partial write: field type conflict: … dropped=N`.
 */
export function partialWriteBad(text: string): number | undefined {
  if (!/partial write/.test(text)) return undefined;
  const unparsed = text.match(/unable to parse/g)?.length ?? 0;
  const dropped = Number(/dropped=(\d+)/.exec(text)?.[1] ?? 0);
  return unparsed + dropped;
}

class Sink implements InfluxSink {
  readonly m: SinkMetrics;
  readonly log: Logger;
  readonly transport: Transport;
  readonly batchSize: number;
  readonly maxBuffer: number;
  readonly gzipThreshold: number;
  readonly aborted = new AbortController();
  readonly probe: ReadinessProbe | undefined;
  /** Ends the probe loop when the sink is closed, flushed or not. */
  private readonly probeStop = new AbortController();
  lastRejectLog = 0;
  private writers = new Map<string, BucketWriter>();
  private timer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private readonly source = () => this.pending();

  constructor(
    readonly cfg: InfluxConfig,
    readonly opts: InfluxSinkOptions,
  ) {
    this.log = opts.log.child({ component: 'influx' });
    this.m = sinkMetrics(opts.registry);
    this.m.sources.add(this.source);
    const d = INFLUX_SINK_DEFAULTS;
    this.transport = opts.transport ?? createInfluxTransport(cfg, { timeoutMs: opts.requestTimeoutMs ?? d.requestTimeoutMs });
    this.batchSize = opts.batchSize ?? d.batchSize;
    this.maxBuffer = Math.max(opts.maxBufferPoints ?? d.maxBufferPoints, this.batchSize);
    this.gzipThreshold = opts.gzipThreshold ?? d.gzipThreshold;
    const probeMs = opts.probeIntervalMs ?? d.probeIntervalMs;
    this.probe = probeMs > 0 ? new ReadinessProbe(this.transport, probeMs, this.m.probes, AbortSignal.any([this.aborted.signal, this.probeStop.signal])) : undefined;
    this.timer = setInterval(() => {
      for (const w of this.writers.values()) w.kick();
    }, opts.flushIntervalMs ?? d.flushIntervalMs);
    this.timer.unref();
  }

  write(bucket: string, points: Point | Point[]): void {
    try {
      const list = Array.isArray(points) ? points : [points];
      if (this.closing) {
        this.m.dropped.inc({ bucket, reason: 'retries_exhausted' }, list.length);
        return;
      }
      const lines: string[] = [];
      let invalid = 0;
      for (const p of list) {
        let line: string | undefined;
        try {
          line = p.toLineProtocol(pointSettings);
        } catch {
          line = undefined; // not a Point (a caller bug): count it, keep the others
        }
        if (line) lines.push(flatten(line));
        else invalid++; // no fields or no measurement: InfluxDB would reject it anyway
      }
      if (invalid) this.m.dropped.inc({ bucket, reason: 'rejected' }, invalid);
      if (!lines.length) return;
      let w = this.writers.get(bucket);
      if (!w) this.writers.set(bucket, (w = new BucketWriter(bucket, this)));
      w.enqueue(lines);
    } catch (err) {
      // never throw into a feeder's hot path
      this.log.error({ err, bucket }, 'influx sink write failed');
    }
  }

  async flush(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.flush()));
  }

  /**
   * Keep the lines held over all buckets within maxBuffer + one batch: the fullest bucket gives up its
   * oldest queued lines first. The largest batch on the wire is not counted, so what arrives while it is
   * written does not evict the lines queued right behind it (docs/INFLUXDB.md "Failure handling").
   */
  bound(): void {
    let over = -this.maxBuffer;
    let wire = 0;
    for (const w of this.writers.values()) {
      over += w.pending();
      wire = Math.max(wire, w.onWire());
    }
    over -= wire;
    while (over > 0) {
      let fullest: BucketWriter | undefined;
      for (const w of this.writers.values()) if (w.queued() > 0 && (!fullest || w.queued() > fullest.queued())) fullest = w;
      if (!fullest) return; // all in flight
      over -= fullest.dropOldest(over);
    }
  }

  pending(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [b, w] of this.writers) out[b] = w.pending();
    return out;
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const limit = this.opts.closeTimeoutMs ?? INFLUX_SINK_DEFAULTS.closeTimeoutMs;
    let t: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((r) => (t = setTimeout(() => r(true), limit))),
    ]);
    clearTimeout(t);
    clearInterval(this.timer);
    this.probeStop.abort();
    if (timedOut) {
      this.aborted.abort();
      for (const w of this.writers.values()) w.abandon();
      await this.flush(); // in-flight requests end at once on abort and are counted
    }
    this.m.sources.delete(this.source);
  }
}

export function createInfluxSink(cfg: InfluxConfig, opts: InfluxSinkOptions): InfluxSink {
  return new Sink(cfg, opts);
}

/**
 * toLineProtocol() builds each line by concatenation, which V8 keeps as a tree of cons-strings: ~1.4 KB
 * per 175-character line. Converting a string to a number makes V8 flatten it first (the trick of the
 * `flatstr` package), leaving ~220 bytes: a buffered line costs 6× less, so an outage fits the memory.
 * The result is kept so the optimiser cannot drop the conversion as dead code.
 */
let _flattened = 0;
function flatten(s: string): string {
  _flattened ^= Number(s) | 0;
  return s;
}
