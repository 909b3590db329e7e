// Spreads symbols over connections: every stream of one symbol on the same connection (so its kline,
// trades and tickers share one reconnect history), at most `maxStreams` (Binance: 1024) per connection.
// Symbols added or removed go to the connections already open (SUBSCRIBE/UNSUBSCRIBE, no reconnect);
// a new connection is opened only when the open ones are full, and an emptied one is closed.
import { BinanceConnection, ConnectBudget, type ConnectionOptions } from './connection.js';

export const STREAMS_PER_CONNECTION = 1024;

export class StreamPool {
  readonly connections: BinanceConnection[] = [];
  private readonly owner = new Map<string, BinanceConnection>();
  private readonly budget = new ConnectBudget();
  private started = false;
  private symbols: string[] = [];

  constructor(
    private readonly o: Omit<ConnectionOptions, 'budget'> & { streamsFor(symbol: string): string[]; maxStreams?: number },
  ) {}

  get maxStreams(): number {
    return this.o.maxStreams ?? STREAMS_PER_CONNECTION;
  }

  /** The full set of stream symbols (`btcusdt`) to follow. */
  setSymbols(symbols: Iterable<string>): void {
    this.symbols = [...new Set(symbols)];
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
  }

  openSockets(): number {
    return this.connections.reduce((n, c) => n + c.openSockets, 0);
  }

  streamCount(): number {
    return this.connections.reduce((n, c) => n + c.streams.size, 0);
  }

  private apply(): void {
    const want = new Set(this.symbols);
    const touched = new Set<BinanceConnection>();
    const size = new Map(this.connections.map((c) => [c, c.streams.size]));
    for (const [sym, c] of [...this.owner]) {
      if (want.has(sym)) continue;
      this.owner.delete(sym);
      size.set(c, size.get(c)! - this.o.streamsFor(sym).length);
      touched.add(c);
    }
    const fresh: BinanceConnection[] = [];
    for (const sym of this.symbols) {
      if (this.owner.has(sym)) continue;
      const n = this.o.streamsFor(sym).length;
      let c = this.connections.find((x) => size.get(x)! + n <= this.maxStreams);
      if (!c) {
        c = new BinanceConnection({ ...this.o, budget: this.budget });
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
