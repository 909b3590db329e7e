// Pure price-rule evaluation: no I/O, no clock of its own (times are the ticks' exchange times), so
// unit tests and replays drive it with simulated time.
//
// Semantics (docs/ALERTING.md):
// - A rule fires when its condition BECOMES true (false → true between two evaluations), not on every
//   tick while it stays true. The first evaluation of a rule only records the state: a rule created (or
//   a feeder restarted) while the price is already above the threshold does not fire.
// - After firing, the rule stays quiet for `cooldown_seconds`; crossings inside the cooldown are
//   swallowed. After that it is re-armed and needs a new crossing.
// - `pct_change`: change in percent from the oldest price seen within the last `window_seconds` to the
//   current price. A positive threshold means "rose by at least", a negative one "fell by at least".

import type { AlertRule } from '@mt/common';

export interface PricePoint {
  ts: number;
  price: number;
}

/** One firing: what the transport needs to build the Alertmanager alert. */
export interface Firing {
  rule: AlertRule;
  symbol: string;
  price: number;
  /** Exchange time of the crossing tick, epoch ms. */
  ts: number;
  /** For pct_change: the measured change in percent and the price it is measured from. */
  changePct?: number;
  reference?: number;
}

/** Every tick of every symbol asks; almost always nothing fires: no array per tick for that. */
const NONE: readonly Firing[] = Object.freeze([]);

interface RuleState {
  rule: AlertRule;
  /** Condition at the last evaluation; undefined before the first one. */
  last: boolean | undefined;
  /** Exchange time until which the rule is cooling down. */
  quietUntil: number;
}

/** Most samples kept per symbol; older samples are thinned so the window stays covered. */
export const MAX_WINDOW_SAMPLES = 2048;
/** pct_change look-back when a rule has no window_seconds. */
export const DEFAULT_WINDOW_SECONDS = 300;
/** A pct_change window is capped, which bounds memory for a rule with a silly window. */
export const MAX_WINDOW_SECONDS = 7 * 24 * 3600;

/**
 * A bounded, time-ordered price history of one symbol covering `spanMs`: at most one sample per
 * spanMs / MAX_WINDOW_SAMPLES, so a busy symbol keeps at most MAX_WINDOW_SAMPLES (+2) samples.
 */
export class PriceWindow {
  private readonly points: PricePoint[] = [];
  private head = 0;

  constructor(public spanMs: number) {}

  get size(): number {
    return this.points.length - this.head;
  }

  add(ts: number, price: number): void {
    const last = this.points[this.points.length - 1];
    if (last && ts < last.ts) return; // out of order: the window is about market time moving forward
    // one sample per slot of span / MAX_WINDOW_SAMPLES: the newest in a slot replaces the previous one
    const slot = this.spanMs / MAX_WINDOW_SAMPLES;
    if (last && Math.floor(ts / slot) === Math.floor(last.ts / slot)) {
      last.ts = ts;
      last.price = price;
    } else {
      this.points.push({ ts, price });
    }
    const cutoff = ts - this.spanMs;
    while (this.size > 1 && this.points[this.head]!.ts < cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.points.length) {
      this.points.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Oldest price at or after `since` (or undefined when the window holds nothing that recent). */
  oldestSince(since: number): PricePoint | undefined {
    let lo = this.head;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.points[mid]!.ts < since) lo = mid + 1;
      else hi = mid;
    }
    return this.points[lo];
  }
}

export class RuleEvaluator {
  private readonly states = new Map<string, RuleState>();
  /** Rule states by symbol, for the per-tick lookup. */
  private bySymbol = new Map<string, RuleState[]>();
  private readonly windows = new Map<string, PriceWindow>();

  /** Replace the rule set. A rule whose definition did not change keeps its state (crossing, cooldown). */
  setRules(rules: AlertRule[]): void {
    const next = new Map<string, RuleState>();
    for (const rule of rules) {
      const old = this.states.get(rule.id);
      next.set(rule.id, old && sameDefinition(old.rule, rule) ? { ...old, rule } : { rule, last: undefined, quietUntil: 0 });
    }
    this.states.clear();
    for (const [id, s] of next) this.states.set(id, s);
    this.bySymbol = new Map();
    for (const s of this.states.values()) {
      const list = this.bySymbol.get(s.rule.symbol) ?? [];
      list.push(s);
      this.bySymbol.set(s.rule.symbol, list);
    }
    // windows only for symbols with a pct_change rule, sized to their longest window
    const spans = new Map<string, number>();
    for (const s of this.states.values()) {
      if (s.rule.condition !== 'pct_change') continue;
      const span = windowMs(s.rule);
      spans.set(s.rule.symbol, Math.max(spans.get(s.rule.symbol) ?? 0, span));
    }
    for (const sym of [...this.windows.keys()]) if (!spans.has(sym)) this.windows.delete(sym);
    for (const [sym, span] of spans) {
      const w = this.windows.get(sym);
      if (w) w.spanMs = span;
      else this.windows.set(sym, new PriceWindow(span));
    }
  }

  get ruleCount(): number {
    return this.states.size;
  }

  /** Evaluate every rule of the tick's symbol; returns the rules that fire on this tick. */
  onTick(symbol: string, ts: number, price: number): readonly Firing[] {
    const rules = this.bySymbol.get(symbol);
    if (!rules || !Number.isFinite(price)) return NONE;
    const window = this.windows.get(symbol);
    window?.add(ts, price);
    let out: Firing[] | undefined;
    for (const s of rules) {
      const { rule } = s;
      let now: boolean;
      let changePct: number | undefined;
      let reference: number | undefined;
      if (rule.condition === 'above') now = price > rule.threshold;
      else if (rule.condition === 'below') now = price < rule.threshold;
      else {
        const ref = window?.oldestSince(ts - windowMs(rule));
        if (!ref || ref.price <= 0 || ref.ts === ts) now = false;
        else {
          reference = ref.price;
          changePct = ((price - ref.price) / ref.price) * 100;
          now = rule.threshold >= 0 ? changePct >= rule.threshold : changePct <= rule.threshold;
        }
      }
      const crossed = now && s.last === false;
      s.last = now;
      if (!crossed || ts < s.quietUntil) continue;
      s.quietUntil = ts + (rule.cooldown_seconds ?? 0) * 1000;
      (out ??= []).push({ rule, symbol, price, ts, ...(changePct !== undefined ? { changePct, reference } : {}) });
    }
    return out ?? NONE;
  }
}

/** Why a rule cannot be evaluated (the API validates too; this guards the feeder against bad rows). */
export function invalidRule(r: AlertRule): string | undefined {
  if (!r || typeof r.id !== 'string' || !r.id) return 'missing id';
  if (typeof r.symbol !== 'string' || !r.symbol) return 'missing symbol';
  if (r.condition !== 'above' && r.condition !== 'below' && r.condition !== 'pct_change') return `unknown condition ${String(r.condition)}`;
  if (typeof r.threshold !== 'number' || !Number.isFinite(r.threshold)) return 'threshold is not a number';
  if (r.condition === 'pct_change' && r.threshold === 0) return 'pct_change threshold 0';
  if (r.cooldown_seconds !== undefined && r.cooldown_seconds !== null && !(Number(r.cooldown_seconds) >= 0)) return 'negative cooldown';
  return undefined;
}

function windowMs(rule: AlertRule): number {
  const s = Math.min(Math.max(rule.window_seconds ?? DEFAULT_WINDOW_SECONDS, 1), MAX_WINDOW_SECONDS);
  return s * 1000;
}

function sameDefinition(a: AlertRule, b: AlertRule): boolean {
  return (
    a.symbol === b.symbol &&
    a.condition === b.condition &&
    a.threshold === b.threshold &&
    (a.window_seconds ?? null) === (b.window_seconds ?? null) &&
    a.cooldown_seconds === b.cooldown_seconds &&
    a.severity === b.severity
  );
}
