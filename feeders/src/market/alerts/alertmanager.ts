// Delivery of price alerts to Alertmanager (`POST /api/v2/alerts`, body = postableAlerts, a JSON array)
// with a bounded in-memory queue: while Alertmanager is down or answers 5xx, alerts wait and are
// retried with backoff, so a crossing during an Alertmanager restart is delivered late, not lost.
// An HA cluster (ALERTMANAGER_URL = comma-separated peers) gets every alert at every peer, each peer with
// its own queue: Alertmanager peers gossip silences and what they notified, not alerts, and deduplicate
// the notification among themselves (docs/ALERTING.md, "Alertmanager in HA").
import type { Logger } from 'pino';
import { Backoff, HttpStatusError, TransportError, isRetryable, parseRetryAfter, sleep } from '@mt/common';
import { DEFAULT_WINDOW_SECONDS, type Firing } from './evaluate.js';

/** One element of Alertmanager's postableAlerts (api/v2/openapi.yaml). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export type Outcome = 'sent' | 'queued' | 'failed';

export interface AlertSenderOptions {
  url: string;
  log: Logger;
  /** Called once per alert and outcome (`queued` when the first attempt failed, then `sent` or `failed`). */
  onOutcome(severity: string, outcome: Outcome, alert: PostableAlert): void;
  onQueueSize?(n: number): void;
  maxQueue?: number;
  timeoutMs?: number;
  backoff?: Backoff;
}

interface Pending {
  alert: PostableAlert;
  /** How long the alert stays active in Alertmanager once delivered (see activeForMs). */
  ttlMs: number;
  queued: boolean;
}

/** POST a batch; throws HttpStatusError / TransportError. */
export async function postAlerts(baseUrl: string, alerts: PostableAlert[], timeoutMs = 5000): Promise<void> {
  let res: Response;
  try {
    res = await fetch(new URL('api/v2/alerts', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new TransportError(`alertmanager: ${(err as Error).message}`, err);
  }
  const body = await res.text().catch(() => '');
  if (!res.ok) throw new HttpStatusError(res.status, body, parseRetryAfter(res.headers.get('retry-after')), 'alertmanager');
}

export class AlertSender {
  private readonly queue: Pending[] = [];
  private readonly maxQueue: number;
  private readonly backoff: Backoff;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly o: AlertSenderOptions) {
    this.maxQueue = o.maxQueue ?? 1000;
    this.backoff = o.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 });
  }

  get queued(): number {
    return this.queue.length;
  }

  send(alert: PostableAlert, ttlMs: number): void {
    if (this.abort.signal.aborted) {
      // a tick that raced the shutdown: nobody is left to deliver it
      this.o.onOutcome(alert.labels.severity ?? '', 'failed', alert);
      return;
    }
    if (this.queue.length >= this.maxQueue) {
      // the oldest alert is the least useful one to deliver late
      const dropped = this.queue.shift()!;
      this.o.onOutcome(dropped.alert.labels.severity ?? '', 'failed', dropped.alert);
      this.o.log.warn({ labels: dropped.alert.labels }, 'price alert queue full: dropped the oldest alert');
    }
    this.queue.push({ alert, ttlMs, queued: false });
    this.o.onQueueSize?.(this.queue.length);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Try to deliver what is queued for at most `deadlineMs`, then count the rest as failed. */
  async close(deadlineMs = 5000): Promise<void> {
    const t = setTimeout(() => this.abort.abort(), deadlineMs);
    await this.running;
    clearTimeout(t);
    this.abort.abort();
    for (const p of this.queue.splice(0)) this.o.onOutcome(p.alert.labels.severity ?? '', 'failed', p.alert);
    this.o.onQueueSize?.(0);
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.abort.signal.aborted) {
      const batch = this.queue.slice(0, 100);
      const now = Date.now();
      // endsAt is set at delivery: an alert that waited in the queue is still shown for its full time
      const alerts = batch.map((p) => ({ ...p.alert, endsAt: new Date(Math.max(Date.parse(p.alert.startsAt), now) + p.ttlMs).toISOString() }));
      try {
        await postAlerts(this.o.url, alerts, this.o.timeoutMs);
        this.queue.splice(0, batch.length);
        this.backoff.reset();
        for (const p of batch) this.o.onOutcome(p.alert.labels.severity ?? '', 'sent', p.alert);
        this.o.log.info({ alerts: batch.map((p) => p.alert.labels), alertmanager: this.o.url }, 'price alerts delivered to alertmanager');
      } catch (err) {
        if (!isRetryable(err)) {
          // 4xx: the same body will be refused again
          this.queue.splice(0, batch.length);
          for (const p of batch) this.o.onOutcome(p.alert.labels.severity ?? '', 'failed', p.alert);
          this.o.log.error({ err, alerts: batch.map((p) => p.alert.labels) }, 'alertmanager refused price alerts');
          continue;
        }
        for (const p of batch) {
          if (p.queued) continue;
          p.queued = true;
          this.o.onOutcome(p.alert.labels.severity ?? '', 'queued', p.alert);
        }
        const delay = this.backoff.next((err as HttpStatusError).retryAfterMs);
        this.o.log.warn({ err: (err as Error).message, queued: this.queue.length, retryInMs: delay }, 'alertmanager unreachable: price alerts queued');
        await sleep(delay, this.abort.signal);
      } finally {
        this.o.onQueueSize?.(this.queue.length);
      }
    }
  }
}

export interface AlertFanOutOptions extends Omit<AlertSenderOptions, 'url' | 'backoff' | 'onOutcome' | 'onQueueSize'> {
  /** Every Alertmanager peer of the cluster (one for a single Alertmanager). */
  urls: string[];
  /**
   * Once per alert: `sent` when the first peer accepted it, `queued` when the first attempt failed at every
   * peer, `failed` when every peer gave up on it. With one URL, exactly AlertSender's outcomes.
   */
  onOutcome(severity: string, outcome: Outcome): void;
  /** Per peer and alert, for seeing a peer that is down while the others deliver. */
  onPeerOutcome?(peer: string, outcome: Outcome): void;
  /** The longest peer queue: alerts that some peer has not received yet. */
  onQueueSize?(n: number): void;
  backoff?: () => Backoff;
}

/** One AlertSender per Alertmanager peer, fed the same alerts; outcomes folded into one per alert. */
export class AlertFanOut {
  private readonly senders: AlertSender[];
  private readonly state = new WeakMap<PostableAlert, { sent: boolean; firstFailures: number; failures: number }>();

  constructor(private readonly o: AlertFanOutOptions) {
    if (!o.urls.length) throw new Error('AlertFanOut needs at least one Alertmanager URL');
    const peers = o.urls.length;
    this.senders = o.urls.map(
      (url) =>
        new AlertSender({
          ...o,
          url,
          backoff: o.backoff?.(),
          onQueueSize: () => o.onQueueSize?.(this.queued),
          onOutcome: (severity, outcome, alert) => {
            o.onPeerOutcome?.(url, outcome);
            const st = this.state.get(alert);
            if (!st) return;
            if (outcome === 'sent' && !st.sent) {
              st.sent = true;
              o.onOutcome(severity, 'sent');
            } else if (outcome === 'queued' && ++st.firstFailures === peers && !st.sent) {
              o.onOutcome(severity, 'queued');
            } else if (outcome === 'failed' && ++st.failures === peers && !st.sent) {
              o.onOutcome(severity, 'failed');
            }
          },
        }),
    );
  }

  get queued(): number {
    return Math.max(...this.senders.map((s) => s.queued));
  }

  send(alert: PostableAlert, ttlMs: number): void {
    this.state.set(alert, { sent: false, firstFailures: 0, failures: 0 });
    for (const s of this.senders) s.send(alert, ttlMs);
  }

  /** Every peer gets the same deadline, in parallel. */
  async close(deadlineMs?: number): Promise<void> {
    await Promise.all(this.senders.map((s) => s.close(deadlineMs)));
  }
}

export interface AlertLinkOptions {
  grafanaUrl: string;
}

/** How long a delivered price alert stays active in Alertmanager: its cooldown, between 1 min and 1 h. */
export function activeForMs(f: Firing): number {
  return Math.min(Math.max(f.rule.cooldown_seconds ?? 0, 60), 3600) * 1000;
}

/** Grafana's asset-detail dashboard for the symbol, 30 minutes around the crossing. */
export function grafanaLink(grafanaUrl: string, symbol: string, ts: number): string {
  const u = new URL(`d/asset-detail`, grafanaUrl.endsWith('/') ? grafanaUrl : `${grafanaUrl}/`);
  u.searchParams.set('var-symbol', symbol);
  u.searchParams.set('from', String(ts - 30 * 60_000));
  u.searchParams.set('to', String(ts + 5 * 60_000));
  return u.toString();
}

/** The Alertmanager alert for a firing (labels and annotations: contract in ../shared/DESIGN.md). */
export function toPostableAlert(f: Firing, o: AlertLinkOptions): PostableAlert {
  const { rule } = f;
  const at = new Date(f.ts).toISOString();
  const price = fmt(f.price);
  let summary: string;
  let description: string;
  if (rule.condition === 'pct_change') {
    const change = `${f.changePct! >= 0 ? '+' : ''}${f.changePct!.toFixed(2)}%`;
    summary = `${f.symbol} ${change} in ${windowText(rule.window_seconds)}: ${price}`;
    description = `${f.symbol} moved ${change} in ${windowText(rule.window_seconds)} (from ${fmt(f.reference!)} to ${price}), threshold ${rule.threshold >= 0 ? '+' : ''}${rule.threshold}%, at ${at}`;
  } else {
    summary = `${f.symbol} ${rule.condition} ${fmt(rule.threshold)}: ${price}`;
    description = `${f.symbol} crossed ${rule.condition} ${fmt(rule.threshold)}: price ${price}, threshold ${fmt(rule.threshold)}, at ${at}`;
  }
  const link = grafanaLink(o.grafanaUrl, f.symbol, f.ts);
  return {
    labels: { alertname: 'PriceAlert', symbol: f.symbol, rule_id: rule.id, severity: rule.severity },
    annotations: {
      summary,
      description,
      price: String(f.price),
      threshold: String(rule.threshold),
      grafana_url: link,
    },
    startsAt: at,
    endsAt: new Date(f.ts + activeForMs(f)).toISOString(),
    generatorURL: link,
  };
}

function fmt(n: number): string {
  // enough digits for both BTC (5 significant before the point) and EUR/USD (4-5 after)
  return Math.abs(n) >= 1000 ? n.toFixed(2) : Number(n.toPrecision(6)).toString();
}

function windowText(s: number | null): string {
  const sec = s ?? DEFAULT_WINDOW_SECONDS;
  if (sec % 3600 === 0) return `${sec / 3600}h`;
  if (sec % 60 === 0) return `${sec / 60}m`;
  return `${sec}s`;
}
