// A local Binance Spot server that speaks the real protocol (docs: testing/fixtures/binance/docs_*,
// limits: testing/fixtures/LIMITS.md): combined streams `/stream?streams=a/b`, raw `/ws[/<stream>]`,
// live SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS, server pings that must be ponged, the 5 incoming
// messages/s and 1024 streams/connection limits, `serverShutdown`, and REST `/api/v3/klines` on the same
// port, and the diff depth stream `<sym>@depth@100ms` with REST `/api/v3/depth` snapshots that agree with
// it (update ids `U`/`u` as documented; frame shape of the recorded binance_depth fixtures). Behind it a deterministic simulated market whose 1-minute candles run on an accelerated clock,
// so a test covers "many minutes" in seconds and can compare what was stored with `closedCandles()`.
// Frame shapes follow the recorded fixtures `ws_combined_*.json` (trade in the current format, without
// the retired `b`/`a` fields).
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { HttpFake, type Fault, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';
import { MinuteClock } from './minute-clock.js';

const MINUTE = 60_000;
/** Trade ids per radian of the slow price drift (one period ≈ 17.7 h at the default 6 trades a candle). */
const SLOW_DRIFT_IDS = 1013;

export interface BinanceFakeOptions {
  /** Listed symbols in REST form (`BTCUSDT`). REST answers -1121 for others. Default: every symbol. */
  symbols?: string[];
  /** Real milliseconds per simulated 1-minute candle. Default 200. */
  candleMs?: number;
  /** Kline updates per candle; the last one carries `x: true`. Default 3. */
  stepsPerCandle?: number;
  /** Trades per update step. Default 2. */
  tradesPerStep?: number;
  /**
   * Simulated open time of the first live candle (minute aligned). Default: the current minute, so the
   * candles fall inside a real InfluxDB's retention (the accelerated clock then runs ahead of real time).
   */
  startTime?: number;
  /** Closed candles that exist before `startTime` (served by REST only). Default 1500. */
  historyMinutes?: number;
  /** Real ms between server ping frames (Binance: 20 s). Default 3000. */
  pingIntervalMs?: number;
  /** Close a connection that has not ponged for this long (Binance: 60 s). Default 60000. */
  pongTimeoutMs?: number;
  /** Incoming messages (text, ping, pong) per second before disconnect. Default 5. */
  maxIncomingPerSecond?: number;
  /** Streams per connection. Default 1024. */
  maxStreamsPerConnection?: number;
  /** Real ms after which the server closes a connection (Binance: 24 h). Default 24 h. */
  maxConnectionAgeMs?: number;
  /** New connections per 5 minutes (Binance: 300); above it the upgrade gets HTTP 429. */
  maxConnectionsPer5Min?: number;
  /** REST request weight per minute before 429 (Binance: 6000). */
  weightLimit?: number;
  /** Retry-After seconds of the automatic 418 ban when a client continues after a 429. Default 120. */
  banSeconds?: number;
  /** Start the market clock in listen(). Default true. */
  autoStart?: boolean;
}

/** A candle as the exchange knows it, numbers exactly as they parse from the wire strings. */
export interface FakeCandle {
  symbol: string;
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  firstTradeId: number;
  lastTradeId: number;
}

export interface ControlMessage {
  at: number;
  raw: string;
  method?: string;
  params?: unknown;
  id?: unknown;
}

export interface BinanceConnStats {
  id: number;
  /** `combined` for /stream, `raw` for /ws. */
  kind: 'combined' | 'raw';
  url: string;
  openedAt: number;
  closedAt?: number;
  /** Why the server side ended it (`client`, `rate_limit`, `pong_timeout`, `max_age`, `dropped`, `shutdown`, `server_closed`). */
  closeReason?: string;
  streams: Set<string>;
  /** Every incoming text message, in order. */
  control: ControlMessage[];
  /** Incoming text + ping + pong messages. */
  incoming: number;
  pongs: number;
  pingsSent: number;
  framesSent: number;
  /** Most incoming messages seen within any 1 s window. */
  maxIncomingPerSecond: number;
  /** Error frames sent back. */
  errors: { code: number; msg: string; id: unknown }[];
  stalled: boolean;
}

export interface Conn {
  ws: WebSocket;
  stats: BinanceConnStats;
  recent: number[];
  awaitingPongSince?: number;
  timers: NodeJS.Timeout[];
}

const STREAM_RE =
  /^([a-z0-9]+)@(trade|aggTrade|bookTicker|ticker|miniTicker|avgPrice|kline_(1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M)|ticker_(1h|4h|1d)|depth(5|10|20)?(@100ms|@1000ms)?)$/;
const ALL_MARKET_STREAMS = new Set(['!miniTicker@arr', '!ticker_1h@arr', '!ticker_4h@arr', '!ticker_1d@arr']);

export function isValidBinanceStream(name: string): boolean {
  return STREAM_RE.test(name) || ALL_MARKET_STREAMS.has(name);
}

export class BinanceFake {
  readonly http: HttpFake;
  readonly connections: BinanceConnStats[] = [];
  readonly o: Required<Omit<BinanceFakeOptions, 'symbols'>> & { symbols?: Set<string> };
  private wss = new WebSocketServer({ noServer: true });
  protected live = new Set<Conn>();
  private readonly clock: MinuteClock;
  private nextConnId = 1;
  private upgrades: number[] = [];
  private weight = { windowStart: Date.now(), used: 0 };
  private rateLimitedUntil = 0;
  private refusals: { status: number; times: number } | undefined;
  /** Per symbol (REST form) that anyone asked depth of: the exchange's full book and its last update id. */
  protected depthBooks = new Map<string, FakeDepthBook>();
  /** Symbols whose next depth diff is applied but not sent (a lost frame: the client must resync). */
  protected skipDepth = new Set<string>();
  /** Symbols whose next depth diff carries a bid at the best ask, never applied to the exchange's book (a corrupt frame). */
  protected crossDepth = new Set<string>();

  constructor(opts: BinanceFakeOptions = {}) {
    const { symbols, ...rest } = opts;
    this.o = {
      candleMs: 200,
      stepsPerCandle: 3,
      tradesPerStep: 2,
      startTime: Math.floor(Date.now() / MINUTE) * MINUTE,
      historyMinutes: 1500,
      pingIntervalMs: 3000,
      pongTimeoutMs: 60_000,
      maxIncomingPerSecond: 5,
      maxStreamsPerConnection: 1024,
      maxConnectionAgeMs: 24 * 3600_000,
      maxConnectionsPer5Min: 300,
      weightLimit: 6000,
      banSeconds: 120,
      autoStart: true,
      ...rest,
      symbols: symbols ? new Set(symbols.map((s) => s.toUpperCase())) : undefined,
    };
    this.clock = new MinuteClock(this.o, () => this.onStep());
    this.http = new HttpFake('binance');
    this.registerRoutes(this.http);
    this.http.httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** The REST routes (a subclass for another Binance API replaces them; it may not use its own fields here). */
  protected registerRoutes(http: HttpFake): void {
    http
      .route('GET', '/api/v3/klines', (r) => this.weighed(2, () => this.klines(r)))
      .route('GET', '/api/v3/time', () => this.weighed(1, () => ({ body: { serverTime: this.now() } })))
      .route('GET', '/api/v3/ping', () => this.weighed(1, () => ({ body: {} })))
      .route('GET', '/api/v3/exchangeInfo', () => this.weighed(20, () => this.exchangeInfo()))
      .route('GET', '/api/v3/depth', (r) => {
        const limit = Number(r.query.get('limit') ?? 100);
        return this.weighed(limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250, () => this.depth(r));
      });
  }

  /** Stream names this server accepts. */
  protected isValidStream(name: string): boolean {
    return isValidBinanceStream(name);
  }

  protected klinesPath(): string {
    return '/api/v3/klines';
  }

  protected invalidSymbolFixture(): string {
    return 'binance/rest_error_invalid_symbol.json';
  }

  get port(): number {
    return this.http.port;
  }
  /** BINANCE_WS_URL */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.http.port}`;
  }
  /** BINANCE_REST_URL */
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

  /** Open time of the candle being built. */
  protected get cur(): number {
    return this.clock.cur;
  }

  /** How many of its steps happened (stepsPerCandle = closed). */
  protected get step(): number {
    return this.clock.step;
  }

  /** Simulated exchange time (ms). */
  now(): number {
    return this.clock.now();
  }

  /** Run the clock: one step every candleMs / stepsPerCandle real ms. */
  resume(): void {
    this.clock.resume();
  }

  pause(): void {
    this.clock.pause();
  }

  /** One market step by hand (e.g. with autoStart: false). */
  advance(): void {
    this.clock.advance();
  }

  /** A step: trades, book, tickers and a kline update of every followed symbol. */
  private onStep(): void {
    const symbols = new Set<string>();
    for (const c of this.live) for (const s of c.stats.streams) symbols.add(s.split('@')[0]!);
    for (const sym of symbols) if (!this.o.symbols || this.o.symbols.has(sym.toUpperCase())) this.emitStep(sym);
  }

  /** Every closed 1 m candle from the start of history up to now, in order. */
  closedCandles(symbol: string, fromOpenTime = this.historyStart()): FakeCandle[] {
    const out: FakeCandle[] = [];
    const last = this.lastClosedOpenTime();
    for (let t = Math.max(fromOpenTime, this.historyStart()); t <= last; t += MINUTE) out.push(this.candle(symbol, t, this.tradesPerCandle()));
    return out;
  }

  /** Open time of the newest closed candle. */
  lastClosedOpenTime(): number {
    return this.clock.lastClosedOpenTime();
  }

  historyStart(): number {
    return this.o.startTime - this.o.historyMinutes * MINUTE;
  }

  /**
   * For price-alert tests (pause the market first): a threshold above every price of the current candle and
   * the `slack` after it, which a later candle then trades above; prices are deterministic, so the future
   * is known. `crossingCandle` = how many candles from now that happens.
   */
  upwardCrossing(symbol: string, slack = 2): { threshold: number; crossingCandle: number } {
    const cur = Math.floor(this.now() / MINUTE) * MINUTE;
    let ceiling = -Infinity;
    for (let k = 0; k <= slack; k++) ceiling = Math.max(ceiling, this.candle(symbol, cur + k * MINUTE).high);
    for (let k = slack + 1; k < 500; k++) {
      const c = this.candle(symbol, cur + k * MINUTE);
      if (c.high > ceiling * 1.0002) return { threshold: Number(((ceiling + c.high) / 2).toFixed(2)), crossingCandle: k };
      ceiling = Math.max(ceiling, c.high);
    }
    throw new Error(`no upward crossing of ${symbol} in the next 500 simulated minutes`);
  }

  /**
   * A `startTime` from which the slow drift rises for the next ~9 simulated hours: the first minute at or after
   * `from` where it is at its trough. Price-alert tests start there so `upwardCrossing` finds a crossing soon
   * wherever the test pauses; from an arbitrary start the price can fall for hours and none exists.
   */
  static risingStartTime(from = Date.now(), o: { stepsPerCandle?: number; tradesPerStep?: number } = {}): number {
    const perCandle = (o.stepsPerCandle ?? 3) * (o.tradesPerStep ?? 2);
    const m = Math.ceil(from / MINUTE);
    const behind = (((-Math.PI / 2 - (m * perCandle) / SLOW_DRIFT_IDS) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
    return (m + Math.ceil((behind * SLOW_DRIFT_IDS) / perCandle)) * MINUTE;
  }

  /** The candle (symbol in any case, with or without `/`) as known after `revealed` trades. */
  candle(symbol: string, openTime: number, revealed = this.tradesPerCandle()): FakeCandle {
    const sym = norm(symbol);
    const first = this.firstTradeId(openTime);
    let open = 0;
    let high = -Infinity;
    let low = Infinity;
    let close = 0;
    let volume = 0;
    let quote = 0;
    for (let i = 0; i < revealed; i++) {
      const { price, qty } = trade(sym, first + i);
      if (i === 0) open = price;
      high = Math.max(high, price);
      low = Math.min(low, price);
      close = price;
      volume += qty;
      quote += price * qty;
    }
    return {
      symbol: sym,
      openTime,
      closeTime: openTime + MINUTE - 1,
      open,
      high,
      low,
      close,
      volume: fix8(volume),
      quoteVolume: fix8(quote),
      trades: revealed,
      firstTradeId: first,
      lastTradeId: first + revealed - 1,
    };
  }

  // ---------------------------------------------------------------- faults

  /** Drop every open connection (TCP reset, no close frame). */
  dropAll(): number {
    const n = this.live.size;
    for (const c of [...this.live]) this.end(c, 'dropped', true);
    return n;
  }

  /** Stop sending anything (data and pings) on every open connection; sockets stay open. */
  stallAll(): number {
    for (const c of this.live) c.stats.stalled = true;
    return this.live.size;
  }

  /** Send `serverShutdown` to every open connection, then close them after graceMs. */
  serverShutdown(graceMs = 500): void {
    const data = { e: 'serverShutdown', E: this.now() };
    for (const c of [...this.live]) {
      this.send(c, c.stats.kind === 'combined' ? JSON.stringify({ stream: '!serverShutdown', data }) : JSON.stringify(data));
      c.timers.push(setTimeout(() => this.end(c, 'shutdown', false), graceMs));
    }
  }

  /** Send text verbatim to every open connection (e.g. malformed frames). */
  broadcastRaw(text: string): void {
    for (const c of this.live) this.send(c, text);
  }

  /** A few kinds of malformed frames: truncated JSON, wrong field types, a kline without `k`. */
  sendMalformed(): number {
    const frames = [
      '{"stream":"btcusdt@trade","data":{"e":"trade","E":1592591955766,"s":"BTCUSDT","t":3437',
      JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'trade', E: this.now(), s: 'BTCUSDT', t: 'x', p: 'not-a-price', q: '1', T: this.now() } }),
      JSON.stringify({ stream: 'btcusdt@kline_1m', data: { e: 'kline', E: this.now(), s: 'BTCUSDT' } }),
      'not json at all',
    ];
    for (const f of frames) this.broadcastRaw(f);
    return frames.length;
  }

  /** An event type the client does not know (shape of a real depthUpdate, renamed). */
  sendUnknownEvent(): void {
    const data = { ...fixtureJson<{ data: Record<string, unknown> }>('binance/ws_combined_depthUpdate_100ms.json').data, e: 'someNewEvent', E: this.now() };
    for (const c of this.live) this.send(c, c.stats.kind === 'combined' ? JSON.stringify({ stream: 'btcusdt@someNewEvent', data }) : JSON.stringify(data));
  }

  /** The next `times` REST requests to `path` answer 429 or 418 with Retry-After (seconds) and the real error body. */
  failRest(status: 429 | 418, opts: { retryAfterSec?: number; times?: number; path?: string } = {}): void {
    const body = fixtureJson(status === 429 ? 'binance/rest_error_429_too_much_weight.json' : 'binance/rest_error_418_ip_banned.json');
    const fault: Fault = { kind: 'status', status, body, retryAfter: opts.retryAfterSec ?? 1 };
    this.http.fail(fault, { times: opts.times ?? 1, path: opts.path ?? this.klinesPath() });
  }

  /** Refuse the next `times` websocket upgrades with an HTTP status (e.g. 503 during maintenance). */
  refuseConnections(times: number, status = 503): void {
    this.refusals = { status, times };
  }

  /** Connections currently open. */
  /**
   * The next depth diff of `symbol` (`BTCUSDT`) carries, besides its real levels, a bid one tick above the
   * best ask that the exchange's own book never gets: the client's book crosses and must resync.
   */
  sendCrossedDepthUpdate(symbol: string): void {
    this.crossDepth.add(norm(symbol));
  }

  /** The next depth diff of `symbol` (`BTCUSDT`) is lost: applied on the exchange, never sent. */
  skipDepthUpdate(symbol: string): void {
    this.skipDepth.add(norm(symbol));
  }

  /** The exchange's book of `symbol` now: best levels first, and its last update id. */
  depthBook(symbol: string): { lastUpdateId: number; bids: [number, number][]; asks: [number, number][] } | undefined {
    const b = this.depthBooks.get(norm(symbol));
    if (!b) return undefined;
    return { lastUpdateId: b.u, bids: sortedLevels(b.bids, true).map(([p, q]) => [Number(p), Number(q)]), asks: sortedLevels(b.asks, false).map(([p, q]) => [Number(p), Number(q)]) };
  }

  openConnections(): BinanceConnStats[] {
    return [...this.live].map((c) => c.stats);
  }

  // ---------------------------------------------------------------- websocket protocol

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number, body: string) => {
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (this.refusals && this.refusals.times-- > 0) return refuse(this.refusals.status, 'refused by test');
    const now = Date.now();
    this.upgrades = this.upgrades.filter((t) => now - t < 5 * MINUTE);
    if (this.upgrades.length >= this.o.maxConnectionsPer5Min) return refuse(429, 'too many connection attempts');
    this.upgrades.push(now);

    let kind: 'combined' | 'raw';
    let streams: string[];
    if (u.pathname === '/stream') {
      kind = 'combined';
      streams = (u.searchParams.get('streams') ?? '').split('/').filter(Boolean);
    } else if (u.pathname === '/ws' || u.pathname.startsWith('/ws/')) {
      kind = 'raw';
      streams = u.pathname.slice(4).split('/').filter(Boolean);
    } else return refuse(400, 'unknown path');
    if (streams.some((s) => !this.isValidStream(s))) return refuse(400, 'invalid stream name');
    if (streams.length > this.o.maxStreamsPerConnection) return refuse(400, 'too many streams');

    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, kind, streams, req.url ?? ''));
  }

  private accept(ws: WebSocket, kind: 'combined' | 'raw', streams: string[], url: string): void {
    const stats: BinanceConnStats = {
      id: this.nextConnId++,
      kind,
      url,
      openedAt: Date.now(),
      streams: new Set(streams),
      control: [],
      incoming: 0,
      pongs: 0,
      pingsSent: 0,
      framesSent: 0,
      maxIncomingPerSecond: 0,
      errors: [],
      stalled: false,
    };
    const c: Conn = { ws, stats, recent: [], timers: [] };
    this.connections.push(stats);
    this.live.add(c);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!this.countIncoming(c)) return;
      this.onControl(c, isBinary ? '' : rawText(data));
    });
    ws.on('ping', () => this.countIncoming(c));
    ws.on('pong', () => {
      if (!this.countIncoming(c)) return;
      c.stats.pongs++;
      c.awaitingPongSince = undefined;
    });
    ws.on('close', () => this.end(c, 'client', false));
    ws.on('error', () => this.end(c, 'client', true));
    c.timers.push(
      setInterval(() => {
        if (c.stats.stalled) return;
        if (c.awaitingPongSince !== undefined && Date.now() - c.awaitingPongSince > this.o.pongTimeoutMs) return this.end(c, 'pong_timeout', false);
        c.awaitingPongSince ??= Date.now();
        c.stats.pingsSent++;
        ws.ping(String(Date.now()));
      }, this.o.pingIntervalMs),
    );
    c.timers.push(setTimeout(() => this.end(c, 'max_age', false), this.o.maxConnectionAgeMs));
  }

  /** Counts one incoming message; false when the connection was cut for exceeding the limit. */
  private countIncoming(c: Conn): boolean {
    const now = Date.now();
    c.stats.incoming++;
    c.recent = c.recent.filter((t) => now - t < 1000);
    c.recent.push(now);
    c.stats.maxIncomingPerSecond = Math.max(c.stats.maxIncomingPerSecond, c.recent.length);
    if (c.recent.length > this.o.maxIncomingPerSecond) {
      this.end(c, 'rate_limit', false);
      return false;
    }
    return true;
  }

  private onControl(c: Conn, raw: string): void {
    const rec: ControlMessage = { at: Date.now(), raw };
    c.stats.control.push(rec);
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      return this.error(c, 3, 'Invalid JSON: expected value at line 1 column 1', null);
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return this.error(c, 3, 'Invalid JSON: expected value at line 1 column 1', null);
    const m = msg as { method?: unknown; params?: unknown; id?: unknown };
    rec.method = typeof m.method === 'string' ? m.method : undefined;
    rec.params = m.params;
    rec.id = m.id;
    const idOk = m.id === null || (typeof m.id === 'number' && Number.isInteger(m.id)) || (typeof m.id === 'string' && /^[A-Za-z0-9]{1,36}$/.test(m.id));
    if (!idOk) return this.error(c, 2, 'Invalid request: request ID must be an unsigned integer', null);
    if (m.method === undefined) return this.error(c, 2, 'Invalid request: missing field `method` at line 1 column 73', m.id);
    switch (m.method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!Array.isArray(m.params) || m.params.some((p) => typeof p !== 'string' || !this.isValidStream(p))) {
          return this.error(c, 2, 'Invalid request: invalid stream', m.id);
        }
        const params = m.params as string[];
        if (m.method === 'SUBSCRIBE') {
          const after = new Set([...c.stats.streams, ...params]);
          // The documented limit is 1024 streams per connection; the wire text of this refusal is not documented.
          if (after.size > this.o.maxStreamsPerConnection) return this.error(c, 2, 'Invalid request: too many streams', m.id);
          c.stats.streams = after;
        } else for (const p of params) c.stats.streams.delete(p);
        return this.reply(c, { result: null, id: m.id });
      }
      case 'LIST_SUBSCRIPTIONS':
        return this.reply(c, { result: [...c.stats.streams], id: m.id });
      case 'GET_PROPERTY':
        if (m.params !== undefined && JSON.stringify(m.params) === '["combined"]') return this.reply(c, { result: c.stats.kind === 'combined', id: m.id });
        return this.error(c, 0, 'Unknown property', m.id);
      case 'SET_PROPERTY': {
        const p = m.params as unknown[];
        if (!Array.isArray(p) || p[0] !== 'combined') return this.error(c, 0, 'Unknown property', m.id);
        if (typeof p[1] !== 'boolean') return this.error(c, 1, 'Invalid value type: expected Boolean', m.id);
        c.stats.kind = p[1] ? 'combined' : 'raw';
        return this.reply(c, { result: null, id: m.id });
      }
      default:
        return this.error(
          c,
          2,
          `Invalid request: unknown variant \`${String(m.method)}\`, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\` at line 1 column 28`,
          m.id,
        );
    }
  }

  private reply(c: Conn, body: unknown): void {
    this.send(c, JSON.stringify(body));
  }

  private error(c: Conn, code: number, msg: string, id: unknown): void {
    c.stats.errors.push({ code, msg, id });
    this.send(c, JSON.stringify({ error: { code, msg }, id: id ?? null }));
  }

  /** False when nothing went out (stalled or closing connection). */
  protected send(c: Conn, text: string): boolean {
    if (c.stats.stalled || c.ws.readyState !== c.ws.OPEN) return false;
    c.stats.framesSent++;
    c.ws.send(text);
    return true;
  }

  private end(c: Conn, reason: string, hard: boolean): void {
    if (!this.live.delete(c)) return;
    c.stats.closedAt = Date.now();
    c.stats.closeReason = reason;
    for (const t of c.timers) clearTimeout(t);
    if (hard) c.ws.terminate();
    else if (c.ws.readyState === c.ws.OPEN) c.ws.close(1000);
  }

  // ---------------------------------------------------------------- market events

  protected tradesPerCandle(): number {
    return this.o.stepsPerCandle * this.o.tradesPerStep;
  }

  protected firstTradeId(openTime: number): number {
    return (openTime / MINUTE) * this.tradesPerCandle();
  }

  /** The frames of one step for one symbol (lowercase stream form), sent to every subscriber. */
  protected emitStep(sym: string): void {
    const S = sym.toUpperCase();
    const openTime = this.cur;
    const closed = this.step >= this.o.stepsPerCandle;
    const revealed = this.step * this.o.tradesPerStep;
    const E = closed ? openTime + MINUTE : this.now();
    const k = this.candle(S, openTime, revealed);
    const events = new Map<string, string[]>();
    const add = (stream: string, data: unknown) => {
      const list = events.get(stream) ?? [];
      list.push(JSON.stringify(data));
      events.set(stream, list);
    };
    for (let id = k.lastTradeId - this.o.tradesPerStep + 1; id <= k.lastTradeId; id++) {
      const { price, qty } = trade(S, id);
      const T = openTime + Math.floor(((id - k.firstTradeId + 0.5) * MINUTE) / this.tradesPerCandle());
      const buyerMaker = (id & 1) === 1;
      add(`${sym}@trade`, { e: 'trade', E: T + 1, s: S, t: id, p: px(price), q: px(qty), T, m: buyerMaker, M: true });
      add(`${sym}@aggTrade`, { e: 'aggTrade', E: T + 1, s: S, a: id, p: px(price), q: px(qty), f: id, l: id, T, m: buyerMaker, M: true });
    }
    const last = k.close;
    const tick = tickSize(last);
    add(`${sym}@bookTicker`, { u: k.lastTradeId * 3, s: S, b: px(last - tick), B: '1.25000000', a: px(last + tick), A: '0.75000000' });
    const day = this.candle(S, openTime - 1440 * MINUTE, 1);
    const o24 = day.open;
    const h24 = Math.max(o24, last) * 1.01;
    const l24 = Math.min(o24, last) * 0.99;
    const v24 = fix8(k.volume * 1440 + 1000);
    const q24 = fix8(v24 * last);
    add(`${sym}@miniTicker`, { e: '24hrMiniTicker', E, s: S, c: px(last), o: px(o24), h: px(h24), l: px(l24), v: px(v24), q: px(q24) });
    add(`${sym}@ticker`, {
      e: '24hrTicker',
      E,
      s: S,
      p: px(last - o24),
      P: (((last - o24) / o24) * 100).toFixed(3),
      w: px((h24 + l24) / 2),
      x: px(o24),
      c: px(last),
      Q: px(trade(S, k.lastTradeId).qty),
      b: px(last - tick),
      B: '1.25000000',
      a: px(last + tick),
      A: '0.75000000',
      o: px(o24),
      h: px(h24),
      l: px(l24),
      v: px(v24),
      q: px(q24),
      O: E - 86_400_000,
      C: E,
      F: k.lastTradeId - 100_000,
      L: k.lastTradeId,
      n: 100_001,
    });
    add(`${sym}@kline_1m`, this.klineData(S, k, E, closed));
    const depth = this.depthStep(S, last, tick, E, [...this.live].some((c) => c.stats.streams.has(`${sym}@depth@100ms`) || c.stats.streams.has(`${sym}@depth`)));
    if (depth) {
      add(`${sym}@depth@100ms`, depth);
      add(`${sym}@depth`, depth);
    }
    this.deliver(events);
  }

  /** A kline event (spot and futures share the shape: the recorded ws_combined_kline_1m fixtures of both). */
  protected klineData(S: string, k: FakeCandle, E: number, closed: boolean): unknown {
    return {
      e: 'kline',
      E,
      s: S,
      k: {
        t: k.openTime,
        T: k.closeTime,
        s: S,
        i: '1m',
        f: k.firstTradeId,
        L: k.lastTradeId,
        o: px(k.open),
        c: px(k.close),
        h: px(k.high),
        l: px(k.low),
        v: px(k.volume),
        n: k.trades,
        x: closed,
        q: px(k.quoteVolume),
        V: px(fix8(k.volume / 2)),
        Q: px(fix8(k.quoteVolume / 2)),
        B: '0',
      },
    };
  }

  /** Each stream's frames (JSON data) to every connection following it; the streams something went out on. */
  protected deliver(events: Map<string, string[]>): Set<string> {
    const delivered = new Set<string>();
    for (const c of this.live) {
      for (const [stream, datas] of events) {
        if (!c.stats.streams.has(stream)) continue;
        for (const d of datas) if (this.send(c, c.stats.kind === 'combined' ? `{"stream":"${stream}","data":${d}}` : d)) delivered.add(stream);
      }
    }
    return delivered;
  }

  // ---------------------------------------------------------------- REST

  protected weighed(weight: number, answer: () => Reply): Reply {
    const now = Date.now();
    if (now - this.weight.windowStart >= MINUTE) this.weight = { windowStart: now - ((now - this.weight.windowStart) % MINUTE), used: 0 };
    if (now < this.rateLimitedUntil) {
      // Continuing after a 429 gets the IP banned (418), as documented.
      return this.restError(418, 'binance/rest_error_418_ip_banned.json', this.o.banSeconds);
    }
    this.weight.used += weight;
    if (this.weight.used > this.o.weightLimit) {
      const retry = Math.ceil((this.weight.windowStart + MINUTE - now) / 1000);
      this.rateLimitedUntil = now + retry * 1000;
      return this.restError(429, 'binance/rest_error_429_too_much_weight.json', retry);
    }
    const reply = answer();
    return { ...reply, headers: { ...reply.headers, 'x-mbx-used-weight-1m': String(this.weight.used), 'x-mbx-used-weight': String(this.weight.used) } };
  }

  protected restError(status: number, fixture: string, retryAfterSec: number): Reply {
    return { status, headers: { 'retry-after': String(retryAfterSec), 'x-mbx-used-weight-1m': String(this.weight.used) }, body: fixtureJson(fixture) };
  }

  /** GET klines; `maxLimit` is the API's largest `limit` (spot 1000, USDⓈ-M futures 1500). */
  protected klines(r: RecordedRequest, maxLimit = 1000): Reply {
    const q = r.query;
    const symbol = q.get('symbol');
    if (!symbol) return { status: 400, body: { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." } };
    if (!this.knownSymbol(symbol)) return { status: 400, body: fixtureJson(this.invalidSymbolFixture()) };
    const interval = q.get('interval');
    if (!interval) return { status: 400, body: { code: -1102, msg: "Mandatory parameter 'interval' was not sent, was empty/null, or malformed." } };
    if (interval !== '1m') return { status: 400, body: { code: -1120, msg: 'Invalid interval.' } };
    const limit = q.has('limit') ? Number(q.get('limit')) : 500;
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) return { status: 400, body: { code: -1130, msg: "Data sent for parameter 'limit' is not valid." } };
    const start = q.has('startTime') ? Number(q.get('startTime')) : undefined;
    const end = q.has('endTime') ? Number(q.get('endTime')) : undefined;
    if ((start !== undefined && !Number.isFinite(start)) || (end !== undefined && !Number.isFinite(end))) {
      return { status: 400, body: { code: -1100, msg: "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'." } };
    }
    // Like the real API the list ends with the candle still open (partial), when one is.
    const openNow = this.step > 0 && this.step < this.o.stepsPerCandle;
    const newest = openNow ? this.cur : this.lastClosedOpenTime();
    const oldest = this.historyStart();
    let lo = start === undefined ? oldest : Math.max(oldest, Math.ceil(start / MINUTE) * MINUTE);
    let hi = end === undefined ? newest : Math.min(newest, Math.floor(end / MINUTE) * MINUTE);
    if (start === undefined) lo = Math.max(lo, hi - (limit - 1) * MINUTE);
    else hi = Math.min(hi, lo + (limit - 1) * MINUTE);
    const rows: unknown[][] = [];
    for (let t = lo; t <= hi; t += MINUTE) {
      const partial = openNow && t === this.cur;
      const c = this.candle(symbol, t, partial ? this.step * this.o.tradesPerStep : this.tradesPerCandle());
      rows.push([
        c.openTime,
        px(c.open),
        px(c.high),
        px(c.low),
        px(c.close),
        px(c.volume),
        c.closeTime,
        px(c.quoteVolume),
        c.trades,
        px(fix8(c.volume / 2)),
        px(fix8(c.quoteVolume / 2)),
        '0',
      ]);
    }
    return { body: rows };
  }

  protected knownSymbol(symbol: string): boolean {
    return /^[A-Z0-9-_.]{1,20}$/.test(symbol) && (!this.o.symbols || this.o.symbols.has(symbol));
  }

  /** The book of S, made on first use around the current price (20 levels a side). */
  protected depthState(S: string): FakeDepthBook {
    let b = this.depthBooks.get(S);
    if (b) return b;
    const k = this.candle(S, this.cur, Math.max(1, this.step * this.o.tradesPerStep));
    const tick = tickSize(k.close);
    b = { u: 1_000_000 + (hash32(S, 7) % 1_000_000), bids: new Map(), asks: new Map() };
    for (let i = 1; i <= 20; i++) {
      b.bids.set(px(k.close - i * tick), depthQty(S, i));
      b.asks.set(px(k.close + i * tick), depthQty(S, -i));
    }
    this.depthBooks.set(S, b);
    return b;
  }

  /**
   * One diff for S around `last`: the 5 levels nearest each side set, levels that would now cross or lie
   * beyond 40 ticks removed (quantity 0), 3 update ids per event. Applied to the exchange's book whether
   * or not anyone listens; undefined while nobody ever asked for S's depth.
   */
  protected depthStep(S: string, last: number, tick: number, E: number, subscribed: boolean): Record<string, unknown> | undefined {
    if (!subscribed && !this.depthBooks.has(S)) return undefined;
    const b = this.depthState(S);
    const pu = b.u;
    const U = this.firstUpdateId(S, pu);
    const u = U + 2;
    const bids: [string, string][] = [];
    const asks: [string, string][] = [];
    for (const p of b.bids.keys()) if (Number(p) >= last || Number(p) < last - 40 * tick) bids.push([p, '0.00000000']);
    for (const p of b.asks.keys()) if (Number(p) <= last || Number(p) > last + 40 * tick) asks.push([p, '0.00000000']);
    for (let i = 1; i <= 5; i++) {
      bids.push([px(last - i * tick), depthQty(S, u * 11 + i)]);
      asks.push([px(last + i * tick), depthQty(S, u * 13 + i)]);
    }
    for (const [p, q] of bids) if (Number(q) === 0) b.bids.delete(p); else b.bids.set(p, q);
    for (const [p, q] of asks) if (Number(q) === 0) b.asks.delete(p); else b.asks.set(p, q);
    b.u = u;
    if (this.skipDepth.delete(S)) return undefined;
    // a bid one tick above the best ask: what a corrupt or misapplied diff would leave in a client's book
    if (this.crossDepth.delete(S)) bids.push([px(Number(sortedLevels(b.asks, false)[0]![0]) + tick), '1.00000000']);
    return this.depthEvent(S, E, U, u, pu, bids, asks);
  }

  /** `U` of the next diff after the one that ended at `prevU`: spot's ids are contiguous per symbol. */
  protected firstUpdateId(_S: string, prevU: number): number {
    return prevU + 1;
  }

  /** A diff as this API sends it (spot: testing/fixtures/binance_depth). */
  protected depthEvent(S: string, E: number, U: number, u: number, _pu: number, bids: [string, string][], asks: [string, string][]): Record<string, unknown> {
    return { e: 'depthUpdate', E, s: S, U, u, b: bids, a: asks };
  }

  /** A snapshot body as this API answers it (spot: `{ lastUpdateId, bids, asks }`). */
  protected depthSnapshotBody(_S: string, b: FakeDepthBook, limit: number): Record<string, unknown> {
    return { lastUpdateId: b.u, bids: sortedLevels(b.bids, true).slice(0, limit), asks: sortedLevels(b.asks, false).slice(0, limit) };
  }

  protected depth(r: RecordedRequest, validLimit: (limit: number) => boolean = (l) => Number.isInteger(l) && l >= 1 && l <= 5000): Reply {
    const symbol = r.query.get('symbol');
    if (!symbol) return { status: 400, body: { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." } };
    if (!/^[A-Z0-9-_.]{1,20}$/.test(symbol) || (this.o.symbols && !this.o.symbols.has(symbol))) return { status: 400, body: fixtureJson('binance/rest_error_invalid_symbol.json') };
    const limit = r.query.has('limit') ? Number(r.query.get('limit')) : 100;
    if (!validLimit(limit)) return { status: 400, body: { code: -1130, msg: "Data sent for parameter 'limit' is not valid." } };
    return { body: this.depthSnapshotBody(symbol, this.depthState(symbol), limit) };
  }

  private exchangeInfo(): Reply {
    const symbols = [...(this.o.symbols ?? new Set(['BTCUSDT', 'ETHUSDT']))].map((s) => ({ symbol: s, status: 'TRADING' }));
    return {
      body: {
        timezone: 'UTC',
        serverTime: this.now(),
        rateLimits: [
          { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: this.o.weightLimit },
          { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
        ],
        symbols,
      },
    };
  }
}

// ---------------------------------------------------------------- deterministic prices

export function norm(symbol: string): string {
  return symbol.replace('/', '').toUpperCase();
}

export function hash32(s: string, n: number): number {
  let h = 2166136261 ^ n;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Price and quantity of trade `id` of `symbol`: a pure function, so REST and stream always agree. */
export function trade(symbol: string, id: number): { price: number; qty: number } {
  const base = 5 + (hash32(symbol, 0) % 60_000);
  const r = hash32(symbol, id) / 2 ** 32;
  const drift = 0.03 * Math.sin(id / 97) + 0.01 * Math.sin(id / SLOW_DRIFT_IDS);
  const price = Math.round(base * (1 + drift + 0.004 * (r - 0.5)) * 100) / 100;
  const qty = Math.round((0.001 + (hash32(symbol, id ^ 0x5bd1e995) / 2 ** 32) * 0.5) * 1e5) / 1e5;
  return { price, qty };
}

export interface FakeDepthBook {
  /** Last update id applied. */
  u: number;
  /** price string → quantity string, as on the wire. */
  bids: Map<string, string>;
  asks: Map<string, string>;
}

/** A level's quantity: deterministic, never 0. */
function depthQty(symbol: string, n: number): string {
  return px(fix8(0.01 + (hash32(symbol, n ^ 0x3c6ef372) % 100_000) / 10_000));
}

function sortedLevels(side: Map<string, string>, desc: boolean): [string, string][] {
  return [...side].sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
}

export function tickSize(price: number): number {
  return price >= 1 ? 0.01 : 0.0001;
}

export function fix8(n: number): number {
  return Number(n.toFixed(8));
}

export function px(n: number): string {
  return n.toFixed(8);
}

function rawText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
}
