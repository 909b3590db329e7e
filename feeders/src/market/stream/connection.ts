// One logical connection = a set of streams kept alive over successive websockets (docs/STREAMING.md).
// Answers pings (ws auto-pong), detects a silent socket (staleMs), reconnects with exponential backoff +
// jitter, and rolls to an OVERLAPPING new socket before the venue's maximum connection age and when the
// venue announces a shutdown (the old one is closed only once the new one delivers, so nothing is
// missed). Subscribe/unsubscribe go over the open socket, paced under the venue's control-message limit.
// Frames are handed up as text: parsing is the venue's mapper's job.
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { Backoff, sleep } from '@mt/common';
import type { StreamLimits, VenueStreamSpec } from './spec.js';

/** Spreads connection attempts under the venue's limit (Binance: 300 per 5 minutes per IP). */
export class ConnectBudget {
  private attempts: number[] = [];
  constructor(
    private readonly max = 300,
    private readonly windowMs = 5 * 60_000,
  ) {}

  /** Waits until an attempt is allowed, then records it. */
  async take(signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.attempts = this.attempts.filter((t) => now - t < this.windowMs);
      if (this.attempts.length < this.max) {
        this.attempts.push(now);
        return;
      }
      await sleep(this.attempts[0]! + this.windowMs - now + 10, signal);
      if (signal.aborted) return;
    }
  }
}

export interface SocketLink {
  /** Changes with every new websocket (reconnect or roll). */
  readonly socketId: number;
  /** Open an overlapping replacement (the venue announced a shutdown). */
  roll(reason: string): void;
}

export interface ConnectionEvents {
  /**
   * One text frame. Returns false for a frame that does not prove the socket delivers (an ack, an info
   * message): a replacement socket takes over only on a frame for which this returns true (or nothing).
   */
  frame(text: string, receivedAt: number, link: SocketLink): boolean | void;
  /** A websocket opened or closed (for gauges). */
  state(): void;
  /** A socket failed or went silent; kind: `transport`, `timeout`, `http_<status>`. */
  error(kind: string, err: unknown): void;
  reconnect(): void;
}

export type TransportSpec = Pick<VenueStreamSpec<unknown>, 'url' | 'urlStreams' | 'subscribe' | 'unsubscribe' | 'onOpen' | 'keepalive' | 'exchange'>;

export interface ConnectionOptions {
  spec: TransportSpec;
  limits: StreamLimits;
  log: Logger;
  budget: ConnectBudget;
  events: ConnectionEvents;
  backoff?: Backoff;
}

let nextSocketId = 1;

/** One websocket. Lives until closed; never reopens itself. */
class Socket implements SocketLink {
  readonly socketId = nextSocketId++;
  readonly streams = new Set<string>();
  live = false;
  closed = false;
  /** The failure of this socket was already reported (an HTTP refusal also surfaces as an error). */
  private reported = false;
  private ws: WebSocket;
  private queue: string[] = [];
  private lastSend = 0;
  private pump: NodeJS.Timeout | undefined;
  private stale: NodeJS.Timeout | undefined;
  /** When a frame last arrived: the stale timer checks it when it fires instead of being re-armed per frame. */
  private lastDataAt = 0;
  private age: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private nextId = 1;

  constructor(
    private readonly owner: StreamConnection,
    streams: string[],
    attempt: number,
  ) {
    const o = owner.o;
    const initial = streams.slice(0, o.spec.urlStreams);
    for (const s of initial) this.streams.add(s);
    this.ws = new WebSocket(o.spec.url(initial, attempt), { handshakeTimeout: Math.min(o.limits.staleMs, 10_000) });
    this.ws.on('open', () => {
      this.lastDataAt = Date.now();
      this.armStale(o.limits.staleMs);
      this.age = setTimeout(() => owner.roll('max_age'), o.limits.maxAgeMs);
      const ka = o.spec.keepalive;
      if (ka) this.keepalive = setInterval(() => this.send(ka.message(this.nextId++)), ka.intervalMs);
      owner.onOpen(this);
      for (const m of o.spec.onOpen?.() ?? []) this.send(m);
      this.sync();
    });
    this.ws.on('message', (data, isBinary) => {
      if (isBinary || this.closed) return;
      const now = Date.now();
      this.lastDataAt = now;
      const delivers = o.events.frame(data.toString(), now, this);
      if (!this.live && delivers !== false && !this.closed) {
        this.live = true;
        owner.onLive(this);
      }
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.reported = true;
      o.events.error(`http_${res.statusCode ?? 0}`, new Error(`websocket upgrade answered HTTP ${res.statusCode}`));
      this.ws.terminate();
    });
    this.ws.on('error', (err) => {
      if (this.closed || this.reported) return;
      this.reported = true;
      o.events.error('transport', err);
    });
    this.ws.on('close', () => this.onClosed());
  }

  roll(reason: string): void {
    this.owner.roll(reason);
  }

  /** Bring this socket's subscriptions in line with the owner's streams. */
  sync(): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    const want = this.owner.streams;
    const add = [...want].filter((s) => !this.streams.has(s));
    const remove = [...this.streams].filter((s) => !want.has(s));
    for (const s of remove) this.streams.delete(s);
    for (const s of add) this.streams.add(s);
    const { spec, limits } = this.owner.o;
    const n = limits.streamsPerMessage;
    for (let i = 0; i < remove.length; i += n) this.send(spec.unsubscribe(remove.slice(i, i + n), this.nextId++));
    for (let i = 0; i < add.length; i += n) this.send(spec.subscribe(add.slice(i, i + n), this.nextId++));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    // terminate, not close: a stalled peer would never finish the closing handshake.
    this.ws.terminate();
  }

  /** Queue a control message; sent no faster than one per controlIntervalMs. */
  private send(msg: string): void {
    this.queue.push(msg);
    this.drain();
  }

  private drain(): void {
    if (this.pump || this.closed) return;
    const msg = this.queue[0];
    if (msg === undefined) return;
    const wait = this.lastSend + this.owner.o.limits.controlIntervalMs - Date.now();
    if (wait > 0) {
      this.pump = setTimeout(() => {
        this.pump = undefined;
        this.drain();
      }, wait);
      return;
    }
    this.queue.shift();
    this.lastSend = Date.now();
    this.ws.send(msg);
    this.drain();
  }

  /**
   * Fires `staleMs` after the last frame: a server that still pings but sends nothing is just as
   * useless. (A clearTimeout + setTimeout per frame cost a Timeout object per frame.)
   */
  private armStale(delayMs: number): void {
    this.stale = setTimeout(() => {
      if (this.closed) return;
      const staleMs = this.owner.o.limits.staleMs;
      const quietMs = Date.now() - this.lastDataAt;
      if (quietMs < staleMs) {
        this.armStale(staleMs - quietMs);
        return;
      }
      this.owner.o.log.warn({ socketId: this.socketId, staleMs }, `${this.owner.o.spec.exchange} connection silent, reconnecting`);
      this.reported = true;
      this.owner.o.events.error('timeout', new Error('stale connection'));
      this.ws.terminate();
    }, delayMs);
  }

  private clearTimers(): void {
    for (const t of [this.pump, this.stale, this.age]) if (t) clearTimeout(t);
    if (this.keepalive) clearInterval(this.keepalive);
    this.pump = this.stale = this.age = this.keepalive = undefined;
  }

  private onClosed(): void {
    const wasClosed = this.closed;
    this.closed = true;
    this.clearTimers();
    this.owner.onClosed(this, wasClosed);
  }
}

/** A set of streams (≤ the venue's maxStreamsPerConnection) kept subscribed across reconnects and rolls. */
export class StreamConnection {
  readonly streams = new Set<string>();
  private primary: Socket | undefined;
  private next: Socket | undefined;
  private stopped = false;
  private connecting = false;
  private abort = new AbortController();
  private retryRoll: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(readonly o: ConnectionOptions) {
    this.backoff = o.backoff ?? new Backoff({ initialMs: o.limits.backoff?.initialMs ?? 500, maxMs: o.limits.backoff?.maxMs ?? 30_000 });
  }

  /** Open sockets (2 while a roll overlaps). */
  get openSockets(): number {
    return [this.primary, this.next].filter((s) => s && !s.closed && s.live).length;
  }

  start(): void {
    void this.connect('start');
  }

  setStreams(streams: Iterable<string>): void {
    this.streams.clear();
    for (const s of streams) this.streams.add(s);
    this.primary?.sync();
    this.next?.sync();
  }

  roll(reason: string): void {
    if (this.stopped || this.next || this.connecting) return;
    this.o.log.info({ reason }, `${this.o.spec.exchange} connection rolling over to a new socket`);
    void this.connect(reason, true);
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.retryRoll);
    this.primary?.close();
    this.next?.close();
    this.primary = this.next = undefined;
  }

  /** @internal */
  onOpen(s: Socket): void {
    if (s === this.primary || s === this.next) this.o.events.state();
  }

  /** @internal A socket delivered its first frame: it takes over, the one it replaces is closed. */
  onLive(s: Socket): void {
    // Only delivery counts as success: a server that accepts and hangs up at once keeps the backoff growing.
    this.backoff.reset();
    if (s === this.next) {
      const old = this.primary;
      this.primary = s;
      this.next = undefined;
      old?.close();
    }
    this.o.events.state();
  }

  /** @internal */
  onClosed(s: Socket, expected: boolean): void {
    const wasNext = s === this.next;
    if (s === this.primary) this.primary = undefined;
    else if (wasNext) this.next = undefined;
    else return;
    this.o.events.state();
    if (this.stopped || expected) return;
    if (!this.primary && !this.next) {
      this.o.events.reconnect();
      void this.connect('closed');
    } else if (wasNext && this.primary) {
      // The replacement failed while the old socket still runs: try the roll again later.
      this.retryRoll = setTimeout(() => this.roll('retry'), this.backoff.next());
    }
    // Otherwise a roll in flight takes over.
  }

  private async connect(reason: string, overlap = false): Promise<void> {
    if (this.connecting || this.stopped) return;
    this.connecting = true;
    try {
      const attempt = this.backoff.attempts;
      if (!overlap && this.backoff.attempts > 0) await sleep(this.backoff.next(), this.abort.signal);
      else if (!overlap) this.backoff.next(); // the next failure waits
      await this.o.budget.take(this.abort.signal);
      if (this.stopped) return;
      const s = new Socket(this, [...this.streams], attempt);
      if (overlap && this.primary) this.next = s;
      else this.primary = s;
      this.o.log.debug({ reason, socketId: s.socketId }, `${this.o.spec.exchange} socket opening`);
    } finally {
      this.connecting = false;
    }
  }
}
