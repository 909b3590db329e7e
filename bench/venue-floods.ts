// Flood servers for Binance USDⓈ-M futures, Coinbase and Kraken (docs/BENCHMARKS.md §15, "Saturated"):
// each speaks its venue's websocket protocol and sends, as fast as the client drains its socket, frames
// with the keys, key order and value types of the venue fakes of testing/src/fakes (which follow the
// recorded frames of testing/fixtures/<venue>, testing/fixtures/SOURCES.md; checked against those
// fixtures by bench/test/venue-floods.test.ts). Every frame is a market step of bench/replay.ts's model
// (random walk, 1 m candles of the real minute, the send time as exchange time); what must stay
// consistent over a whole flood does: trade and update ids consecutive per symbol, Binance futures
// depth diffs chained by `pu` with /fapi/v1/depth snapshots that fit the chain, Kraken book updates
// whose CRC32 (computed by the fake's own implementation, KrakenFake.checksum) matches the book a
// client keeps — a cycle of updates computed ahead that brings the book back to where it started, so
// it loops for ever and the sender only splices in the time. REST (backfill, open interest, funding
// intervals, candles) is the venue fake's, on the same port, its clock at real time.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { BinanceFuturesFake, CoinbaseFake, KrakenFake, fixtureText, hash32, tickSize, type FakeDepthBook, type HttpFake } from '@mt/testing';
import { floodPump, isoCache, writeFrames, type FloodConn } from './flood.js';
import { ReplayServer, klineData, marketStep, newSym, px, replayFakeOptions, type ReplayMarket, type Sym } from './replay.js';

const MINUTE = 60_000;

/** 50 real base assets, quoted in USDT on Binance and USD on Coinbase and Kraken (as bench/venues.ts). */
export const VENUE_BASES = (
  'BTC ETH SOL XRP ADA DOGE DOT LTC LINK AVAX ATOM UNI XLM ETC FIL AAVE ALGO NEAR APT ARB OP INJ SUI SEI TIA ' +
  'MKR SNX CRV COMP GRT SAND MANA AXS APE LDO RNDR FET IMX STX EGLD HBAR ICP VET QNT XTZ EOS KSM ZEC DASH BCH'
).split(' ');

// ------------------------------------------------------------------ Binance USDⓈ-M futures

/** Levels per side of a flood's futures depth book (a fixed price grid; diffs change quantities). */
const FUTURES_DEPTH_LEVELS = 20;

interface FuturesState {
  aggSeq: number;
  markAt: number;
  liqAt: number;
  /** Depth: price grid, quantities, the last diff's `u` and the next diff's `U` (a snapshot's lastUpdateId). */
  bids: string[];
  asks: string[];
  bidQty: string[];
  askQty: string[];
  u: number;
  nextU: number;
}

/** The futures fake with /fapi/v1/depth answering from the flood's own books, so a snapshot fits the diff chain. */
class FloodFuturesFake extends BinanceFuturesFake {
  readonly states = new Map<string, FuturesState>();
  syms: (S: string) => Sym = () => {
    throw new Error('not attached');
  };

  protected override depthSnapshotBody(S: string, _b: FakeDepthBook, limit: number): Record<string, unknown> {
    const st = futuresState(this.states, this.syms(S));
    const E = Date.now();
    const n = Math.min(limit, FUTURES_DEPTH_LEVELS);
    const side = (p: string[], q: string[]) => p.slice(0, n).map((x, i) => [x, q[i]!]);
    // as recorded (rest_fapi_v1_depth_SUSHIUSDT_limit1000_cryptofeed_excerpt_top20.json): lastUpdateId, E, T, bids, asks;
    // lastUpdateId = the next diff's U, as BinanceFuturesFake answers
    return { lastUpdateId: st.nextU, E, T: E - 3, bids: side(st.bids, st.bidQty), asks: side(st.asks, st.askQty) };
  }
}

function futuresState(states: Map<string, FuturesState>, s: Sym): FuturesState {
  let st = states.get(s.S);
  if (st) return st;
  const tick = tickSize(s.price);
  const bids: string[] = [];
  const asks: string[] = [];
  const qty = (i: number) => (1 + (hash32(s.S, i) % 5000) / 1000).toFixed(3);
  for (let i = 1; i <= FUTURES_DEPTH_LEVELS; i++) {
    bids.push(px(s.price - i * tick));
    asks.push(px(s.price + i * tick));
  }
  const first = 600_000_000_000 + (hash32(s.S, 1) % 1_000_000);
  st = { aggSeq: 1, markAt: 0, liqAt: 0, bids, asks, bidQty: bids.map((_, i) => qty(i)), askQty: asks.map((_, i) => qty(-i - 1)), u: first, nextU: first + 1 };
  states.set(s.S, st);
  return st;
}

/** The streams the feeder follows per perpetual (feeders/src/market/binance-futures, futuresStreamsFor). */
export const FUTURES_KINDS = ['aggTrade', 'kline_1m', 'bookTicker', 'markPrice@1s', 'forceOrder', 'ticker', 'depth@100ms'] as const;

/**
 * Binance USDⓈ-M frames (shapes of BinanceFuturesFake.emitStep: testing/fixtures/binance_futures/ws_combined_*).
 * markPrice@1s and forceOrder keep their venue cadence (one a second per symbol: the stream's period, and the
 * venue's cap on liquidation snapshots, testing/fixtures/LIMITS.md); the others flood.
 */
function futuresMarket(fake: FloodFuturesFake): ReplayMarket {
  const states = fake.states;
  return {
    fake,
    kinds: FUTURES_KINDS,
    frame(kind, s, now) {
      const st = futuresState(states, s);
      const S = s.S;
      switch (kind) {
        case 'markPrice@1s': {
          if (now - st.markAt < 1000) return undefined;
          st.markAt = now;
          const next = (Math.floor(now / (8 * 3_600_000)) + 1) * 8 * 3_600_000;
          const i = px(s.price * 0.99995);
          return `{"e":"markPriceUpdate","E":${now},"s":"${S}","p":"${px(s.price * 1.0001)}","i":"${i}","P":"${i}","r":"0.00010000","T":${next}}`;
        }
        case 'forceOrder': {
          if (now - st.liqAt < 1000) return undefined;
          st.liqAt = now;
          const sell = (hash32(S, now) & 1) === 0;
          const ap = px(sell ? s.price * 0.999 : s.price * 1.001);
          const z = (0.001 + (hash32(S, now + 1) % 5000) / 1000).toFixed(3);
          return `{"e":"forceOrder","E":${now},"o":{"s":"${S}","S":"${sell ? 'SELL' : 'BUY'}","o":"LIMIT","f":"IOC","q":"${z}","p":"${px(Number(ap) * (sell ? 0.995 : 1.005))}","ap":"${ap}","X":"FILLED","l":"${z}","z":"${z}","T":${now - 1},"ps":"${S}","st":1}}`;
        }
        case 'depth@100ms': {
          // 2 bid and 2 ask levels change; U skips ids as on the venue (ids are shared across its symbols)
          const U = st.nextU;
          const u = U + (hash32(S, U) % 8);
          const pu = st.u;
          st.u = u;
          st.nextU = u + 1 + (hash32(S, u) % 40);
          const lv = (p: string[], q: string[]) => {
            const out: string[] = [];
            for (let j = 0; j < 2; j++) {
              const i = Math.floor(Math.random() * Math.random() * FUTURES_DEPTH_LEVELS);
              q[i] = (0.001 + Math.random() * 5).toFixed(3);
              out.push(`["${p[i]}","${q[i]}"]`);
            }
            return out.join(',');
          };
          return `{"e":"depthUpdate","E":${now},"T":${now - 3},"s":"${S}","U":${U},"u":${u},"pu":${pu},"b":[${lv(st.bids, st.bidQty)}],"a":[${lv(st.asks, st.askQty)}]}`;
        }
        default:
          break;
      }
      const { qty, t } = marketStep(s, now);
      const p = px(s.price);
      switch (kind) {
        case 'aggTrade':
          return `{"e":"aggTrade","E":${now + 1},"a":${st.aggSeq++},"s":"${S}","p":"${p}","q":"${px(qty)}","f":${t},"l":${t},"T":${now},"m":${(t & 1) === 1}}`;
        case 'kline_1m':
          return klineData(s, now);
        case 'bookTicker': {
          const tick = tickSize(s.price);
          return `{"e":"bookTicker","u":${t * 3},"s":"${S}","b":"${px(s.price - tick)}","B":"1.250","a":"${px(s.price + tick)}","A":"0.750","T":${now - 4},"E":${now}}`;
        }
        case 'ticker': {
          const chg = s.price - s.o24;
          return (
            `{"e":"24hrTicker","E":${now},"s":"${S}","p":"${px(chg)}","P":"${((chg / s.o24) * 100).toFixed(3)}","w":"${px((s.h24 + s.l24) / 2)}","c":"${p}","Q":"${px(qty)}",` +
            `"o":"${px(s.o24)}","h":"${px(s.h24)}","l":"${px(s.l24)}","v":"${px(s.v24)}","q":"${px(s.v24 * s.price)}","O":${now - 86_400_000},"C":${now},"F":${t - 100_000},"L":${t},"n":100001}`
          );
        }
        default:
          return undefined;
      }
    },
  };
}

/** A Binance USDⓈ-M flood: the replay server's protocol and pump with futures frames and the futures fake's REST. */
export function futuresFlood(): ReplayServer {
  const fake = new FloodFuturesFake(replayFakeOptions(1500));
  const replay = new ReplayServer({ rate: 0, market: futuresMarket(fake) });
  fake.syms = (S) => replay.symbol(S);
  return replay;
}

// ------------------------------------------------------------------ Coinbase and Kraken: a websocket server on the fake's port

interface VenueConn extends FloodConn {
  ws: WebSocket;
  /** Streams that get frames, round-robin. */
  emit: { key: string; kind: string; sym: string }[];
  next: number;
}

abstract class VenueFlood {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  protected readonly conns = new Set<VenueConn>();
  private sentClosed = 0;

  /** `venue`: the venue fake whose REST side the flood keeps (and closes with it). */
  constructor(
    private readonly venue: { http: HttpFake; close(): Promise<unknown> },
    private readonly path: string,
  ) {
    // the fake's own websocket side follows its stepped market clock: replaced by the flood
    const server = venue.http.httpServer;
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== this.path) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.url ?? '/'));
    });
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.venue.http.port}${this.path}`;
  }

  get restUrl(): string {
    return this.venue.http.url;
  }

  stats(): { connections: number; streams: number; sent: number } {
    let sent = this.sentClosed;
    let streams = 0;
    for (const c of this.conns) {
      sent += c.sent;
      streams += c.emit.length;
    }
    return { connections: this.conns.size, streams, sent };
  }

  /** The open connections: URL and the subscribe messages their client sent (for a floor client to replay). */
  openConnections(): { url: string; send: string[] }[] {
    return [...this.conns].map((c) => ({ url: this.wsUrl, send: c.control.filter((m) => /"subscribe"/.test(m)) }));
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) c.ws.terminate();
    this.wss.close();
    await this.venue.close();
  }

  protected abstract onOpen(c: VenueConn): void;
  protected abstract onControl(c: VenueConn, raw: string): void;
  /** The next frame of a subscribed stream, undefined when it has nothing due now. */
  protected abstract frame(kind: string, sym: string, now: number): string | undefined;

  protected send(c: VenueConn, text: string): void {
    writeFrames(c, [text]);
  }

  protected subscribe(c: VenueConn, kind: string, sym: string): void {
    const key = `${kind}|${sym}`;
    if (!c.emit.some((s) => s.key === key)) c.emit.push({ key, kind, sym });
    floodPump(
      c,
      () => this.conns.has(c),
      (n) => this.batch(c, n),
    );
  }

  protected unsubscribe(c: VenueConn, kind: string, sym: string): void {
    c.emit = c.emit.filter((s) => s.key !== `${kind}|${sym}`);
  }

  private accept(ws: WebSocket, url: string): void {
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.setNoDelay(true);
    const c: VenueConn = { ws, socket, url, control: [], sent: 0, pumping: false, emit: [], next: 0 };
    this.conns.add(c);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const raw = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      c.control.push(raw);
      this.onControl(c, raw);
    });
    const end = () => {
      if (this.conns.delete(c)) this.sentClosed += c.sent;
    };
    ws.on('close', end);
    ws.on('error', end);
    this.onOpen(c);
  }

  private batch(c: VenueConn, n: number): string[] {
    const out: string[] = [];
    const len = c.emit.length;
    if (len === 0) return out;
    const now = Date.now();
    for (let tries = 0; out.length < n && tries < n + len; tries++) {
      const sub = c.emit[c.next++ % len]!;
      const f = this.frame(sub.kind, sub.sym, now);
      if (f !== undefined) out.push(f);
    }
    if (c.next > 1e9) c.next %= len;
    return out;
  }
}

/** A start price per symbol, stable across runs. */
function startPrice(symbol: string, min: number): number {
  return min + (hash32(symbol, 0) % 50_000);
}

// ------------------------------------------------------------------ Kraken websocket v2

/** Updates computed ahead per book before the restoring ones (the cycle then repeats). */
const KRAKEN_CYCLE = 2000;

interface KrakenBook {
  depth: number;
  /** Best first: price strings fixed, quantities current. */
  bids: [string, string][];
  asks: [string, string][];
  /** Per update of the cycle: the level changes to apply (side, index, qty) and the frame up to its timestamp. */
  cycle: { ops: [0 | 1, number, string][]; head: string }[];
  pos: number;
}

interface KrakenSym {
  s: Sym;
  dp: number;
  books: Map<number, KrakenBook>;
}

export class KrakenFlood extends VenueFlood {
  private readonly syms = new Map<string, KrakenSym>();
  private readonly iso = isoCache();

  private constructor(readonly fake: KrakenFake) {
    super(fake, '/v2');
  }

  /** A Kraken flood for `symbols` (`BTC/USD`); REST OHLC from KrakenFake, its clock at real time. */
  static async start(symbols: string[]): Promise<KrakenFlood> {
    const fake = await new KrakenFake({ symbols, candleMs: MINUTE, stepsPerCandle: 1, maxMessagesPerSecond: 1e9 }).listen();
    return new KrakenFlood(fake);
  }

  private sym(symbol: string): KrakenSym {
    let k = this.syms.get(symbol);
    if (!k) {
      const dp = this.fake.pairs.get(symbol)?.priceDp ?? 1;
      // a price the pair's decimals suit (KrakenFake: 1 decimal from 100 up, else 4)
      k = { s: newSym(symbol, dp === 1 ? startPrice(symbol, 500) : 5 + (hash32(symbol, 0) % 90)), dp, books: new Map() };
      this.syms.set(symbol, k);
    }
    return k;
  }

  /** RFC 3339 with microseconds / nanoseconds, as Kraken prints its times (KrakenFake). */
  private isoUs(ms: number): string {
    return `${this.iso(ms).slice(0, -1)}000Z`;
  }
  private isoNs(ms: number): string {
    return `${this.iso(ms).slice(0, -1)}000000Z`;
  }

  protected onOpen(c: VenueConn): void {
    // the recorded status frame (KrakenFake sends the same on connect)
    this.send(c, fixtureText('kraken/ws_v2_status_update_online.json'));
  }

  protected onControl(c: VenueConn, raw: string): void {
    const now = Date.now();
    let msg: { method?: unknown; params?: Record<string, unknown>; req_id?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return this.send(c, JSON.stringify({ error: 'Malformed request', method: 'unknown' }));
    }
    const reqId = typeof msg.req_id === 'number' ? { req_id: msg.req_id } : {};
    const times = () => ({ time_in: this.isoUs(now), time_out: this.isoUs(Date.now()) });
    if (msg.method === 'ping') return this.send(c, JSON.stringify({ method: 'pong', ...reqId, ...times() }));
    const p = msg.params ?? {};
    const channel = p.channel as string;
    if ((msg.method !== 'subscribe' && msg.method !== 'unsubscribe') || !['ohlc', 'ticker', 'book'].includes(channel) || !Array.isArray(p.symbol)) {
      return this.send(c, JSON.stringify({ error: 'Method not found', method: String(msg.method), success: false, ...reqId, ...times() }));
    }
    const depth = channel === 'book' ? Number(p.depth ?? 10) : undefined;
    for (const symbol of p.symbol as string[]) {
      const result: Record<string, unknown> = { channel };
      if (channel === 'ohlc') result.interval = 1;
      if (depth !== undefined) result.depth = depth;
      const kind = depth !== undefined ? `book:${depth}` : channel;
      if (msg.method === 'unsubscribe') {
        this.unsubscribe(c, kind, symbol);
        this.send(c, JSON.stringify({ method: 'unsubscribe', result: { ...result, symbol }, success: true, ...reqId, ...times() }));
        continue;
      }
      this.send(c, JSON.stringify({ method: 'subscribe', result: { ...result, snapshot: true, symbol }, success: true, ...reqId, ...times() }));
      this.send(c, this.snapshot(channel, symbol, depth ?? 10, now));
      this.subscribe(c, kind, symbol);
    }
  }

  private snapshot(channel: string, symbol: string, depth: number, now: number): string {
    const k = this.sym(symbol);
    if (channel === 'ohlc') return `{"channel":"ohlc","type":"snapshot","timestamp":"${this.isoNs(now)}","data":[${this.ohlcRow(k, now)}]}`;
    if (channel === 'ticker') return `{"channel":"ticker","type":"snapshot","data":[${this.tickerRow(k, now)}]}`;
    const b = this.book(k, depth);
    const lv = (l: [string, string]) => `{"price":${l[0]},"qty":${l[1]}}`;
    return `{"channel":"book","type":"snapshot","data":[{"symbol":"${symbol}","bids":[${b.bids.map(lv).join(',')}],"asks":[${b.asks.map(lv).join(',')}],"checksum":${KrakenFake.checksum(b.bids, b.asks)},"timestamp":"${this.isoUs(now)}"}]}`;
  }

  protected frame(kind: string, symbol: string, now: number): string | undefined {
    const k = this.sym(symbol);
    if (kind === 'ohlc') {
      marketStep(k.s, now);
      return `{"channel":"ohlc","type":"update","timestamp":"${this.isoNs(now)}","data":[${this.ohlcRow(k, now)}]}`;
    }
    if (kind === 'ticker') {
      marketStep(k.s, now);
      return `{"channel":"ticker","type":"update","data":[${this.tickerRow(k, now)}]}`;
    }
    const b = this.book(k, Number(kind.slice(5)));
    const u = b.cycle[b.pos]!;
    b.pos = (b.pos + 1) % b.cycle.length;
    for (const [side, i, q] of u.ops) (side === 0 ? b.bids : b.asks)[i]![1] = q;
    return `${u.head}${this.isoUs(now)}"}]}`;
  }

  /** Field order of KrakenFake's ohlc rows (ws_v2_ohlc_update_MATIC-USD_interval5_docs_example.json). */
  private ohlcRow(k: KrakenSym, now: number): string {
    const s = k.s;
    const f = (n: number) => n.toFixed(k.dp);
    const minute = now - (now % MINUTE);
    return `{"symbol":"${s.S}","open":${f(s.o)},"high":${f(s.h)},"low":${f(s.l)},"close":${f(s.price)},"trades":${s.n},"volume":${s.v.toFixed(8)},"vwap":${f(s.v > 0 ? s.q / s.v : s.price)},"interval_begin":"${this.isoNs(minute)}","interval":1,"timestamp":"${this.isoUs(minute + MINUTE)}"}`;
  }

  /** Field order of KrakenFake's ticker rows (ws_v2_ticker_update_ALGO-USD_docs_example.json). */
  private tickerRow(k: KrakenSym, now: number): string {
    const s = k.s;
    const f = (n: number) => n.toFixed(k.dp);
    const tick = 10 ** -k.dp;
    const chg = s.price - s.o24;
    return `{"symbol":"${s.S}","bid":${f(s.price - tick)},"bid_qty":1.25000000,"ask":${f(s.price + tick)},"ask_qty":0.75000000,"last":${f(s.price)},"volume":${s.v24.toFixed(8)},"vwap":${f((s.h24 + s.l24) / 2)},"low":${f(s.l24)},"high":${f(s.h24)},"change":${f(chg)},"change_pct":${((chg / s.o24) * 100).toFixed(2)},"timestamp":"${this.isoUs(now)}"}`;
  }

  /**
   * The book of `depth` levels per side on a fixed price grid and its cycle: KRAKEN_CYCLE updates of 1–4
   * levels (new quantities, the top levels most often), then updates setting every changed level back,
   * so the cycle ends on the book it started from. Each update's checksum is the fake's CRC32 of the book
   * after it.
   */
  private book(k: KrakenSym, depth: number): KrakenBook {
    const known = k.books.get(depth);
    if (known) return known;
    const tick = 10 ** -k.dp;
    const mid = Math.round(k.s.price / tick);
    const qty = (n: number) => (0.001 + (hash32(k.s.S, n) / 2 ** 32) * 3).toFixed(8);
    const bids: [string, string][] = [];
    const asks: [string, string][] = [];
    for (let i = 0; i < depth; i++) {
      bids.push([((mid - 1 - i) * tick).toFixed(k.dp), qty(2 * i)]);
      asks.push([((mid + 1 + i) * tick).toFixed(k.dp), qty(2 * i + 1)]);
    }
    const start = { bids: bids.map((l) => [...l] as [string, string]), asks: asks.map((l) => [...l] as [string, string]) };
    const work = { bids: bids.map((l) => [...l] as [string, string]), asks: asks.map((l) => [...l] as [string, string]) };
    const cycle: KrakenBook['cycle'] = [];
    const lv = (l: [string, string]) => `{"price":${l[0]},"qty":${l[1]}}`;
    const push = (ops: [0 | 1, number, string][]) => {
      for (const [side, i, q] of ops) (side === 0 ? work.bids : work.asks)[i]![1] = q;
      const levels = (side: 0 | 1) => ops.filter((o) => o[0] === side).map(([, i, q]) => lv([(side === 0 ? work.bids : work.asks)[i]![0], q]));
      const checksum = KrakenFake.checksum(work.bids, work.asks);
      cycle.push({ ops, head: `{"channel":"book","type":"update","data":[{"symbol":"${k.s.S}","bids":[${levels(0).join(',')}],"asks":[${levels(1).join(',')}],"checksum":${checksum},"timestamp":"` });
    };
    for (let u = 0; u < KRAKEN_CYCLE; u++) {
      const ops: [0 | 1, number, string][] = [];
      const n = 1 + (u % 4);
      for (let j = 0; j < n; j++) {
        const side = (Math.random() < 0.5 ? 0 : 1) as 0 | 1;
        const i = Math.floor(Math.random() * Math.random() * Math.min(depth, 25));
        if (ops.some((o) => o[0] === side && o[1] === i)) continue;
        ops.push([side, i, (0.001 + Math.random() * 3).toFixed(8)]);
      }
      push(ops);
    }
    // back to the start, four levels an update
    const back: [0 | 1, number, string][] = [];
    for (const side of [0, 1] as const) {
      const w = side === 0 ? work.bids : work.asks;
      const s0 = side === 0 ? start.bids : start.asks;
      for (let i = 0; i < depth; i++) if (w[i]![1] !== s0[i]![1]) back.push([side, i, s0[i]![1]]);
    }
    for (let i = 0; i < back.length; i += 4) push(back.slice(i, i + 4));
    const b: KrakenBook = { depth, bids, asks, cycle, pos: 0 };
    k.books.set(depth, b);
    return b;
  }
}

// ------------------------------------------------------------------ Coinbase Exchange market-data websocket

/** Levels per side of a flood's Coinbase book (level2_batch), a cent apart. */
const COINBASE_LEVELS = 10;

interface CoinbaseProduct {
  s: Sym;
  seq: number;
  lastSize: string;
  hbAt: number;
  bids: string[];
  asks: string[];
  bidSize: string[];
  askSize: string[];
}

export class CoinbaseFlood extends VenueFlood {
  private readonly products = new Map<string, CoinbaseProduct>();
  private readonly iso = isoCache();
  /** Order ids of the match frames, made ahead (a UUID per frame would cost the sender more than the frame). */
  private readonly uuids = Array.from({ length: 4096 }, () => randomUUID());
  private u = 0;

  private constructor(readonly fake: CoinbaseFake) {
    super(fake, '/');
  }

  /** A Coinbase flood for `products` (`BTC-USD`); REST candles from CoinbaseFake, its clock at real time. */
  static async start(products: string[]): Promise<CoinbaseFlood> {
    const fake = await new CoinbaseFake({ products, candleMs: MINUTE, stepsPerCandle: 1, maxInboundPerSecond: 1e9, maxInboundBurst: 1e9 }).listen();
    return new CoinbaseFlood(fake);
  }

  private product(p: string): CoinbaseProduct {
    let x = this.products.get(p);
    if (!x) {
      const s = newSym(p, startPrice(p, 10));
      s.tradeId = 100_000_000 + (hash32(p, 3) % 1_000_000);
      const mid = Math.round(s.price * 100);
      const size = (i: number) => ((hash32(p, i) % 500_000) / 1e5 + 0.01).toFixed(8);
      const bids = Array.from({ length: COINBASE_LEVELS }, (_, i) => ((mid - 1 - i) / 100).toFixed(2));
      const asks = Array.from({ length: COINBASE_LEVELS }, (_, i) => ((mid + 1 + i) / 100).toFixed(2));
      x = { s, seq: 1_000_000, lastSize: '0.10000000', hbAt: 0, bids, asks, bidSize: bids.map((_, i) => size(i)), askSize: asks.map((_, i) => size(-i - 1)) };
      this.products.set(p, x);
    }
    return x;
  }

  /** RFC 3339 with microseconds, as Coinbase prints its times. */
  private isoUs(ms: number): string {
    return `${this.iso(ms).slice(0, -1)}000Z`;
  }

  protected onOpen(): void {}

  protected onControl(c: VenueConn, raw: string): void {
    let m: { type?: unknown; product_ids?: unknown; channels?: unknown };
    try {
      m = JSON.parse(raw) as typeof m;
    } catch {
      return this.send(c, JSON.stringify({ type: 'error', message: 'Failed to parse message', reason: 'malformed JSON' }));
    }
    if ((m.type !== 'subscribe' && m.type !== 'unsubscribe') || !Array.isArray(m.channels)) return this.send(c, JSON.stringify({ type: 'error', message: `Failed to ${String(m.type)}`, reason: 'not a subscription' }));
    const top = Array.isArray(m.product_ids) ? (m.product_ids as string[]) : [];
    const now = Date.now();
    const added: { name: string; p: string }[] = [];
    for (const ch of m.channels as ({ name: string; product_ids?: string[] } | string)[]) {
      const name = typeof ch === 'string' ? ch : ch.name;
      for (const p of typeof ch === 'string' ? top : (ch.product_ids ?? top)) {
        if (m.type === 'unsubscribe') this.unsubscribe(c, name, p);
        else if (!c.emit.some((s) => s.key === `${name}|${p}`) && !added.some((a) => a.name === name && a.p === p)) added.push({ name, p });
      }
    }
    // the cumulative subscriptions ack first, then each new level2 product's whole book and each new
    // matches product's last trade, as CoinbaseFake answers
    const byName = new Map<string, string[]>();
    for (const s of [...c.emit.map((e) => ({ name: e.kind, p: e.sym })), ...added]) byName.set(s.name, [...(byName.get(s.name) ?? []), s.p]);
    this.send(c, JSON.stringify({ type: 'subscriptions', channels: [...byName].map(([name, product_ids]) => ({ name, product_ids })) }));
    for (const { name, p } of added) {
      const x = this.product(p);
      if (name === 'level2' || name === 'level2_batch') {
        const side = (ps: string[], ss: string[]) => ps.map((q, i) => [q, ss[i]!]);
        this.send(c, JSON.stringify({ type: 'snapshot', product_id: p, asks: side(x.asks, x.askSize), bids: side(x.bids, x.bidSize) }));
      }
      if (name === 'matches') this.send(c, this.match(p, x, 'last_match', now));
    }
    for (const { name, p } of added) this.subscribe(c, name, p);
  }

  /** Shape of ws_feed_match_BTC-USD_2022-01-07.json (last_match: ws_feed_last_match_BAND-GBP_2021-04-17.json). */
  private match(p: string, x: CoinbaseProduct, type: 'match' | 'last_match', now: number): string {
    const id = x.s.tradeId - 1;
    const u = this.u;
    this.u = (u + 2) % this.uuids.length;
    return `{"type":"${type}","trade_id":${id},"maker_order_id":"${this.uuids[u]}","taker_order_id":"${this.uuids[u + 1]}","side":"${id & 1 ? 'sell' : 'buy'}","size":"${x.lastSize}","price":"${x.s.price.toFixed(2)}","product_id":"${p}","sequence":${x.seq++},"time":"${this.isoUs(now)}"}`;
  }

  protected frame(kind: string, p: string, now: number): string | undefined {
    const x = this.product(p);
    const s = x.s;
    switch (kind) {
      case 'matches': {
        const { qty } = marketStep(s, now);
        x.lastSize = qty.toFixed(8);
        return this.match(p, x, 'match', now);
      }
      case 'ticker': {
        // the ticker of the last trade (ws_feed_ticker_BAND-GBP_2021-04-17.json)
        const id = s.tradeId - 1;
        return (
          `{"type":"ticker","sequence":${x.seq++},"product_id":"${p}","price":"${s.price.toFixed(2)}","open_24h":"${s.o24.toFixed(2)}","volume_24h":"${s.v24.toFixed(8)}",` +
          `"low_24h":"${s.l24.toFixed(2)}","high_24h":"${s.h24.toFixed(2)}","volume_30d":"45678.12340000","best_bid":"${(s.price - 0.01).toFixed(2)}","best_ask":"${(s.price + 0.01).toFixed(2)}",` +
          `"side":"${id & 1 ? 'sell' : 'buy'}","time":"${this.isoUs(now)}","trade_id":${id},"last_size":"${x.lastSize}"}`
        );
      }
      case 'heartbeat':
        // once a second per product, as the venue sends it (docs_ws_feed_heartbeat.json)
        if (now - x.hbAt < 1000) return undefined;
        x.hbAt = now;
        return `{"type":"heartbeat","sequence":${x.seq++},"last_trade_id":${s.tradeId - 1},"product_id":"${p}","time":"${this.isoUs(now)}"}`;
      case 'level2':
      case 'level2_batch': {
        // 1–3 levels change size (ws_feed_l2update_DASH-BTC_remove_level_2021-04-17.json); the grid stays, so never crossed
        const changes: string[] = [];
        const n = 1 + (x.seq % 3);
        for (let j = 0; j < n; j++) {
          const bid = Math.random() < 0.5;
          const i = Math.floor(Math.random() * Math.random() * COINBASE_LEVELS);
          const size = (0.01 + Math.random() * 5).toFixed(8);
          (bid ? x.bidSize : x.askSize)[i] = size;
          changes.push(`["${bid ? 'buy' : 'sell'}","${(bid ? x.bids : x.asks)[i]}","${size}"]`);
        }
        x.seq++;
        return `{"type":"l2update","product_id":"${p}","changes":[${changes.join(',')}],"time":"${this.isoUs(now)}"}`;
      }
      default:
        return undefined;
    }
  }
}
