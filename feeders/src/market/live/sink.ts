// Grafana Live push: the market core hands every tick here (beside the InfluxDB sink; closed candles are
// not pushed, docs/GRAFANA_LIVE.md "Why no candles"). Per symbol the last known price, bid, ask and 24 h
// change are kept in place, with the rest of its numbers in one row of a Float64Array (a tick allocates
// nothing, and a value is a double, never a boxed number); a symbol with news is pending (its row's index
// into an array, not a set), and goes out as one `ticker` line written when the request is built —
// so it always carries the newest values — as bytes into one reused buffer (lines.ts: a line allocates
// nothing, docs/GRAFANA_LIVE.md "The feeder side"). Per symbol `maxHz` lines a second sustained, with a
// burst of two more (a GCRA, docs/GRAFANA_LIVE.md "Rate per symbol"): a move's first line goes with the
// next request and so does its second (the rest of a move whose frames straddled a request), a symbol that
// keeps moving then gets a line every `1 / maxHz` s, and the bucket's spare line is kept for the end of a
// move (its last value goes with the next request, not a slot later) or a move that begins after a pause.
// Requests go out on a fixed cadence (`flushMs`, one at a time), each carrying every pending symbol whose
// slot is free, on one kept-alive connection (push-connection.ts). Pending symbols are bounded by
// `maxQueue` (drop-oldest, counted); a symbol that has had no tick for `staleMs` while Grafana was away is
// not sent (Live is about now). Grafana down, slow or refusing is counted and retried with backoff;
// nothing here ever waits on the caller's path, so InfluxDB ingest is unaffected. Protocol notes and the
// role the token needs: docs/GRAFANA_LIVE.md.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Backoff, HttpStatusError, TransportError, isRetryable, parseRetryAfter, type BackoffOptions } from '@mt/common';
import type { Candle, MarketSink, MarketTick } from '../types.js';
import { Q_ASK, Q_BID, Q_CHANGE, Q_PRICE, Q_TS, TickerBody, lineHead } from './lines.js';
import { PushConnection, PushTransportError, type PushAnswer } from './push-connection.js';

/** Ticks at this many distinct milliseconds in one flush cycle: they come often enough to start the flushes. */
const FLOWING = 5;

/** A settled promise: its then() queues a microtask. */
const RESOLVED = Promise.resolve();

/** What an HTTP header value may hold (visible ASCII): a token with a newline would forge headers. */
const HEADER_VALUE = /^[\x21-\x7e]+$/;

export interface GrafanaLiveOptions {
  /** Grafana's base URL (reachable from the feeder; in compose the internal one). */
  url: string;
  /** Stream id: panels subscribe to `stream/<stream>/<measurement>`. Default `markets`. */
  stream?: string;
  /** The service-account token, per request. */
  token: () => string | undefined;
  /** After a 401/403 or with no token: re-read it (a token file written late or rotated is picked up). */
  onAuthFailure?: () => void;
  /** Lines per symbol per second, sustained (two more in a burst). Default 5 (docs/GRAFANA_LIVE.md "rate"). */
  maxHz?: number;
  /** Symbols (= lines) held while Grafana is slow or away; beyond it the oldest are dropped. Default 10 000. */
  maxQueue?: number;
  /** Lines per request (Grafana reads at most 500 KiB per push in newer versions). Default 2000. */
  batchLines?: number;
  /** Per-request timeout. Default 3 s: a price that late is not live any more. */
  timeoutMs?: number;
  /** A pending symbol whose last tick is older than this is dropped instead of sent (after an outage). Default 30 s. */
  staleMs?: number;
  /**
   * The push cadence: at most one request per `flushMs`, carrying every symbol whose slot is free
   * (GRAFANA_LIVE_FLUSH_MS, default 50). A request costs the feeder far more CPU than a line
   * (docs/BENCHMARKS.md §10), so the cadence bounds the cost at 1000/flushMs requests/s and adds at
   * most `flushMs` to a line's wait.
   */
  flushMs?: number;
  backoff?: BackoffOptions;
  log: Logger;
  registry: Registry;
  /** The clock (ms); a core driving the sink (tickAt) passes its own per tick, which must be the same. */
  now?: () => number;
}

/*
 * A symbol's numbers: one row of ROW doubles in GrafanaLiveSink.rows (a symbol's handle is its row's
 * index), unknown values NaN. The quote first, as TickerBody.addRow reads it (lines.ts: Q_ASK … Q_TS, the
 * newest tick's time in epoch ms), then what every tick writes besides, so a tick writes the first 64
 * bytes of its row: state reached cold (thousands of other frames pass between two ticks of a symbol)
 * lies together (docs/GRAFANA_LIVE.md "The feeder side").
 */
/** When the feeder read its newest tick (MarketTick.receivedAt): grafana_live_wait_seconds. */
const RECV = 5;
/** Local time of the last tick (ms): the stale cut-off. */
const AT = 6;
/** Its index in the pending queue, -1 when not pending (an entry whose row's index differs is a left-over). */
const QPOS = 7;
/**
 * The rate bound as a GCRA (a bucket of BUCKET lines refilled at `maxHz`): the time its next line would be
 * due if lines went out back to back. A line may go from `tat - (BUCKET - 1) × intervalMs` on, and moves
 * `tat` one interval past max(tat, now): `maxHz` lines a second sustained, BUCKET - 1 more in a burst.
 */
const TAT = 8;
/** When its last line went into a request, and when the change now pending began (its first tick since). */
const LAST_LINE = 9;
const MOVING = 10;
/** Values of the last line sent (NaN: none, or not known), so an unchanged quote costs no line. */
const SENT_PRICE = 11;
const SENT_BID = 12;
const SENT_ASK = 13;
const SENT_CHANGE = 14;
/**
 * Lines a symbol's bucket holds (docs/GRAFANA_LIVE.md "Rate per symbol"): a move's first line, the rest of
 * that move when its frames straddled a request (sent with the next request), and the spare kept for its
 * end. A symbol that keeps moving uses all but the spare.
 */
const BUCKET = 3;
/** Doubles per row (128 bytes). */
const ROW = 16;

/** The same value, NaN (not known) equal to NaN: the unchanged-quote check, on doubles. */
const same = (a: number, b: number) => a === b || (a !== a && b !== b);

/**
 * A histogram without labels counted in place (a bucket index and two additions) instead of prom-client's
 * observe, which builds a label object and a closure per call: grafana_live_wait_seconds is observed once
 * per line. Its exposition is a prom-client histogram's, line for line (docs/METRICS.md "Grafana Live").
 */
export class LiveHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    this.counts = buckets.map(() => 0);
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(seconds: number): void {
    const b = this.buckets;
    // a bucket counts values ≤ its bound; beyond the last only the +Inf bucket (the count)
    for (let i = 0; i < b.length; i++) {
      if (seconds <= b[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += seconds;
    this.count++;
  }

  /** As prom-client's Histogram.get() (the registry's text and JSON are made from it). */
  get() {
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    const values: { labels: Record<string, string | number>; value: number; metricName: string; exemplar: null | undefined }[] = this.buckets.map((le, i) => ({
      labels: { le },
      value: (acc += this.counts[i]!),
      metricName: bucket,
      exemplar: null,
    }));
    values.push(
      { labels: { le: '+Inf' }, value: this.count, metricName: bucket, exemplar: null },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum`, exemplar: undefined },
      { labels: {}, value: this.count, metricName: `${this.name}_count`, exemplar: undefined },
    );
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = this.count = 0;
  }
}

export function createLiveMetrics(registry: Registry, queued: () => number) {
  return {
    lines: new Counter({ name: 'grafana_live_lines_total', help: 'Lines accepted by Grafana Live, by measurement', labelNames: ['measurement'] as const, registers: [registry] }),
    dropped: new Counter({
      name: 'grafana_live_dropped_total',
      help: 'Lines given up on: overflow (queue full, oldest dropped), stale (older than the cut-off after an outage), rejected (4xx other than auth)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    requests: new Counter({ name: 'grafana_live_requests_total', help: 'Push requests by outcome (HTTP status, timeout, transport, no_token)', labelNames: ['status'] as const, registers: [registry] }),
    wait: new LiveHistogram(
      'grafana_live_wait_seconds',
      'Per line: from the feeder reading its newest tick to the request carrying it being sent (coalescing slot, flush cadence, a request in flight)',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registry,
    ),
    duration: new LiveHistogram('grafana_live_push_duration_seconds', 'Duration of one push request', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registry),
    queue: new Gauge({
      name: 'grafana_live_queue_lines',
      help: 'Lines waiting to be pushed',
      registers: [registry],
      collect() {
        this.set(queued());
      },
    }),
    up: new Gauge({ name: 'grafana_live_up', help: '1 while the last push was accepted', registers: [registry] }),
  };
}
export type LiveMetrics = ReturnType<typeof createLiveMetrics>;

export class GrafanaLiveSink implements MarketSink {
  readonly metrics: LiveMetrics;
  /** Path and query of the push endpoint (with any path prefix of the URL). */
  private readonly path: string;
  private readonly conn: PushConnection;
  private readonly intervalMs: number;
  /** How far ahead of now a symbol's TAT may be for a line to go (its bucket holds one)… */
  private readonly lineAheadMs: number;
  /** …and for a symbol still moving to go (its bucket holds two: the spare stays). */
  private readonly moveAheadMs: number;
  private readonly flushMs: number;
  private readonly backstopMs: number;
  private readonly maxQueue: number;
  private readonly batchLines: number;
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  /** The per-request counters, their labels bound once (no label hashing per request). */
  private readonly accepted: { inc(n?: number): void };
  private readonly tickerLines: { inc(n?: number): void };
  /** exchange → symbol → its row. */
  private readonly symbols = new Map<string, Map<string, number>>();
  /** The symbols' numbers, a row each (ROW doubles; the layout above), and each row's line head. */
  private rows = new Float64Array(64 * ROW);
  private readonly heads: (Uint8Array | undefined)[] = [];
  /** Rows of forgotten symbols, reused while no request is in flight (its rows may go back to pending). */
  private readonly freeRows: number[] = [];
  /**
   * Rows of symbols with a change not sent yet, oldest first: the queue. A symbol is pending while its
   * QPOS is its index here; entries of symbols taken out since (dropped, forgotten) stay until the next
   * compaction.
   */
  private queue: number[] = [];
  /** The queue's first entry that may still be pending (the oldest ones are dropped from the front). */
  private qhead = 0;
  private pendingCount = 0;
  /** Rows of the request in flight: back into the queue if it fails. */
  private sending: number[] = [];
  /** Earliest time a flush can send something: the next cadence tick, backoff and slots considered. */
  private nextAt = Infinity;
  /** A flush is queued as a microtask (from a tick). */
  private flushQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private inFlight: Promise<void> | undefined;
  private retryAt = 0;
  /** When the last request started: the next one ≥ flushMs later. */
  private lastFlushAt = -Infinity;
  /** Ticks at a new millisecond since the last request, and whether the cycle before had ≥ FLOWING. */
  private lastTickMs = 0;
  private tickSpread = 0;
  private flowing = false;
  private closed = false;
  /** The request body, written in place from request to request (post() copies it). */
  private readonly body = new TickerBody();
  /** The token the request headers were made for, and those headers (undefined: no usable token). */
  private headersToken: string | undefined;
  private headers: string | undefined;

  constructor(private readonly o: GrafanaLiveOptions) {
    const endpoint = new URL(`${o.url.replace(/\/+$/, '')}/api/live/push/${encodeURIComponent(o.stream ?? 'markets')}`);
    this.path = `${endpoint.pathname}${endpoint.search}`;
    this.conn = new PushConnection(endpoint);
    this.intervalMs = 1000 / (o.maxHz ?? 5);
    this.lineAheadMs = (BUCKET - 1) * this.intervalMs;
    this.moveAheadMs = (BUCKET - 2) * this.intervalMs;
    this.flushMs = o.flushMs ?? 50;
    this.backstopMs = Math.min(this.intervalMs, 4 * this.flushMs);
    this.maxQueue = o.maxQueue ?? 10_000;
    this.batchLines = o.batchLines ?? 2000;
    this.timeoutMs = o.timeoutMs ?? 3000;
    this.staleMs = o.staleMs ?? 30_000;
    this.now = o.now ?? Date.now;
    // at most 10 s between attempts: a live price is worth a cheap failed request more than a late recovery
    this.backoff = new Backoff({ initialMs: 500, maxMs: 10_000, ...o.backoff });
    this.metrics = createLiveMetrics(o.registry, () => this.pendingCount);
    this.accepted = this.metrics.requests.labels({ status: '200' });
    this.tickerLines = this.metrics.lines.labels({ measurement: 'ticker' });
  }

  /** Lines waiting (for tests and /healthz). */
  get queued(): number {
    return this.pendingCount;
  }

  health(): Record<string, unknown> {
    return { queued: this.pendingCount, backoffMs: Math.max(0, this.retryAt - this.now()) };
  }

  tick(t: MarketTick): void {
    if (!this.closed) this.tickAt(this.tickSlot(t), t, this.now());
  }

  /** Changes when setWatch forgets symbols: a handle from tickSlot is valid while it stays the same. */
  slotVersion = 0;

  /** The symbol's row, for tickAt: the core keeps it in its per-symbol slot (docs/ALERTING.md "Evaluation cost"). */
  tickSlot(t: MarketTick): number {
    let bySymbol = this.symbols.get(t.exchange);
    if (!bySymbol) this.symbols.set(t.exchange, (bySymbol = new Map()));
    let row = bySymbol.get(t.symbol);
    if (row === undefined) {
      row = this.freeRows.length && !this.inFlight ? this.freeRows.pop()! : this.heads.length;
      if ((row + 1) * ROW > this.rows.length) {
        const bigger = new Float64Array(2 * this.rows.length);
        bigger.set(this.rows);
        this.rows = bigger;
      }
      const r = this.rows;
      const o = row * ROW;
      r.fill(NaN, o, o + ROW);
      r[o + Q_TS] = r[o + RECV] = r[o + AT] = r[o + MOVING] = 0;
      r[o + QPOS] = -1;
      r[o + TAT] = r[o + LAST_LINE] = -Infinity;
      this.heads[row] = Buffer.from(lineHead(t));
      bySymbol.set(t.symbol, row);
    }
    return row;
  }

  /**
   * tick() for the symbol of a handle from tickSlot (of the current slotVersion); `now` is the caller's
   * clock for this tick (the core's, which must be the sink's `now`).
   */
  tickAt(row: number, t: MarketTick, now: number): void {
    if (this.closed) return;
    const r = this.rows;
    const o = row * ROW;
    // sticky: a trade carries no 24 h change and a book update no 24 h change; keep the last known
    if (Number.isFinite(t.price)) r[o + Q_PRICE] = t.price;
    if (t.changePct24h !== undefined && Number.isFinite(t.changePct24h)) r[o + Q_CHANGE] = t.changePct24h;
    if (t.bid !== undefined && Number.isFinite(t.bid)) r[o + Q_BID] = t.bid;
    if (t.ask !== undefined && Number.isFinite(t.ask)) r[o + Q_ASK] = t.ask;
    if (t.ts > r[o + Q_TS]!) r[o + Q_TS] = t.ts;
    r[o + RECV] = t.receivedAt;
    r[o + AT] = now;
    if (now !== this.lastTickMs) {
      this.lastTickMs = now;
      this.tickSpread++;
    }
    if (Number.isNaN(r[o + Q_PRICE])) return;
    if (r[o + QPOS]! < 0) {
      this.enqueue(row);
      r[o + MOVING] = now;
      if (this.pendingCount > this.maxQueue) {
        this.dropOldest();
        this.metrics.dropped.inc({ reason: 'overflow' });
      }
      // its slot, but not before the next cadence tick
      const at = Math.max(r[o + TAT]! - this.lineAheadMs, this.lastFlushAt + this.flushMs, this.retryAt);
      if (at < this.nextAt) this.nextAt = at;
    }
    this.poll(now);
  }

  private enqueue(row: number): void {
    // left-overs beyond the pending ones (a long outage with more symbols than maxQueue): compact first
    if (this.queue.length - this.qhead > 2 * this.pendingCount + 64) this.compact();
    this.rows[row * ROW + QPOS] = this.queue.length;
    this.queue.push(row);
    this.pendingCount++;
  }

  private dequeue(row: number): void {
    const o = row * ROW + QPOS;
    if (this.rows[o]! < 0) return;
    this.rows[o] = -1;
    this.pendingCount--;
  }

  private dropOldest(): void {
    const q = this.queue;
    const r = this.rows;
    for (; this.qhead < q.length; this.qhead++) {
      const row = q[this.qhead]!;
      if (r[row * ROW + QPOS] !== this.qhead) continue;
      this.dequeue(row);
      this.qhead++;
      return;
    }
  }

  /** The pending symbols to the front, in order. */
  private compact(): void {
    const q = this.queue;
    const r = this.rows;
    let w = 0;
    for (let i = this.qhead; i < q.length; i++) {
      const row = q[i]!;
      if (r[row * ROW + QPOS] !== i) continue;
      r[row * ROW + QPOS] = w;
      q[w++] = row;
    }
    q.length = w;
    this.qhead = 0;
  }

  /** Closed candles are not pushed: no panel would read them (docs/GRAFANA_LIVE.md, "Why no candles"). */
  candle(_c: Candle): void {}

  /** Forget symbols that left the watch set (their state would otherwise stay forever). */
  setWatch(keys: Set<string>): void {
    this.slotVersion++;
    for (const [exchange, bySymbol] of this.symbols) {
      for (const [symbol, row] of bySymbol) {
        if (keys.has(`${exchange}:${symbol}`)) continue;
        this.dequeue(row);
        bySymbol.delete(symbol);
        this.heads[row] = undefined;
        this.freeRows.push(row);
      }
    }
  }

  /** Stop: the last in-flight push may finish; nothing pending is sent any more (Live has no backlog value). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight;
    this.conn.close();
    for (let i = this.qhead; i < this.queue.length; i++) this.dequeue(this.queue[i]!);
    this.queue = [];
    this.qhead = 0;
  }

  // ---- one request per cadence tick, for every symbol whose slot is free ----

  /**
   * Flush when due, else make sure the timer will. Called from every tick, so during a burst the flush
   * goes out between two batches of frames instead of waiting behind them for the timer phase of the
   * event loop (docs/BENCHMARKS.md §10). The timer serves a quiet feeder; while ticks flow (spread over
   * ≥ FLOWING milliseconds in a cycle) the next tick flushes on time and the timer is only a backstop, a
   * slot (at most 4 cadences) later, should they stop: a timer due every cycle would wake the process
   * once more per request (docs/BENCHMARKS.md §10).
   */
  private poll(now: number): void {
    if (this.inFlight || this.flushQueued || this.closed || this.nextAt === Infinity) return;
    if (now >= this.nextAt) {
      this.flushQueued = true;
      // a microtask, as queueMicrotask would queue it, without the AsyncResource and bound function Node's
      // queueMicrotask makes per call
      RESOLVED.then(this.flush);
      return;
    }
    const at = this.flowing || this.tickSpread >= FLOWING ? this.nextAt + this.backstopMs : this.nextAt;
    if (at < this.timerAt) {
      clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = setTimeout(this.onTimer, at - now);
    }
  }

  private readonly onTimer = (): void => {
    this.timerAt = Infinity;
    this.flush();
  };

  /** Never throws: it runs from a microtask or a timer, outside the ingest path's containment. */
  private readonly flush = (): void => {
    this.flushQueued = false;
    try {
      this.flushNow();
    } catch (err) {
      this.o.log.error({ err }, 'grafana live flush failed');
    }
  };

  private flushNow(): void {
    if (this.inFlight || this.closed) return; // the request's end polls again
    const now = this.now();
    if (this.pendingCount === 0) {
      this.nextAt = Infinity;
      return;
    }
    const gate = Math.max(this.retryAt, this.lastFlushAt + this.flushMs);
    if (gate > now) {
      this.nextAt = gate;
      return this.poll(now);
    }
    const cutoff = now - this.staleMs;
    const body = this.body;
    body.clear();
    let stale = 0;
    let next = Infinity;
    const batch: number[] = [];
    // one pass over the queue: the symbols sent or given up leave it, the others move to its front in order
    const q = this.queue;
    const r = this.rows;
    let w = 0;
    for (let i = this.qhead; i < q.length; i++) {
      const row = q[i]!;
      const o = row * ROW;
      if (r[o + QPOS] !== i) continue;
      const full = batch.length >= this.batchLines;
      const keep = full ? 1 : this.take(r, o, now, cutoff);
      if (keep === 1) {
        if (full) next = now;
        else {
          const at = this.slotAt(r, o, now);
          if (at < next) next = at;
        }
        r[o + QPOS] = w;
        q[w++] = row;
        continue;
      }
      r[o + QPOS] = -1;
      this.pendingCount--;
      if (keep === 2) stale++;
      else if (keep === 3) {
        body.addRow(this.heads[row]!, r, o);
        batch.push(row);
        this.metrics.wait.observe((now - r[o + RECV]!) / 1000);
      }
    }
    q.length = w;
    this.qhead = 0;
    if (stale) this.metrics.dropped.inc({ reason: 'stale' }, stale);
    if (!batch.length) {
      this.nextAt = next === Infinity ? Infinity : Math.max(next, gate);
      return this.poll(now);
    }
    this.lastFlushAt = now;
    this.flowing = this.tickSpread >= FLOWING;
    this.tickSpread = 0;
    this.nextAt = next === Infinity ? Infinity : Math.max(next, now + this.flushMs);
    this.sending = batch;
    this.inFlight = this.send(body.bytes(), batch.length).then(this.settled, this.settledAfterError);
  }

  /** The request's end (its outcome counted): the next may go. */
  private readonly settled = (): void => {
    this.inFlight = undefined;
    this.sending = [];
    // symbols that became pending meanwhile were counted into nextAt by tick()
    if (this.pendingCount) this.flush();
  };

  private readonly settledAfterError = (err: unknown): void => {
    this.o.log.error({ err }, 'grafana live: a push ended in an error');
    this.settled();
  };

  /**
   * What a flush does with a pending symbol: 1 keep it pending (its slot is not free), 2 drop it as stale,
   * 3 send its line now (its slot and sent values are updated), 0 nothing to send (unchanged quote).
   */
  private take(r: Float64Array, o: number, now: number, cutoff: number): 0 | 1 | 2 | 3 {
    const tat = r[o + TAT]!;
    if (tat - this.lineAheadMs > now) return 1;
    // the bucket's last line (now < tat - moveAheadMs) is kept for a move that has ended (no tick for a
    // cadence) or one that began a cadence or more after the symbol's last line: a symbol still moving
    // (ticking faster than the cadence) uses the others, then waits for its sustained slot, so the spare
    // line is still there when it stops (docs/GRAFANA_LIVE.md "Rate per symbol")
    const at = r[o + AT]!;
    if (now < tat - this.moveAheadMs && at > now - this.flushMs && r[o + MOVING]! - r[o + LAST_LINE]! < this.flushMs) return 1;
    if (at < cutoff) return 2;
    const price = r[o + Q_PRICE]!;
    const bid = r[o + Q_BID]!;
    const ask = r[o + Q_ASK]!;
    const change = r[o + Q_CHANGE]!;
    if (same(price, r[o + SENT_PRICE]!) && same(bid, r[o + SENT_BID]!) && same(ask, r[o + SENT_ASK]!) && same(change, r[o + SENT_CHANGE]!)) return 0;
    r[o + SENT_PRICE] = price;
    r[o + SENT_BID] = bid;
    r[o + SENT_ASK] = ask;
    r[o + SENT_CHANGE] = change;
    r[o + TAT] = Math.max(tat, now) + this.intervalMs;
    r[o + LAST_LINE] = now;
    return 3;
  }

  /** When a symbol kept pending by take() may go: its sustained slot, or a cadence on while it moves. */
  private slotAt(r: Float64Array, o: number, now: number): number {
    const tat = r[o + TAT]!;
    const slot = tat - this.lineAheadMs;
    return slot > now ? slot : Math.min(tat - this.moveAheadMs, now + this.flushMs);
  }

  /**
   * One request and its outcome counted. Callbacks made once and plain promise chains rather than async
   * functions: a request is the sink's most costly unit (docs/BENCHMARKS.md §10).
   */
  private send(body: Uint8Array, lines: number): Promise<void> {
    const token = this.o.token();
    // the request's headers, made again only when the token changed
    if (token !== this.headersToken) {
      this.headersToken = token;
      this.headers = token && HEADER_VALUE.test(token) ? `Authorization: Bearer ${token}\r\nContent-Type: text/plain; charset=utf-8\r\n` : undefined;
    }
    const headers = this.headers;
    if (!token || !headers) {
      this.metrics.requests.inc({ status: 'no_token' });
      this.o.onAuthFailure?.();
      this.failed(new TransportError(token ? 'grafana live: the token holds characters a header cannot carry' : 'grafana live: no token (GRAFANA_LIVE_TOKEN_FILE empty or unreadable)'));
      return Promise.resolve();
    }
    this.sentAt = performance.now();
    this.sentLines = lines;
    // one POST on the kept-alive connection (push-connection.ts: a fraction of node:http's CPU per request)
    return this.conn.post(this.path, headers, body, this.timeoutMs).then(this.accept, this.refuse);
  }

  /** When the request in flight was sent (performance.now()) and its lines. */
  private sentAt = 0;
  private sentLines = 0;

  /** The answer: a 2xx is counted as accepted, any other status is refused (one promise step, not two). */
  private readonly accept = (a: PushAnswer): void => {
    if (a.status < 200 || a.status >= 300) return this.refuse(new HttpStatusError(a.status, a.body, parseRetryAfter(a.retryAfter), 'grafana-live'));
    this.metrics.duration.observe((performance.now() - this.sentAt) / 1000);
    this.accepted.inc();
    this.metrics.up.set(1);
    this.backoff.reset();
    this.tickerLines.inc(this.sentLines);
  };

  private readonly refuse = (err: unknown): void => {
    this.metrics.duration.observe((performance.now() - this.sentAt) / 1000);
    const status = err instanceof HttpStatusError ? String(err.status) : err instanceof PushTransportError && err.timedOut ? 'timeout' : 'transport';
    this.metrics.requests.inc({ status });
    this.failed(err instanceof PushTransportError ? new TransportError(err.message, err) : err);
  };

  private failed(err: unknown): void {
    this.metrics.up.set(0);
    const batch = this.sending;
    const auth = err instanceof HttpStatusError && (err.status === 401 || err.status === 403);
    if (auth) this.o.onAuthFailure?.();
    if (!auth && !isRetryable(err)) {
      // 400/404/413…: the same request will fail again
      this.metrics.dropped.inc({ reason: 'rejected' }, batch.length);
      this.o.log.warn({ err }, 'grafana live refused a push: lines dropped');
      return;
    }
    // back into the queue, with the newest values when it is sent (its slot is free again); a symbol
    // forgotten meanwhile (setWatch) is not: its row is not reused while a request is in flight
    const r = this.rows;
    for (const row of batch) {
      if (this.heads[row] === undefined) continue;
      const o = row * ROW;
      r[o + SENT_PRICE] = r[o + SENT_BID] = r[o + SENT_ASK] = r[o + SENT_CHANGE] = NaN;
      r[o + TAT] = r[o + LAST_LINE] = -Infinity;
      if (r[o + QPOS]! < 0 && this.pendingCount < this.maxQueue) this.enqueue(row);
    }
    const delay = this.backoff.next(err instanceof HttpStatusError ? err.retryAfterMs : undefined);
    this.retryAt = this.now() + delay;
    if (this.pendingCount) this.nextAt = this.retryAt;
    const level = this.backoff.attempts <= 1 || this.backoff.attempts % 20 === 0 ? 'warn' : 'debug';
    this.o.log[level]({ err: String(err), retryInMs: delay, queued: this.pendingCount, auth }, 'grafana live push failed, will retry');
  }
}
