// The core's tick throttle: every tick goes to the alerts and to Grafana Live unthrottled; market_data is
// stored at most once per second per symbol, the ticks of that second merged (later wins field by field),
// with CoinGecko's market cap joined on and change_pct_1h (and a fallback's 24 h change) computed from the
// symbol's candles (docs/INFLUXDB.md, "change_pct_1h").
import { watchItemKey, type WatchItem } from '@mt/common';
import type { Interval, MarketTick } from '../types.js';
import { marketDataPoint } from '@mt/common';
import type { CoreParts, LiveTicks, TickAlerts } from './parts.js';

/** How far before "an hour ago" the reference candle of change_pct_1h may have closed. */
const CHANGE_1H_SLACK_MS = 5 * 60_000;
/** How old the previous daily close may be for a fallback's 24 h change (a long weekend). */
const PREV_CLOSE_SLACK_MS = 4 * 86_400_000;

/**
 * The core's one per-symbol slot (per exchange and symbol), found by one look-up per tick: the throttle's
 * state and the handles of the alerts and of Grafana Live for the symbol, so a tick reaches their
 * per-symbol state without a look-up of its own (docs/ALERTING.md "Evaluation cost"). A handle is taken
 * again when its consumer's `slotVersion` changed (rules replaced, watch set changed) or the consumer did.
 */
interface TickState {
  /** The ticks since the last point, merged (later wins); reused from point to point, so no per-tick object. */
  held: MarketTick;
  /** Whether `held` holds anything not yet stored. */
  pending: boolean;
  lastEmitAt: number;
  timer: NodeJS.Timeout | undefined;
  /** The throttle timer's callback, made once per symbol. */
  emit: () => void;
  /** The symbol's tick age (shared by its exchanges): market_last_tick_age_seconds. */
  age: TickAge;
  alerts: TickAlerts | undefined;
  alertsVersion: number;
  /** PriceAlerts.tickSlot's handle: the symbol's row, -1 without rules. */
  alertsSlot: number;
  live: LiveTicks | undefined;
  liveVersion: number;
  /** The Live sink's handle: the symbol's row. */
  liveSlot: number;
}

interface TickAge {
  at: number;
  assetType: string;
}

export interface TickThrottleOptions {
  /** Minimum spacing of market_data points per symbol. */
  throttleMs: number;
  /**
   * The change in % of the tick's price against the close of the symbol's last closed `interval` candle
   * that ended by `at`, none without one within `slackMs` (the candle store answers).
   */
  changeSince(t: MarketTick, interval: Interval, at: number, slackMs: number): number | undefined;
}

export class TickThrottle {
  /** exchange → symbol → state: two look-ups instead of building an `exchange:symbol` key per tick. */
  private readonly ticks = new Map<string, Map<string, TickState>>();
  private readonly lastTickAt = new Map<string, TickAge>();
  /** The exchange of the last tick and its symbols' slots: one look-up per tick while it stays the same. */
  private exchange: string | undefined;
  private bySymbol: Map<string, TickState> | undefined;
  private readonly marketCaps = new Map<string, number>();

  constructor(
    private readonly core: CoreParts,
    private readonly o: TickThrottleOptions,
  ) {}

  /** For market_last_tick_age_seconds: symbol → receive time of its last tick and its asset type. */
  lastTicks(): Iterable<[string, { at: number; assetType: string }]> {
    return this.lastTickAt.entries();
  }

  marketCap(symbol: string, cap: number): void {
    if (Number.isFinite(cap)) this.marketCaps.set(symbol, cap);
  }

  tick(t: MarketTick): void {
    const core = this.core;
    const now = core.now();
    let bySymbol = this.bySymbol;
    if (bySymbol === undefined || t.exchange !== this.exchange) {
      const m = this.ticks.get(t.exchange);
      if (m) bySymbol = m;
      else this.ticks.set(t.exchange, (bySymbol = new Map()));
      this.exchange = t.exchange;
      this.bySymbol = bySymbol;
    }
    let st = bySymbol.get(t.symbol);
    if (!st) bySymbol.set(t.symbol, (st = this.tickState(t)));
    // alerts see every tick, not the throttled stream: a spike inside one second must still fire
    const alerts = core.alerts();
    if (alerts) {
      try {
        if (alerts.tickAt === undefined) alerts.onTick(t);
        else {
          if (st.alerts !== alerts || st.alertsVersion !== alerts.slotVersion) {
            st.alerts = alerts;
            st.alertsVersion = alerts.slotVersion!;
            st.alertsSlot = alerts.tickSlot!(t);
          }
          alerts.tickAt(st.alertsSlot, t, now);
        }
      } catch (err) {
        core.contain('alerts', 'tick', err);
      }
    }
    const live = core.live;
    if (live) {
      try {
        if (live.tickAt === undefined) live.tick(t);
        else {
          if (st.live !== live || st.liveVersion !== live.slotVersion) {
            st.live = live;
            st.liveVersion = live.slotVersion!;
            st.liveSlot = live.tickSlot!(t);
          }
          live.tickAt(st.liveSlot, t, now);
        }
      } catch (err) {
        core.contain('live', 'tick', err);
      }
    }
    st.age.at = now;
    if (st.pending) merge(st.held, t);
    else copyTick(st.held, t);
    st.pending = true;
    const wait = st.lastEmitAt + this.o.throttleMs - now;
    if (wait <= 0) this.emitTick(st);
    else st.timer ??= setTimeout(st.emit, wait).unref();
  }

  /** Symbols that left the watch set: their held point is stored, their state (and tick age) forgotten. */
  setWatch(items: WatchItem[]): void {
    const symbols = new Set(items.map((i) => i.symbol));
    const keys = new Set(items.map(watchItemKey));
    for (const s of this.lastTickAt.keys()) if (!symbols.has(s)) this.lastTickAt.delete(s);
    for (const s of this.marketCaps.keys()) if (!symbols.has(s)) this.marketCaps.delete(s);
    for (const [exchange, bySymbol] of this.ticks) {
      for (const [symbol, st] of bySymbol) {
        if (keys.has(watchItemKey({ exchange, symbol }))) continue;
        this.emitTick(st);
        bySymbol.delete(symbol);
      }
    }
  }

  /** Store every held point now. */
  flush(): void {
    for (const bySymbol of this.ticks.values()) for (const st of bySymbol.values()) this.emitTick(st);
  }

  private tickState(t: MarketTick): TickState {
    // the tick age is per symbol (whichever exchange ticked last), as the gauge reports it
    let age = this.lastTickAt.get(t.symbol);
    if (!age) this.lastTickAt.set(t.symbol, (age = { at: 0, assetType: t.assetType }));
    const st: TickState = {
      held: { ...EMPTY_TICK },
      pending: false,
      lastEmitAt: -Infinity,
      timer: undefined,
      emit: () => this.emitTick(st),
      age,
      alerts: undefined,
      alertsVersion: -1,
      alertsSlot: -1,
      live: undefined,
      liveVersion: -1,
      liveSlot: -1,
    };
    return st;
  }

  private emitTick(st: TickState): void {
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    if (!st.pending) return;
    const t = st.held;
    st.pending = false;
    st.lastEmitAt = this.core.now();
    if (t.assetType === 'crypto' && t.marketCap === undefined) {
      const cap = this.marketCaps.get(t.symbol);
      if (cap !== undefined) {
        t.marketCap = cap;
        this.marketCaps.delete(t.symbol);
      }
    }
    t.changePct1h ??= this.o.changeSince(t, '1m', t.ts - 3600_000, CHANGE_1H_SLACK_MS);
    // a fallback without a day's change (ExchangeRate-API's rates): against the symbol's last closed daily
    // candle, i.e. the previous close, as Yahoo's own figure is (docs/SOURCES.md, "Fallback sources")
    if (t.source !== undefined) t.changePct24h ??= this.o.changeSince(t, '1d', t.ts, PREV_CLOSE_SLACK_MS);
    this.core.write('market_data', marketDataPoint(t));
  }
}

/**
 * Every field of a MarketTick, in one order: the held ticks all get this shape, so the per-tick copy and
 * merge below run on one object layout (and the point builder skips the undefined fields).
 */
const EMPTY_TICK: MarketTick = {
  exchange: '',
  symbol: '',
  assetType: 'crypto',
  ts: 0,
  receivedAt: 0,
  price: 0,
  bid: undefined,
  ask: undefined,
  volume24h: undefined,
  changePct24h: undefined,
  changePct1h: undefined,
  high24h: undefined,
  low24h: undefined,
  marketCap: undefined,
  marketState: undefined,
  source: undefined,
};

/** The first tick after a point: `h` becomes a copy of `t` (fields `t` lacks are cleared). */
function copyTick(h: MarketTick, t: MarketTick): void {
  h.exchange = t.exchange;
  h.symbol = t.symbol;
  h.assetType = t.assetType;
  h.ts = t.ts;
  h.receivedAt = t.receivedAt;
  h.price = t.price;
  h.bid = t.bid;
  h.ask = t.ask;
  h.volume24h = t.volume24h;
  h.changePct24h = t.changePct24h;
  h.changePct1h = t.changePct1h;
  h.high24h = t.high24h;
  h.low24h = t.low24h;
  h.marketCap = t.marketCap;
  // a fallback knows no market state: its point carries the venue's last one (docs/SOURCES.md)
  if (t.source === undefined || t.marketState !== undefined) h.marketState = t.marketState;
  h.source = t.source;
}

/**
 * Later tick wins field by field; fields it does not carry (bid/ask from bookTicker, 24 h stats from the
 * ticker) are kept. Field by field rather than over Object.entries: no arrays per tick.
 */
function merge(h: MarketTick, t: MarketTick): void {
  const ts = Math.max(h.ts, t.ts);
  if (t.exchange !== undefined) h.exchange = t.exchange;
  if (t.symbol !== undefined) h.symbol = t.symbol;
  if (t.assetType !== undefined) h.assetType = t.assetType;
  if (t.receivedAt !== undefined) h.receivedAt = t.receivedAt;
  if (t.price !== undefined) h.price = t.price;
  if (t.bid !== undefined) h.bid = t.bid;
  if (t.ask !== undefined) h.ask = t.ask;
  if (t.volume24h !== undefined) h.volume24h = t.volume24h;
  if (t.changePct24h !== undefined) h.changePct24h = t.changePct24h;
  if (t.changePct1h !== undefined) h.changePct1h = t.changePct1h;
  if (t.high24h !== undefined) h.high24h = t.high24h;
  if (t.low24h !== undefined) h.low24h = t.low24h;
  if (t.marketCap !== undefined) h.marketCap = t.marketCap;
  if (t.marketState !== undefined) h.marketState = t.marketState;
  h.source = t.source; // the price is the latest tick's: so is who gave it
  h.ts = ts;
}
