// What the feeders collect: the union of every watchlist's items, plus the alert rules. The watchlist
// API owns the data (PostgreSQL); feeders receive the full set at (re)connect and on every change.
import type { AssetType } from '../symbols.js';

export interface WatchItem {
  symbol: string;
  asset_type: AssetType;
  exchange: string;
}

/** Rule conditions (docs/ALERTING.md): the first three are the original ones, kept unchanged. */
export const ALERT_CONDITIONS = [
  'above',
  'below',
  'pct_change',
  'crosses_above',
  'crosses_below',
  'rsi_above',
  'rsi_below',
  'macd_cross_up',
  'macd_cross_down',
  'bollinger_break_up',
  'bollinger_break_down',
  'volume_spike',
  'funding_above',
  'funding_below',
  'fear_greed_above',
  'fear_greed_below',
  'news_sentiment_above',
  'news_sentiment_below',
  'news_keyword',
  'feed_stale',
] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];
export const ALERT_TIMEFRAMES = ['1m', '5m', '1h', '1d'] as const;
export type AlertTimeframe = (typeof ALERT_TIMEFRAMES)[number];
export const ALERT_TRIGGERS = ['once', 'every_time', 'once_per_bar'] as const;
export type AlertTrigger = (typeof ALERT_TRIGGERS)[number];

/** Condition parameters: `period` (RSI), `k`/`n` (volume_spike), `keyword` (news_keyword), `seconds` (feed_stale). */
export interface AlertParams {
  period?: number;
  k?: number;
  n?: number;
  keyword?: string;
  seconds?: number;
}

export interface AlertRule {
  id: string;
  symbol: string;
  condition: AlertCondition;
  /** Null for conditions without one (macd_cross_*, bollinger_break_*, volume_spike, news_keyword, feed_stale). */
  threshold: number | null;
  /** Look-back for pct_change, seconds. */
  window_seconds: number | null;
  /** After firing, the rule re-arms no sooner than this. */
  cooldown_seconds: number;
  severity: 'info' | 'warning' | 'critical';
  // Added with issue 17; absent (old rows, fixed sets) = the original behaviour.
  /** Bar size of candle conditions and of trigger once_per_bar; default 1m. */
  timeframe?: AlertTimeframe | null;
  params?: AlertParams | null;
  /** Default every_time. */
  trigger?: AlertTrigger | null;
  /** After a crossing the rule re-arms only once the value is this many percent back on the other side. */
  hysteresis_pct?: number | null;
  /** ISO 8601: the rule never fires at or after this time. */
  expires_at?: string | null;
  /** ISO 8601: firings before this time are swallowed (not delivered, not stored). */
  muted_until?: string | null;
  /** ISO 8601, trigger once: when the rule fired (stored by the feeder); it does not fire again while set. */
  fired_at?: string | null;
}

export interface WatchSet {
  items: WatchItem[];
  rules: AlertRule[];
}

/** Anything that delivers the current watch set, now and on every change. */
export interface WatchSetSource {
  /** Resolves once the first full set has been delivered to `onChange`. */
  start(onChange: (set: WatchSet) => void): Promise<void>;
  stop(): Promise<void>;
}

export function watchItemKey(i: Pick<WatchItem, 'exchange' | 'symbol'>): string {
  return `${i.exchange}:${i.symbol}`;
}

/** A fixed set: for tests, demos, and running a feeder without the API. */
export class StaticWatchSet implements WatchSetSource {
  private onChange: ((set: WatchSet) => void) | undefined;
  constructor(private set: WatchSet) {}
  async start(onChange: (set: WatchSet) => void): Promise<void> {
    this.onChange = onChange;
    onChange(this.set);
  }
  /** Replace the set and notify, as a NOTIFY from the API would. */
  update(set: WatchSet): void {
    this.set = set;
    this.onChange?.(set);
  }
  async stop(): Promise<void> {
    this.onChange = undefined;
  }
}
