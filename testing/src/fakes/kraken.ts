// A local Kraken spot server speaking websocket v2 (`/v2`) and REST `/0/public/OHLC` on one port
// (shapes: testing/fixtures/kraken, limits: testing/fixtures/LIMITS.md "Kraken Spot"). `subscribe` /
// `unsubscribe` for `ohlc` (interval 1), `ticker` and `book` (depth 10/25/100/500/1000) with one ack per
// symbol, snapshots, `heartbeat` when idle, `status` on connect, `ping`/`pong`, a per-connection message
// rate limit. Numbers are printed with the pair's precision as JSON number literals, trailing zeros kept,
// as Kraken does; the book carries Kraken's CRC32 over the top 10 levels. Behind it a deterministic market
// on an accelerated clock: some minutes have no trades (no websocket candle; REST has a flat row), so a
// test can compare what was stored with `closedCandles()`. Faults: drop, stall, clean close, refused
// upgrades, checksum corruption, a lost book update, REST errors (HTTP 200 with an `error` list).
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { crc32 } from 'node:zlib';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureText } from '../fixtures.js';
import { MinuteClock } from './minute-clock.js';

const MINUTE = 60_000;
export const KRAKEN_BOOK_DEPTHS = [10, 25, 100, 500, 1000];

export interface KrakenFakeOptions {
  /** Listed pairs, unified (`BTC/USD`). Others get "Currency pair not supported" / EQuery. Default BTC/USD, ETH/USD. */
  symbols?: string[];
  /** Real ms per simulated minute. Default 200. */
  candleMs?: number;
  /** Market steps per minute. Default 3. */
  stepsPerCandle?: number;
  /** Trades per step in a minute with trades. Default 2. */
  tradesPerStep?: number;
  /** Open time of the first live minute. Default: the current real minute. */
  startTime?: number;
  /** Minutes of history before startTime (REST serves at most the 720 newest). Default 1500. */
  historyMinutes?: number;
  /** Rows of an ohlc snapshot (minutes with trades, newest last). Default 10. */
  ohlcSnapshotRows?: number;
  /** Real ms without any frame after which a heartbeat is sent (Kraken: about 1 s). Default 1000. */
  heartbeatMs?: number;
  /** Incoming messages per second per connection before `Exceeded msg rate` and a close. Default 20. */
  maxMessagesPerSecond?: number;
  /** Start the clock in listen(). Default true. */
  autoStart?: boolean;
}

/** A closed candle as the exchange has it, numbers as they parse from its wire strings. */
export interface KrakenFakeCandle {
  symbol: string;
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** vwap × volume, from the printed vwap and volume. */
  quoteVolume: number;
  trades: number;
}

export interface KrakenConnStats {
  id: number;
  openedAt: number;
  closedAt?: number;
  closeReason?: string;
  /** channel → symbols subscribed (`book` symbols with their depth in `bookDepth`). */
  subs: Map<string, Set<string>>;
  bookDepth: Map<string, number>;
  /** Every incoming text message, parsed where possible. */
  control: { at: number; raw: string; method?: string; params?: Record<string, unknown> }[];
  errorsSent: string[];
  framesSent: number;
  stalled: boolean;
}

interface Conn {
  ws: WebSocket;
  stats: KrakenConnStats;
  recent: number[];
  lastSentAt: number;
  /** The book each subscriber was last sent, per symbol (top `depth` levels). */
  books: Map<string, { bids: Map<string, string>; asks: Map<string, string> }>;
  timers: NodeJS.Timeout[];
}

interface Pair {
  symbol: string;
  /** REST altname (`XBTUSD`) and result key (`XXBTZUSD`). */
  alt: string;
  key: string;
  priceDp: number;
  qtyDp: number;
}

const ALIAS: Record<string, string> = { BTC: 'XBT', DOGE: 'XDG' };
const LEGACY = new Set(['XBT', 'ETH', 'LTC', 'XRP', 'XLM', 'XDG', 'ETC', 'REP', 'ZEC', 'XMR', 'MLN']);
const FIAT = new Set(['USD', 'EUR', 'GBP', 'CAD', 'JPY']);

function pairOf(symbol: string): Pair {
  const [b = '', q = ''] = symbol.split('/');
  const base = ALIAS[b] ?? b;
  const quote = ALIAS[q] ?? q;
  const legacy = LEGACY.has(base) && (FIAT.has(quote) || LEGACY.has(quote));
  const key = legacy ? `X${base}${FIAT.has(quote) ? 'Z' : 'X'}${quote}` : `${base}${quote}`;
  const basePrice = basePriceOf(symbol);
  return { symbol, alt: `${base}${quote}`, key, priceDp: basePrice >= 100 ? 1 : 4, qtyDp: 8 };
}

export class KrakenFake {
  readonly http: HttpFake;
  readonly connections: KrakenConnStats[] = [];
  readonly o: Required<Omit<KrakenFakeOptions, 'symbols'>>;
  readonly pairs = new Map<string, Pair>();
  private wss = new WebSocketServer({ noServer: true });
  private live = new Set<Conn>();
  private readonly clock: MinuteClock;
  private nextConnId = 1;
  private refusals: { status: number; times: number } | undefined;
  private corrupt = new Map<string, number>();
  private lose = new Map<string, number>();
  /** Book updates sent with a wrong checksum / not sent at all, per symbol (test assertions). */
  readonly faultsDone = { corruptedChecksums: 0, lostBookUpdates: 0 };

  constructor(opts: KrakenFakeOptions = {}) {
    const { symbols, ...rest } = opts;
    this.o = {
      candleMs: 200,
      stepsPerCandle: 3,
      tradesPerStep: 2,
      startTime: Math.floor(Date.now() / MINUTE) * MINUTE,
      historyMinutes: 1500,
      ohlcSnapshotRows: 10,
      heartbeatMs: 1000,
      maxMessagesPerSecond: 20,
      autoStart: true,
      ...rest,
    };
    this.clock = new MinuteClock(this.o, () => this.onStep());
    for (const s of symbols ?? ['BTC/USD', 'ETH/USD']) this.pairs.set(s, pairOf(s));
    this.http = new HttpFake('kraken');
    this.http.route('GET', '/0/public/OHLC', (r) => this.ohlcRest(r));
    this.http.httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** KRAKEN_WS_URL */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.http.port}/v2`;
  }
  /** KRAKEN_REST_URL */
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

  // ---------------------------------------------------------------- clock and market

  private get cur(): number {
    return this.clock.cur;
  }

  private get step(): number {
    return this.clock.step;
  }

  resume(): void {
    this.clock.resume();
  }

  pause(): void {
    this.clock.pause();
  }

  /** Simulated exchange time. */
  now(): number {
    return this.clock.now();
  }

  /** Open time of the newest minute that is over (committed). */
  lastClosedOpenTime(): number {
    return this.clock.lastClosedOpenTime();
  }

  historyStart(): number {
    return this.o.startTime - this.o.historyMinutes * MINUTE;
  }

  /** A minute without trades: one in seven, at a symbol-dependent offset (never two in a row). */
  quiet(symbol: string, openTime: number): boolean {
    return (openTime / MINUTE + (hash32(symbol, 7) % 7)) % 7 === 3;
  }

  /** Every committed 1 m candle (flat ones included) from `fromOpenTime` up to the last closed minute. */
  closedCandles(symbol: string, fromOpenTime = this.historyStart()): KrakenFakeCandle[] {
    const out: KrakenFakeCandle[] = [];
    for (let t = Math.max(fromOpenTime, this.historyStart()); t <= this.lastClosedOpenTime(); t += MINUTE) out.push(this.parsed(symbol, t, this.o.stepsPerCandle));
    return out;
  }

  private tradesPerCandle(): number {
    return this.o.stepsPerCandle * this.o.tradesPerStep;
  }

  /** The minute's numbers as printed on the wire after `steps` steps: strings (o,h,l,c,vwap,volume) + trades. */
  private wire(symbol: string, openTime: number, steps: number): { o: string; h: string; l: string; c: string; vwap: string; volume: string; trades: number } {
    const p = this.pairs.get(symbol) ?? pairOf(symbol);
    const fmt = (n: number) => n.toFixed(p.priceDp);
    if (this.quiet(symbol, openTime) || steps === 0) {
      const prev = this.wire(symbol, openTime - MINUTE, this.o.stepsPerCandle).c;
      return { o: prev, h: prev, l: prev, c: prev, vwap: fmt(0), volume: (0).toFixed(p.qtyDp), trades: 0 };
    }
    const n = steps * this.o.tradesPerStep;
    const first = (openTime / MINUTE) * this.tradesPerCandle();
    let open = 0;
    let high = -Infinity;
    let low = Infinity;
    let close = 0;
    let vol = 0;
    let quote = 0;
    for (let i = 0; i < n; i++) {
      const t = trade(symbol, first + i, p.priceDp);
      if (i === 0) open = t.price;
      high = Math.max(high, t.price);
      low = Math.min(low, t.price);
      close = t.price;
      vol += t.qty;
      quote += t.price * t.qty;
    }
    return { o: fmt(open), h: fmt(high), l: fmt(low), c: fmt(close), vwap: fmt(quote / vol), volume: vol.toFixed(p.qtyDp), trades: n };
  }

  private parsed(symbol: string, openTime: number, steps: number): KrakenFakeCandle {
    const w = this.wire(symbol, openTime, steps);
    const volume = Number(w.volume);
    return {
      symbol,
      openTime,
      closeTime: openTime + MINUTE - 1,
      open: Number(w.o),
      high: Number(w.h),
      low: Number(w.l),
      close: Number(w.c),
      volume,
      quoteVolume: volume === 0 ? 0 : Number(w.vwap) * volume,
      trades: w.trades,
    };
  }

  /** One market step by hand (with autoStart: false). */
  advance(): void {
    this.clock.advance();
  }

  private onStep(): void {
    for (const symbol of this.pairs.keys()) {
      if (this.quiet(symbol, this.cur)) continue;
      for (const c of this.live) this.emitStep(c, symbol);
    }
  }

  // ---------------------------------------------------------------- faults

  /** Drop every open connection (TCP reset, no close frame). */
  dropAll(): number {
    const n = this.live.size;
    for (const c of [...this.live]) this.end(c, 'dropped', true);
    return n;
  }

  /** Send nothing more (data, heartbeats, acks) on every open connection; sockets stay open. */
  stallAll(): number {
    for (const c of this.live) c.stats.stalled = true;
    return this.live.size;
  }

  /** Maintenance: `status` `maintenance`, then a clean close (1001) of every connection. */
  closeAll(): void {
    for (const c of [...this.live]) {
      this.sendStatus(c, 'maintenance');
      this.end(c, 'maintenance', false);
    }
  }

  /** Refuse the next `times` websocket upgrades with an HTTP status. */
  refuseConnections(times: number, status = 503): void {
    this.refusals = { status, times };
  }

  /** The next `times` book updates of `symbol` carry a wrong checksum (the levels are right). */
  corruptChecksum(symbol: string, times = 1): void {
    this.corrupt.set(symbol, (this.corrupt.get(symbol) ?? 0) + times);
  }

  /** The next book update of `symbol` is not sent (the subscriber's copy is wrong from then on). */
  loseBookUpdate(symbol: string, times = 1): void {
    this.lose.set(symbol, (this.lose.get(symbol) ?? 0) + times);
  }

  /** Send text verbatim to every open connection. */
  broadcastRaw(text: string): void {
    for (const c of this.live) this.send(c, text);
  }

  /** Malformed frames: truncated JSON, wrong types, an unknown channel, a book level without qty. */
  sendMalformed(): number {
    const frames = [
      '{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","open":',
      '{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":"x","ask":1,"last":1}]}',
      '{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1.0}],"asks":[],"checksum":1}]}',
      '{"channel":"somethingNew","type":"update","data":[]}',
      'not json at all',
    ];
    for (const f of frames) this.broadcastRaw(f);
    return frames.length;
  }

  /**
   * The next `times` REST calls answer HTTP 200 with a Kraken error list (`EService:Unavailable` by
   * default; `EAPI:Rate limit exceeded`; `EQuery:Unknown asset pair` is the recorded body).
   */
  failRest(error = 'EService:Unavailable', times = 1): void {
    const body = error === 'EQuery:Unknown asset pair' ? fixtureText('kraken/rest_error_EQuery_unknown_asset_pair.json') : JSON.stringify({ error: [error] });
    this.http.fail({ kind: 'status', status: 200, body, headers: { 'content-type': 'application/json' } }, { times, path: '/0/public/OHLC' });
  }

  openConnections(): KrakenConnStats[] {
    return [...this.live].map((c) => c.stats);
  }

  // ---------------------------------------------------------------- websocket

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, body: string) => {
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (this.refusals && this.refusals.times-- > 0) return refuse(this.refusals.status, 'refused by test');
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/v2') return refuse(404, 'not found');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const stats: KrakenConnStats = { id: this.nextConnId++, openedAt: Date.now(), subs: new Map(), bookDepth: new Map(), control: [], errorsSent: [], framesSent: 0, stalled: false };
    const c: Conn = { ws, stats, recent: [], lastSentAt: Date.now(), books: new Map(), timers: [] };
    this.connections.push(stats);
    this.live.add(c);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(c, isBinary ? '' : rawText(data)));
    ws.on('close', () => this.end(c, 'client', false));
    ws.on('error', () => this.end(c, 'client', true));
    this.sendStatus(c, 'online');
    c.timers.push(
      setInterval(() => {
        if (c.stats.subs.size > 0 && Date.now() - c.lastSentAt >= this.o.heartbeatMs) this.send(c, '{"channel":"heartbeat"}');
      }, Math.max(10, Math.floor(this.o.heartbeatMs / 4))),
    );
  }

  private sendStatus(c: Conn, system: string): void {
    // The recorded frame, with the system state of the moment (its 20-digit connection_id kept verbatim).
    this.send(c, fixtureText('kraken/ws_v2_status_update_online.json').replace('"system":"online"', `"system":"${system}"`));
  }

  private onMessage(c: Conn, raw: string): void {
    const now = Date.now();
    c.recent = c.recent.filter((t) => now - t < 1000);
    c.recent.push(now);
    const rec: KrakenConnStats['control'][number] = { at: now, raw };
    c.stats.control.push(rec);
    if (c.recent.length > this.o.maxMessagesPerSecond) {
      this.sendError(c, { error: 'Exceeded msg rate' });
      return this.end(c, 'rate_limit', false);
    }
    let msg: { method?: unknown; params?: unknown; req_id?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return this.sendError(c, { error: 'Malformed request', method: 'unknown' });
    }
    if (typeof msg !== 'object' || msg === null) return this.sendError(c, { error: 'Malformed request', method: 'unknown' });
    rec.method = typeof msg.method === 'string' ? msg.method : undefined;
    rec.params = typeof msg.params === 'object' && msg.params !== null ? (msg.params as Record<string, unknown>) : undefined;
    const reqId = typeof msg.req_id === 'number' ? { req_id: msg.req_id } : {};
    const times = () => ({ time_in: iso(now), time_out: iso(Date.now()) });
    if (msg.method === 'ping') return this.send(c, JSON.stringify({ method: 'pong', ...reqId, ...times() }));
    if (msg.method !== 'subscribe' && msg.method !== 'unsubscribe') return this.sendError(c, { error: 'Method not found', method: String(msg.method), success: false, ...reqId, ...times() });
    const p = rec.params ?? {};
    const channel = p.channel;
    const symbols = Array.isArray(p.symbol) ? (p.symbol as unknown[]) : undefined;
    if (channel !== 'ohlc' && channel !== 'ticker' && channel !== 'book') return this.sendError(c, { error: 'Channel not found', method: msg.method, success: false, ...reqId, ...times() });
    if (!symbols || symbols.length === 0 || symbols.some((s) => typeof s !== 'string')) return this.sendError(c, { error: 'Invalid params: symbol', method: msg.method, success: false, ...reqId, ...times() });
    if (channel === 'ohlc' && p.interval !== 1) return this.sendError(c, { error: 'Invalid params: interval (this fake serves 1)', method: msg.method, success: false, ...reqId, ...times() });
    const depth = channel === 'book' ? (p.depth ?? 10) : undefined;
    if (depth !== undefined && !KRAKEN_BOOK_DEPTHS.includes(depth as number)) return this.sendError(c, { error: 'Invalid params: depth', method: msg.method, success: false, ...reqId, ...times() });
    const set = c.stats.subs.get(channel) ?? new Set<string>();
    c.stats.subs.set(channel, set);
    for (const s of symbols as string[]) {
      if (!this.pairs.has(s)) {
        this.sendError(c, { error: `Currency pair not supported ${s}`, method: msg.method, success: false, symbol: s, ...reqId, ...times() });
        continue;
      }
      const result: Record<string, unknown> = { channel };
      if (channel === 'ohlc') result.interval = 1;
      if (channel === 'book') result.depth = depth;
      if (msg.method === 'subscribe') {
        if (set.has(s)) {
          this.sendError(c, { error: 'Already subscribed', method: 'subscribe', success: false, symbol: s, ...reqId, ...times() });
          continue;
        }
        set.add(s);
        if (channel === 'book') c.stats.bookDepth.set(s, depth as number);
        this.send(c, JSON.stringify({ method: 'subscribe', result: { ...result, snapshot: p.snapshot !== false, symbol: s }, success: true, ...reqId, ...times() }));
        if (p.snapshot !== false) this.sendSnapshot(c, channel, s);
      } else {
        if (!set.delete(s)) {
          this.sendError(c, { error: 'Subscription Not Found', method: 'unsubscribe', success: false, symbol: s, ...reqId, ...times() });
          continue;
        }
        if (channel === 'book') {
          c.books.delete(s);
          c.stats.bookDepth.delete(s);
        }
        this.send(c, JSON.stringify({ method: 'unsubscribe', result: { ...result, symbol: s }, success: true, ...reqId, ...times() }));
      }
    }
  }

  private sendError(c: Conn, body: Record<string, unknown>): void {
    c.stats.errorsSent.push(String(body.error));
    this.send(c, JSON.stringify(body));
  }

  private send(c: Conn, text: string): void {
    if (c.stats.stalled || c.ws.readyState !== c.ws.OPEN) return;
    c.stats.framesSent++;
    c.lastSentAt = Date.now();
    c.ws.send(text);
  }

  private end(c: Conn, reason: string, hard: boolean): void {
    if (!this.live.delete(c)) return;
    c.stats.closedAt = Date.now();
    c.stats.closeReason = reason;
    for (const t of c.timers) clearTimeout(t);
    if (hard) c.ws.terminate();
    else if (c.ws.readyState === c.ws.OPEN) c.ws.close(reason === 'maintenance' ? 1001 : 1000);
  }

  // ---------------------------------------------------------------- frames

  private ohlcRow(symbol: string, openTime: number, steps: number): string {
    const w = this.wire(symbol, openTime, steps);
    return `{"symbol":"${symbol}","open":${w.o},"high":${w.h},"low":${w.l},"close":${w.c},"trades":${w.trades},"volume":${w.volume},"vwap":${w.vwap},"interval_begin":"${isoNs(openTime)}","interval":1,"timestamp":"${iso(openTime + MINUTE)}"}`;
  }

  private tickerRow(symbol: string): string {
    const p = this.pairs.get(symbol)!;
    const { bids, asks } = this.fullBook(symbol);
    const last = this.lastPrice(symbol);
    const day = this.parsed(symbol, this.cur - 1440 * MINUTE, this.o.stepsPerCandle).open;
    const f = (n: number) => n.toFixed(p.priceDp);
    return `{"symbol":"${symbol}","bid":${bids[0]![0]},"bid_qty":${bids[0]![1]},"ask":${asks[0]![0]},"ask_qty":${asks[0]![1]},"last":${f(last)},"volume":${(1234.5).toFixed(8)},"vwap":${f((day + last) / 2)},"low":${f(Math.min(day, last) * 0.99)},"high":${f(Math.max(day, last) * 1.01)},"change":${f(last - day)},"change_pct":${(((last - day) / day) * 100).toFixed(2)},"timestamp":"${iso(this.now())}"}`;
  }

  /** Price of the last trade so far (the current minute's, or the last minute's close). */
  private lastPrice(symbol: string): number {
    const steps = this.quiet(symbol, this.cur) ? 0 : Math.min(this.step, this.o.stepsPerCandle);
    return Number(steps > 0 ? this.wire(symbol, this.cur, steps).c : this.wire(symbol, this.cur - MINUTE, this.o.stepsPerCandle).c);
  }

  /**
   * The exchange's whole book (more levels than any test subscribes), as printed strings [price, qty],
   * best first: levels one tick apart around the last price, quantities changing from step to step.
   */
  private fullBook(symbol: string, levels = 40): { bids: [string, string][]; asks: [string, string][] } {
    const p = this.pairs.get(symbol)!;
    const tick = 10 ** -p.priceDp;
    const last = Math.round(this.lastPrice(symbol) / tick);
    const epoch = this.cur / MINUTE * this.o.stepsPerCandle + this.step;
    const qty = (side: number, ticks: number) => {
      const h = hash32(symbol, side * 1_000_003 + ticks * 31 + (hash32(symbol, ticks) % 3 === 0 ? epoch : 0));
      return (0.001 + (h / 2 ** 32) * 3).toFixed(p.qtyDp);
    };
    const bids: [string, string][] = [];
    const asks: [string, string][] = [];
    for (let i = 0; i < levels; i++) {
      const b = last - 1 - i;
      const a = last + 1 + i;
      bids.push([(b * tick).toFixed(p.priceDp), qty(1, b)]);
      asks.push([(a * tick).toFixed(p.priceDp), qty(2, a)]);
    }
    return { bids, asks };
  }

  /** Kraken's checksum, computed here independently of the client: printed strings, '.' and leading zeros out. */
  static checksum(bids: [string, string][], asks: [string, string][]): number {
    const s = (l: [string, string]) => l[0].replace('.', '').replace(/^0+/, '') + l[1].replace('.', '').replace(/^0+/, '');
    return crc32(asks.slice(0, 10).map(s).join('') + bids.slice(0, 10).map(s).join('')) >>> 0;
  }

  private bookFrame(type: 'snapshot' | 'update', symbol: string, bids: [string, string][], asks: [string, string][], checksum: number): string {
    const lv = (l: [string, string]) => `{"price":${l[0]},"qty":${l[1]}}`;
    return `{"channel":"book","type":"${type}","data":[{"symbol":"${symbol}","bids":[${bids.map(lv).join(',')}],"asks":[${asks.map(lv).join(',')}],"checksum":${checksum},"timestamp":"${iso(this.now())}"}]}`;
  }

  private sendSnapshot(c: Conn, channel: string, symbol: string): void {
    if (channel === 'ohlc') {
      const rows: string[] = [];
      // minutes with trades, newest last; the current minute only once it has traded
      const curTraded = !this.quiet(symbol, this.cur) && this.step > 0;
      for (let t = curTraded ? this.cur : this.cur - MINUTE; rows.length < this.o.ohlcSnapshotRows && t >= this.historyStart(); t -= MINUTE) {
        if (this.quiet(symbol, t)) continue;
        rows.unshift(this.ohlcRow(symbol, t, t === this.cur ? this.step : this.o.stepsPerCandle));
      }
      this.send(c, `{"channel":"ohlc","type":"snapshot","timestamp":"${isoNs(this.now())}","data":[${rows.join(',')}]}`);
    } else if (channel === 'ticker') {
      this.send(c, `{"channel":"ticker","type":"snapshot","data":[${this.tickerRow(symbol)}]}`);
    } else {
      const depth = c.stats.bookDepth.get(symbol) ?? 10;
      const full = this.fullBook(symbol);
      const bids = full.bids.slice(0, depth);
      const asks = full.asks.slice(0, depth);
      c.books.set(symbol, { bids: new Map(bids), asks: new Map(asks) });
      this.send(c, this.bookFrame('snapshot', symbol, bids, asks, KrakenFake.checksum(bids, asks)));
    }
  }

  /** One step of `symbol` for one connection: ohlc and ticker updates, the book diff. */
  private emitStep(c: Conn, symbol: string): void {
    if (c.stats.subs.get('ohlc')?.has(symbol)) this.send(c, `{"channel":"ohlc","type":"update","timestamp":"${isoNs(this.now())}","data":[${this.ohlcRow(symbol, this.cur, this.step)}]}`);
    if (c.stats.subs.get('ticker')?.has(symbol)) this.send(c, `{"channel":"ticker","type":"update","data":[${this.tickerRow(symbol)}]}`);
    const sent = c.books.get(symbol);
    if (!c.stats.subs.get('book')?.has(symbol) || !sent) return;
    const depth = c.stats.bookDepth.get(symbol) ?? 10;
    const full = this.fullBook(symbol);
    const diff = (old: Map<string, string>, all: [string, string][]) => {
      const now = new Map(all.slice(0, depth));
      const inBook = new Set(all.map((l) => l[0]));
      const out: [string, string][] = [];
      // a level gone from the book is deleted; one only pushed out of the depth is not (the client truncates)
      for (const price of old.keys()) if (!now.has(price) && !inBook.has(price)) out.push([price, (0).toFixed(8)]);
      for (const [price, q] of now) if (old.get(price) !== q) out.push([price, q]);
      return { out, now };
    };
    const b = diff(sent.bids, full.bids);
    const a = diff(sent.asks, full.asks);
    if (b.out.length === 0 && a.out.length === 0) return;
    sent.bids = b.now;
    sent.asks = a.now;
    const lost = this.lose.get(symbol) ?? 0;
    if (lost > 0) {
      this.lose.set(symbol, lost - 1);
      this.faultsDone.lostBookUpdates++;
      return;
    }
    let checksum = KrakenFake.checksum([...b.now], [...a.now]);
    const bad = this.corrupt.get(symbol) ?? 0;
    if (bad > 0) {
      this.corrupt.set(symbol, bad - 1);
      this.faultsDone.corruptedChecksums++;
      checksum = (checksum ^ 0x5a5a5a5a) >>> 0;
    }
    this.send(c, this.bookFrame('update', symbol, b.out, a.out, checksum));
  }

  // ---------------------------------------------------------------- REST

  private ohlcRest(r: RecordedRequest): Reply {
    const q = r.query;
    const name = (q.get('pair') ?? '').toUpperCase();
    const pair = [...this.pairs.values()].find((p) => p.alt === name || p.key === name || p.symbol === name || p.symbol.replace('/', '') === name);
    if (!pair) return { body: fixtureText('kraken/rest_error_EQuery_unknown_asset_pair.json'), headers: { 'content-type': 'application/json' } };
    const interval = q.get('interval') ?? '1';
    if (interval !== '1') return { body: { error: ['EGeneral:Invalid arguments'] } };
    const since = q.has('since') ? Number(q.get('since')) * 1000 : 0;
    if (!Number.isFinite(since)) return { body: { error: ['EGeneral:Invalid arguments:since'] } };
    const last = this.lastClosedOpenTime();
    const newest = this.step > 0 && this.step < this.o.stepsPerCandle ? this.cur : last + MINUTE;
    // the 720 newest rows at most, committed ones after `since`, then the current (uncommitted) minute
    const from = Math.max(this.historyStart(), newest - 719 * MINUTE, Math.floor(since / MINUTE) * MINUTE + MINUTE);
    const rows: string[] = [];
    for (let t = from; t <= newest; t += MINUTE) {
      const partial = t > last;
      const w = this.wire(pair.symbol, t, partial ? (t === this.cur ? this.step : 0) : this.o.stepsPerCandle);
      rows.push(`[${t / 1000},"${w.o}","${w.h}","${w.l}","${w.c}","${w.vwap}","${w.volume}",${w.trades}]`);
    }
    return { body: `{"error":[],"result":{"${pair.key}":[${rows.join(',')}],"last":${last / 1000}}}`, headers: { 'content-type': 'application/json' } };
  }
}

// ---------------------------------------------------------------- deterministic prices

function hash32(s: string, n: number): number {
  let h = 2166136261 ^ n;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

function basePriceOf(symbol: string): number {
  return 5 + (hash32(symbol, 0) % 60_000);
}

/** Price and quantity of trade `id`: a pure function, so REST and stream always agree. */
function trade(symbol: string, id: number, priceDp: number): { price: number; qty: number } {
  const base = basePriceOf(symbol);
  const r = hash32(symbol, id) / 2 ** 32;
  const drift = 0.03 * Math.sin(id / 97) + 0.01 * Math.sin(id / 1013);
  const price = Number((base * (1 + drift + 0.004 * (r - 0.5))).toFixed(priceDp));
  const qty = Number((0.001 + (hash32(symbol, id ^ 0x5bd1e995) / 2 ** 32) * 0.5).toFixed(5));
  return { price, qty };
}

/** RFC 3339 with microseconds, as Kraken prints most times. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** RFC 3339 with nanoseconds (`interval_begin`, frame timestamps). */
function isoNs(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000000Z');
}

function rawText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}
