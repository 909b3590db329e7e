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

/** A path under GRAFANA_URL, whether that ends in '/' or not. */
const underGrafana = (path: string, grafanaUrl: string) => new URL(path, grafanaUrl.endsWith('/') ? grafanaUrl : `${grafanaUrl}/`);

/** Grafana's alerts dashboard (alert history), for digests. */
export function alertsDashboardLink(grafanaUrl: string): string {
  return underGrafana('d/alerts', grafanaUrl).toString();
}

/** The asset-detail dashboard of `symbol`, without a time range. */
function assetDetailUrl(grafanaUrl: string, symbol: string): URL {
  const u = underGrafana('d/asset-detail', grafanaUrl);
  u.searchParams.set('var-symbol', symbol);
  return u;
}

/** Grafana's asset-detail dashboard for the symbol, 30 minutes around the crossing. */
export function grafanaLink(grafanaUrl: string, symbol: string, ts: number): string {
  // the URL up to the symbol is parsed and encoded once per Grafana URL and symbol, not per firing
  // (docs/ALERTING.md "Evaluation cost"); the two times are plain integers, which need no encoding
  let bySymbol = linkPrefixes.get(grafanaUrl);
  if (!bySymbol) linkPrefixes.set(grafanaUrl, (bySymbol = new Map()));
  let prefix = bySymbol.get(symbol);
  if (prefix === undefined) {
    const u = assetDetailUrl(grafanaUrl, symbol);
    // a fragment would follow the query: such a URL is built whole every time
    prefix = u.hash ? null : `${u.toString()}&from=`;
    if (bySymbol.size >= 10_000) bySymbol.clear();
    bySymbol.set(symbol, prefix);
  }
  if (prefix !== null) return `${prefix}${ts - 30 * 60_000}&to=${ts + 5 * 60_000}`;
  const u = assetDetailUrl(grafanaUrl, symbol);
  u.searchParams.set('from', String(ts - 30 * 60_000));
  u.searchParams.set('to', String(ts + 5 * 60_000));
  return u.toString();
}
const linkPrefixes = new Map<string, Map<string, string | null>>();

/** What a message adds around a firing ("why it moved"): all optional, the evaluator's state at firing time. */
export interface FiringContext {
  /** Change of the price over the rule's window, percent, and that window in seconds. */
  changePct?: number;
  windowSeconds?: number;
  /** Latest headlines about the asset, newest first. */
  headlines?: string[];
}

/** Summary (first line of every message) and description of a firing. */
export function describeFiring(f: Firing): { summary: string; description: string } {
  const { rule, symbol } = f;
  const at = new Date(f.ts).toISOString();
  const price = Number.isFinite(f.price) ? fmt(f.price) : 'n/a';
  const thr = rule.threshold === null ? '' : fmt(rule.threshold);
  const tf = rule.timeframe ?? '1m';
  const v = f.value ?? Number.NaN;
  const value = Number.isFinite(v) ? fmt(v) : 'n/a';
  const priceAt = `price ${price}, at ${at}`;
  switch (rule.condition) {
    case 'above':
    case 'below':
      return { summary: `${symbol} ${rule.condition} ${thr}: ${price}`, description: `${symbol} crossed ${rule.condition} ${thr}: price ${price}, threshold ${thr}, at ${at}` };
    case 'crosses_above':
    case 'crosses_below': {
      const dir = rule.condition === 'crosses_above' ? 'above' : 'below';
      const h = rule.hysteresis_pct ? ` (re-arms ${rule.hysteresis_pct}% back)` : '';
      return { summary: `${symbol} crossed ${dir} ${thr}: ${price}`, description: `${symbol} crossed ${dir} ${thr}${h}: price ${price}, threshold ${thr}, at ${at}` };
    }
    case 'pct_change': {
      const change = `${f.changePct! >= 0 ? '+' : ''}${f.changePct!.toFixed(2)}%`;
      const w = windowText(rule.window_seconds);
      return {
        summary: `${symbol} ${change} in ${w}: ${price}`,
        description: `${symbol} moved ${change} in ${w} (from ${fmt(f.reference!)} to ${price}), threshold ${rule.threshold! >= 0 ? '+' : ''}${rule.threshold}%, at ${at}`,
      };
    }
    case 'rsi_above':
    case 'rsi_below': {
      const op = rule.condition === 'rsi_above' ? '>' : '<';
      return { summary: `${symbol} RSI(14, ${tf}) ${v.toFixed(1)} ${op} ${thr}: ${price}`, description: `${symbol} RSI(14) on ${tf} candles is ${v.toFixed(2)} ${op} ${thr} at the close: ${priceAt}` };
    }
    case 'macd_cross_up':
    case 'macd_cross_down': {
      const dir = rule.condition === 'macd_cross_up' ? 'above' : 'below';
      return { summary: `${symbol} MACD crossed ${dir} its signal (${tf}): ${price}`, description: `${symbol} MACD(12,26,9) on ${tf} candles crossed ${dir} its signal line (MACD − signal ${value}): ${priceAt}` };
    }
    case 'bollinger_break_up':
    case 'bollinger_break_down': {
      const dir = rule.condition === 'bollinger_break_up' ? 'above the upper' : 'below the lower';
      return { summary: `${symbol} closed ${dir} Bollinger band (${tf}): ${price}`, description: `${symbol} closed ${dir} Bollinger band (20, 2σ) on ${tf} candles: ${priceAt}` };
    }
    case 'volume_spike': {
      const n = rule.params?.n ?? 20;
      return { summary: `${symbol} volume ${v.toFixed(1)}× the ${n}-candle mean (${tf}): ${price}`, description: `${symbol} ${tf} candle volume is ${v.toFixed(2)}× the mean of the previous ${n} (threshold ${rule.params?.k ?? 3}×): ${priceAt}` };
    }
    case 'fear_greed_above':
    case 'fear_greed_below': {
      const op = rule.condition === 'fear_greed_above' ? '>' : '<';
      return { summary: `Fear & Greed ${value} ${op} ${thr} (${symbol} ${price})`, description: `The Fear & Greed index is ${value} ${op} ${thr}; ${symbol} ${priceAt}` };
    }
    case 'news_sentiment_above':
    case 'news_sentiment_below': {
      const op = rule.condition === 'news_sentiment_above' ? '>' : '<';
      return {
        summary: `${symbol} news sentiment ${v.toFixed(2)} ${op} ${thr}: ${price}`,
        description: `Mean sentiment of ${symbol} news over ${windowText(rule.window_seconds ?? 3600)} is ${v.toFixed(2)} ${op} ${thr}${f.article ? ` (latest: "${f.article.title}")` : ''}; ${priceAt}`,
      };
    }
    case 'news_keyword':
      return { summary: `${symbol} news "${rule.params?.keyword ?? ''}": ${f.article?.title ?? ''}`, description: `News about ${symbol} mentions "${rule.params?.keyword ?? ''}": ${f.article?.title ?? ''}${f.article?.url ? ` ${f.article.url}` : ''}; ${priceAt}` };
    case 'feed_stale':
      return { summary: `${symbol} feed stale: no tick for ${value} s`, description: `No tick for ${symbol} for ${value} s while its market is open (limit ${rule.params?.seconds ?? 120} s); last price ${price}, at ${at}` };
    case 'funding_above':
    case 'funding_below': {
      const op = rule.condition === 'funding_above' ? '>' : '<';
      return { summary: `${symbol} funding ${(v * 100).toFixed(4)}% ${op} ${(rule.threshold! * 100).toFixed(4)}%`, description: `${symbol} funding rate ${(v * 100).toFixed(4)}% ${op} ${(rule.threshold! * 100).toFixed(4)}%: mark ${priceAt}` };
    }
  }
}

/** The Alertmanager alert for a firing (labels and annotations: contract in docs/ALERTING.md). */
export function toPostableAlert(f: Firing, o: AlertLinkOptions, ctx: FiringContext = {}): PostableAlert {
  const { rule } = f;
  const at = new Date(f.ts).toISOString();
  const { summary, description } = describeFiring(f);
  const link = grafanaLink(o.grafanaUrl, f.symbol, f.ts);
  const annotations: Record<string, string> = {
    summary,
    description,
    price: Number.isFinite(f.price) ? String(f.price) : '',
    threshold: rule.threshold === null ? '' : String(rule.threshold),
    grafana_url: link,
  };
  if (f.value !== undefined && Number.isFinite(f.value)) annotations.value = String(f.value);
  if (ctx.changePct !== undefined && Number.isFinite(ctx.changePct)) {
    annotations.change = `${ctx.changePct >= 0 ? '+' : ''}${ctx.changePct.toFixed(2)}% in ${windowText(ctx.windowSeconds ?? null)}`;
  }
  if (ctx.headlines?.length) annotations.headlines = ctx.headlines.map((h) => `• ${h.length > 140 ? `${h.slice(0, 139)}…` : h}`).join('\n');
  return {
    // fired_at: every firing is its own alert, so a second crossing while the first is still shown is a
    // new notification rather than an update Alertmanager would not send (docs/ALERTING.md)
    labels: { alertname: 'PriceAlert', symbol: f.symbol, rule_id: rule.id, severity: rule.severity, fired_at: at },
    annotations,
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
