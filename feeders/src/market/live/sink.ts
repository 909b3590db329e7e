// Grafana Live push: the market core hands every tick here (beside the InfluxDB sink; closed candles are
// not pushed, docs/GRAFANA_LIVE.md "Why no candles"). Per symbol the last known price, bid, ask and 24 h
// change are kept in place (a tick allocates nothing); a symbol with news is pending, and goes out as one
// `ticker` line rendered when the request is built — so it always carries the newest values, and a line
// costs only its numbers (its head is rendered once per symbol). At most `maxHz` lines per symbol per
// second: the first tick after a quiet period goes out with the next request, later ones wait for the
// symbol's next slot. Every pending symbol whose slot is free shares one request (≥ `minGapMs` apart, one
// at a time). Pending symbols are bounded by `maxQueue` (drop-oldest, counted); a symbol that has had no
// tick for `staleMs` while Grafana was away is not sent (Live is about now). Grafana down, slow or
// refusing is counted and retried with backoff; nothing here ever waits on the caller's path, so
// InfluxDB ingest is unaffected. Protocol notes and the role the token needs: docs/GRAFANA_LIVE.md.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { Backoff, HttpStatusError, TransportError, isRetryable, parseRetryAfter, type BackoffOptions } from '@mt/common';
import type { Candle, MarketSink, MarketTick } from '../types.js';
import { lineHead, tickerLine, type Quote } from './lines.js';

export interface GrafanaLiveOptions {
  /** Grafana's base URL (reachable from the feeder; in compose the internal one). */
  url: string;
  /** Stream id: panels subscribe to `stream/<stream>/<measurement>`. Default `markets`. */
  stream?: string;
  /** The service-account token, per request. */
  token: () => string | undefined;
  /** After a 401/403 or with no token: re-read it (a token file written late or rotated is picked up). */
  onAuthFailure?: () => void;
  /** Lines per symbol per second. Default 4. */
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
   * Least time between the starts of two pushes: symbols due meanwhile share a request (≤ 1000/minGapMs
   * requests/s). Default 50 ms: a request costs the feeder ~150 µs of CPU whatever it carries, a line
   * ~0.6 µs (docs/BENCHMARKS.md §10), so 20 requests/s bound the cost, and add at most 50 ms.
   */
  minGapMs?: number;
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
  /** When its last line went into a request: its next slot is `intervalMs` later. */
  lastSentAt: number;
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
      help: 'Per line: from the feeder reading its newest tick to the request carrying it being sent (coalescing slot, request gap, a request in flight)',
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
  private readonly endpoint: string;
  /** The endpoint parsed once (a URL string would be parsed again per request). */
  private readonly target: http.RequestOptions;
  private readonly intervalMs: number;
  private readonly minGapMs: number;
  private readonly maxQueue: number;
  private readonly batchLines: number;
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly symbols = new Map<string, Map<string, SymbolState>>();
  /** Symbols with a change not sent yet, oldest first: the queue (a symbol is in it at most once). */
  private readonly pending = new Set<SymbolState>();
  /** Symbols of the request in flight: back into `pending` if it fails. */
  private sending: SymbolState[] = [];
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private inFlight: Promise<void> | undefined;
  private retryAt = 0;
  private readonly http: typeof http | typeof https;
  private readonly agent: http.Agent;
  private lastPushAt = -Infinity;
  private closed = false;

  constructor(private readonly o: GrafanaLiveOptions) {
    this.endpoint = `${o.url.replace(/\/+$/, '')}/api/live/push/${encodeURIComponent(o.stream ?? 'markets')}`;
    this.intervalMs = 1000 / (o.maxHz ?? 4);
    this.minGapMs = o.minGapMs ?? 50;
    this.maxQueue = o.maxQueue ?? 10_000;
    this.batchLines = o.batchLines ?? 2000;
    this.timeoutMs = o.timeoutMs ?? 3000;
    this.staleMs = o.staleMs ?? 30_000;
    this.now = o.now ?? Date.now;
    // at most 10 s between attempts: a live price is worth a cheap failed request more than a late recovery
    this.backoff = new Backoff({ initialMs: 500, maxMs: 10_000, ...o.backoff });
    this.metrics = createLiveMetrics(o.registry, () => this.pending.size);
    this.http = this.endpoint.startsWith('https:') ? https : http;
    const u = new URL(this.endpoint);
    this.target = { protocol: u.protocol, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || undefined, path: `${u.pathname}${u.search}`, method: 'POST' };
    this.agent = new this.http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Lines waiting (for tests and /healthz). */
  get queued(): number {
    return this.pending.size;
  }

  health(): Record<string, unknown> {
    return { queued: this.pending.size, backoffMs: Math.max(0, this.retryAt - this.now()) };
  }

  tick(t: MarketTick): void {
    if (this.closed) return;
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
        lastSentAt: -Infinity,
        sentPrice: undefined,
        sentBid: undefined,
        sentAsk: undefined,
        sentChange: undefined,
      };
      bySymbol.set(t.symbol, st);
    }
    // sticky: a trade carries no 24 h change and a book update no 24 h change; keep the last known
    if (Number.isFinite(t.price)) st.price = t.price;
    if (t.changePct24h !== undefined && Number.isFinite(t.changePct24h)) st.changePct24h = t.changePct24h;
    if (t.bid !== undefined && Number.isFinite(t.bid)) st.bid = t.bid;
    if (t.ask !== undefined && Number.isFinite(t.ask)) st.ask = t.ask;
    if (t.ts > st.ts) st.ts = t.ts;
    st.recv = t.receivedAt;
    st.at = this.now();
    if (st.price === undefined || this.pending.has(st)) return;
    this.pending.add(st);
    if (this.pending.size > this.maxQueue) {
      const oldest = this.pending.values().next().value!;
      this.pending.delete(oldest);
      this.metrics.dropped.inc({ reason: 'overflow' });
    }
    // its slot is free: with the next request (batched with every other tick of this turn of the event loop)
    if (st.lastSentAt + this.intervalMs <= st.at && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    } else if (!this.flushScheduled) this.wakeAt(st.lastSentAt + this.intervalMs);
  }

  /** Closed candles are not pushed: no panel would read them (docs/GRAFANA_LIVE.md, "Why no candles"). */
  candle(_c: Candle): void {}

  /** Forget symbols that left the watch set (their state would otherwise stay forever). */
  setWatch(keys: Set<string>): void {
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
    this.agent.destroy();
    this.pending.clear();
  }

  // ---- one request for every symbol whose slot is free ----

  /** Flush at `at` (or earlier if already due sooner): one timer, whatever the number of waiting symbols. */
  private wakeAt(at: number): void {
    if (this.closed || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.flush, Math.max(0, at - this.now()));
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    clearTimeout(this.timer);
    this.timerAt = Infinity;
    if (this.inFlight || this.closed || this.pending.size === 0) return; // the request's end flushes again
    const now = this.now();
    const gate = Math.max(this.retryAt, this.lastPushAt + this.minGapMs);
    if (gate > now) return this.wakeAt(gate);
    const cutoff = now - this.staleMs;
    let body = '';
    let stale = 0;
    let next = Infinity;
    const batch: SymbolState[] = [];
    for (const st of this.pending) {
      const slot = st.lastSentAt + this.intervalMs;
      if (slot > now) {
        if (slot < next) next = slot;
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
      st.lastSentAt = now;
      body += body ? `\n${tickerLine(st.head, st)}` : tickerLine(st.head, st);
      batch.push(st);
      this.metrics.wait.observe((now - st.recv) / 1000);
      if (batch.length >= this.batchLines) {
        next = now;
        break;
      }
    }
    if (stale) this.metrics.dropped.inc({ reason: 'stale' }, stale);
    if (next !== Infinity) this.wakeAt(Math.max(next, now + this.minGapMs));
    if (!batch.length) return;
    this.lastPushAt = now;
    this.sending = batch;
    this.inFlight = this.send(body, batch.length).finally(() => {
      this.inFlight = undefined;
      this.sending = [];
      this.flush();
    });
  };

  private async send(body: string, lines: number): Promise<void> {
    const token = this.o.token();
    if (!token) {
      this.metrics.requests.inc({ status: 'no_token' });
      this.o.onAuthFailure?.();
      return this.failed(new TransportError('grafana live: no token (GRAFANA_LIVE_TOKEN_FILE empty or unreadable)'));
    }
    const end = this.metrics.duration.startTimer();
    try {
      await this.post(body, token);
      end();
      this.metrics.requests.inc({ status: '200' });
      this.metrics.up.set(1);
      this.backoff.reset();
      this.metrics.lines.inc({ measurement: 'ticker' }, lines);
    } catch (err) {
      end();
      const status = err instanceof HttpStatusError ? String(err.status) : /: timeout after/.test(String(err)) ? 'timeout' : 'transport';
      this.metrics.requests.inc({ status });
      this.failed(err);
    }
  }

  /** One POST over a kept-alive connection (node:http: a fraction of fetch's CPU per request). */
  private post(body: string, token: string): Promise<void> {
    const buf = Buffer.from(body); // encoded once: its length and the bytes written
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const req = this.http.request(
        {
          ...this.target,
          agent: this.agent,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain; charset=utf-8', 'content-length': buf.length },
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
      req.end(buf);
    });
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
      st.lastSentAt = -Infinity;
      if (!this.pending.has(st) && this.pending.size < this.maxQueue) this.pending.add(st);
    }
    const delay = this.backoff.next(err instanceof HttpStatusError ? err.retryAfterMs : undefined);
    this.retryAt = this.now() + delay;
    const level = this.backoff.attempts <= 1 || this.backoff.attempts % 20 === 0 ? 'warn' : 'debug';
    this.o.log[level]({ err: String(err), retryInMs: delay, queued: this.pending.size, auth }, 'grafana live push failed, will retry');
  }
}
