// Price alerts: rules from the watchlist API evaluated on every tick, posted to Alertmanager.
// Owned by the alerting work.
import type { AlertRule } from '@mt/common';
import type { MarketContext } from '../context.js';
import type { MarketTick } from '../types.js';

export interface PriceAlerts {
  setRules(rules: AlertRule[]): void;
  onTick(t: MarketTick): void;
  close(): Promise<void>;
}

export function createPriceAlerts(_ctx: MarketContext): PriceAlerts {
  return { setRules() {}, onTick() {}, async close() {} };
}
