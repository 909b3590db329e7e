// Price alerts: rules from the watchlist API evaluated on every tick, posted to Alertmanager.
// Evaluation is pure and synchronous (evaluate.ts); delivery is asynchronous with a bounded retry
// queue (alertmanager.ts), so onTick never waits on the network.
import { Counter, Gauge } from 'prom-client';
import { BUCKETS, splitList, type AlertRule } from '@mt/common';
import type { MarketContext } from '../context.js';
import type { MarketTick } from '../types.js';
import { RuleEvaluator, invalidRule } from './evaluate.js';
import { AlertFanOut, activeForMs, toPostableAlert } from './alertmanager.js';
import { alertEventPoint } from '../points.js';

export { RuleEvaluator, PriceWindow, type Firing } from './evaluate.js';
export { AlertSender, AlertFanOut, postAlerts, toPostableAlert, grafanaLink, type PostableAlert } from './alertmanager.js';

export interface PriceAlerts {
  setRules(rules: AlertRule[]): void;
  onTick(t: MarketTick): void;
  /** Deliver what is still queued (bounded wait), then stop. */
  close(): Promise<void>;
}

/** `sink` stores every fired alert as an `alert_events` point (history, dashboards, GET /api/alert-events). */
export function createPriceAlerts(
  ctx: Pick<MarketContext, 'cfg' | 'log' | 'registry'> & Partial<Pick<MarketContext, 'sink'>>,
  opts: { closeDeadlineMs?: number } = {},
): PriceAlerts {
  const log = ctx.log.child({ component: 'price-alerts' });
  const total = new Counter({
    name: 'market_price_alerts_total',
    help: 'Price alerts fired, by outcome: sent (delivered), queued (first attempt failed, retrying), failed (given up)',
    labelNames: ['severity', 'outcome'] as const,
    registers: [ctx.registry],
  });
  const queueSize = new Gauge({ name: 'market_price_alerts_queued', help: 'Price alerts waiting for Alertmanager', registers: [ctx.registry] });
  const rulesGauge = new Gauge({ name: 'market_price_alert_rules', help: 'Price alert rules being evaluated', registers: [ctx.registry] });

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

  return {
    setRules(rules) {
      const valid = rules.filter((r) => {
        const why = invalidRule(r);
        if (why) log.warn({ rule: r, reason: why }, 'price alert rule ignored');
        return !why;
      });
      evaluator.setRules(valid);
      rulesGauge.set(evaluator.ruleCount);
      log.info({ rules: evaluator.ruleCount }, 'price alert rules loaded');
    },
    onTick(t) {
      // exchange time drives windows and cooldowns; a source without a usable one falls back to ours
      const ts = Number.isFinite(t.ts) && t.ts > 0 ? t.ts : t.receivedAt;
      for (const f of evaluator.onTick(t.symbol, ts, t.price)) {
        const alert = toPostableAlert(f, { grafanaUrl: ctx.cfg.GRAFANA_URL });
        log.info({ rule_id: f.rule.id, symbol: f.symbol, price: f.price, threshold: f.rule.threshold }, 'price alert fired');
        sender.send(alert, activeForMs(f));
        ctx.sink?.write(BUCKETS.marketsRaw, alertEventPoint({
          ts: f.ts,
          symbol: f.symbol,
          ruleId: f.rule.id,
          severity: f.rule.severity,
          condition: f.rule.condition,
          threshold: f.rule.threshold,
          price: f.price,
          value: f.changePct,
          message: alert.annotations.description ?? alert.annotations.summary ?? '',
        }));
      }
    },
    close: () => sender.close(opts.closeDeadlineMs),
  };
}
