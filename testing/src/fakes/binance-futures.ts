// A local Binance USDⓈ-M futures server (fstream + fapi on one port), built on the spot server's machinery
// (testing/src/fakes/binance.ts: combined/raw streams, live SUBSCRIBE/UNSUBSCRIBE, pings, the incoming-message
// and streams-per-connection limits, drops, stalls, serverShutdown, REST weight with 429 → 418) with what
// differs on futures (testing/fixtures/LIMITS.md "Binance USDⓈ-M futures"): 10 incoming messages/s,
// REQUEST_WEIGHT 2400/min, klines weighted by `limit` (max 1500), the futures stream set and frame shapes
// (testing/fixtures/binance_futures/*: bookTicker with `e`/`E`/`T`, 24hrTicker without bid/ask,
// markPriceUpdate, forceOrder with `ps`/`st` inside `o`), GET /fapi/v1/openInterest, and the order book:
// `<symbol>@depth@100ms` diffs with `T` and `pu` whose `U` skips ids (update ids are shared across a
// venue's symbols: ws_combined_depthUpdate_100ms_SUSHIUSDT_sequence_15frames.txt) and GET /fapi/v1/depth
// with `E`/`T` (weight 2/5/10/20 by limit, limits 5…1000), with the spot server's lost-diff and
// crossed-diff faults (skipDepthUpdate, sendCrossedDepthUpdate); GET /fapi/v1/fundingInfo (the recorded list of
// adjusted symbols: a listed symbol's mark-price frames follow its funding interval, the others 8 h).
// Funding, liquidations and open interest are deterministic functions of symbol and simulated time, and
// every one sent is logged in `sent`, so a test compares what was stored with what the exchange sent.
import type { RecordedRequest, Reply } from './http-fake.js';
import type { FakeDepthBook } from './binance.js';
import type { HttpFake } from './http-fake.js';
import { BinanceFake, fix8, hash32, norm, px, tickSize, trade, type BinanceFakeOptions } from './binance.js';
import { fixtureJson } from '../fixtures.js';

const MINUTE = 60_000;
const HOUR = 3600_000;
/** Funding interval of a symbol GET /fapi/v1/fundingInfo does not list. */
const DEFAULT_FUNDING_HOURS = 8;
export const FUNDING_INFO_FIXTURE = 'binance_futures/rest_fapi_v1_fundingInfo_2025-04-15_excerpt_asterdex_issue1.json';

const STREAM_RE = /^([a-z0-9]+)@(aggTrade|bookTicker|ticker|miniTicker|forceOrder|markPrice(@1s)?|kline_(1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M)|depth(5|10|20)?(@100ms|@250ms|@500ms)?)$/;
const ALL_MARKET_STREAMS = new Set(['!miniTicker@arr', '!ticker@arr', '!bookTicker', '!forceOrder@arr', '!markPrice@arr', '!markPrice@arr@1s']);

export function isValidFuturesStream(name: string): boolean {
  return STREAM_RE.test(name) || ALL_MARKET_STREAMS.has(name);
}

/** Valid `limit`s of GET /fapi/v1/depth (default 500). */
export const FUTURES_DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000];

/** GET /fapi/v1/depth weight by `limit`: 5–50 → 2, 100 → 5, 500 → 10, 1000 → 20. */
export function futuresDepthWeight(limit: number): number {
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

/** Klines request weight by `limit` (docs: [1,100) 1, [100,500) 2, [500,1000] 5, > 1000 10). */
export function futuresKlinesWeight(limit: number): number {
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

export interface SentFunding {
  symbol: string;
  E: number;
  markPrice: number;
  indexPrice: number;
  fundingRate: number;
  nextFundingTime: number;
  /** The symbol's funding interval when the frame was sent (GET /fapi/v1/fundingInfo, else 8). */
  intervalHours: number;
}

export interface SentLiquidation {
  symbol: string;
  T: number;
  side: 'BUY' | 'SELL';
  /** Average fill price `ap` and accumulated filled quantity `z`, as numbers parsed from the wire strings. */
  averagePrice: number;
  filledQty: number;
}

export interface SentOpenInterest {
  symbol: string;
  time: number;
  openInterest: number;
}

export class BinanceFuturesFake extends BinanceFake {
  /** Everything derivative this server sent (stream frames with at least one subscriber; REST answers). */
  readonly sent: { funding: SentFunding[]; liquidations: SentLiquidation[]; openInterest: SentOpenInterest[] } = { funding: [], liquidations: [], openInterest: [] };

  /** The body of GET /fapi/v1/fundingInfo (recorded; a test may replace it: Binance changes intervals at run time). */
  fundingInfo: unknown[] = fixtureJson<unknown[]>(FUNDING_INFO_FIXTURE);

  constructor(opts: BinanceFakeOptions = {}) {
    super({ maxIncomingPerSecond: 10, weightLimit: 2400, ...opts });
  }

  protected override registerRoutes(http: HttpFake): void {
    http
      .route('GET', '/fapi/v1/klines', (r) => this.weighed(futuresKlinesWeight(r.query.has('limit') ? Number(r.query.get('limit')) || 500 : 500), () => this.klines(r, 1500)))
      .route('GET', '/fapi/v1/openInterest', (r) => this.weighed(1, () => this.openInterestReply(r)))
      // weight 0 (it shares a 500 per 5 min budget with /fapi/v1/fundingRate, which this server does not serve)
      .route('GET', '/fapi/v1/fundingInfo', () => ({ body: this.fundingInfo }))
      .route('GET', '/fapi/v1/depth', (r) => {
        const limit = r.query.has('limit') ? Number(r.query.get('limit')) : 500;
        return this.weighed(futuresDepthWeight(limit), () => this.depth(r, (l) => FUTURES_DEPTH_LIMITS.includes(l)));
      })
      .route('GET', '/fapi/v1/time', () => this.weighed(1, () => ({ body: { serverTime: this.now() } })))
      .route('GET', '/fapi/v1/ping', () => this.weighed(1, () => ({ body: {} })));
  }

  protected override isValidStream(name: string): boolean {
    return isValidFuturesStream(name);
  }

  protected override klinesPath(): string {
    return '/fapi/v1/klines';
  }

  protected override invalidSymbolFixture(): string {
    return 'binance_futures/rest_error_invalid_symbol_gocryptotrader.json';
  }

  // ---------------------------------------------------------------- deterministic derivatives

  /** Hours between two fundings of `symbol` (`BTCUSDT`) as the fundingInfo body lists it, else 8. */
  fundingIntervalHours(symbol: string): number {
    const e = this.fundingInfo.find((x) => (x as { symbol?: unknown }).symbol === norm(symbol)) as { fundingIntervalHours?: unknown } | undefined;
    return typeof e?.fundingIntervalHours === 'number' && e.fundingIntervalHours > 0 ? e.fundingIntervalHours : DEFAULT_FUNDING_HOURS;
  }

  /** Funding rate of the symbol's funding period containing `t` (fraction, 8 decimals, ±0.0001). */
  fundingRate(symbol: string, t: number): number {
    const period = Math.floor(t / (this.fundingIntervalHours(symbol) * HOUR));
    return Number((((hash32(norm(symbol), period ^ 0x2f) % 2001) - 1000) * 1e-7).toFixed(8));
  }

  /** Open interest (base units, 3 decimals) at simulated time `t`. */
  openInterestAt(symbol: string, t: number): number {
    const sym = norm(symbol);
    const base = 1000 + (hash32(sym, 7) % 90_000);
    return Number((base * (1 + 0.05 * Math.sin(t / (37 * MINUTE)))).toFixed(3));
  }

  // ---------------------------------------------------------------- order book

  /** Update ids skip what the venue's other symbols used in between: 1–40 ids after the previous `u`. */
  protected override firstUpdateId(S: string, prevU: number): number {
    return prevU + 1 + (hash32(S, prevU) % 40);
  }

  /** Field order as recorded (ws_combined_depthUpdate_100ms_SUSHIUSDT.json): e, E, T, s, U, u, pu, b, a. */
  protected override depthEvent(S: string, E: number, U: number, u: number, pu: number, bids: [string, string][], asks: [string, string][]): Record<string, unknown> {
    return { e: 'depthUpdate', E, T: E - 3, s: S, U, u, pu, b: bids, a: asks };
  }

  /**
   * As recorded (rest_fapi_v1_depth_SUSHIUSDT_limit1000_cryptofeed_excerpt_top20.json): lastUpdateId, E, T,
   * bids, asks. Its lastUpdateId is the `U` of the next diff, as in that session (600859605926 = the next
   * frame's U): the book holds every diff sent so far, and the next one straddles the id
   * (U ≤ lastUpdateId ≤ u), so a client on the documented rules always has a first diff to apply.
   */
  protected override depthSnapshotBody(S: string, b: FakeDepthBook, limit: number): Record<string, unknown> {
    const { bids, asks } = super.depthSnapshotBody(S, b, limit) as { bids: unknown; asks: unknown };
    const E = this.now();
    return { lastUpdateId: this.firstUpdateId(S, b.u), E, T: E - 3, bids, asks };
  }

  // ---------------------------------------------------------------- faults

  /** Futures-shaped malformed frames: truncated JSON, not JSON, a markPriceUpdate with a bad rate, a forceOrder without `o`. */
  override sendMalformed(): number {
    const frames = [
      '{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1597536008000,"s":"BTCUSDT","p":"1185',
      'not json at all',
      JSON.stringify({ stream: 'btcusdt@markPrice@1s', data: { e: 'markPriceUpdate', E: this.now(), s: 'BTCUSDT', p: '100.0', i: '100.0', r: 'n/a', T: this.now() } }),
      JSON.stringify({ stream: 'btcusdt@forceOrder', data: { e: 'forceOrder', E: this.now() } }),
    ];
    for (const f of frames) this.broadcastRaw(f);
    return frames.length;
  }

  // ---------------------------------------------------------------- market events

  protected override emitStep(sym: string): void {
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
      add(`${sym}@aggTrade`, { e: 'aggTrade', E: T + 1, a: id, s: S, p: px(price), q: px(qty), f: id, l: id, T, m: (id & 1) === 1 });
    }
    const last = k.close;
    const tick = tickSize(last);
    add(`${sym}@bookTicker`, { e: 'bookTicker', u: k.lastTradeId * 3, s: S, b: px(last - tick), B: '1.250', a: px(last + tick), A: '0.750', T: E - 4, E });
    add(`${sym}@kline_1m`, this.klineData(S, k, E, closed));
    const depth = this.depthStep(S, last, tick, E, [...this.live].some((c) => c.stats.streams.has(`${sym}@depth@100ms`) || c.stats.streams.has(`${sym}@depth`)));
    if (depth) {
      add(`${sym}@depth@100ms`, depth);
      add(`${sym}@depth`, depth);
    }
    const day = this.candle(S, openTime - 1440 * MINUTE, 1);
    const o24 = day.open;
    const h24 = Math.max(o24, last) * 1.01;
    const l24 = Math.min(o24, last) * 0.99;
    const v24 = fix8(k.volume * 1440 + 1000);
    add(`${sym}@ticker`, {
      e: '24hrTicker',
      E,
      s: S,
      p: px(last - o24),
      P: (((last - o24) / o24) * 100).toFixed(3),
      w: px((h24 + l24) / 2),
      c: px(last),
      Q: px(trade(S, k.lastTradeId).qty),
      o: px(o24),
      h: px(h24),
      l: px(l24),
      v: px(v24),
      q: px(fix8(v24 * last)),
      O: E - 86_400_000,
      C: E,
      F: k.lastTradeId - 100_000,
      L: k.lastTradeId,
      n: 100_001,
    });
    // Mark price a hair off the last trade, index a hair off the other way; 8 decimals as on the wire.
    const markStr = px(last * (1 + 0.0001 * Math.sin(E / 7919)));
    const indexStr = px(last * (1 - 0.00005 * Math.cos(E / 6151)));
    const rate = this.fundingRate(S, E);
    const intervalHours = this.fundingIntervalHours(S);
    const next = (Math.floor(E / (intervalHours * HOUR)) + 1) * intervalHours * HOUR;
    const markData = { e: 'markPriceUpdate', E, s: S, p: markStr, i: indexStr, P: indexStr, r: rate.toFixed(8), T: next };
    add(`${sym}@markPrice@1s`, markData);
    // One liquidation per candle, on its second step (the stream pushes at most one per symbol per second).
    let liq: { frame: unknown; sent: SentLiquidation } | undefined;
    if (this.step === Math.min(2, this.o.stepsPerCandle)) {
      const side = (hash32(S, openTime / MINUTE) & 1) === 0 ? 'SELL' : 'BUY';
      const ap = px(side === 'SELL' ? last * 0.999 : last * 1.001);
      const z = (0.001 + (hash32(S, openTime / MINUTE + 1) % 5000) / 1000).toFixed(3);
      const T = E - 1;
      liq = {
        frame: { e: 'forceOrder', E, o: { s: S, S: side, o: 'LIMIT', f: 'IOC', q: z, p: px(Number(ap) * (side === 'SELL' ? 0.995 : 1.005)), ap, X: 'FILLED', l: z, z, T, ps: S, st: 1 } },
        sent: { symbol: S, T, side, averagePrice: Number(ap), filledQty: Number(z) },
      };
      add(`${sym}@forceOrder`, liq.frame);
    }
    const delivered = this.deliver(events);
    if (delivered.has(`${sym}@markPrice@1s`)) this.sent.funding.push({ symbol: S, E, markPrice: Number(markStr), indexPrice: Number(indexStr), fundingRate: rate, nextFundingTime: next, intervalHours });
    if (liq && delivered.has(`${sym}@forceOrder`)) this.sent.liquidations.push(liq.sent);
  }

  // ---------------------------------------------------------------- REST

  private openInterestReply(r: RecordedRequest): Reply {
    const symbol = r.query.get('symbol');
    if (!symbol) return { status: 400, body: { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." } };
    if (!this.knownSymbol(symbol)) return { status: 400, body: fixtureJson(this.invalidSymbolFixture()) };
    const time = this.now();
    const openInterest = this.openInterestAt(symbol, time);
    this.sent.openInterest.push({ symbol, time, openInterest });
    // Wire key order as recorded live (rest_fapi_v1_openInterest_BTCUSDT_quoted_live.json).
    return { body: { symbol, openInterest: openInterest.toFixed(3), time } };
  }
}
