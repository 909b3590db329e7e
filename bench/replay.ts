// Replay server: a local Binance Spot market-stream server that sends synthesised frames at a chosen
// rate (with bursts), or as fast as each client drains them (flood), for any number of symbols.
// Frames follow the recorded shapes in testing/fixtures/binance/ (keys, order, value types: checked by
// bench/test/replay.test.ts) and carry the current time in E/T, so a point stored from a frame tells
// how long it took. REST (/api/v3/klines for backfill) is B1's BinanceFake on the same port, its clock
// kept at real time; the websocket side is ours because the fake has no rate/flood control.
//
//   node --conditions=source --import tsx bench/replay.ts --rate 5000 --burst-every 5000 --symbols 50
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { BinanceFake, unreachablePolledSources } from '@mt/testing';
import { floodPump, writeFrames, type FloodConn } from './flood.js';

const MINUTE = 60_000;
export const STREAM_KINDS = ['trade', 'aggTrade', 'bookTicker', 'ticker', 'miniTicker', 'kline_1m'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

export interface ReplayOptions {
  /** Frames per second over every subscribed stream of every connection; 0 = flood (as fast as each socket drains). */
  rate?: number;
  /** Stream kinds that get frames (others may be subscribed but stay silent). Default: all known kinds. */
  kinds?: readonly StreamKind[];
  /** A burst starts every burstEveryMs (0 = no bursts), lasts burstMs and multiplies the rate by burstFactor. */
  burstEveryMs?: number;
  burstMs?: number;
  burstFactor?: number;
  /** Sending period in rate mode. */
  tickMs?: number;
  /** Binance pings every 20 s. */
  pingIntervalMs?: number;
  /** Closed 1 m candles REST serves before start (backfill source). */
  historyMinutes?: number;
  /** Another market on the same protocol (Binance USDⓈ-M: bench/venue-floods.ts); default Binance spot. */
  market?: ReplayMarket;
  /**
   * Width of each trade's random price move, as a fraction of the price (uniform in ±walk/2). The default
   * moves a flooded symbol far faster than a real market; a smaller one gives a realistic alert firing rate.
   */
  walk?: number;
  /**
   * Keep a send record (bench/live.ts's split of the latency): per tick how long after its stamp (E/T) the
   * frames reached the socket, and for these symbols (`BTCUSDT`; a sample: a record of every frame costs the
   * replay enough to make it late) the send time of every price and bid value a frame carried.
   */
  record?: ReadonlySet<string>;
}

/** What a replay with `record` saw (see ReplayOptions.record). */
export interface SendRecord {
  /** symbol (`BTCUSDT`) → value → send time (the frame's stamp) of the last frame carrying it as price (trade `p`, ticker `c`). */
  price: Map<string, Map<number, number>>;
  /** The same for bid values (bookTicker / ticker `b`). */
  bid: Map<string, Map<number, number>>;
  /** Per rate tick: [stamp, ms from the stamp until the last socket write returned, frames, bytes Node still buffers over all sockets]. */
  writes: [number, number, number, number][];
}

/** What a Binance-protocol replay sends: its REST side (a fake, which also gives each symbol's start price) and its frames. */
export interface ReplayMarket {
  fake: BinanceFake;
  /** Stream kinds it has frames for (`aggTrade`, `markPrice@1s`, …). */
  kinds: readonly string[];
  /** The frame of `kind` for `s` at `now`, undefined when that stream has nothing due now (a 1 s stream). */
  frame(kind: string, s: Sym, now: number): string | undefined;
}

export interface Sym {
  S: string;
  price: number;
  tradeId: number;
  /** Ids of the trade and aggTrade streams: consecutive per stream, as on Binance. */
  tradeSeq: number;
  aggSeq: number;
  /** Candle being built: open time, OHLC, base/quote volume, first trade id, trade count. */
  minute: number;
  o: number;
  h: number;
  l: number;
  v: number;
  q: number;
  f: number;
  n: number;
  /** The candle that just closed, sent once with x:true on the next kline frame. */
  closed?: { minute: number; o: number; h: number; l: number; c: number; v: number; q: number; f: number; n: number };
  o24: number;
  h24: number;
  l24: number;
  v24: number;
  /** Called with the send time of the next frame of this symbol (after setPrice). */
  onFrame?: (sentAt: number) => void;
  /** ReplayOptions.walk; unset: DEFAULT_WALK. */
  walk?: number;
}

interface Sub {
  stream: string;
  kind: string;
  sym: Sym;
}

interface Conn extends FloodConn {
  ws: WebSocket;
  combined: boolean;
  streams: Set<string>;
  /** Streams that get frames, round-robin. */
  emit: Sub[];
  next: number;
  /** Fractional frames owed in rate mode. */
  owed: number;
  /** Frames not sent because the client was too slow to drain (rate mode). */
  skipped: number;
  ping: NodeJS.Timeout;
}

/** Socket buffer above which rate mode skips a client's frames. */
const SLOW_CLIENT = 8 << 20;
/** ReplayOptions.walk's default: each trade moves the price by up to ±5 bp. */
export const DEFAULT_WALK = 0.001;
const STREAM_RE = /^([a-z0-9]+)@([A-Za-z0-9_@]+)$/;

export class ReplayServer {
  readonly fake: BinanceFake;
  private readonly market: ReplayMarket;
  private readonly o: Required<Omit<ReplayOptions, 'market'>>;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly conns = new Set<Conn>();
  private readonly syms = new Map<string, Sym>();
  private readonly kinds: Set<string>;
  private timer: NodeJS.Timeout | undefined;
  private restClock: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private readonly startedAt = Date.now();
  /** Frames sent by connections already closed. */
  private sentClosed = 0;
  private skippedClosed = 0;
  private rec: SendRecord | undefined;

  constructor({ market, ...opts }: ReplayOptions = {}) {
    this.o = {
      rate: 1000,
      kinds: STREAM_KINDS,
      burstEveryMs: 0,
      burstMs: 200,
      burstFactor: 10,
      tickMs: 10,
      pingIntervalMs: 20_000,
      historyMinutes: 1500,
      walk: DEFAULT_WALK,
      record: new Set(),
      ...opts,
    };
    // One candle per advance(): the REST clock is moved once per real minute (see listen()).
    this.market = market ?? { fake: new BinanceFake(replayFakeOptions(this.o.historyMinutes)), kinds: STREAM_KINDS, frame: (kind, s, now) => frameData(kind as StreamKind, s, now) };
    this.kinds = new Set(opts.kinds ?? this.market.kinds);
    if (opts.record) this.rec = { price: new Map(), bid: new Map(), writes: [] };
    this.fake = this.market.fake;
    const server = this.fake.http.httpServer;
    // The fake's own websocket handler is replaced: its frames follow its accelerated market clock.
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  get wsUrl(): string {
    return this.fake.wsUrl;
  }
  get restUrl(): string {
    return this.fake.restUrl;
  }
  get port(): number {
    return this.fake.port;
  }

  async listen(port = 0, host?: string): Promise<this> {
    await this.fake.listen(port, host);
    // REST history ends at the minute before start; move it with real time so a later backfill finds candles.
    const catchUp = () => {
      while (this.fake.lastClosedOpenTime() < Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE) this.fake.advance();
    };
    this.restClock = setInterval(catchUp, 1000);
    this.setRate(this.o.rate);
    return this;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.restClock) clearInterval(this.restClock);
    for (const c of [...this.conns]) c.ws.terminate();
    this.wss.close();
    await this.fake.close();
  }

  /** Change the rate while running (0 = flood). */
  setRate(rate: number): void {
    this.o.rate = rate;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (rate > 0) {
      this.lastTick = Date.now();
      this.timer = setInterval(() => this.tick(), this.o.tickMs);
    } else for (const c of this.conns) this.flood(c);
  }

  /**
   * Make the next frames of `symbol` (`BTC/USDT` or `BTCUSDT`) trade at `price` (e.g. to cross an alert
   * threshold); resolves with the send time of the first frame at that price.
   */
  setPrice(symbol: string, price: number): Promise<number> {
    const s = this.sym(symbol.replace('/', '').toUpperCase());
    s.price = price;
    return new Promise((resolve) => (s.onFrame = resolve));
  }

  /** The market state of `S` (`BTCUSDT`), made on first use. */
  symbol(S: string): Sym {
    return this.sym(S);
  }

  /** Where `symbol` trades now (its first frames, before anything was sent: the REST history's last close). */
  priceOf(symbol: string): number {
    return this.sym(symbol.replace('/', '').toUpperCase()).price;
  }

  stats(): { connections: number; streams: number; sent: number; skipped: number; uptimeMs: number } {
    let sent = this.sentClosed;
    let skipped = this.skippedClosed;
    let streams = 0;
    for (const c of this.conns) {
      sent += c.sent;
      skipped += c.skipped;
      streams += c.streams.size;
    }
    return { connections: this.conns.size, streams, sent, skipped, uptimeMs: Date.now() - this.startedAt };
  }

  /** The send record so far (ReplayOptions.record), started afresh. */
  takeRecord(): SendRecord | undefined {
    const r = this.rec;
    if (r) this.rec = { price: new Map(), bid: new Map(), writes: [] };
    return r;
  }

  /** The open connections: URL and the SUBSCRIBE messages their client sent (for a floor client to replay). */
  openConnections(): { url: string; send: string[] }[] {
    return [...this.conns].map((c) => ({ url: `ws://127.0.0.1:${this.port}${c.url}`, send: c.control.filter((m) => m.includes('"SUBSCRIBE"')) }));
  }

  // ------------------------------------------------------------------ connections

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const u = new URL(req.url ?? '/', 'http://x');
    let combined: boolean;
    let streams: string[];
    if (u.pathname === '/stream') {
      combined = true;
      streams = (u.searchParams.get('streams') ?? '').split('/').filter(Boolean);
    } else if (u.pathname === '/ws' || u.pathname.startsWith('/ws/')) {
      combined = false;
      // ccxt connects to /ws/<n> (a connection number, not a stream) and SUBSCRIBEs
      streams = u.pathname.slice(4).split('/').filter((s) => STREAM_RE.test(s));
    } else {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.url ?? '/', combined, streams));
  }

  private accept(ws: WebSocket, url: string, combined: boolean, streams: string[]): void {
    // Frames are written straight to the socket in batches (see write()): the ws per-message path
    // would make the server, not the client under test, the bottleneck.
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.setNoDelay(true);
    const c: Conn = {
      ws,
      socket,
      url,
      control: [],
      combined,
      streams: new Set(),
      emit: [],
      next: 0,
      owed: 0,
      sent: 0,
      skipped: 0,
      pumping: false,
      ping: setInterval(() => ws.ping(), this.o.pingIntervalMs),
    };
    this.conns.add(c);
    this.subscribe(c, streams);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const raw = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      c.control.push(raw);
      this.control(c, raw);
    });
    const end = () => {
      if (!this.conns.delete(c)) return;
      clearInterval(c.ping);
      this.sentClosed += c.sent;
      this.skippedClosed += c.skipped;
    };
    ws.on('close', end);
    ws.on('error', end);
    if (this.o.rate === 0) this.flood(c);
  }

  private control(c: Conn, raw: string): void {
    let m: { method?: unknown; params?: unknown; id?: unknown };
    try {
      m = JSON.parse(raw) as typeof m;
    } catch {
      return this.reply(c, { error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' }, id: null });
    }
    const id = m.id ?? null;
    const params = Array.isArray(m.params) ? m.params.filter((p): p is string => typeof p === 'string') : [];
    switch (m.method) {
      case 'SUBSCRIBE':
        this.subscribe(c, params);
        return this.reply(c, { result: null, id });
      case 'UNSUBSCRIBE':
        for (const p of params) c.streams.delete(p);
        c.emit = c.emit.filter((s) => c.streams.has(s.stream));
        return this.reply(c, { result: null, id });
      case 'LIST_SUBSCRIPTIONS':
        return this.reply(c, { result: [...c.streams], id });
      default:
        return this.reply(c, { error: { code: 2, msg: `Invalid request: unknown variant \`${String(m.method)}\`` }, id });
    }
  }

  private reply(c: Conn, body: unknown): void {
    writeFrames(c, [JSON.stringify(body)]);
  }

  private subscribe(c: Conn, streams: string[]): void {
    for (const stream of streams) {
      const m = STREAM_RE.exec(stream);
      if (!m || c.streams.has(stream)) continue;
      c.streams.add(stream);
      const kind = m[2]!;
      if (this.kinds.has(kind)) c.emit.push({ stream, kind, sym: this.sym(m[1]!.toUpperCase()) });
    }
  }

  private sym(S: string): Sym {
    let s = this.syms.get(S);
    if (s) return s;
    // continue from the REST history so a backfilled chart and the live one meet
    const last = this.fake.candle(S, this.fake.lastClosedOpenTime());
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    const price = last.close;
    s = { S, price, tradeId: last.lastTradeId + 1, tradeSeq: last.lastTradeId + 1, aggSeq: 1, minute, o: price, h: price, l: price, v: 0, q: 0, f: last.lastTradeId + 1, n: 0, o24: price, h24: price * 1.01, l24: price * 0.99, v24: 1000, walk: this.o.walk };
    this.syms.set(S, s);
    return s;
  }

  // ------------------------------------------------------------------ sending

  private burstNow(now: number): boolean {
    return this.o.burstEveryMs > 0 && (now - this.startedAt) % this.o.burstEveryMs < this.o.burstMs;
  }

  /** Rate mode: spread this period's frames over all emitting streams in proportion to their number. */
  private tick(): void {
    const now = Date.now();
    const dt = now - this.lastTick;
    this.lastTick = now;
    let total = 0;
    for (const c of this.conns) total += c.emit.length;
    if (total === 0) return;
    const budget = ((this.o.rate * dt) / 1000) * (this.burstNow(now) ? this.o.burstFactor : 1);
    let frames = 0;
    for (const c of this.conns) {
      if (c.emit.length === 0) continue;
      c.owed += (budget * c.emit.length) / total;
      const n = Math.floor(c.owed);
      if (n === 0) continue;
      c.owed -= n;
      if (c.socket.writableLength > SLOW_CLIENT) {
        c.skipped += n;
        continue;
      }
      writeFrames(c, this.frames(c, n, now));
      frames += n;
    }
    if (this.rec && frames) {
      let buffered = 0;
      for (const c of this.conns) buffered += c.socket.writableLength;
      this.rec.writes.push([now, Date.now() - now, frames, buffered]);
    }
  }

  /** Flood mode: keep the socket's buffer full; refill on 'drain'. */
  private flood(c: Conn): void {
    if (this.o.rate !== 0) return;
    floodPump(
      c,
      () => this.conns.has(c) && this.o.rate === 0,
      (n) => (c.emit.length > 0 ? this.frames(c, n, Date.now()) : []),
    );
  }

  private frames(c: Conn, n: number, now: number): string[] {
    const out: string[] = [];
    const len = c.emit.length;
    // a stream with nothing due (a 1 s stream) is passed over; at most one lap of them per batch
    for (let tries = 0; out.length < n && tries < n + len; tries++) {
      const sub = c.emit[c.next++ % len]!;
      const data = this.market.frame(sub.kind, sub.sym, now);
      if (data === undefined) continue;
      if (this.rec && this.o.record.has(sub.sym.S)) this.recordFrame(sub.kind, sub.sym, now);
      if (sub.sym.onFrame) {
        sub.sym.onFrame(now);
        sub.sym.onFrame = undefined;
      }
      out.push(c.combined ? `{"stream":"${sub.stream}","data":${data}}` : data);
    }
    if (c.next > 1e9) c.next %= len;
    return out;
  }

  /** The values frameData just put in a frame of `kind` (px-rounded as the frame carries them). */
  private recordFrame(kind: string, s: Sym, now: number): void {
    const put = (m: Map<string, Map<number, number>>, v: number) => {
      let bySym = m.get(s.S);
      if (!bySym) m.set(s.S, (bySym = new Map()));
      bySym.set(Number(px(v)), now);
    };
    const tick = s.price >= 1 ? 0.01 : 1e-6;
    if (kind === 'trade' || kind === 'aggTrade' || kind === 'ticker') put(this.rec!.price, s.price);
    if (kind === 'bookTicker' || kind === 'ticker') put(this.rec!.bid, s.price - tick);
  }
}

/** The BinanceFake behind a replay: one candle per advance(), no connection or weight limits. */
export function replayFakeOptions(historyMinutes = 1500) {
  return { autoStart: false, stepsPerCandle: 1, historyMinutes, maxConnectionsPer5Min: 1e9, weightLimit: 1e9 };
}

// -------------------------------------------------------------------- market model and frames

/**
 * One market step for `s`: a trade happens (random walk, ~5 bp), the 1 m candle of the real minute and the
 * 24 h figures move; returns the trade's quantity and id. Shared with the other venues' floods (bench/venue-floods.ts).
 */
export function marketStep(s: Sym, now: number): { qty: number; t: number } {
  const minute = now - (now % MINUTE);
  if (minute !== s.minute) {
    if (s.n > 0) s.closed = { minute: s.minute, o: s.o, h: s.h, l: s.l, c: s.price, v: s.v, q: s.q, f: s.f, n: s.n };
    s.minute = minute;
    s.o = s.h = s.l = s.price;
    s.v = s.q = s.n = 0;
    s.f = s.tradeId;
  }
  // random walk, ~5 bp per trade by default, kept away from zero
  s.price = Math.max(s.price * (1 + (Math.random() - 0.5) * (s.walk ?? DEFAULT_WALK)), 1e-6);
  const qty = 0.001 + Math.random() * 0.5;
  const t = s.tradeId++;
  if (s.n === 0) s.o = s.price;
  s.h = Math.max(s.h, s.price);
  s.l = Math.min(s.l, s.price);
  s.v += qty;
  s.q += qty * s.price;
  s.n++;
  s.h24 = Math.max(s.h24, s.price);
  s.l24 = Math.min(s.l24, s.price);
  s.v24 += qty;
  return { qty, t };
}

/** One market step for `s` (a trade happens), then the frame of `kind`. Exported for the shape test. */
export function frameData(kind: StreamKind, s: Sym, now: number): string {
  const { qty, t } = marketStep(s, now);
  const p = px(s.price);
  const S = s.S;
  switch (kind) {
    case 'trade':
      // every frame is a market step, but a trade stream's ids are consecutive on Binance: its own sequence,
      // so the feeder's trade-id continuity check does not count a gap per frame (a cost real data lacks)
      return `{"e":"trade","E":${now},"s":"${S}","t":${s.tradeSeq++},"p":"${p}","q":"${px(qty)}","T":${now},"m":${(t & 1) === 1},"M":true}`;
    case 'aggTrade':
      return `{"e":"aggTrade","E":${now},"s":"${S}","a":${s.aggSeq++},"p":"${p}","q":"${px(qty)}","f":${t},"l":${t},"T":${now},"m":${(t & 1) === 1},"M":true}`;
    case 'bookTicker': {
      const tick = s.price >= 1 ? 0.01 : 1e-6;
      return `{"u":${t * 3},"s":"${S}","b":"${px(s.price - tick)}","B":"1.25000000","a":"${px(s.price + tick)}","A":"0.75000000"}`;
    }
    case 'miniTicker':
      return `{"e":"24hrMiniTicker","E":${now},"s":"${S}","c":"${p}","o":"${px(s.o24)}","h":"${px(s.h24)}","l":"${px(s.l24)}","v":"${px(s.v24)}","q":"${px(s.v24 * s.price)}"}`;
    case 'ticker': {
      const tick = s.price >= 1 ? 0.01 : 1e-6;
      const chg = s.price - s.o24;
      return (
        `{"e":"24hrTicker","E":${now},"s":"${S}","p":"${px(chg)}","P":"${((chg / s.o24) * 100).toFixed(3)}","w":"${px((s.h24 + s.l24) / 2)}",` +
        `"x":"${px(s.o24)}","c":"${p}","Q":"${px(qty)}","b":"${px(s.price - tick)}","B":"1.25000000","a":"${px(s.price + tick)}","A":"0.75000000",` +
        `"o":"${px(s.o24)}","h":"${px(s.h24)}","l":"${px(s.l24)}","v":"${px(s.v24)}","q":"${px(s.v24 * s.price)}","O":${now - 86_400_000},"C":${now},"F":${t - 100_000},"L":${t},"n":100001}`
      );
    }
    case 'kline_1m':
      return klineData(s, now);
  }
}

/** The kline_1m frame of `s` (the closed candle once after the minute turned, else the open one); futures send the same shape. */
export function klineData(s: Sym, now: number): string {
  const S = s.S;
  const k = s.closed ?? { minute: s.minute, o: s.o, h: s.h, l: s.l, c: s.price, v: s.v, q: s.q, f: s.f, n: s.n };
  const x = s.closed !== undefined;
  s.closed = undefined;
  return (
    `{"e":"kline","E":${now},"s":"${S}","k":{"t":${k.minute},"T":${k.minute + MINUTE - 1},"s":"${S}","i":"1m","f":${k.f},"L":${k.f + k.n - 1},` +
    `"o":"${px(k.o)}","c":"${px(k.c)}","h":"${px(k.h)}","l":"${px(k.l)}","v":"${px(k.v)}","n":${k.n},"x":${x},"q":"${px(k.q)}",` +
    `"V":"${px(k.v / 2)}","Q":"${px(k.q / 2)}","B":"0"}}`
  );
}

/** A fresh symbol state for tests. */
export function newSym(S: string, price: number, now = Date.now()): Sym {
  const minute = now - (now % MINUTE);
  return { S, price, tradeId: 1, tradeSeq: 1, aggSeq: 1, minute, o: price, h: price, l: price, v: 0, q: 0, f: 1, n: 0, o24: price, h24: price, l24: price, v24: 0 };
}

export function px(n: number): string {
  return n.toFixed(8);
}

/** `n` symbols in our form: real Binance pairs first, then synthetic `S0001/USDT`… */
export function benchSymbols(n: number): string[] {
  const real = ['BTC', 'ETH', 'BNB', 'SOL', 'XRP', 'DOGE', 'ADA', 'TRX', 'AVAX', 'LINK', 'DOT', 'LTC', 'BCH', 'NEAR', 'UNI', 'ATOM', 'XLM', 'ETC', 'FIL', 'APT'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(i < real.length ? `${real[i]}/USDT` : `S${String(i).padStart(4, '0')}/USDT`);
  return out;
}

/** WATCH_SYMBOLS for `n` symbols. */
export function watchSymbols(n: number): string {
  return benchSymbols(n)
    .map((s) => `${s}:crypto`)
    .join(',');
}

/** The market feeder's environment for `n` symbols streamed by `replay`, writing to `influxUrl` (1.x). */
export async function replayFeederEnv(replay: Pick<ReplayServer, 'wsUrl' | 'restUrl'>, influxUrl: string, n: number, over: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    INFLUX_URL: influxUrl,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    WATCH_SYMBOLS: watchSymbols(n),
    BINANCE_WS_URL: replay.wsUrl,
    BINANCE_REST_URL: replay.restUrl,
    BACKFILL_HOURS: '0',
    ...(await unreachablePolledSources()),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    ...over,
  };
}

// -------------------------------------------------------------------- CLI

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      rate: { type: 'string', default: '1000' },
      kinds: { type: 'string' },
      'burst-every': { type: 'string', default: '0' },
      'burst-ms': { type: 'string', default: '200' },
      'burst-factor': { type: 'string', default: '10' },
      symbols: { type: 'string', default: '20' },
    },
  });
  const replay = await new ReplayServer({
    rate: Number(values.rate),
    kinds: values.kinds ? (values.kinds.split(',') as StreamKind[]) : undefined,
    burstEveryMs: Number(values['burst-every']),
    burstMs: Number(values['burst-ms']),
    burstFactor: Number(values['burst-factor']),
  }).listen(Number(values.port));
  process.stdout.write(`BINANCE_WS_URL=${replay.wsUrl}\nBINANCE_REST_URL=${replay.restUrl}\nWATCH_SYMBOLS=${watchSymbols(Number(values.symbols))}\n`);
  const t = setInterval(() => process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), ...replay.stats() })}\n`), 10_000);
  const stop = () => {
    clearInterval(t);
    void replay.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) await cli();
