// Grafana Live push: the market core hands every tick here (beside the InfluxDB sink; closed candles are
// not pushed, docs/GRAFANA_LIVE.md "Why no candles"); this coalesces ticks to at most `maxHz` pushes per
// symbol per second (the first tick after a quiet period goes out at once, later ones are merged until
// the symbol's next slot), queues lines in a bounded queue keyed by series (a newer line replaces the queued one of its series; beyond `maxQueue`
// the oldest is dropped and counted) and POSTs them to `<url>/api/live/push/<stream>` one request at a
// time. Grafana down, slow or refusing is counted and retried with backoff; nothing here ever waits on
// the caller's path, so InfluxDB ingest is unaffected. Protocol notes and the role the token needs:
// docs/GRAFANA_LIVE.md.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { Backoff, HttpStatusError, TransportError, isRetryable, parseRetryAfter, type BackoffOptions } from '@mt/common';
import type { Candle, MarketSink, MarketTick } from '../types.js';
import { LIVE_MEASUREMENTS, bookLine, ns, seriesHead, tickerLine, type LiveMeasurement } from './lines.js';

const LIVE_MEASUREMENT_NAMES = Object.keys(LIVE_MEASUREMENTS) as LiveMeasurement[];

export interface GrafanaLiveOptions {
  /** Grafana's base URL (reachable from the feeder; in compose the internal one). */
  url: string;
  /** Stream id: panels subscribe to `stream/<stream>/<measurement>`. Default `markets`. */
  stream?: string;
  /** The service-account token, per request. */
  token: () => string | undefined;
  /** After a 401/403 or with no token: re-read it (a token file written late or rotated is picked up). */
  onAuthFailure?: () => void;
  /** Pushes per symbol per second, per measurement. Default 4. */
  maxHz?: number;
  /** Lines held while Grafana is slow or away; beyond it the oldest are dropped. Default 10 000. */
  maxQueue?: number;
  /** Lines per request (Grafana reads at most 500 KiB per push in newer versions). Default 2000. */
  batchLines?: number;
  /** Per-request timeout. Default 3 s: a price that late is not live any more. */
  timeoutMs?: number;
  /** Queued lines older than this are dropped instead of sent (after an outage). Default 30 s. */
  staleMs?: number;
  /** Least time between the starts of two pushes: lines arriving meanwhile share a request (≤ 20 requests/s). Default 50 ms. */
  minGapMs?: number;
  backoff?: BackoffOptions;
  log: Logger;
  registry: Registry;
  now?: () => number;
}

interface Queued {
  line: string;
  measurement: LiveMeasurement;
  /** When it was queued (ms): for the stale cut-off. */
  at: number;
}

interface SymbolState {
  head: { ticker: string; book: string };
  price: number | undefined;
  changePct24h: number | undefined;
  bid: number | undefined;
  ask: number | undefined;
  ts: number;
  lastSentAt: number;
  /** The values last queued, so an unchanged quote costs no line. */
  sent: { price: number; changePct24h: number; bid: number; ask: number; change: string };
  dirty: boolean;
  /** Waiting for its next slot in `trailing`. */
  waiting: boolean;
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
  private readonly endpoint: string;
  private readonly intervalMs: number;
  private readonly slotMs: number;
  private readonly minGapMs: number;
  private readonly maxQueue: number;
  private readonly batchLines: number;
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly symbols = new Map<string, Map<string, SymbolState>>();
  /** Symbols with news whose slot is free: emitted on the next turn of the event loop (batched). */
  private readonly ready = new Set<SymbolState>();
  /** Symbols with news waiting for their next slot. */
  private readonly trailing = new Set<SymbolState>();
  private readonly queue = new Map<string, Queued>();
  private readyScheduled = false;
  private trailingTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private retryAt = 0;
  private readonly http: typeof http | typeof https;
  private readonly agent: http.Agent;
  private lastPushAt = -Infinity;
  private closed = false;

  constructor(private readonly o: GrafanaLiveOptions) {
    this.endpoint = `${o.url.replace(/\/+$/, '')}/api/live/push/${encodeURIComponent(o.stream ?? 'markets')}`;
    this.intervalMs = 1000 / (o.maxHz ?? 4);
    this.slotMs = Math.max(5, this.intervalMs / 8);
    this.minGapMs = o.minGapMs ?? 50;
    this.maxQueue = o.maxQueue ?? 10_000;
    this.batchLines = o.batchLines ?? 2000;
    this.timeoutMs = o.timeoutMs ?? 3000;
    this.staleMs = o.staleMs ?? 30_000;
    this.now = o.now ?? Date.now;
    // at most 10 s between attempts: a live price is worth a cheap failed request more than a late recovery
    this.backoff = new Backoff({ initialMs: 500, maxMs: 10_000, ...o.backoff });
    this.metrics = createLiveMetrics(o.registry, () => this.queue.size);
    this.http = this.endpoint.startsWith('https:') ? https : http;
    this.agent = new this.http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Lines waiting (for tests and /healthz). */
  get queued(): number {
    return this.queue.size;
  }

  health(): Record<string, unknown> {
    return { queued: this.queue.size, backoffMs: Math.max(0, this.retryAt - this.now()) };
  }

  tick(t: MarketTick): void {
    if (this.closed) return;
    let bySymbol = this.symbols.get(t.exchange);
    if (!bySymbol) this.symbols.set(t.exchange, (bySymbol = new Map()));
    let st = bySymbol.get(t.symbol);
    if (!st) {
      st = {
        head: { ticker: seriesHead('ticker', t), book: seriesHead('book', t) },
        price: undefined,
        changePct24h: undefined,
        bid: undefined,
        ask: undefined,
        ts: 0,
        lastSentAt: -Infinity,
        sent: { price: NaN, changePct24h: NaN, bid: NaN, ask: NaN, change: '' },
        dirty: false,
        waiting: false,
      };
      bySymbol.set(t.symbol, st);
    }
    // sticky: a trade carries no 24 h change and a book update no 24 h change; keep the last known
    if (Number.isFinite(t.price)) st.price = t.price;
    if (t.changePct24h !== undefined && Number.isFinite(t.changePct24h)) st.changePct24h = t.changePct24h;
    if (t.bid !== undefined && Number.isFinite(t.bid)) st.bid = t.bid;
    if (t.ask !== undefined && Number.isFinite(t.ask)) st.ask = t.ask;
    if (t.ts > st.ts) st.ts = t.ts;
    st.dirty = true;
    if (st.waiting) return;
    if (this.now() - st.lastSentAt >= this.intervalMs) {
      this.ready.add(st);
      if (!this.readyScheduled) {
        this.readyScheduled = true;
        setImmediate(this.flushReady);
      }
    } else {
      st.waiting = true;
      this.trailing.add(st);
      this.trailingTimer ??= setTimeout(this.flushTrailing, this.slotMs);
    }
  }

  /**
   * Closed candles are not pushed: no panel would read them. The candle chart's bars come from InfluxDB,
   * which holds a closed candle within ~0.3 s, and the forming bar's move is the live `ticker` price on
   * the same dashboard (docs/GRAFANA_LIVE.md, "Why no candles").
   */
  candle(_c: Candle): void {}

  /** Forget symbols that left the watch set (their state would otherwise stay forever). */
  setWatch(keys: Set<string>): void {
    for (const [exchange, bySymbol] of this.symbols) {
      for (const [symbol, st] of bySymbol) {
        if (keys.has(`${exchange}:${symbol}`)) continue;
        this.ready.delete(st);
        this.trailing.delete(st);
        bySymbol.delete(symbol);
      }
    }
  }

  /** Stop: the last in-flight push may finish; nothing queued is sent any more (Live has no backlog value). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.trailingTimer);
    clearTimeout(this.retryTimer);
    await this.inFlight;
    this.agent.destroy();
    this.queue.clear();
  }

  // ---- coalescing ----

  private readonly flushReady = (): void => {
    this.readyScheduled = false;
    for (const st of this.ready) this.emit(st);
    this.ready.clear();
    this.pump();
  };

  /**
   * On a fixed cadence (slotMs, an eighth of a slot) while symbols wait: one timer and one pass over the
   * waiting set per cadence, instead of a timer per symbol (500 symbols at 4 Hz would be 2000 timers/s).
   */
  private readonly flushTrailing = (): void => {
    this.trailingTimer = undefined;
    const now = this.now();
    for (const st of this.trailing) {
      if (st.lastSentAt + this.intervalMs > now) continue;
      this.trailing.delete(st);
      st.waiting = false;
      this.emit(st);
    }
    if (this.trailing.size && !this.closed) this.trailingTimer = setTimeout(this.flushTrailing, this.slotMs);
    this.pump();
  };

  private emit(st: SymbolState): void {
    if (!st.dirty) return;
    st.dirty = false;
    st.lastSentAt = this.now();
    // a measurement goes out only with all its fields: a stable schema per channel (see lines.ts)
    // each line costs a few µs (number formatting): format only what changed, the timestamp once
    const sent = st.sent;
    let ts: string | undefined;
    if (st.price !== undefined && st.changePct24h !== undefined && (st.price !== sent.price || st.changePct24h !== sent.changePct24h)) {
      if (st.changePct24h !== sent.changePct24h) sent.change = String(st.changePct24h);
      sent.price = st.price;
      sent.changePct24h = st.changePct24h;
      this.enqueue(st.head.ticker, tickerLine(st.head.ticker, st.price, sent.change, st.ts, (ts = ns(st.ts))), 'ticker');
    }
    if (st.bid !== undefined && st.ask !== undefined && (st.bid !== sent.bid || st.ask !== sent.ask)) {
      sent.bid = st.bid;
      sent.ask = st.ask;
      this.enqueue(st.head.book, bookLine(st.head.book, st.bid, st.ask, ts ?? ns(st.ts)), 'book');
    }
  }

  // ---- queue and delivery ----

  private enqueue(key: string, line: string, measurement: LiveMeasurement, at = this.now()): void {
    const q = this.queue.get(key);
    if (q) {
      // the series already waits: the newer value replaces it in place (never two lines per series)
      q.line = line;
      q.at = at;
    } else {
      this.queue.set(key, { line, measurement, at });
      if (this.queue.size > this.maxQueue) {
        const oldest = this.queue.keys().next().value!;
        this.queue.delete(oldest);
        this.metrics.dropped.inc({ reason: 'overflow' });
      }
    }
  }

  private pump(): void {
    if (this.inFlight || this.closed || this.queue.size === 0) return;
    const wait = Math.max(this.retryAt, this.lastPushAt + this.minGapMs) - this.now();
    if (wait > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const batch: [string, Queued][] = [];
    const cutoff = this.now() - this.staleMs;
    let stale = 0;
    for (const entry of this.queue) {
      this.queue.delete(entry[0]);
      if (entry[1].at < cutoff) stale++;
      else batch.push(entry);
      if (batch.length >= this.batchLines) break;
    }
    if (stale) this.metrics.dropped.inc({ reason: 'stale' }, stale);
    if (!batch.length) return this.pump();
    this.lastPushAt = this.now();
    this.inFlight = this.send(batch).finally(() => {
      this.inFlight = undefined;
      if (this.queue.size) this.pump();
    });
  }

  private async send(batch: [string, Queued][]): Promise<void> {
    const token = this.o.token();
    if (!token) {
      this.metrics.requests.inc({ status: 'no_token' });
      this.o.onAuthFailure?.();
      return this.failed(batch, new TransportError('grafana live: no token (GRAFANA_LIVE_TOKEN_FILE empty or unreadable)'));
    }
    const end = this.metrics.duration.startTimer();
    try {
      await this.post(batch.map(([, q]) => q.line).join('\n'), token);
      end();
      this.metrics.requests.inc({ status: '200' });
      this.metrics.up.set(1);
      this.backoff.reset();
      const n = { ticker: 0, book: 0 };
      for (const [, q] of batch) n[q.measurement]++;
      for (const m of LIVE_MEASUREMENT_NAMES) if (n[m]) this.metrics.lines.inc({ measurement: m }, n[m]);
    } catch (err) {
      end();
      const status = err instanceof HttpStatusError ? String(err.status) : /: timeout after/.test(String(err)) ? 'timeout' : 'transport';
      this.metrics.requests.inc({ status });
      this.failed(batch, err);
    }
  }

  /** One POST over a kept-alive connection (node:http: a fraction of fetch's CPU per request). */
  private post(body: string, token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const req = this.http.request(
        this.endpoint,
        {
          method: 'POST',
          agent: this.agent,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (text.length < 1000) text += c;
          });
          res.on('error', () => {}); // reported by 'close' below
          res.on('close', () => {
            // cut mid-answer (our timeout, or Grafana going away): no 'end' will come
            if (res.complete) return;
            clearTimeout(timer);
            reject(new TransportError(timedOut ? `grafana live: timeout after ${this.timeoutMs} ms` : 'grafana live: answer cut short'));
          });
          res.on('end', () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new HttpStatusError(status, text, parseRetryAfter(res.headers['retry-after']), 'grafana-live'));
          });
        },
      );
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(new TransportError(timedOut ? `grafana live: timeout after ${this.timeoutMs} ms` : `grafana live: ${err.message}`, err));
      });
      req.end(body);
    });
  }

  private failed(batch: [string, Queued][], err: unknown): void {
    this.metrics.up.set(0);
    const auth = err instanceof HttpStatusError && (err.status === 401 || err.status === 403);
    if (auth) this.o.onAuthFailure?.();
    if (!auth && !isRetryable(err)) {
      // 400/404/413…: the same request will fail again
      this.metrics.dropped.inc({ reason: 'rejected' }, batch.length);
      this.o.log.warn({ err }, 'grafana live refused a push: lines dropped');
      return;
    }
    // put back what no newer line of the same series replaced meanwhile (bounded like everything else)
    for (const [key, q] of batch) if (!this.queue.has(key)) this.enqueue(key, q.line, q.measurement, q.at);
    const delay = this.backoff.next(err instanceof HttpStatusError ? err.retryAfterMs : undefined);
    this.retryAt = this.now() + delay;
    const level = this.backoff.attempts <= 1 || this.backoff.attempts % 20 === 0 ? 'warn' : 'debug';
    this.o.log[level]({ err: String(err), retryInMs: delay, queued: this.queue.size, auth }, 'grafana live push failed, will retry');
  }
}
