// What the feeders collect: the union of every watchlist's items, plus the alert rules. The watchlist
// API owns the data (PostgreSQL); feeders receive the full set at (re)connect and on every change.
import type { AssetType } from '../symbols.js';

export interface WatchItem {
  symbol: string;
  asset_type: AssetType;
  exchange: string;
}

export type AlertCondition = 'above' | 'below' | 'pct_change';

export interface AlertRule {
  id: string;
  symbol: string;
  condition: AlertCondition;
  threshold: number;
  /** Look-back for pct_change, seconds. */
  window_seconds: number | null;
  /** After firing, the rule re-arms no sooner than this. */
  cooldown_seconds: number;
  severity: 'info' | 'warning' | 'critical';
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
