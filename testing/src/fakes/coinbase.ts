// A local Coinbase Exchange server that speaks the real protocol (limits: testing/fixtures/LIMITS.md
// "Coinbase Exchange", shapes: testing/fixtures/coinbase/*): the market-data websocket (`subscribe` /
// `unsubscribe` with product_ids + channels, cumulative `subscriptions` acks, `error` frames for invalid
// products and channels, `last_match` on subscribing to matches, disconnect without a subscribe within
// 5 s, the 8 requests/s (bursts 20) inbound limit) and REST `GET /products/{id}/candles` (≤ 300 rows,
// newest first, the open minute included, no row for a minute without trades, 10 requests/s per IP with
// bursts of 15 → 429). Behind it a deterministic market on an accelerated clock: trade ids consecutive
// per product, some minutes without any trade, so a test covers many minutes in seconds and compares
// what was stored with `closedCandles()`.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';
import { MinuteClock } from './minute-clock.js';

const MINUTE = 60_000;
const CHANNELS = new Set(['heartbeat', 'ticker', 'matches', 'level2', 'level2_batch', 'status']);
/** Trades per minute, repeating every 8 minutes (rotated per product): two quiet minutes in eight. */
const PATTERN = [3, 0, 2, 4, 1, 0, 3, 2];
const PER_PERIOD = PATTERN.reduce((a, b) => a + b, 0);

export interface CoinbaseFakeOptions {
  /** Listed products (`BTC-USD`). Default: any `BASE-QUOTE`. */
  products?: string[];
  /** Real ms per simulated minute. Default 200. */
  candleMs?: number;
  /** Clock steps per minute (each sends that step's trades, tickers and heartbeats). Default 4. */
  stepsPerCandle?: number;
  /** Simulated open time of the first live minute. Default: the current minute. */
  startTime?: number;
  /** Closed minutes before `startTime` (REST only). Default 1500. */
  historyMinutes?: number;
  /** Disconnect a connection that sent no subscribe within this many real ms (Coinbase: 5 s). */
  subscribeDeadlineMs?: number;
  /** Inbound messages per second, sustained / burst (Coinbase: 8 / 20). */
  maxInboundPerSecond?: number;
  maxInboundBurst?: number;
  /** REST requests per second per IP, sustained / burst (Coinbase: 10 / 15). */
  restPerSecond?: number;
  restBurst?: number;
  autoStart?: boolean;
}

/** A candle as the exchange knows it: what its REST answers, numbers as they parse from the JSON. */
export interface CoinbaseFakeCandle {
  product: string;
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
  firstTradeId: number;
}

export interface CoinbaseConnStats {
  id: number;
  openedAt: number;
  closedAt?: number;
  closeReason?: string;
  /** channel → products */
  subs: Map<string, Set<string>>;
  /** Every inbound text message, in order. */
  inbound: { at: number; raw: string }[];
  errors: { message: string; reason: string }[];
  framesSent: number;
  stalled: boolean;
}

interface Conn {
  ws: WebSocket;
  stats: CoinbaseConnStats;
  tokens: number;
  refillAt: number;
  timers: NodeJS.Timeout[];
  /** product → match frames still to swallow (the `skipTrades` fault). */
  skip: Map<string, number>;
}

export class CoinbaseFake {
  readonly http: HttpFake;
  readonly connections: CoinbaseConnStats[] = [];
  readonly o: Required<Omit<CoinbaseFakeOptions, 'products'>> & { products?: Set<string> };
  private wss = new WebSocketServer({ noServer: true });
  private live = new Set<Conn>();
  private readonly clock: MinuteClock;
  private nextConnId = 1;
  private seq = new Map<string, number>();
  private rest = { tokens: 0, at: Date.now() };
  /** The venue's L2 book per product (price text → size text), moved with the price every step. */
  private books = new Map<string, { bids: Map<string, string>; asks: Map<string, string> }>();
  private refusals = 0;

  constructor(opts: CoinbaseFakeOptions = {}) {
    const { products, ...rest } = opts;
    this.o = {
      candleMs: 200,
      stepsPerCandle: 4,
      startTime: Math.floor(Date.now() / MINUTE) * MINUTE,
      historyMinutes: 1500,
      subscribeDeadlineMs: 5000,
      maxInboundPerSecond: 8,
      maxInboundBurst: 20,
      restPerSecond: 10,
      restBurst: 15,
      autoStart: true,
      ...rest,
      products: products ? new Set(products) : undefined,
    };
    this.clock = new MinuteClock(this.o, () => this.onStep());
    this.rest.tokens = this.o.restBurst;
    this.http = new HttpFake('coinbase');
    this.http.route('GET', /^\/products\/[^/]+\/candles$/, (r) => this.limited(() => this.candles(r)));
    this.http.httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** COINBASE_WS_URL */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.http.port}`;
  }
  /** COINBASE_REST_URL */
  get restUrl(): string {
    return this.http.url;
  }

  async listen(port = 0, host?: string): Promise<this> {
    await this.http.listen(port, host);
    if (this.o.autoStart) this.resume();
    return this;
  }

  async close(): Promise<void> {
    this.pause();
    for (const c of [...this.live]) this.end(c, 'server_closed', true);
    this.wss.close();
    await this.http.close();
  }

  // ---------------------------------------------------------------- simulated market clock

  private get cur(): number {
    return this.clock.cur;
  }

  private get step(): number {
    return this.clock.step;
  }

  now(): number {
    return this.clock.now();
  }

  resume(): void {
    this.clock.resume();
  }

  pause(): void {
    this.clock.pause();
  }

  /** One clock step by hand (with autoStart: false). */
  advance(): void {
    this.clock.advance();
  }

  /** A step: this step's matches, a ticker per product that traded, a heartbeat per product. */
  private onStep(): void {
    const products = new Set<string>();
    for (const c of this.live) for (const set of c.stats.subs.values()) for (const p of set) products.add(p);
    for (const p of products) this.emitStep(p);
  }

  /** Open time of the newest closed minute. */
  lastClosedOpenTime(): number {
    return this.clock.lastClosedOpenTime();
  }

  historyStart(): number {
    return this.o.startTime - this.o.historyMinutes * MINUTE;
  }

  /** The exchange's closed candles of `product` (`BTC-USD` or `BTC/USD`) from `from` on: minutes with trades only. */
  closedCandles(product: string, from = this.historyStart()): CoinbaseFakeCandle[] {
    const p = norm(product);
    const out: CoinbaseFakeCandle[] = [];
    for (let t = Math.max(from, this.historyStart()); t <= this.lastClosedOpenTime(); t += MINUTE) {
      const c = this.candle(p, t);
      if (c) out.push(c);
    }
    return out;
  }

  /** The candle of one minute after `revealed` of its trades (all by default); undefined for a minute without trades. */
  candle(product: string, openTime: number, revealed = Infinity): CoinbaseFakeCandle | undefined {
    const p = norm(product);
    const n = Math.min(revealed, tradesIn(p, openTime));
    if (n <= 0) return undefined;
    const first = firstTradeId(p, openTime);
    let open = 0;
    let high = -Infinity;
    let low = Infinity;
    let close = 0;
    let units = 0;
    for (let i = 0; i < n; i++) {
      const { price, units: u } = trade(p, first + i);
      if (i === 0) open = price;
      high = Math.max(high, price);
      low = Math.min(low, price);
      close = price;
      units += u;
    }
    return { product: p, openTime, open, high, low, close, volume: units / 1e8, trades: n, firstTradeId: first };
  }

  // ---------------------------------------------------------------- faults

  /** Drop every connection (TCP reset, no close frame). */
  dropAll(): number {
    const n = this.live.size;
    for (const c of [...this.live]) this.end(c, 'dropped', true);
    return n;
  }

  /** Close every connection with a close frame (a venue restart). */
  closeAll(code = 1001): number {
    const n = this.live.size;
    for (const c of [...this.live]) this.end(c, 'server_closed', false, code);
    return n;
  }

  /** Send nothing more on the open connections (they stay open). */
  stallAll(): number {
    for (const c of this.live) c.stats.stalled = true;
    return this.live.size;
  }

  /** Swallow the next `n` match frames of `product` on every open connection (Coinbase may drop messages). */
  skipTrades(product: string, n: number): void {
    for (const c of this.live) c.skip.set(norm(product), n);
  }

  /** Send an `error` frame (the recorded envelope) to every open connection. */
  sendError(reason: string, message = 'Failed to subscribe'): void {
    const base = fixtureJson<Record<string, unknown>>('coinbase/ws_feed_error_failed_to_subscribe_delisted.json');
    for (const c of this.live) this.send(c, JSON.stringify({ ...base, message, reason }));
  }

  /** Malformed frames: truncated JSON, a match with a non-numeric price, one without a product, plain text, an unknown type. */
  sendMalformed(product = 'BTC-USD'): number {
    const frames = [
      '{"type":"match","trade_id":1,"product_id":"' + product,
      JSON.stringify({ type: 'match', trade_id: 5, side: 'buy', size: '0.1', price: 'not-a-price', product_id: product, sequence: 1, time: isoMicros(this.now()) }),
      JSON.stringify({ type: 'ticker', sequence: 1, price: '1.0', time: isoMicros(this.now()) }),
      'not json at all',
      JSON.stringify({ type: 'someNewType', product_id: product }),
    ];
    for (const c of this.live) for (const f of frames) this.send(c, f);
    return frames.length;
  }

  /** An l2update that crosses the book (a bid above the best ask) on every connection: a client copy gone wrong. */
  corruptBook(product: string): void {
    const p = norm(product);
    const b = this.book(p);
    const bestAsk = Math.min(...[...b.asks.keys()].map(Number));
    const frame = JSON.stringify({ type: 'l2update', product_id: p, changes: [['buy', (bestAsk + 0.05).toFixed(2), '1.00000000']], time: isoMicros(this.now()) });
    for (const c of this.live) if (c.stats.subs.get('level2_batch')?.has(p) || c.stats.subs.get('level2')?.has(p)) this.send(c, frame);
  }

  /** The next `times` candle requests answer 429 with the recorded body. */
  failRest(times = 1, status = 429): void {
    const body = fixtureJson(status === 429 ? 'coinbase/rest_error_429_public_rate_limit.json' : 'coinbase/rest_error_404_notfound.json');
    this.http.fail({ kind: 'status', status, body }, { times, path: /\/candles$/ });
  }

  /** Refuse the next `times` websocket upgrades with HTTP 503. */
  refuseConnections(times: number): void {
    this.refusals = times;
  }

  openConnections(): CoinbaseConnStats[] {
    return [...this.live].map((c) => c.stats);
  }

  // ---------------------------------------------------------------- websocket protocol

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refusals > 0) {
      this.refusals--;
      const body = 'service unavailable';
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const stats: CoinbaseConnStats = { id: this.nextConnId++, openedAt: Date.now(), subs: new Map(), inbound: [], errors: [], framesSent: 0, stalled: false };
    const c: Conn = { ws, stats, tokens: this.o.maxInboundBurst, refillAt: Date.now(), timers: [], skip: new Map() };
    this.connections.push(stats);
    this.live.add(c);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!this.take(c)) return this.end(c, 'rate_limit', false, 1008);
      this.onMessage(c, isBinary ? '' : rawText(data));
    });
    ws.on('close', () => this.end(c, 'client', false));
    ws.on('error', () => this.end(c, 'client', true));
    c.timers.push(
      setTimeout(() => {
        if (!c.stats.inbound.some((m) => m.raw.includes('"subscribe"'))) this.end(c, 'no_subscribe', false, 1008);
      }, this.o.subscribeDeadlineMs),
    );
  }

  /** Token bucket: maxInboundPerSecond refill, maxInboundBurst capacity. */
  private take(c: Conn): boolean {
    const now = Date.now();
    c.tokens = Math.min(this.o.maxInboundBurst, c.tokens + ((now - c.refillAt) / 1000) * this.o.maxInboundPerSecond);
    c.refillAt = now;
    if (c.tokens < 1) return false;
    c.tokens--;
    return true;
  }

  private onMessage(c: Conn, raw: string): void {
    c.stats.inbound.push({ at: Date.now(), raw });
    let m: { type?: unknown; product_ids?: unknown; channels?: unknown };
    try {
      m = JSON.parse(raw) as typeof m;
    } catch {
      return this.error(c, 'Failed to parse message', 'malformed JSON');
    }
    if (m.type !== 'subscribe' && m.type !== 'unsubscribe') return this.error(c, `Failed to ${String(m.type)}`, `${String(m.type)} is not a valid type`);
    const top = Array.isArray(m.product_ids) ? (m.product_ids as unknown[]) : [];
    if (!Array.isArray(m.channels) || m.channels.length === 0) return this.error(c, `Failed to ${m.type}`, 'channels must be a non-empty array');
    const want: [string, string[]][] = [];
    for (const ch of m.channels as unknown[]) {
      const name = typeof ch === 'string' ? ch : (ch as { name?: unknown })?.name;
      const prods = typeof ch === 'string' ? top : Array.isArray((ch as { product_ids?: unknown }).product_ids) ? ((ch as { product_ids: unknown[] }).product_ids as unknown[]) : top;
      if (typeof name !== 'string' || !CHANNELS.has(name)) return this.error(c, `Failed to ${m.type}`, `${String(name)} is not a valid channel`);
      for (const p of prods) if (typeof p !== 'string' || !this.listed(p)) return this.error(c, `Failed to ${m.type}`, `${String(p)} is not a valid product`);
      if (name !== 'status' && prods.length === 0) return this.error(c, `Failed to ${m.type}`, `You need to specify at least one product ID for channel ${name}`);
      want.push([name, prods as string[]]);
    }
    const newMatches: string[] = [];
    const newBooks: string[] = [];
    for (const [name, prods] of want) {
      let set = c.stats.subs.get(name);
      if (!set) c.stats.subs.set(name, (set = new Set()));
      for (const p of prods) {
        if (m.type === 'subscribe') {
          if (name === 'matches' && !set.has(p)) newMatches.push(p);
          if ((name === 'level2' || name === 'level2_batch') && !set.has(p)) newBooks.push(p);
          set.add(p);
        } else set.delete(p);
      }
      if (set.size === 0) c.stats.subs.delete(name);
    }
    this.send(c, JSON.stringify({ type: 'subscriptions', channels: [...c.stats.subs].map(([name, set]) => ({ name, product_ids: [...set] })) }));
    // a level2 subscription starts with the whole book (the recorded `snapshot` shape, asks ascending, bids descending)
    for (const p of newBooks) {
      // the book as the other subscribers have it (moving it here would skip their update)
      const b = this.books.get(p) ?? this.book(p);
      const side = (m: Map<string, string>, desc: boolean) => [...m].sort((x, y) => (desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0])));
      this.send(c, JSON.stringify({ type: 'snapshot', product_id: p, asks: side(b.asks, false), bids: side(b.bids, true) }));
    }
    // subscribing to matches first sends the product's most recent trade
    for (const p of newMatches) {
      const id = this.lastTradeIdBefore(p, this.now());
      if (id !== undefined) this.sendMatch(c, p, id, 'last_match');
    }
  }

  private listed(p: string): boolean {
    return this.o.products ? this.o.products.has(p) : /^[A-Z0-9]{2,10}-[A-Z0-9]{2,10}$/.test(p);
  }

  private error(c: Conn, message: string, reason: string): void {
    c.stats.errors.push({ message, reason });
    this.send(c, JSON.stringify({ type: 'error', message, reason }));
  }

  private send(c: Conn, text: string): void {
    if (c.stats.stalled || c.ws.readyState !== c.ws.OPEN) return;
    c.stats.framesSent++;
    c.ws.send(text);
  }

  private end(c: Conn, reason: string, hard: boolean, code = 1000): void {
    if (!this.live.delete(c)) return;
    c.stats.closedAt = Date.now();
    c.stats.closeReason = reason;
    for (const t of c.timers) clearTimeout(t);
    if (hard) c.ws.terminate();
    else if (c.ws.readyState === c.ws.OPEN) c.ws.close(code);
  }

  // ---------------------------------------------------------------- market events

  private nextSeq(p: string): number {
    const s = (this.seq.get(p) ?? 1_000_000) + 1;
    this.seq.set(p, s);
    return s;
  }

  /** Id of the last trade with time < ts (walking back over quiet minutes). */
  private lastTradeIdBefore(p: string, ts: number): number | undefined {
    const t0 = Math.floor(ts / MINUTE) * MINUTE;
    const n = tradesIn(p, t0);
    const done = Array.from({ length: n }, (_, i) => tradeTime(t0, i, n)).filter((x) => x < ts).length;
    if (done > 0) return firstTradeId(p, t0) + done - 1;
    for (let t = t0 - MINUTE; t >= t0 - 16 * MINUTE; t -= MINUTE) if (tradesIn(p, t) > 0) return firstTradeId(p, t) + tradesIn(p, t) - 1;
    return undefined;
  }

  private sendMatch(c: Conn, p: string, id: number, type: 'match' | 'last_match'): void {
    const t0 = minuteOfTrade(p, id);
    const i = id - firstTradeId(p, t0);
    const { price, units } = trade(p, id);
    this.send(
      c,
      JSON.stringify({
        type,
        trade_id: id,
        maker_order_id: randomUUID(),
        taker_order_id: randomUUID(),
        side: id & 1 ? 'sell' : 'buy',
        size: (units / 1e8).toFixed(8),
        price: price.toFixed(2),
        product_id: p,
        sequence: this.nextSeq(p),
        time: isoMicros(tradeTime(t0, i, tradesIn(p, t0))),
      }),
    );
  }

  private emitStep(p: string): void {
    if (!this.listed(p)) return;
    const t0 = this.cur;
    const n = tradesIn(p, t0);
    const S = this.o.stepsPerCandle;
    const stepEnd = t0 + (this.step * MINUTE) / S;
    const stepStart = t0 + ((this.step - 1) * MINUTE) / S;
    const first = firstTradeId(p, t0);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const ts = tradeTime(t0, i, n);
      if (ts >= stepStart && ts < stepEnd) ids.push(first + i);
    }
    const now = Math.min(stepEnd, t0 + MINUTE - 1);
    const booked = [...this.live].some((c) => c.stats.subs.get('level2_batch')?.has(p) || c.stats.subs.get('level2')?.has(p));
    const l2 = booked ? this.book(p).changes : [];
    const l2frame = l2.length ? JSON.stringify({ type: 'l2update', product_id: p, changes: l2, time: isoMicros(now) }) : undefined;
    for (const c of this.live) {
      if (l2frame && (c.stats.subs.get('level2_batch')?.has(p) || c.stats.subs.get('level2')?.has(p))) this.send(c, l2frame);
      const subs = c.stats.subs;
      if (subs.get('matches')?.has(p)) {
        for (const id of ids) {
          const skip = c.skip.get(p) ?? 0;
          if (skip > 0) {
            c.skip.set(p, skip - 1);
            continue;
          }
          this.sendMatch(c, p, id, 'match');
        }
      }
      if (ids.length && subs.get('ticker')?.has(p)) this.send(c, this.tickerFrame(p, ids[ids.length - 1]!));
      if (subs.get('heartbeat')?.has(p)) {
        const last = this.lastTradeIdBefore(p, now + 1) ?? 0;
        this.send(c, JSON.stringify({ type: 'heartbeat', last_trade_id: last, product_id: p, sequence: this.nextSeq(p), time: isoMicros(now) }));
      }
    }
  }

  /** The current book of `p`, levels a cent apart around the last trade price. */
  private book(p: string): { bids: Map<string, string>; asks: Map<string, string>; changes: [string, string, string][] } {
    let b = this.books.get(p);
    if (!b) this.books.set(p, (b = { bids: new Map(), asks: new Map() }));
    const id = this.lastTradeIdBefore(p, this.now() + 1);
    const mid = id === undefined ? 100 : trade(p, id).price;
    const want = (sign: number) => {
      const m = new Map<string, string>();
      for (let i = 1; i <= 10; i++) m.set((mid + sign * i * 0.01).toFixed(2), ((hash32(p, i * 31 + Math.round(mid * 100)) % 500_000) / 1e5 + 0.01).toFixed(8));
      return m;
    };
    return this.moveBook(p, b, want(-1), want(1));
  }

  /** Replace the book's levels; the changes (removed levels with size 0 first) as l2update `changes`. */
  private moveBook(p: string, b: { bids: Map<string, string>; asks: Map<string, string> }, bids: Map<string, string>, asks: Map<string, string>) {
    const changes: [string, string, string][] = [];
    for (const [side, cur, next] of [['buy', b.bids, bids], ['sell', b.asks, asks]] as const) {
      for (const price of cur.keys()) if (!next.has(price)) changes.push([side, price, '0.00000000']);
      for (const [price, size] of next) if (cur.get(price) !== size) changes.push([side, price, size]);
    }
    const moved = { bids, asks, changes };
    this.books.set(p, { bids, asks });
    return moved;
  }

  /** Field order and types of the recorded `ws_feed_ticker_*.json`. */
  private tickerFrame(p: string, id: number): string {
    const { price, units } = trade(p, id);
    const t0 = minuteOfTrade(p, id);
    const open24 = trade(p, Math.max(1, id - 500)).price;
    return JSON.stringify({
      type: 'ticker',
      sequence: this.nextSeq(p),
      product_id: p,
      price: price.toFixed(2),
      open_24h: open24.toFixed(2),
      volume_24h: '1234.56780000',
      low_24h: (Math.min(open24, price) * 0.99).toFixed(2),
      high_24h: (Math.max(open24, price) * 1.01).toFixed(2),
      volume_30d: '45678.12340000',
      best_bid: (price - 0.01).toFixed(2),
      best_ask: (price + 0.01).toFixed(2),
      side: id & 1 ? 'sell' : 'buy',
      time: isoMicros(tradeTime(t0, id - firstTradeId(p, t0), tradesIn(p, t0))),
      trade_id: id,
      last_size: (units / 1e8).toFixed(8),
    });
  }

  // ---------------------------------------------------------------- REST

  private limited(answer: () => Reply): Reply {
    const now = Date.now();
    this.rest.tokens = Math.min(this.o.restBurst, this.rest.tokens + ((now - this.rest.at) / 1000) * this.o.restPerSecond);
    this.rest.at = now;
    if (this.rest.tokens < 1) return { status: 429, body: fixtureJson('coinbase/rest_error_429_public_rate_limit.json') };
    this.rest.tokens--;
    return answer();
  }

  private candles(r: RecordedRequest): Reply {
    const product = decodeURIComponent(r.path.split('/')[2] ?? '');
    if (!this.listed(product)) return { status: 404, body: fixtureJson('coinbase/rest_error_404_notfound.json') };
    const g = Number(r.query.get('granularity') ?? 60);
    // documented set; the wording of this refusal is not recorded
    if (![60, 300, 900, 3600, 21600, 86400].includes(g)) return { status: 400, body: { message: 'Unsupported granularity' } };
    if (g !== 60) return { status: 400, body: { message: 'only granularity=60 is simulated' } };
    const parse = (v: string | null) => (v === null ? undefined : /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v));
    const start = parse(r.query.get('start'));
    const end = parse(r.query.get('end'));
    if ((start !== undefined && !Number.isFinite(start)) || (end !== undefined && !Number.isFinite(end))) return { status: 400, body: { message: 'Invalid start or end' } };
    const openNow = this.step > 0 && this.step < this.o.stepsPerCandle;
    const newest = openNow ? this.cur : this.lastClosedOpenTime();
    const hi = Math.min(newest, Math.floor((end ?? newest) / MINUTE) * MINUTE);
    const lo = Math.max(this.historyStart(), start === undefined ? hi - 299 * MINUTE : Math.ceil(start / MINUTE) * MINUTE);
    if (start !== undefined && end !== undefined && (end - start) / MINUTE > 300) {
      return { status: 400, body: { message: 'granularity too small for the requested time range. Count of aggregations requested exceeds 300' } };
    }
    const rows: number[][] = [];
    // newest first, the open minute with what traded so far
    for (let t = hi; t >= lo; t -= MINUTE) {
      const revealed = openNow && t === this.cur ? this.revealedNow(product) : Infinity;
      const c = this.candle(product, t, revealed);
      if (c) rows.push([t / 1000, c.low, c.high, c.open, c.close, c.volume]);
    }
    return { body: rows };
  }

  private revealedNow(p: string): number {
    const n = tradesIn(p, this.cur);
    return Array.from({ length: n }, (_, i) => tradeTime(this.cur, i, n)).filter((x) => x < this.now()).length;
  }
}

// ---------------------------------------------------------------- deterministic trades

function norm(product: string): string {
  return product.replace('/', '-').toUpperCase();
}

function hash32(s: string, n: number): number {
  let h = 2166136261 ^ n;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

function rot(p: string): number {
  return hash32(p, 7) % PATTERN.length;
}

/** Trades in the minute opening at `openTime`. */
function tradesIn(p: string, openTime: number): number {
  const k = openTime / MINUTE + rot(p);
  return PATTERN[((k % PATTERN.length) + PATTERN.length) % PATTERN.length]!;
}

/** Id of the first trade of the minute (consecutive ids across minutes: quiet minutes use none). */
function firstTradeId(p: string, openTime: number): number {
  const k = openTime / MINUTE + rot(p);
  const period = Math.floor(k / PATTERN.length);
  let id = period * PER_PERIOD;
  for (let i = 0; i < k - period * PATTERN.length; i++) id += PATTERN[i]!;
  return id;
}

function minuteOfTrade(p: string, id: number): number {
  const k0 = Math.floor(id / PER_PERIOD) * PATTERN.length;
  for (let k = k0; ; k++) {
    const t = (k - rot(p)) * MINUTE;
    const f = firstTradeId(p, t);
    if (id >= f && id < f + tradesIn(p, t)) return t;
  }
}

function tradeTime(openTime: number, i: number, n: number): number {
  return openTime + Math.floor(((i + 0.5) * MINUTE) / n);
}

/** Price (cents) and size (integer 1e-8 units) of trade `id`: pure, so REST and the stream agree. */
function trade(p: string, id: number): { price: number; units: number } {
  const base = 5 + (hash32(p, 0) % 60_000);
  const r = hash32(p, id) / 2 ** 32;
  const drift = 0.03 * Math.sin(id / 97) + 0.01 * Math.sin(id / 1013);
  const price = Math.round(base * (1 + drift + 0.004 * (r - 0.5)) * 100) / 100;
  const units = 100_000 + (hash32(p, id ^ 0x5bd1e995) % 50_000_000);
  return { price, units };
}

/** Coinbase's time format: microseconds, `Z`. */
function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

function rawText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}
