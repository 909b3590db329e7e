// Alerts: rules from the watchlist API evaluated live, posted to Alertmanager, stored as alert_events.
// Evaluation is pure and synchronous (the RuleEvaluator of @mt/common, which the API's backtest runs too):
// ticks and closed candles come from the core; news and Fear & Greed from InfluxDB (context.ts); the
// clock drives feed_stale. Delivery is asynchronous with a bounded retry queue (alertmanager.ts) and a
// digest for bursts (digest.ts), so onTick never waits on the network.
import { Counter, Gauge } from 'prom-client';
import { BUCKETS, splitList, type AlertRule } from '@mt/common';
import type { MarketContext } from '../context.js';
import type { Candle, FundingUpdate, IndicatorValues, MarketTick } from '../types.js';
import { alertEventPoint } from '@mt/common';
import { RuleEvaluator, TIMEFRAME_MS, invalidRule, windowMs, type Firing } from './evaluate.js';
import { AlertFanOut, activeForMs, alertsDashboardLink, toPostableAlert } from './alertmanager.js';
import { DigestBatcher } from './digest.js';
import { AlertContextPoller } from './context.js';
import { OnceFiredStore } from './once.js';
import type { SlottedTicks } from '../core/parts.js';

export { RuleEvaluator, PriceWindow, type Firing } from './evaluate.js';
export { AlertSender, AlertFanOut, postAlerts, toPostableAlert, describeFiring, grafanaLink, type PostableAlert } from './alertmanager.js';
export { DigestBatcher, digestAlert } from './digest.js';
export { OnceFiredStore } from './once.js';

/**
 * The core reaches the alerts as it reaches Grafana Live (SlottedTicks, docs/ALERTING.md "Evaluation cost"):
 * `tickSlot(t)` is the symbol's row, -1 when no rule of the symbol exists; valid while `slotVersion` stays
 * the same (the rule set is replaced); `tickAt(slot, t)` is onTick without a look-up of the symbol.
 */
export interface PriceAlerts extends SlottedTicks<number> {
  setRules(rules: AlertRule[]): void;
  onTick(t: MarketTick): void;
  /** The source's market state of a symbol (Yahoo's marketState), on every poll: feed_stale's open/closed. */
  onMarketState(symbol: string, state: string): void;
  /** A perpetual's funding rate from the venue feed (funding_above / funding_below), as it arrives. */
  onFunding(f: Pick<FundingUpdate, 'symbol' | 'ts' | 'fundingRate'>): void;
  /** A closed candle of any interval with the indicators computed on it. */
  onBar(c: Pick<Candle, 'symbol' | 'interval' | 'openTime' | 'close' | 'volume'>, ind: IndicatorValues): void;
  /** Deliver what is still queued (bounded wait), then stop. */
  close(): Promise<void>;
}

export interface PriceAlertOptions {
  closeDeadlineMs?: number;
  /** feed_stale clock tick (default 1 s). */
  clockMs?: number;
  now?: () => number;
  /** Where a once-rule's firing is stored so a restart does not fire it again (unset: in memory only). */
  onceStore?: Pick<OnceFiredStore, 'fired' | 'close'>;
}

/**
 * `sink` stores every fired alert as an `alert_events` point (history, dashboards, GET /api/alert-events);
 * `influxql` reads news and Fear & Greed for the rules on them and the headlines in messages.
 */
export function createPriceAlerts(
  ctx: Pick<MarketContext, 'cfg' | 'log' | 'registry'> & Partial<Pick<MarketContext, 'sink' | 'influxql'>>,
  opts: PriceAlertOptions = {},
): PriceAlerts {
  const log = ctx.log.child({ component: 'price-alerts' });
  const now = opts.now ?? Date.now;
  const total = new Counter({
    name: 'market_price_alerts_total',
    help: 'Price alerts fired, by outcome: sent (delivered), queued (first attempt failed, retrying), failed (given up)',
    labelNames: ['severity', 'outcome'] as const,
    registers: [ctx.registry],
  });
  const queueSize = new Gauge({ name: 'market_price_alerts_queued', help: 'Price alerts waiting for Alertmanager', registers: [ctx.registry] });
  const rulesGauge = new Gauge({ name: 'market_price_alert_rules', help: 'Price alert rules being evaluated', registers: [ctx.registry] });
  const fired = new Counter({
    name: 'market_alert_firings_total',
    help: 'Alert rules that fired, by condition (before digest and delivery; muted and cooling rules do not fire)',
    labelNames: ['condition'] as const,
    registers: [ctx.registry],
  });

  const deliveries = new Counter({
    name: 'market_alertmanager_deliveries_total',
    help: 'Price alerts by Alertmanager peer and outcome (each alert goes to every peer of ALERTMANAGER_URL)',
    labelNames: ['peer', 'outcome'] as const,
    registers: [ctx.registry],
  });

  const evaluator = new RuleEvaluator();
  const sender = new AlertFanOut({
    urls: splitList(ctx.cfg.ALERTMANAGER_URL),
    log,
    onOutcome: (severity, outcome) => total.inc({ severity, outcome }),
    onPeerOutcome: (peer, outcome) => deliveries.inc({ peer: new URL(peer).host, outcome }),
    onQueueSize: (n) => queueSize.set(n),
  });
  const digest = new DigestBatcher({
    after: ctx.cfg.ALERT_DIGEST_AFTER,
    holdMs: ctx.cfg.ALERT_DIGEST_HOLD_MS,
    link: alertsDashboardLink(ctx.cfg.GRAFANA_URL),
    send: (a, ttl) => sender.send(a, ttl),
  });
  const context = ctx.influxql
    ? new AlertContextPoller({ influxql: ctx.influxql, log, pollMs: ctx.cfg.ALERT_CONTEXT_POLL_MS ?? 15_000, evaluator, emit: (fs) => emit(fs) })
    : undefined;

  const emit = (firings: readonly Firing[]) => {
    for (const f of firings) {
      fired.inc({ condition: f.rule.condition });
      if (f.rule.trigger === 'once') opts.onceStore?.fired(f.rule.id, f.ts);
      const price = evaluator.priceContext(f.symbol, f.ts, windowMs(f.rule));
      const alert = toPostableAlert(
        f,
        { grafanaUrl: ctx.cfg.GRAFANA_URL },
        { changePct: price.changePct, windowSeconds: windowMs(f.rule) / 1000, headlines: context?.headlines(f.symbol) },
      );
      log.info({ rule_id: f.rule.id, symbol: f.symbol, condition: f.rule.condition, price: f.price, value: f.value, threshold: f.rule.threshold }, 'price alert fired');
      digest.add(alert, activeForMs(f));
      ctx.sink?.write(
        BUCKETS.marketsRaw,
        alertEventPoint({
          ts: f.ts,
          symbol: f.symbol,
          ruleId: f.rule.id,
          severity: f.rule.severity,
          condition: f.rule.condition,
          threshold: f.rule.threshold,
          price: f.price,
          value: f.value,
          message: alert.annotations.description ?? alert.annotations.summary ?? '',
        }),
      );
    }
  };

  let clock: NodeJS.Timeout | undefined;
  const syncClock = () => {
    // the clock only runs while some rule needs it (feed_stale)
    const need = evaluator.needsClock;
    if (need && !clock) clock = setInterval(() => emit(evaluator.onClock(now())), opts.clockMs ?? 1000).unref();
    else if (!need && clock) {
      clearInterval(clock);
      clock = undefined;
    }
  };

  const tickAt = (slot: number, t: MarketTick): void => {
    if (slot < 0) return;
    // exchange time drives windows and cooldowns; a source without a usable one falls back to ours
    const ts = Number.isFinite(t.ts) && t.ts > 0 ? t.ts : t.receivedAt;
    // the asset type went with the handle (tickSlot)
    const fs = evaluator.onTickAt(slot, t.symbol, ts, t.price);
    if (fs.length) emit(fs);
  };

  return {
    setRules(rules) {
      const valid = rules.filter((r) => {
        const why = invalidRule(r);
        if (why) log.warn({ rule: r, reason: why }, 'price alert rule ignored');
        return !why;
      });
      evaluator.setRules(valid, now());
      rulesGauge.set(evaluator.ruleCount);
      syncClock();
      context?.refresh();
      log.info({ rules: evaluator.ruleCount }, 'price alert rules loaded');
    },
    onTick(t) {
      tickAt(evaluator.tickSlot(t.symbol, t.assetType), t);
    },
    tickSlot(t) {
      return evaluator.tickSlot(t.symbol, t.assetType);
    },
    get slotVersion() {
      return evaluator.version;
    },
    tickAt,
    onMarketState(symbol, state) {
      evaluator.onMarketState(symbol, state, now());
    },
    onFunding(f) {
      const fs = evaluator.onFunding(f.symbol, f.ts, f.fundingRate);
      if (fs.length) emit(fs);
    },
    onBar(c, ind) {
      const fs = evaluator.onBar(c.symbol, c.interval, c, ind);
      if (!fs.length) return;
      // candles backfilled after a restart or an outage update the rules' state but are history, not news
      const late = now() - 2 * (TIMEFRAME_MS[c.interval as keyof typeof TIMEFRAME_MS] ?? 60_000) - 60_000;
      const live = fs.filter((f) => f.ts >= late);
      if (live.length < fs.length) log.info({ symbol: c.symbol, interval: c.interval, dropped: fs.length - live.length }, 'alerts on backfilled candles not sent');
      if (live.length) emit(live);
    },
    async close() {
      if (clock) clearInterval(clock);
      clock = undefined;
      context?.stop();
      digest.flush();
      await Promise.all([sender.close(opts.closeDeadlineMs), opts.onceStore?.close()]);
    },
  };
}
