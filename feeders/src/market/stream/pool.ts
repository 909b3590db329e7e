// Spreads symbols over connections: every stream of one symbol on the same connection (so its candles,
// trades and tickers share one reconnect history), at most the venue's maxStreamsPerConnection per
// connection. Symbols added or removed go to the connections already open (subscribe/unsubscribe, no
// reconnect); a new connection is opened only when the open ones are full, and an emptied one is closed.
import { ConnectBudget, StreamConnection, type ConnectionOptions } from './connection.js';

export interface PoolOptions extends Omit<ConnectionOptions, 'budget'> {
  streamsFor(symbol: string): string[];
}

export class StreamPool {
  readonly connections: StreamConnection[] = [];
  private readonly owner = new Map<string, StreamConnection>();
  private readonly budget: ConnectBudget;
  private started = false;
  private symbols: string[] = [];
  /** Connections that lost a refreshed symbol: their streams are recomputed at the next apply. */
  private readonly dirty = new Set<StreamConnection>();

  constructor(private readonly o: PoolOptions) {
    this.budget = new ConnectBudget(o.limits.connects.max, o.limits.connects.windowMs);
  }

  get maxStreams(): number {
    return this.o.limits.maxStreamsPerConnection;
  }

  /** The full set of symbols (in the venue's own spelling, as streamsFor takes them) to follow. */
  setSymbols(symbols: Iterable<string>): void {
    this.symbols = [...new Set(symbols)];
    if (this.started) this.apply();
  }

  /** Subscribe again to the streams of these symbols, whose streamsFor answer changed (e.g. depth asked for). */
  refresh(symbols: Iterable<string>): void {
    for (const s of symbols) {
      const c = this.owner.get(s);
      if (c) this.dirty.add(c);
      this.owner.delete(s);
    }
    if (this.started) this.apply();
  }

  start(): void {
    this.started = true;
    this.apply();
  }

  stop(): void {
    this.started = false;
    for (const c of this.connections) c.stop();
    this.connections.length = 0;
    this.owner.clear();
    this.dirty.clear();
  }

  openSockets(): number {
    return this.connections.reduce((n, c) => n + c.openSockets, 0);
  }

  streamCount(): number {
    return this.connections.reduce((n, c) => n + c.streams.size, 0);
  }

  private apply(): void {
    const want = new Set(this.symbols);
    const touched = new Set<StreamConnection>(this.dirty);
    this.dirty.clear();
    // sizes from what each connection is asked to carry now, recomputed from the owners
    const size = new Map<StreamConnection, number>(this.connections.map((c) => [c, 0]));
    for (const [sym, c] of [...this.owner]) {
      if (!want.has(sym)) {
        this.owner.delete(sym);
        touched.add(c);
        continue;
      }
      size.set(c, size.get(c)! + this.o.streamsFor(sym).length);
    }
    const fresh: StreamConnection[] = [];
    for (const sym of this.symbols) {
      if (this.owner.has(sym)) continue;
      const n = this.o.streamsFor(sym).length;
      let c = this.connections.find((x) => size.get(x)! + n <= this.maxStreams);
      if (!c) {
        c = new StreamConnection({ ...this.o, budget: this.budget });
        this.connections.push(c);
        size.set(c, 0);
        fresh.push(c);
      }
      size.set(c, size.get(c)! + n);
      this.owner.set(sym, c);
      touched.add(c);
    }
    for (const c of touched) {
      const streams: string[] = [];
      for (const [sym, owner] of this.owner) if (owner === c) streams.push(...this.o.streamsFor(sym));
      c.setStreams(streams);
    }
    for (const c of [...this.connections]) {
      if (c.streams.size > 0) continue;
      c.stop();
      this.connections.splice(this.connections.indexOf(c), 1);
    }
    for (const c of fresh) if (c.streams.size > 0) c.start();
    this.o.events.state();
  }
}
