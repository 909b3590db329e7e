// Burst control: Telegram allows about one message per second per chat, and twenty alerts in a minute are
// read as one event anyway. Up to `after` firings within `windowMs` go out one by one (no added latency);
// beyond that, firings are held for `holdMs` and posted as ONE `PriceAlertDigest` alert listing them, which
// Alertmanager routes like a price alert (its own group: one message). The digest is built here rather than
// by Alertmanager grouping because grouping would delay every single alert by its group_wait.
import type { PostableAlert } from './alertmanager.js';

export interface DigestOptions {
  /** Firings within windowMs sent one by one before batching starts (default 5). */
  after?: number;
  windowMs?: number;
  /** How long a batch collects before it is posted (default 10 s). */
  holdMs?: number;
  /** Link for the digest (the alerts dashboard). */
  link?: string;
  send(alert: PostableAlert, ttlMs: number): void;
  now?: () => number;
}

/** Telegram's limit is 4096 characters per message; the digest's list stays well inside it with the header. */
export const DIGEST_MAX_CHARS = 3000;
const SEVERITY_RANK: Record<string, number> = { info: 0, warning: 1, critical: 2 };
const ICON: Record<string, string> = { info: '🔵', warning: '🟠', critical: '🔴' };

export class DigestBatcher {
  private readonly recent: number[] = [];
  private pending: PostableAlert[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly after: number;
  private readonly windowMs: number;
  private readonly holdMs: number;
  private readonly now: () => number;

  constructor(private readonly o: DigestOptions) {
    this.after = o.after ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
    this.holdMs = o.holdMs ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  add(alert: PostableAlert, ttlMs: number): void {
    const now = this.now();
    while (this.recent.length && this.recent[0]! <= now - this.windowMs) this.recent.shift();
    this.recent.push(now);
    if (this.recent.length <= this.after && !this.pending.length) {
      this.o.send(alert, ttlMs);
      return;
    }
    this.pending.push(alert);
    this.timer ??= setTimeout(() => this.flush(), this.holdMs).unref();
  }

  /** Post what is held now (shutdown, or the hold time is over). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 1) this.o.send(batch[0]!, 60_000);
    else if (batch.length > 1) this.o.send(digestAlert(batch, this.o.link), 60_000);
  }
}

/** One alert listing a burst, newest last, cut to DIGEST_MAX_CHARS with the count of the rest. */
export function digestAlert(batch: PostableAlert[], link?: string): PostableAlert {
  const sorted = [...batch].sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  const severity = sorted.reduce((s, a) => ((SEVERITY_RANK[a.labels.severity ?? ''] ?? 0) > (SEVERITY_RANK[s] ?? 0) ? a.labels.severity! : s), 'info');
  const first = sorted[0]!.startsAt;
  const last = sorted[sorted.length - 1]!.startsAt;
  const lines: string[] = [];
  let used = 0;
  for (const a of sorted) {
    const line = `${ICON[a.labels.severity ?? ''] ?? '•'} ${a.startsAt.slice(11, 19)} ${a.annotations.summary ?? a.labels.symbol ?? ''}`;
    if (used + line.length + 1 > DIGEST_MAX_CHARS - 40) break;
    lines.push(line);
    used += line.length + 1;
  }
  if (lines.length < sorted.length) lines.push(`… and ${sorted.length - lines.length} more (alert history)`);
  const symbols = new Set(sorted.map((a) => a.labels.symbol));
  const span = Math.max(1, Math.round((Date.parse(last) - Date.parse(first)) / 1000));
  const annotations: Record<string, string> = {
    summary: `${sorted.length} price alerts on ${symbols.size} symbol${symbols.size === 1 ? '' : 's'} in ${span} s`,
    description: lines.join('\n'),
  };
  if (link) annotations.grafana_url = link;
  return {
    labels: { alertname: 'PriceAlertDigest', severity, fired_at: first, alerts: String(sorted.length) },
    annotations,
    startsAt: first,
    endsAt: '',
  };
}
