// A venue's streams in one object: the pool of connections (docs/STREAMING.md) driven by the venue's spec,
// each frame parsed once by the venue's pure mapper and sorted by its role. Data frames go to the venue
// source's handler; the transport's own bookkeeping (metrics, acks, errors, shutdown rolls) is done here,
// the same for every venue.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ParseError } from '@mt/common';
import type { SourceMetrics } from '../../common/metrics.js';
import type { SocketLink } from './connection.js';
import { StreamPool } from './pool.js';
import type { VenueStreamSpec } from './spec.js';

export interface VenueStreamOptions<E> {
  spec: VenueStreamSpec<E>;
  log: Logger;
  /** feeder_* series under spec.source. */
  metrics: SourceMetrics;
  /** Where the market_ws_* gauges live (one set per registry, labelled by exchange). */
  registry: Registry;
  /** A data frame (role `data`), parsed. Heartbeats, acks and info never reach it. */
  onData(ev: E, receivedAt: number, link: SocketLink): void;
}

/** The gauges and counters every streamed venue shares, created once per registry (docs/METRICS.md). */
export interface StreamMetrics {
  gaps: Counter<'exchange' | 'symbol' | 'kind'>;
  backfilled: Counter<'exchange' | 'symbol'>;
  /** Maintained L2 books dropped and rebuilt: `gap` (sequence break), `checksum`, `crossed`. */
  bookResyncs: Counter<'exchange' | 'symbol' | 'reason'>;
  /** Open streams per exchange, read at scrape. */
  streams: Set<VenueStream<unknown>>;
}

const perRegistry = new WeakMap<Registry, StreamMetrics>();

export function streamMetrics(registry: Registry): StreamMetrics {
  let m = perRegistry.get(registry);
  if (m) return m;
  const streams = new Set<VenueStream<unknown>>();
  const byExchange = (f: (s: VenueStream<unknown>) => number) => {
    const out = new Map<string, number>();
    for (const s of streams) out.set(s.exchange, (out.get(s.exchange) ?? 0) + f(s));
    return out;
  };
  new Gauge({
    name: 'market_ws_connections',
    help: 'Open websocket connections per exchange',
    labelNames: ['exchange'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [exchange, n] of byExchange((s) => s.openSockets())) this.set({ exchange }, n);
    },
  });
  new Gauge({
    name: 'market_subscribed_streams',
    help: 'Streams subscribed over all websocket connections per exchange',
    labelNames: ['exchange'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [exchange, n] of byExchange((s) => s.streamCount())) this.set({ exchange }, n);
    },
  });
  m = {
    streams,
    gaps: new Counter({
      name: 'market_gaps_detected_total',
      help: 'Gaps found: trade id / sequence jumps, candle gaps (candles missed live and backfilled); book resyncs are market_book_resyncs_total',
      labelNames: ['exchange', 'symbol', 'kind'] as const,
      registers: [registry],
    }),
    bookResyncs: new Counter({
      name: 'market_book_resyncs_total',
      help: 'Maintained L2 books dropped and rebuilt from a snapshot, every venue, by reason (gap, checksum, crossed)',
      labelNames: ['exchange', 'symbol', 'reason'] as const,
      registers: [registry],
    }),
    backfilled: new Counter({
      name: 'market_candles_backfilled_total',
      help: 'Closed 1 m candles fetched over REST',
      labelNames: ['exchange', 'symbol'] as const,
      registers: [registry],
    }),
  };
  perRegistry.set(registry, m);
  return m;
}

export class VenueStream<E> {
  readonly exchange: string;
  private readonly pool: StreamPool;
  private readonly shared: StreamMetrics;

  constructor(private readonly o: VenueStreamOptions<E>) {
    const { spec, log, metrics: m } = o;
    this.exchange = spec.exchange;
    this.shared = streamMetrics(o.registry);
    const tally = m.tally(spec.source);
    const source = spec.source;
    const onFrame = (text: string, receivedAt: number, link: SocketLink): boolean => {
      tally.count++;
      tally.lastAtMs = receivedAt;
      let ev: E;
      try {
        ev = spec.parse(text);
      } catch (err) {
        const reason = err instanceof ParseError ? err.reason : 'unknown';
        m.parseErrors.inc({ source, reason });
        log.warn({ reason, err: String(err), sample: text.slice(0, 300) }, `${spec.exchange} frame rejected`);
        return true;
      }
      switch (spec.role(ev)) {
        case 'data':
          o.onData(ev, receivedAt, link);
          return true;
        case 'heartbeat':
          return true;
        case 'ack':
        case 'info':
          return false;
        case 'error':
          m.sourceErrors.inc({ source, kind: 'request_error' });
          log.warn({ frame: text.slice(0, 300) }, `${spec.exchange} rejected a request`);
          return false;
        case 'shutdown':
          log.info(`${spec.exchange} announced a shutdown: rolling to a new connection`);
          link.roll('serverShutdown');
          return true;
      }
    };
    this.pool = new StreamPool({
      spec,
      limits: spec.limits,
      log,
      streamsFor: (s) => spec.streamsFor(s),
      events: {
        frame: onFrame,
        state: () => m.up.set({ source }, this.pool.openSockets() > 0 ? 1 : 0),
        error: (kind, err) => {
          m.sourceErrors.inc({ source, kind });
          log.warn({ kind, err: String(err) }, `${spec.exchange} websocket error`);
        },
        reconnect: () => m.reconnects.inc({ source }),
      },
    });
  }

  /** Shared per-registry counters (gaps, backfilled) for the venue source to count into. */
  get counters(): StreamMetrics {
    return this.shared;
  }

  /** The symbols (venue spelling, as spec.streamsFor takes them) to follow; subscribes/unsubscribes live. */
  setSymbols(symbols: Iterable<string>): void {
    this.pool.setSymbols(symbols);
  }

  /** Re-subscribe these symbols: their spec.streamsFor answer changed. */
  refresh(symbols: Iterable<string>): void {
    this.pool.refresh(symbols);
  }

  start(): void {
    this.shared.streams.add(this as VenueStream<unknown>);
    this.pool.start();
  }

  stop(): void {
    this.pool.stop();
    this.shared.streams.delete(this as VenueStream<unknown>);
  }

  openSockets(): number {
    return this.pool.openSockets();
  }

  streamCount(): number {
    return this.pool.streamCount();
  }

  /** The pool's connections (tests, health). */
  get connections(): number {
    return this.pool.connections.length;
  }
}
