// Grafana Live push: the market core hands every tick here (beside the InfluxDB sink; closed candles are
// not pushed, docs/GRAFANA_LIVE.md "Why no candles"). Per symbol the last known price, bid, ask and 24 h
// change are kept in place (a tick allocates nothing); a symbol with news is pending, and goes out as one
// `ticker` line rendered when the request is built — so it always carries the newest values, and a line
// costs only its numbers (its head is rendered once per symbol). Per symbol `maxHz` lines a second
// sustained, with a burst of one more (a GCRA, docs/GRAFANA_LIVE.md "Rate per symbol"): a symbol that
// keeps moving gets a line every `1 / maxHz` s, and the bucket's spare line is kept for the end of a move
// (its last value goes with the next request, not a slot later) or a move that begins after a pause.
// Requests go out on a fixed cadence (`flushMs`, one at a time), each carrying every
// pending symbol whose slot is free, on one kept-alive connection (push-connection.ts). Pending symbols are bounded by `maxQueue` (drop-oldest, counted); a symbol that has had no
// tick for `staleMs` while Grafana was away is not sent (Live is about now). Grafana down, slow or
// refusing is counted and retried with backoff; nothing here ever waits on the caller's path, so
// InfluxDB ingest is unaffected. Protocol notes and the role the token needs: docs/GRAFANA_LIVE.md.
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { Backoff, HttpStatusError, TransportError, isRetryable, parseRetryAfter, type BackoffOptions } from '@mt/common';
import type { Candle, MarketSink, MarketTick } from '../types.js';
import { lineHead, tickerLine, type Quote } from './lines.js';
import { PushConnection, PushTransportError } from './push-connection.js';

/** Ticks at this many distinct milliseconds in one flush cycle: they come often enough to start the flushes. */
const FLOWING = 5;

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
  /** Lines per symbol per second, sustained (one more in a burst). Default 4. */
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
  now?: () => number;
}

interface SymbolState extends Quote {
  head: string;
  /** When the feeder read its newest tick (MarketTick.receivedAt): grafana_live_wait_seconds. */
  recv: number;
  /** Local time of the last tick (ms): the stale cut-off. */
  at: number;
  /**
   * The rate bound as a GCRA (a bucket of two lines refilled at `maxHz`): the time its next line would be
   * due if lines went out back to back. A line may go from `tat - intervalMs` on, and moves `tat` one
   * interval past max(tat, now): `maxHz` lines a second sustained, one line more in a burst.
   */
  tat: number;
  /** When its last line went into a request, and when the change now pending began (its first tick since). */
  lastLineAt: number;
  movingSince: number;
  /** Values of the last line sent, so an unchanged quote costs no line. */
  sentPrice: number | undefined;
  sentBid: number | undefined;
  sentAsk: number | undefined;
  sentChange: number | undefined;
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
    wait: new Histogram({
      name: 'grafana_live_wait_seconds',
      help: 'Per line: from the feeder reading its newest tick to the request carrying it being sent (coalescing slot, flush cadence, a request in flight)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'grafana_live_push_duration_seconds',
      help: 'Duration of one push request',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
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
  private readonly symbols = new Map<string, Map<string, SymbolState>>();
  /** Symbols with a change not sent yet, oldest first: the queue (a symbol is in it at most once). */
  private readonly pending = new Set<SymbolState>();
  /** Symbols of the request in flight: back into `pending` if it fails. */
  private sending: SymbolState[] = [];
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

  constructor(private readonly o: GrafanaLiveOptions) {
    const endpoint = new URL(`${o.url.replace(/\/+$/, '')}/api/live/push/${encodeURIComponent(o.stream ?? 'markets')}`);
    this.path = `${endpoint.pathname}${endpoint.search}`;
    this.conn = new PushConnection(endpoint);
    this.intervalMs = 1000 / (o.maxHz ?? 4);
    this.flushMs = o.flushMs ?? 50;
    this.backstopMs = Math.min(this.intervalMs, 4 * this.flushMs);
    this.maxQueue = o.maxQueue ?? 10_000;
    this.batchLines = o.batchLines ?? 2000;
    this.timeoutMs = o.timeoutMs ?? 3000;
    this.staleMs = o.staleMs ?? 30_000;
    this.now = o.now ?? Date.now;
    // at most 10 s between attempts: a live price is worth a cheap failed request more than a late recovery
    this.backoff = new Backoff({ initialMs: 500, maxMs: 10_000, ...o.backoff });
    this.metrics = createLiveMetrics(o.registry, () => this.pending.size);
    this.accepted = this.metrics.requests.labels({ status: '200' });
    this.tickerLines = this.metrics.lines.labels({ measurement: 'ticker' });
  }

  /** Lines waiting (for tests and /healthz). */
  get queued(): number {
    return this.pending.size;
  }

  health(): Record<string, unknown> {
    return { queued: this.pending.size, backoffMs: Math.max(0, this.retryAt - this.now()) };
  }

  tick(t: MarketTick): void {
    if (!this.closed) this.tickAt(this.tickSlot(t), t);
  }

  /** Changes when setWatch forgets symbols: a handle from tickSlot is valid while it stays the same. */
  slotVersion = 0;

  /** The symbol's state, for tickAt: the core keeps it in its per-symbol slot (docs/ALERTING.md "Evaluation cost"). */
  tickSlot(t: MarketTick): SymbolState {
    let bySymbol = this.symbols.get(t.exchange);
    if (!bySymbol) this.symbols.set(t.exchange, (bySymbol = new Map()));
    let st = bySymbol.get(t.symbol);
    if (!st) {
      st = {
        head: lineHead(t),
        price: undefined,
        bid: undefined,
        ask: undefined,
        changePct24h: undefined,
        ts: 0,
        recv: 0,
        at: 0,
        tat: -Infinity,
        lastLineAt: -Infinity,
        movingSince: 0,
        sentPrice: undefined,
        sentBid: undefined,
        sentAsk: undefined,
        sentChange: undefined,
      };
      bySymbol.set(t.symbol, st);
    }
    return st;
  }

  /** tick() for the symbol of a handle from tickSlot (of the current slotVersion). */
  tickAt(st: SymbolState, t: MarketTick): void {
    if (this.closed) return;
    // sticky: a trade carries no 24 h change and a book update no 24 h change; keep the last known
    if (Number.isFinite(t.price)) st.price = t.price;
    if (t.changePct24h !== undefined && Number.isFinite(t.changePct24h)) st.changePct24h = t.changePct24h;
    if (t.bid !== undefined && Number.isFinite(t.bid)) st.bid = t.bid;
    if (t.ask !== undefined && Number.isFinite(t.ask)) st.ask = t.ask;
    if (t.ts > st.ts) st.ts = t.ts;
    st.recv = t.receivedAt;
    const now = (st.at = this.now());
    if (now !== this.lastTickMs) {
      this.lastTickMs = now;
      this.tickSpread++;
    }
    if (st.price === undefined) return;
    if (!this.pending.has(st)) {
      this.pending.add(st);
      st.movingSince = now;
      if (this.pending.size > this.maxQueue) {
        const oldest = this.pending.values().next().value!;
        this.pending.delete(oldest);
        this.metrics.dropped.inc({ reason: 'overflow' });
      }
      // its slot, but not before the next cadence tick
      const at = Math.max(st.tat - this.intervalMs, this.lastFlushAt + this.flushMs, this.retryAt);
      if (at < this.nextAt) this.nextAt = at;
    }
    this.poll(now);
  }

  /** Closed candles are not pushed: no panel would read them (docs/GRAFANA_LIVE.md, "Why no candles"). */
  candle(_c: Candle): void {}

  /** Forget symbols that left the watch set (their state would otherwise stay forever). */
  setWatch(keys: Set<string>): void {
    this.slotVersion++;
    for (const [exchange, bySymbol] of this.symbols) {
      for (const [symbol, st] of bySymbol) {
        if (keys.has(`${exchange}:${symbol}`)) continue;
        this.pending.delete(st);
        bySymbol.delete(symbol);
      }
    }
  }

  /** Stop: the last in-flight push may finish; nothing pending is sent any more (Live has no backlog value). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight;
    this.conn.close();
    this.pending.clear();
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
      queueMicrotask(this.flush);
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
    if (this.pending.size === 0) {
      this.nextAt = Infinity;
      return;
    }
    const gate = Math.max(this.retryAt, this.lastFlushAt + this.flushMs);
    if (gate > now) {
      this.nextAt = gate;
      return this.poll(now);
    }
    const cutoff = now - this.staleMs;
    let body = '';
    let stale = 0;
    let next = Infinity;
    const batch: SymbolState[] = [];
    for (const st of this.pending) {
      const slot = st.tat - this.intervalMs;
      if (slot > now) {
        if (slot < next) next = slot;
        continue;
      }
      // the bucket's last line (now < tat) is kept for a move that has ended (no tick for a cadence) or one
      // that began a cadence or more after the symbol's last line: a symbol still moving (ticking faster
      // than the cadence) waits for its sustained slot, so the spare line is still there when it stops
      // (docs/GRAFANA_LIVE.md "Rate per symbol")
      if (now < st.tat && st.at > now - this.flushMs && st.movingSince - st.lastLineAt < this.flushMs) {
        const at = Math.min(st.tat, now + this.flushMs);
        if (at < next) next = at;
        continue;
      }
      this.pending.delete(st);
      if (st.at < cutoff) {
        stale++;
        continue;
      }
      if (st.price === st.sentPrice && st.bid === st.sentBid && st.ask === st.sentAsk && st.changePct24h === st.sentChange) continue;
      st.sentPrice = st.price;
      st.sentBid = st.bid;
      st.sentAsk = st.ask;
      st.sentChange = st.changePct24h;
      st.tat = Math.max(st.tat, now) + this.intervalMs;
      st.lastLineAt = now;
      body += body ? `\n${tickerLine(st.head, st)}` : tickerLine(st.head, st);
      batch.push(st);
      this.metrics.wait.observe((now - st.recv) / 1000);
      if (batch.length >= this.batchLines) {
        next = now;
        break;
      }
    }
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
    this.inFlight = this.send(body, batch.length).finally(() => {
      this.inFlight = undefined;
      this.sending = [];
      // symbols that became pending meanwhile were counted into nextAt by tick()
      if (this.pending.size) this.flush();
    });
  }

  private async send(body: string, lines: number): Promise<void> {
    const token = this.o.token();
    if (!token || !HEADER_VALUE.test(token)) {
      this.metrics.requests.inc({ status: 'no_token' });
      this.o.onAuthFailure?.();
      return this.failed(new TransportError(token ? 'grafana live: the token holds characters a header cannot carry' : 'grafana live: no token (GRAFANA_LIVE_TOKEN_FILE empty or unreadable)'));
    }
    const end = this.metrics.duration.startTimer();
    try {
      await this.post(body, token);
      end();
      this.accepted.inc();
      this.metrics.up.set(1);
      this.backoff.reset();
      this.tickerLines.inc(lines);
    } catch (err) {
      end();
      const status = err instanceof HttpStatusError ? String(err.status) : err instanceof PushTransportError && err.timedOut ? 'timeout' : 'transport';
      this.metrics.requests.inc({ status });
      this.failed(err instanceof PushTransportError ? new TransportError(err.message, err) : err);
    }
  }

  /** One POST on the kept-alive connection (push-connection.ts: a fraction of node:http's CPU per request). */
  private async post(body: string, token: string): Promise<void> {
    const a = await this.conn.post(this.path, `Authorization: Bearer ${token}\r\nContent-Type: text/plain; charset=utf-8\r\n`, body, this.timeoutMs);
    if (a.status < 200 || a.status >= 300) throw new HttpStatusError(a.status, a.body, parseRetryAfter(a.retryAfter), 'grafana-live');
  }

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
    // back into the queue, with the newest values when it is sent (its slot is free again)
    for (const st of batch) {
      st.sentPrice = st.sentBid = st.sentAsk = st.sentChange = undefined;
      st.tat = st.lastLineAt = -Infinity;
      if (!this.pending.has(st) && this.pending.size < this.maxQueue) this.pending.add(st);
    }
    const delay = this.backoff.next(err instanceof HttpStatusError ? err.retryAfterMs : undefined);
    this.retryAt = this.now() + delay;
    if (this.pending.size) this.nextAt = this.retryAt;
    const level = this.backoff.attempts <= 1 || this.backoff.attempts % 20 === 0 ? 'warn' : 'debug';
    this.o.log[level]({ err: String(err), retryInMs: delay, queued: this.pending.size, auth }, 'grafana live push failed, will retry');
  }
}
