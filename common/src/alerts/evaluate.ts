// Alert-rule evaluation: pure, no I/O and no clock of its own (every time is an input: the exchange time
// of a tick, the close time of a candle, the publication time of an article, the clock for feed_stale).
// The market feeder runs it live (feeders/src/market/alerts/) and the watchlist API's backtest replays
// stored series through the very same class, so both fire at the same moments. Semantics: docs/ALERTING.md.
//
// - A rule fires when its condition BECOMES true between two evaluations, never on every evaluation while
//   it stays true; the first evaluation of a rule only records the state (a rule created, or a feeder
//   restarted, while the price is already above the threshold does not fire).
// - After a crossing the rule re-arms when the condition is false again, or with `hysteresis_pct` only
//   once the value is that many percent of the threshold back on the other side (flapping → one firing).
// - `cooldown_seconds` after a firing swallows crossings; `trigger` once (one firing, ever) / every_time /
//   once_per_bar (at most one per bar of `timeframe`); `expires_at` ends the rule; `muted_until` swallows
//   firings without touching cooldown or `once`.
// - news_keyword is an event: every new matching article fires (cooldown and trigger apply).

import type { AlertCondition, AlertRule, AlertTimeframe } from '../watchset/types.js';

export const TIMEFRAME_MS: Record<AlertTimeframe, number> = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };

/** What drives a condition's evaluation. */
export type ConditionInput = 'tick' | 'bar' | 'fear_greed' | 'news' | 'funding' | 'clock';

export const CONDITION_INPUT: Record<AlertCondition, ConditionInput> = {
  above: 'tick',
  below: 'tick',
  pct_change: 'tick',
  crosses_above: 'tick',
  crosses_below: 'tick',
  rsi_above: 'bar',
  rsi_below: 'bar',
  macd_cross_up: 'bar',
  macd_cross_down: 'bar',
  bollinger_break_up: 'bar',
  bollinger_break_down: 'bar',
  volume_spike: 'bar',
  funding_above: 'funding',
  funding_below: 'funding',
  fear_greed_above: 'fear_greed',
  fear_greed_below: 'fear_greed',
  news_sentiment_above: 'news',
  news_sentiment_below: 'news',
  news_keyword: 'news',
  feed_stale: 'clock',
};

/** Conditions compared with `threshold` (and so with a hysteresis band around it), and in which direction. */
export const THRESHOLD_DIRECTION: Partial<Record<AlertCondition, 1 | -1>> = {
  above: 1,
  below: -1,
  crosses_above: 1,
  crosses_below: -1,
  rsi_above: 1,
  rsi_below: -1,
  funding_above: 1,
  funding_below: -1,
  fear_greed_above: 1,
  fear_greed_below: -1,
  news_sentiment_above: 1,
  news_sentiment_below: -1,
};

/** Defaults of the condition parameters (docs/ALERTING.md). */
export const PARAM_DEFAULTS = { period: 14, k: 3, n: 20, seconds: 120 } as const;
/** pct_change look-back when a rule has no window_seconds. */
export const DEFAULT_WINDOW_SECONDS = 300;
/** news_sentiment_*: mean sentiment of the asset's articles over this look-back unless window_seconds says otherwise. */
export const DEFAULT_SENTIMENT_WINDOW_SECONDS = 3600;
/** A pct_change window is capped, which bounds memory for a rule with a silly window. */
export const MAX_WINDOW_SECONDS = 7 * 24 * 3600;
/**
 * feed_stale: how long a market state from the source (Yahoo's marketState, every poll) decides whether the
 * market is open; without a fresher one (the source stopped polling) the New York hours do (marketOpen).
 */
export const MARKET_STATE_TTL_MS = 10 * 60_000;
/** Yahoo's marketState during the regular session: the only state feed_stale counts as open. */
export const OPEN_MARKET_STATE = 'REGULAR';
/** Most samples kept per symbol; older samples are thinned so the window stays covered. */
export const MAX_WINDOW_SAMPLES = 2048;

export interface PricePoint {
  ts: number;
  price: number;
}

/** A closed candle of one timeframe. */
export interface Bar {
  openTime: number;
  close: number;
  volume: number;
}

/** The stored indicators of a closed candle (the `indicators` measurement's fields). */
export interface BarIndicators {
  rsi_14?: number;
  macd?: number;
  macd_signal?: number;
  bb_upper?: number;
  bb_lower?: number;
}

export interface NewsItem {
  /** Publication time, epoch ms. */
  ts: number;
  id: string;
  title: string;
  sentiment: number;
  url?: string;
}

/** One firing: what delivery, history and the backtest need. */
export interface Firing {
  rule: AlertRule;
  symbol: string;
  /** Last price of the symbol (the tick's, or the candle's close); NaN when none is known yet. */
  price: number;
  /** When it fired, epoch ms: the tick's exchange time, the candle's close time, the article's time, the clock. */
  ts: number;
  /** The measured value when it is not the price: % change, RSI, MACD − signal, volume ratio, F&G, sentiment, funding, seconds stale. */
  value?: number;
  /** pct_change: the price the change is measured from. */
  reference?: number;
  /** pct_change: the change in percent (= value). */
  changePct?: number;
  /** news_keyword / news_sentiment: the article that fired it. */
  article?: NewsItem;
}

/** A candle's open, high, low and close: what the backtest replays price rules from (docs/ALERTING.md "Backtest"). */
export interface OhlcBar {
  openTime: number;
  /** Bar length, ms (60 000 for 1m). */
  ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/**
 * The tick path a bar stands for, for the evaluator's onTick: open, the two extremes, close — low before
 * high when the bar closed at or above its open, high before low otherwise. Of the paths through the four
 * prices this one crosses every level the fewest times, and any real tick path with that open, high, low
 * and close crosses each level at least as often: so a replay of it never shows a crossing the ticks did
 * not make (it can miss one, e.g. a dip and recovery inside a falling bar). Times: open at the bar's open,
 * the extremes at 1/3 and 2/3 of it, close at its last millisecond (when inside the bar the extremes
 * came is not stored: a firing's time is exact to the bar only).
 */
export function barPath(b: OhlcBar): [PricePoint, PricePoint, PricePoint, PricePoint] {
  const up = b.close >= b.open;
  const third = Math.floor(b.ms / 3);
  return [
    { ts: b.openTime, price: b.open },
    { ts: b.openTime + third, price: up ? b.low : b.high },
    { ts: b.openTime + 2 * third, price: up ? b.high : b.low },
    { ts: b.openTime + b.ms - 1, price: b.close },
  ];
}

/** Resolution of the price window of a symbol without pct_change rules (only the change shown in messages). */
export const CONTEXT_WINDOW_SAMPLES = 60;

/** Every tick of every symbol asks; almost always nothing fires: no array per tick for that. */
const NONE: readonly Firing[] = Object.freeze([]);

/** Where a PriceWindow keeps its newest sample: time, price, end of its slot (three numbers in a row). */
const W_TS = 0;
const W_PRICE = 1;
const W_SLOT_END = 2;

/**
 * The hot path of PriceWindow.add, on the newest sample kept at h[o + W_*] (also called by
 * RuleEvaluator.onTickAt on its symbol's row, without touching the window object): a tick inside the newest
 * sample's slot only overwrites it (an empty window's slot ends at -Infinity). false: the tick starts a
 * slot of its own (PriceWindow.addSlot).
 */
function addInSlot(h: Float64Array, o: number, ts: number, price: number): boolean {
  if (ts >= h[o + W_SLOT_END]!) return false;
  if (ts >= h[o + W_TS]!) {
    h[o + W_TS] = ts;
    h[o + W_PRICE] = price;
  }
  return true;
}

/**
 * A bounded, time-ordered price history of one symbol covering `spanMs`: at most one sample per
 * spanMs / samples, so a busy symbol keeps at most `samples` (+2) samples; a tick inside the current
 * slot only overwrites the newest sample. The samples live in one Float64Array ring (time, price, time,
 * price, …), addressed by a sequence number that only grows: no object per sample, so nothing for the
 * garbage collector to trace however many symbols keep a full window, and a look-up reads neighbouring
 * memory (docs/BENCHMARKS.md §11). The newest sample and its slot's end are kept apart, in three numbers
 * the evaluator places in its symbol's row (`bind`): a tick inside the slot writes only there, and the
 * ring's copy is brought up to date before it is read or the slot moves on (docs/ALERTING.md
 * "Evaluation cost").
 */
export class PriceWindow {
  private buf = new Float64Array(16);
  /** Ring capacity in samples (a power of two) − 1. */
  private mask = 7;
  /** Sequence number of the oldest kept sample, and one past the newest. */
  private start = 0;
  private end = 0;
  /**
   * The newest sample's time and price and its slot's end at h[ho + W_*]. With `keepFirst` the time
   * there is +Infinity (no later tick overwrites the slot's first price) and the ring holds the sample.
   */
  private h: Float64Array = Float64Array.of(Infinity, Number.NaN, -Infinity);
  private ho = 0;
  /**
   * The last answer of a look-up: market time only moves forward, so the next `since` is mostly at or after
   * it and the answer is found by stepping on from there (a sample or two) instead of a binary search.
   */
  private hintSeq = 0;
  private hintSince = Infinity;

  /**
   * `samples`: resolution; pct_change needs MAX_WINDOW_SAMPLES, the change shown in a message far fewer.
   * `keepFirst`: a slot keeps its first price instead of its newest (the change shown in a message is
   * measured from the oldest price, which must survive the ticks after it in the same slot).
   */
  constructor(
    public spanMs: number,
    public samples = MAX_WINDOW_SAMPLES,
    readonly keepFirst = false,
  ) {}

  get size(): number {
    return this.end - this.start;
  }

  /** Keep the newest sample at h[offset …offset + 2] from now on (the evaluator's symbol row). */
  bind(h: Float64Array, offset: number): void {
    h[offset + W_TS] = this.h[this.ho + W_TS]!;
    h[offset + W_PRICE] = this.h[this.ho + W_PRICE]!;
    h[offset + W_SLOT_END] = this.h[this.ho + W_SLOT_END]!;
    this.h = h;
    this.ho = offset;
  }

  add(ts: number, price: number): void {
    if (!addInSlot(this.h, this.ho, ts, price)) this.addSlot(ts, price);
  }

  /** A tick at or after the newest sample's slot end (or the first one): a sample of its own. */
  addSlot(ts: number, price: number): void {
    if (this.end > this.start) {
      this.commit();
      if (ts < this.buf[((this.end - 1) & this.mask) << 1]!) return; // out of order: the window is about market time moving forward
    }
    // one sample per slot of span / samples: the newest in a slot replaces the previous one
    const slot = this.spanMs / this.samples;
    const h = this.h;
    const o = this.ho;
    h[o + W_SLOT_END] = (Math.floor(ts / slot) + 1) * slot;
    h[o + W_TS] = this.keepFirst ? Infinity : ts;
    h[o + W_PRICE] = price;
    if (this.end - this.start > this.mask) this.grow();
    const j = (this.end & this.mask) << 1;
    this.buf[j] = ts;
    this.buf[j + 1] = price;
    this.end++;
    const cutoff = ts - this.spanMs;
    while (this.end - this.start > 1 && this.buf[(this.start & this.mask) << 1]! < cutoff) this.start++;
  }

  /** The ring's copy of the newest sample brought up to date (a tick in its slot wrote only the row). */
  private commit(): void {
    if (this.keepFirst || this.end === this.start) return;
    const i = ((this.end - 1) & this.mask) << 1;
    this.buf[i] = this.h[this.ho + W_TS]!;
    this.buf[i + 1] = this.h[this.ho + W_PRICE]!;
  }

  /** Oldest price at or after `since` (or undefined when the window holds nothing that recent). */
  oldestSince(since: number): PricePoint | undefined {
    const q = this.seqSince(since);
    return q < this.end ? { ts: this.tsAt(q), price: this.priceAt(q) } : undefined;
  }

  /** Sequence number of the oldest sample at or after `since`; `newestSeq + 1` when there is none. */
  seqSince(since: number): number {
    this.commit();
    const buf = this.buf;
    const mask = this.mask;
    let lo: number;
    if (since >= this.hintSince) {
      // every sample before the last answer is older than the last `since` (only the newest sample ever
      // changes, to a later time): step on from there
      lo = Math.max(this.start, Math.min(this.hintSeq, this.end - 1));
      while (lo < this.end && buf[(lo & mask) << 1]! < since) lo++;
    } else {
      lo = this.start;
      let hi = this.end;
      while (lo < hi) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (buf[(mid & mask) << 1]! < since) lo = mid + 1;
        else hi = mid;
      }
    }
    this.hintSeq = lo;
    this.hintSince = since;
    return lo;
  }

  /** Time and price of a kept sample (by sequence number; the newest one as it is now). */
  tsAt(seq: number): number {
    if (seq === this.end - 1) this.commit();
    return this.buf[(seq & this.mask) << 1]!;
  }

  priceAt(seq: number): number {
    if (seq === this.end - 1) this.commit();
    return this.buf[((seq & this.mask) << 1) + 1]!;
  }

  /** Sequence number of the newest sample: a later tick in its slot overwrites it. */
  get newestSeq(): number {
    return this.end - 1;
  }

  /**
   * Time of the sample before `seq` (-Infinity when none is kept). Samples are in ascending time, so
   * seqSince answers `seq` for every `since` in (that time, tsAt(seq)].
   */
  tsBefore(seq: number): number {
    return seq - 1 >= this.start ? this.tsAt(seq - 1) : -Infinity;
  }

  /** Twice the ring, the kept samples at their places in it. */
  private grow(): void {
    const old = this.buf;
    const oldMask = this.mask;
    this.mask = oldMask * 2 + 1;
    this.buf = new Float64Array((this.mask + 1) * 2);
    for (let q = this.start; q < this.end; q++) {
      const a = (q & oldMask) << 1;
      const b = (q & this.mask) << 1;
      this.buf[b] = old[a]!;
      this.buf[b + 1] = old[a + 1]!;
    }
  }
}

/** Fixed-capacity ring of the last volumes of one symbol and timeframe (volume_spike's mean). */
class VolumeRing {
  private readonly buf: number[];
  private i = 0;
  count = 0;
  private sum = 0;
  constructor(readonly n: number) {
    this.buf = new Array<number>(n).fill(0);
  }
  /** Mean of the last `m` (≤ n) values, or undefined while fewer are known. */
  meanOfLast(m: number): number | undefined {
    if (this.count < m) return undefined;
    if (m === this.n) return this.sum / m;
    let s = 0;
    for (let j = 1; j <= m; j++) s += this.buf[(this.i - j + this.n * 2) % this.n]!;
    return s / m;
  }
  push(x: number): void {
    if (this.count === this.n) this.sum -= this.buf[this.i]!;
    else this.count++;
    this.buf[this.i] = x;
    this.sum += x;
    this.i = (this.i + 1) % this.n;
  }
}

interface RuleState {
  rule: AlertRule;
  // The rule's fields the hot path reads, copied into this one object shape: rules arrive in several
  // shapes (old rows, new fields), and reading them through `rule` would make every access megamorphic.
  cond: AlertCondition;
  /** cond === 'pct_change', as a flag: a condition read from PostgreSQL is not an interned string, and
   * comparing it with 'pct_change' on every tick compares its characters. */
  pct: boolean;
  thr: number;
  winMs: number;
  cooldownMs: number;
  once: boolean;
  perBar: boolean;
  /** Condition at the last evaluation; undefined before the first one. */
  last: boolean | undefined;
  /** Whether a crossing (condition becoming true) would count now. */
  armed: boolean;
  /** Whether the rule has crossed at least once (hysteresis applies to re-arming after a crossing only). */
  crossed: boolean;
  /** Exchange time until which the rule is cooling down. */
  quietUntil: number;
  /** Bar (index of `timeframe`) of the last firing, for once_per_bar. */
  firedBar: number;
  /** trigger once: fired already. */
  done: boolean;
  expiresAt: number;
  mutedUntil: number;
  barMs: number;
  /** THRESHOLD_DIRECTION, or 0 for conditions without a threshold band. */
  dir: 1 | -1 | 0;
  /** Distance from the threshold the value must come back by to re-arm (absolute, from hysteresis_pct). */
  band: number;
}

/**
 * A symbol's numbers every tick reads or writes, in one row of the evaluator's Float64Array (ROW numbers a
 * symbol, neighbours in memory): a tick inside the quiet band touches this row and nothing else
 * (docs/ALERTING.md "Evaluation cost").
 */
const R_PRICE = 0;
const R_QUIET_LO = 1;
const R_QUIET_HI = 2;
const R_QUIET_FROM = 3;
const R_QUIET_UNTIL = 4;
/** The price window's newest sample (time, price) and its slot's end: PriceWindow.bind. */
const R_WINDOW = 5;
const R_LAST_TS = 8;
const ROW = 9;

class SymbolState {
  constructor(
    /** The evaluator's rows (this symbol's at `o`) and asset types (at `row`). */
    private readonly hot: Float64Array,
    private readonly assets: (string | undefined)[],
    readonly row: number,
  ) {
    this.o = row * ROW;
  }
  readonly o: number;
  get price(): number {
    return this.hot[this.o + R_PRICE]!;
  }
  set price(v: number) {
    this.hot[this.o + R_PRICE] = v;
  }
  /** Exchange time of the last tick (feed_stale; before the first tick: when its rules were loaded). */
  get lastTs(): number {
    return this.hot[this.o + R_LAST_TS]!;
  }
  set lastTs(v: number) {
    this.hot[this.o + R_LAST_TS] = v;
  }
  get assetType(): string | undefined {
    return this.assets[this.row];
  }
  set assetType(v: string | undefined) {
    this.assets[this.row] = v;
  }
  /**
   * The quiet band: a tick with a price strictly between `quietLo` and `quietHi` and an exchange time in
   * (`quietFrom`, `quietUntil`] changes no tick rule's state (no level passed, every pct_change rule's
   * reference price and side unchanged), so it only records its price (docs/ALERTING.md "Evaluation
   * cost"). Set by each evaluation; NaN = none (every tick is evaluated).
   */
  get quietLo(): number {
    return this.hot[this.o + R_QUIET_LO]!;
  }
  set quietLo(v: number) {
    this.hot[this.o + R_QUIET_LO] = v;
  }
  get quietHi(): number {
    return this.hot[this.o + R_QUIET_HI]!;
  }
  set quietHi(v: number) {
    this.hot[this.o + R_QUIET_HI] = v;
  }
  get quietFrom(): number {
    return this.hot[this.o + R_QUIET_FROM]!;
  }
  set quietFrom(v: number) {
    this.hot[this.o + R_QUIET_FROM] = v;
  }
  get quietUntil(): number {
    return this.hot[this.o + R_QUIET_UNTIL]!;
  }
  set quietUntil(v: number) {
    this.hot[this.o + R_QUIET_UNTIL] = v;
  }
  /** The source's market state (onMarketState) and when it was reported; -Infinity: none. */
  marketState: string | undefined = undefined;
  marketStateAt = -Infinity;
  /** feed_stale: when the market was last seen opening (a closed market's silence is not staleness). */
  openedAt = -Infinity;
  /** feed_stale: whether the market was open at the last onClock. */
  wasOpen: boolean | undefined = undefined;
  /** Time of the newest funding rate evaluated (the live feed and the InfluxDB poll both report them). */
  fundingTs = -Infinity;
  window: PriceWindow | undefined = undefined;
  tickRules: RuleState[] = [];
  /** Tick rules evaluated on every tick (pct_change: its reference moves with time). */
  scanRules: RuleState[] = [];
  /**
   * The levels of the price-level tick rules (threshold, and the re-arm level threshold ∓ band), sorted,
   * with the rule of each: a tick only evaluates the rules with a level between the previous price and
   * its own (docs/ALERTING.md "Evaluation cost").
   */
  levels = new Float64Array(0);
  levelRules: RuleState[] = [];
  /** The next tick evaluates every tick rule (after a reload: new rules record their first state). */
  fullScan = true;
  /** Whether every tick rule that is not level-indexed is a pct_change rule (the band knows no others). */
  quietOk = false;
  /** timeframe → bar rules. */
  barRules = new Map<string, RuleState[]>();
  /** timeframe → open time of the last candle evaluated. */
  lastBar = new Map<string, number>();
  /** timeframe → volumes of closed candles (only with a volume_spike rule). */
  volumes = new Map<string, VolumeRing>();
  fundingRules: RuleState[] = [];
  staleRules: RuleState[] = [];
}

interface NewsState {
  rules: RuleState[];
  /** Sentiment of recent articles, ascending time. */
  recent: { ts: number; sentiment: number }[];
  spanMs: number;
}

export class RuleEvaluator {
  private states = new Map<string, RuleState>();
  private symbols = new Map<string, SymbolState>();
  private news = new Map<string, NewsState>();
  private fearGreedRules: RuleState[] = [];
  private lastFearGreedTs = -Infinity;
  private readonly seenArticles = new Map<string, number>();
  /** Rows of the symbols with a rule (SymbolState), their asset types, and the symbol of each row. */
  private hot = new Float64Array(0);
  private assets: (string | undefined)[] = [];
  private bySlot: SymbolState[] = [];
  /** Changes with every setRules: a slot from tickSlot is valid while it stays the same. */
  version = 0;

  /**
   * Replace the rule set. A rule whose definition did not change keeps its state (crossing, cooldown,
   * once); `muted_until` and `expires_at` can change without resetting it. `now` (epoch ms) is when the
   * rules arrive: feed_stale counts from it for a symbol that has not ticked yet.
   */
  setRules(rules: AlertRule[], now = Date.now()): void {
    const next = new Map<string, RuleState>();
    for (const rule of rules) {
      const old = this.states.get(rule.id);
      const s = old && sameDefinition(old.rule, rule) ? old : freshState(rule);
      // trigger once: fired_at is the stored "fired" (a restart keeps it); clearing it re-arms the rule. A
      // firing whose fired_at is not stored yet stays fired.
      if (rule.fired_at) s.done = s.once;
      else if (s === old && old.rule.fired_at) s.done = false;
      s.rule = rule;
      s.expiresAt = timeOf(rule.expires_at, Infinity);
      s.mutedUntil = timeOf(rule.muted_until, -Infinity);
      next.set(rule.id, s);
    }
    this.states = next;

    const prev = this.symbols;
    this.symbols = new Map();
    // one row per symbol with a rule; handles from tickSlot are stale from here on (version)
    const rows = new Set<string>();
    for (const s of next.values()) rows.add(s.rule.symbol);
    const hot = (this.hot = new Float64Array(rows.size * ROW));
    const assets = (this.assets = new Array<string | undefined>(rows.size).fill(undefined));
    const bySlot = (this.bySlot = new Array<SymbolState>(rows.size));
    this.version++;
    this.news = new Map();
    this.fearGreedRules = [];
    const spans = new Map<string, number>();
    const volumeN = new Map<string, number>();
    for (const s of next.values()) {
      const { rule } = s;
      let sym = this.symbols.get(rule.symbol);
      if (!sym) {
        const p = prev.get(rule.symbol);
        sym = new SymbolState(hot, assets, this.symbols.size);
        sym.price = p?.price ?? Number.NaN;
        sym.lastTs = p?.lastTs ?? now;
        sym.assetType = p?.assetType;
        if (p) {
          sym.marketState = p.marketState;
          sym.marketStateAt = p.marketStateAt;
          sym.openedAt = p.openedAt;
          sym.wasOpen = p.wasOpen;
          sym.fundingTs = p.fundingTs;
          sym.window = p.window;
          sym.volumes = p.volumes;
          sym.lastBar = p.lastBar;
        }
        bySlot[sym.row] = sym;
        this.symbols.set(rule.symbol, sym);
      }
      // every symbol with a rule keeps a price window: messages show the change over the rule's window
      spans.set(rule.symbol, Math.max(spans.get(rule.symbol) ?? 0, windowMs(rule)));
      switch (CONDITION_INPUT[rule.condition]) {
        case 'tick':
          sym.tickRules.push(s);
          break;
        case 'bar': {
          const tf = rule.timeframe ?? '1m';
          const list = sym.barRules.get(tf) ?? [];
          list.push(s);
          sym.barRules.set(tf, list);
          if (rule.condition === 'volume_spike') {
            const key = `${rule.symbol}\u0000${tf}`;
            volumeN.set(key, Math.max(volumeN.get(key) ?? 0, paramN(rule)));
          }
          break;
        }
        case 'funding':
          sym.fundingRules.push(s);
          break;
        case 'clock':
          sym.staleRules.push(s);
          break;
        case 'fear_greed':
          this.fearGreedRules.push(s);
          break;
        case 'news':
          for (const asset of newsAssetsOf(rule.symbol)) {
            let n = this.news.get(asset);
            if (!n) this.news.set(asset, (n = { rules: [], recent: [], spanMs: 0 }));
            n.rules.push(s);
            n.spanMs = Math.max(n.spanMs, sentimentWindowMs(rule));
          }
          break;
      }
    }
    for (const [symbol, span] of spans) {
      const sym = this.symbols.get(symbol)!;
      const samples = sym.tickRules.some((r) => r.rule.condition === 'pct_change') ? MAX_WINDOW_SAMPLES : CONTEXT_WINDOW_SAMPLES;
      if (sym.window && sym.window.samples === samples) sym.window.spanMs = span;
      else sym.window = new PriceWindow(span, samples, samples === CONTEXT_WINDOW_SAMPLES);
      sym.window.bind(hot, sym.o + R_WINDOW);
    }
    for (const sym of this.symbols.values()) indexLevels(sym);
    for (const [symbol, sym] of this.symbols) {
      for (const tf of [...sym.volumes.keys()]) {
        const n = volumeN.get(`${symbol}\u0000${tf}`);
        if (!n) sym.volumes.delete(tf);
        else if (sym.volumes.get(tf)!.n < n) sym.volumes.set(tf, new VolumeRing(n)); // a longer mean starts over
      }
      for (const tf of sym.barRules.keys()) {
        const n = volumeN.get(`${symbol}\u0000${tf}`);
        if (n && !sym.volumes.has(tf)) sym.volumes.set(tf, new VolumeRing(n));
      }
    }
  }

  get ruleCount(): number {
    return this.states.size;
  }

  /** Symbols with at least one rule. */
  watchedSymbols(): IterableIterator<string> {
    return this.symbols.keys();
  }

  /** News assets (`related_asset` values) some rule listens to. */
  newsAssets(): IterableIterator<string> {
    return this.news.keys();
  }

  get hasFearGreedRules(): boolean {
    return this.fearGreedRules.length > 0;
  }

  /** Last known price of a symbol (NaN when none) and its change over the last `ms` in percent (undefined when unknown). */
  priceContext(symbol: string, ts: number, ms: number): { price: number; changePct: number | undefined; from: number | undefined } {
    const sym = this.symbols.get(symbol);
    if (!sym) return { price: Number.NaN, changePct: undefined, from: undefined };
    const ref = sym.window?.oldestSince(ts - ms);
    if (!ref || ref.ts >= ts || !(ref.price > 0) || !Number.isFinite(sym.price)) return { price: sym.price, changePct: undefined, from: undefined };
    return { price: sym.price, changePct: ((sym.price - ref.price) / ref.price) * 100, from: ref.price };
  }

  /** A trade / quote of `symbol` at exchange time `ts`; returns the rules that fire on it. */
  onTick(symbol: string, ts: number, price: number, assetType?: string): readonly Firing[] {
    const sym = this.symbols.get(symbol);
    return sym ? this.onTickAt(sym.row, symbol, ts, price, assetType) : NONE;
  }

  /**
   * The handle onTickAt takes for `symbol`'s ticks, found once per symbol (the feeder's core keeps it beside
   * its own per-symbol state); -1: no rule of the symbol. Valid while `version` stays the same.
   */
  tickSlot(symbol: string, assetType?: string): number {
    const sym = this.symbols.get(symbol);
    if (!sym) return -1;
    // a symbol's ticks carry one asset type: taken with the handle, so onTickAt need not compare it per tick
    if (assetType !== undefined) sym.assetType = assetType;
    return sym.row;
  }

  /**
   * onTick for the symbol of a handle from tickSlot (of the current `version`): a tick inside the symbol's
   * quiet band reads and writes its row alone — no map, no object, no allocation (docs/ALERTING.md
   * "Evaluation cost").
   */
  onTickAt(slot: number, symbol: string, ts: number, price: number, assetType?: string): readonly Firing[] {
    if (!Number.isFinite(price)) return NONE;
    const h = this.hot;
    const o = slot * ROW;
    const prev = h[o + R_PRICE]!;
    h[o + R_PRICE] = price;
    if (ts > h[o + R_LAST_TS]!) h[o + R_LAST_TS] = ts;
    if (assetType !== undefined && this.assets[slot] !== assetType) this.assets[slot] = assetType;
    // the price window (PriceWindow.add on this row): a tick inside the newest sample's slot only overwrites
    // it here; a later slot goes to the ring
    if (!addInSlot(h, o + R_WINDOW, ts, price)) this.bySlot[slot]!.window?.addSlot(ts, price);
    // inside the quiet band this tick can change no rule: its price (and window sample) is all it leaves
    if (price > h[o + R_QUIET_LO]! && price < h[o + R_QUIET_HI]! && ts > h[o + R_QUIET_FROM]! && ts <= h[o + R_QUIET_UNTIL]!) return NONE;
    return this.evaluateTick(this.bySlot[slot]!, symbol, prev, ts, price);
  }

  /** A tick outside the quiet band: the rules it can change, and the new band. */
  private evaluateTick(sym: SymbolState, symbol: string, prev: number, ts: number, price: number): readonly Firing[] {
    const window = sym.window;
    let out: Firing[] | undefined;
    const full = sym.fullScan || prev !== prev;
    const lv = sym.levels;
    // A price-level rule's outcome changes only when the price passes one of its levels (threshold,
    // re-arm level): between the previous price and this one. Its state after an evaluation is a fixed
    // point for any price on the same side of its levels, so skipping the others is exact.
    if (!full && price !== prev) {
      const lo = prev < price ? prev : price;
      const hi = prev < price ? price : prev;
      // first level ≥ lo
      let a = 0;
      let b = lv.length;
      while (a < b) {
        const m = (a + b) >> 1;
        if (lv[m]! < lo) a = m + 1;
        else b = m;
      }
      for (; a < lv.length && lv[a]! <= hi; a++) {
        const s = sym.levelRules[a]!;
        const now = s.dir > 0 ? price > s.thr : price < s.thr;
        if (!now && s.armed) {
          s.last = false;
          continue;
        }
        if (this.step(s, now, price, ts)) (out ??= []).push({ rule: s.rule, symbol, price, ts });
      }
    }
    // The quiet band starts as the gap between the levels around the price (a level equal to it: none)
    let a = 0;
    let b = lv.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (lv[m]! < price) a = m + 1;
      else b = m;
    }
    let qHi = a < lv.length ? lv[a]! : Infinity;
    let qLo = qHi === price ? price : a > 0 ? lv[a - 1]! : -Infinity;
    let qFrom = -Infinity;
    let qUntil = Infinity;
    if (!sym.quietOk) qLo = Number.NaN;
    const rules = full ? sym.tickRules : sym.scanRules;
    sym.fullScan = false;
    // pct_change rules of one symbol mostly share a window: one search per distinct window per tick
    let searchedMs = -1;
    let refTs = Number.NaN;
    let refPrice = Number.NaN;
    let refAfter = Number.NaN;
    for (let i = 0; i < rules.length; i++) {
      const s = rules[i]!;
      const pct = s.pct;
      let value = price;
      let reference: number | undefined;
      let now: boolean;
      if (pct) {
        if (s.winMs !== searchedMs) {
          searchedMs = s.winMs;
          const q = window ? window.seqSince(ts - s.winMs) : 0;
          const known = window !== undefined && q <= window.newestSeq;
          refTs = known ? window.tsAt(q) : Number.NaN;
          refPrice = known ? window.priceAt(q) : Number.NaN;
          // the newest sample is no stable reference: a later tick in its slot overwrites it
          refAfter = known && q < window.newestSeq ? window.tsBefore(q) : Number.NaN;
        }
        if (!(refPrice > 0) || refTs === ts) {
          now = false;
          value = Number.NaN;
          qLo = Number.NaN;
        } else {
          reference = refPrice;
          value = ((price - refPrice) / refPrice) * 100;
          now = s.thr >= 0 ? value >= s.thr : value <= s.thr;
          // quiet while the reference stays this sample (a later `since` passes it, an earlier one reaches
          // the sample before it) and the change stays between this rule's levels (threshold, re-arm level)
          qFrom = Math.max(qFrom, refAfter + s.winMs);
          qUntil = Math.min(qUntil, refTs + s.winMs);
          const rearm = s.band > 0 ? (s.dir > 0 ? s.thr - s.band : s.thr + s.band) : s.thr;
          const vLo = Math.max(s.thr < value ? s.thr : -Infinity, rearm < value ? rearm : -Infinity);
          const vHi = Math.min(s.thr > value ? s.thr : Infinity, rearm > value ? rearm : Infinity);
          if (s.thr === value || rearm === value) qLo = Number.NaN; // on a level: any move passes it
          else {
            qLo = Math.max(qLo, priceAbove(vLo, refPrice));
            qHi = Math.min(qHi, priceBelow(vHi, refPrice));
          }
        }
      } else if (s.dir > 0) now = price > s.thr;
      else now = price < s.thr;
      // the common case, inlined: false and already armed — nothing to do but remember it
      if (!now && s.armed) {
        s.last = false;
        continue;
      }
      if (!this.step(s, now, value, ts)) continue;
      const f: Firing = { rule: s.rule, symbol, price, ts };
      if (pct) {
        f.value = value;
        f.changePct = value;
        f.reference = reference;
      }
      (out ??= []).push(f);
    }
    sym.quietLo = qLo;
    sym.quietHi = qHi;
    sym.quietFrom = qFrom;
    sym.quietUntil = qUntil;
    return out ?? NONE;
  }

  /** A closed candle of `timeframe` with its stored indicators; fires at its close time. */
  onBar(symbol: string, timeframe: string, bar: Bar, ind: BarIndicators): readonly Firing[] {
    const sym = this.symbols.get(symbol);
    if (!sym) return NONE;
    // each candle once, in open-time order (a backfilled gap re-fed with its successors is not evaluated twice)
    if (bar.openTime <= (sym.lastBar.get(timeframe) ?? -Infinity)) return NONE;
    sym.lastBar.set(timeframe, bar.openTime);
    const rules = sym.barRules.get(timeframe);
    const ring = sym.volumes.get(timeframe);
    const ts = bar.openTime + (TIMEFRAME_MS[timeframe as AlertTimeframe] ?? 60_000);
    let out: Firing[] | undefined;
    for (const s of rules ?? []) {
      const { rule } = s;
      let now = false;
      let value = Number.NaN;
      switch (rule.condition) {
        case 'rsi_above':
        case 'rsi_below':
          if (ind.rsi_14 === undefined) continue; // not warm yet: no evaluation at all
          value = ind.rsi_14;
          now = s.dir > 0 ? value > rule.threshold! : value < rule.threshold!;
          break;
        case 'macd_cross_up':
        case 'macd_cross_down':
          if (ind.macd === undefined || ind.macd_signal === undefined) continue;
          value = ind.macd - ind.macd_signal;
          now = rule.condition === 'macd_cross_up' ? value > 0 : value < 0;
          break;
        case 'bollinger_break_up':
          if (ind.bb_upper === undefined) continue;
          value = bar.close;
          now = bar.close > ind.bb_upper;
          break;
        case 'bollinger_break_down':
          if (ind.bb_lower === undefined) continue;
          value = bar.close;
          now = bar.close < ind.bb_lower;
          break;
        case 'volume_spike': {
          const mean = ring?.meanOfLast(paramN(rule));
          if (mean === undefined || !(mean > 0)) continue;
          value = bar.volume / mean;
          now = value >= (rule.params?.k ?? PARAM_DEFAULTS.k);
          break;
        }
        default:
          continue;
      }
      if (!this.step(s, now, value, ts)) continue;
      (out ??= []).push({ rule, symbol, price: bar.close, ts, value });
    }
    // the candle joins the mean after it was compared with it
    if (ring && Number.isFinite(bar.volume)) ring.push(bar.volume);
    return out ?? NONE;
  }

  /** A Fear & Greed reading (market-wide: every fear_greed rule); a reading seen before is ignored. */
  onFearGreed(ts: number, value: number): readonly Firing[] {
    if (!(ts > this.lastFearGreedTs) || !Number.isFinite(value)) return NONE;
    this.lastFearGreedTs = ts;
    let out: Firing[] | undefined;
    for (const s of this.fearGreedRules) {
      const now = s.dir > 0 ? value > s.rule.threshold! : value < s.rule.threshold!;
      if (!this.step(s, now, value, ts)) continue;
      (out ??= []).push({ rule: s.rule, symbol: s.rule.symbol, price: this.symbols.get(s.rule.symbol)?.price ?? Number.NaN, ts, value });
    }
    return out ?? NONE;
  }

  get hasFundingRules(): boolean {
    for (const s of this.symbols.values()) if (s.fundingRules.length) return true;
    return false;
  }

  /** Whether some rule needs onClock (feed_stale). */
  get needsClock(): boolean {
    for (const s of this.symbols.values()) if (s.staleRules.length) return true;
    return false;
  }

  /** Record an article that was already there when evaluation started (sentiment history, seen id) without evaluating. */
  primeNews(asset: string, item: NewsItem): void {
    const n = this.news.get(asset);
    if (n) this.recordArticle(asset, n, item);
  }

  /** An article about `asset` (the news `related_asset`); an article id seen before is ignored. */
  onNews(asset: string, item: NewsItem): readonly Firing[] {
    const n = this.news.get(asset);
    if (!n || !this.recordArticle(asset, n, item)) return NONE;
    let out: Firing[] | undefined;
    for (const s of n.rules) {
      const { rule } = s;
      let fired: boolean;
      let value: number | undefined;
      if (rule.condition === 'news_keyword') {
        fired = matchesKeyword(item.title, rule.params?.keyword ?? '') && this.stepEvent(s, item.ts);
      } else {
        const since = item.ts - sentimentWindowMs(rule);
        let sum = 0;
        let count = 0;
        for (const r of n.recent) {
          if (r.ts < since || r.ts > item.ts) continue;
          sum += r.sentiment;
          count++;
        }
        if (!count) continue;
        value = sum / count;
        fired = this.step(s, s.dir > 0 ? value > rule.threshold! : value < rule.threshold!, value, item.ts);
      }
      if (!fired) continue;
      (out ??= []).push({ rule, symbol: rule.symbol, price: this.symbols.get(rule.symbol)?.price ?? Number.NaN, ts: item.ts, article: item, ...(value !== undefined ? { value } : {}) });
    }
    return out ?? NONE;
  }

  /**
   * A funding rate of a perpetual (the venue's markPrice update, or a stored `funding` point's
   * funding_rate); one no newer than the last evaluated is ignored (the same rate from the live feed and
   * from the poll of what was stored).
   */
  onFunding(symbol: string, ts: number, rate: number): readonly Firing[] {
    const sym = this.symbols.get(symbol);
    if (!sym || !Number.isFinite(rate) || !(ts > sym.fundingTs)) return NONE;
    sym.fundingTs = ts;
    let out: Firing[] | undefined;
    for (const s of sym.fundingRules) {
      const now = s.dir > 0 ? rate > s.rule.threshold! : rate < s.rule.threshold!;
      if (!this.step(s, now, rate, ts)) continue;
      (out ??= []).push({ rule: s.rule, symbol, price: sym.price, ts, value: rate });
    }
    return out ?? NONE;
  }

  /**
   * The source's market state for a symbol (Yahoo's `marketState`: REGULAR, PRE, POST, CLOSED, …), reported
   * at `at` (receive time) on every poll, changed or not: feed_stale trusts it over the New York hours for
   * MARKET_STATE_TTL_MS, so an exchange holiday (CLOSED on a weekday) is not an outage.
   */
  onMarketState(symbol: string, state: string, at: number): void {
    const sym = this.symbols.get(symbol);
    if (!sym || !(at >= sym.marketStateAt)) return;
    sym.marketState = state;
    sym.marketStateAt = at;
  }

  /** Whether a symbol's market trades at `now`: the source's fresh market state, else the hours. */
  private isOpen(sym: SymbolState, now: number): boolean {
    if (sym.marketState !== undefined && now - sym.marketStateAt <= MARKET_STATE_TTL_MS) return sym.marketState === OPEN_MARKET_STATE;
    return marketOpen(sym.assetType, now);
  }

  /**
   * The clock (feed_stale): a symbol is stale when no tick came for `seconds` while its market is open —
   * counted from its last tick or from when the market opened, whichever is later.
   */
  onClock(now: number): readonly Firing[] {
    let out: Firing[] | undefined;
    for (const [symbol, sym] of this.symbols) {
      if (!sym.staleRules.length) continue;
      const open = this.isOpen(sym, now);
      if (open && sym.wasOpen === false) sym.openedAt = now;
      sym.wasOpen = open;
      const age = (now - Math.max(sym.lastTs, sym.openedAt)) / 1000;
      for (const s of sym.staleRules) {
        const stale = open && age >= (s.rule.params?.seconds ?? PARAM_DEFAULTS.seconds);
        if (!this.step(s, stale, age, now)) continue;
        (out ??= []).push({ rule: s.rule, symbol, price: sym.price, ts: now, value: Math.round(age) });
      }
    }
    return out ?? NONE;
  }

  /** One evaluation of a state condition: whether it fires (crossing, re-arm, cooldown, trigger, expiry, mute). */
  private step(s: RuleState, now: boolean, value: number, ts: number): boolean {
    const first = s.last === undefined;
    s.last = now;
    const crossing = now && s.armed && !first;
    if (now) s.armed = false;
    else if (!s.armed) s.armed = !s.crossed || s.dir === 0 || !(s.band > 0) || leftBand(s, value);
    if (!crossing) return false;
    s.crossed = true;
    return this.fire(s, ts);
  }

  /** An event condition (news_keyword): every occurrence is a candidate. */
  private stepEvent(s: RuleState, ts: number): boolean {
    return this.fire(s, ts);
  }

  private fire(s: RuleState, ts: number): boolean {
    if (ts >= s.expiresAt || s.done || ts < s.quietUntil) return false;
    const bar = Math.floor(ts / s.barMs);
    if (s.perBar && bar === s.firedBar) return false;
    if (ts < s.mutedUntil) return false; // muted: swallowed, without starting a cooldown or using up `once`
    s.quietUntil = ts + s.cooldownMs;
    s.firedBar = bar;
    if (s.once) s.done = true;
    return true;
  }

  /** False when the article was seen before. */
  private recordArticle(asset: string, n: NewsState, item: NewsItem): boolean {
    const key = `${asset}\u0000${item.id}`;
    if (this.seenArticles.has(key)) return false;
    this.seenArticles.set(key, item.ts);
    if (this.seenArticles.size > 50_000) this.pruneArticles(item.ts);
    if (Number.isFinite(item.sentiment)) {
      // ascending time; a late article is inserted where it belongs
      let i = n.recent.length;
      while (i > 0 && n.recent[i - 1]!.ts > item.ts) i--;
      n.recent.splice(i, 0, { ts: item.ts, sentiment: item.sentiment });
      const newest = n.recent[n.recent.length - 1]!.ts;
      let drop = 0;
      while (drop < n.recent.length && n.recent[drop]!.ts < newest - n.spanMs) drop++;
      if (drop) n.recent.splice(0, drop);
    }
    return true;
  }

  private pruneArticles(newest: number): void {
    const cutoff = newest - MAX_WINDOW_SECONDS * 1000;
    for (const [k, t] of this.seenArticles) if (t < cutoff) this.seenArticles.delete(k);
  }
}

/** Sort a symbol's price-level tick rules by their levels (threshold, re-arm level); the rest are scanned. */
function indexLevels(sym: SymbolState): void {
  const pairs: [number, RuleState][] = [];
  sym.scanRules = [];
  sym.quietOk = true;
  for (const s of sym.tickRules) {
    if (s.pct || s.dir === 0 || !Number.isFinite(s.thr)) {
      sym.scanRules.push(s);
      if (!s.pct || s.dir === 0 || !Number.isFinite(s.thr)) sym.quietOk = false;
      continue;
    }
    pairs.push([s.thr, s]);
    if (s.band > 0) pairs.push([s.dir > 0 ? s.thr - s.band : s.thr + s.band, s]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  sym.levels = Float64Array.from(pairs, (x) => x[0]);
  sym.levelRules = pairs.map((x) => x[1]);
  sym.fullScan = true;
  sym.quietLo = sym.quietHi = sym.quietFrom = sym.quietUntil = Number.NaN;
}

function freshState(rule: AlertRule): RuleState {
  const dir = THRESHOLD_DIRECTION[rule.condition] ?? (rule.condition === 'pct_change' ? ((rule.threshold ?? 0) >= 0 ? 1 : -1) : 0);
  const h = rule.hysteresis_pct ?? 0;
  return {
    rule,
    cond: rule.condition,
    pct: rule.condition === 'pct_change',
    thr: rule.threshold ?? Number.NaN,
    winMs: windowMs(rule),
    cooldownMs: (rule.cooldown_seconds ?? 0) * 1000,
    once: rule.trigger === 'once',
    perBar: rule.trigger === 'once_per_bar',
    last: undefined,
    armed: false,
    crossed: false,
    quietUntil: -Infinity,
    firedBar: Number.NaN,
    done: false,
    expiresAt: Infinity,
    mutedUntil: -Infinity,
    barMs: TIMEFRAME_MS[rule.timeframe ?? '1m'] ?? 60_000,
    dir: dir as RuleState['dir'],
    band: rule.threshold !== null && dir !== 0 ? (Math.abs(rule.threshold) * h) / 100 : 0,
  };
}

/**
 * A price above which a pct_change against `ref` is surely above `v` (the change computed exactly as
 * onTick does, which rises with the price): the conversion is nudged up until it is. NaN: none found.
 */
function priceAbove(v: number, ref: number): number {
  if (v === -Infinity) return -Infinity;
  let p = ref * (1 + v / 100);
  for (let k = 0; k < 4; k++, p += Math.abs(p) * 1e-12) if (((p - ref) / ref) * 100 > v) return p;
  return Number.NaN;
}

/** A price below which a pct_change against `ref` is surely below `v` (see priceAbove). */
function priceBelow(v: number, ref: number): number {
  if (v === Infinity) return Infinity;
  let p = ref * (1 + v / 100);
  for (let k = 0; k < 4; k++, p -= Math.abs(p) * 1e-12) if (((p - ref) / ref) * 100 < v) return p;
  return Number.NaN;
}

/** Whether the value is back on the other side of the threshold by at least the hysteresis band. */
function leftBand(s: RuleState, value: number): boolean {
  const t = s.thr;
  return s.dir > 0 ? value <= t - s.band : value >= t + s.band;
}

function timeOf(iso: string | null | undefined, dflt: number): number {
  if (!iso) return dflt;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : dflt;
}

function paramN(rule: AlertRule): number {
  return Math.min(Math.max(Math.trunc(rule.params?.n ?? PARAM_DEFAULTS.n), 1), 500);
}

/** The look-back of a rule: pct_change's window, or the default 5 minutes (messages show the change over it). */
export function windowMs(rule: AlertRule): number {
  const s = Math.min(Math.max(rule.window_seconds ?? DEFAULT_WINDOW_SECONDS, 1), MAX_WINDOW_SECONDS);
  return s * 1000;
}

function sentimentWindowMs(rule: AlertRule): number {
  if (rule.condition === 'news_keyword') return 0;
  return Math.min(Math.max(rule.window_seconds ?? DEFAULT_SENTIMENT_WINDOW_SECONDS, 1), MAX_WINDOW_SECONDS) * 1000;
}

/**
 * The news feeder's `related_asset` values a rule's symbol answers to: the base of a crypto pair (`BTC` for
 * BTC/USDT), the pair itself for forex (`EUR/USD`), the ticker for stocks and indices.
 */
export function newsAssetsOf(symbol: string): string[] {
  const slash = symbol.indexOf('/');
  return slash > 0 ? [symbol.slice(0, slash), symbol] : [symbol];
}

/** Case-insensitive, on word boundaries: "ETF" matches "spot ETF approved", not "ETFs"… nor "NETFLIX". */
export function matchesKeyword(title: string, keyword: string): boolean {
  if (!keyword) return false;
  const k = keyword.toLowerCase();
  const t = title.toLowerCase();
  for (let i = t.indexOf(k); i >= 0; i = t.indexOf(k, i + 1)) {
    const before = i === 0 ? '' : t[i - 1]!;
    const after = t[i + k.length] ?? '';
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return true;
  }
  return false;
}

const NY = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * Whether a symbol's market trades at `ts`: crypto always; US stocks and indices Monday–Friday 09:30–16:00
 * New York time; forex from Sunday 17:00 to Friday 17:00 New York time. Exchange holidays are not known
 * (a holiday reads as open). Unknown asset type (no tick yet): treated as always open.
 */
export function marketOpen(assetType: string | undefined, ts: number): boolean {
  if (assetType !== 'stock' && assetType !== 'index' && assetType !== 'forex') return true;
  let day = 0;
  let minutes = 0;
  for (const p of NY.formatToParts(ts)) {
    if (p.type === 'weekday') day = WEEKDAY[p.value] ?? 0;
    else if (p.type === 'hour') minutes += Number(p.value) * 60;
    else if (p.type === 'minute') minutes += Number(p.value);
  }
  if (assetType === 'forex') {
    if (day === 6) return false;
    if (day === 0) return minutes >= 17 * 60;
    if (day === 5) return minutes < 17 * 60;
    return true;
  }
  return day >= 1 && day <= 5 && minutes >= 9 * 60 + 30 && minutes < 16 * 60;
}

/** Why a rule cannot be evaluated (the API validates too; this guards the feeder against bad rows). */
export function invalidRule(r: AlertRule): string | undefined {
  if (!r || typeof r.id !== 'string' || !r.id) return 'missing id';
  if (typeof r.symbol !== 'string' || !r.symbol) return 'missing symbol';
  if (!Object.hasOwn(CONDITION_INPUT, r.condition)) return `unknown condition ${String(r.condition)}`;
  const needsThreshold = THRESHOLD_DIRECTION[r.condition] !== undefined || r.condition === 'pct_change';
  if (needsThreshold && (typeof r.threshold !== 'number' || !Number.isFinite(r.threshold))) return 'threshold is not a number';
  if (r.condition === 'pct_change' && r.threshold === 0) return 'pct_change threshold 0';
  if (r.cooldown_seconds !== undefined && r.cooldown_seconds !== null && !(Number(r.cooldown_seconds) >= 0)) return 'negative cooldown';
  if (r.timeframe && !Object.hasOwn(TIMEFRAME_MS, r.timeframe)) return `unknown timeframe ${String(r.timeframe)}`;
  if (r.condition === 'news_keyword' && !r.params?.keyword) return 'news_keyword without params.keyword';
  return undefined;
}

function sameDefinition(a: AlertRule, b: AlertRule): boolean {
  return (
    a.symbol === b.symbol &&
    a.condition === b.condition &&
    a.threshold === b.threshold &&
    (a.window_seconds ?? null) === (b.window_seconds ?? null) &&
    a.cooldown_seconds === b.cooldown_seconds &&
    a.severity === b.severity &&
    (a.timeframe ?? '1m') === (b.timeframe ?? '1m') &&
    JSON.stringify(a.params ?? {}) === JSON.stringify(b.params ?? {}) &&
    (a.trigger ?? 'every_time') === (b.trigger ?? 'every_time') &&
    (a.hysteresis_pct ?? 0) === (b.hysteresis_pct ?? 0)
  );
}
