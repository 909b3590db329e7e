// What the market feeder learns from InfluxDB for its alert rules: the news feeder's stories per asset
// (`news_story_assets` in `news`: each story once however many outlets carry it, docs/INFLUXDB.md), the
// Fear & Greed index and funding rates (`markets`). Polled with InfluxQL
// every ALERT_CONTEXT_POLL_MS (15 s): the news feeder is a separate process and InfluxDB is where both
// meet, and the backtest reads the very same rows. Stories are fed to the evaluator once each (by story
// id, at their first article's time); those already stored when the feeder starts only prime it (sentiment history,
// seen ids), so a restart does not re-send keyword alerts. Headlines also go into every alert message.
import type { Logger } from 'pino';
import { latestFearGreedQuery, latestFundingQuery, MARKETS_DB, NEWS_DB, newsAssetsOf, storyAssetsQuery, type InfluxQLClient, type InfluxQLSeries } from '@mt/common';
import type { Firing, RuleEvaluator } from './evaluate.js';

/** Articles older than this when first seen are neither news for a rule nor a headline. */
const NEWS_LOOKBACK = '24h';
const HEADLINES = 3;

export interface AlertContextOptions {
  influxql: InfluxQLClient;
  log: Logger;
  pollMs: number;
  evaluator: RuleEvaluator;
  emit(firings: readonly Firing[]): void;
}

interface Article {
  ts: number;
  asset: string;
  id: string;
  title: string;
  url: string;
  sentiment: number;
}

export class AlertContextPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private primed = false;
  private stopped = false;
  /** asset → latest titles, newest first. */
  private latest = new Map<string, string[]>();

  constructor(private readonly o: AlertContextOptions) {}

  /** Poll now (rules changed) and keep polling. */
  refresh(): void {
    if (this.stopped) return;
    this.timer ??= setInterval(() => this.refresh(), this.o.pollMs).unref();
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.poll()
      .catch((err: unknown) => this.o.log.warn({ err }, 'alert context: InfluxDB read failed (retried on the next poll)'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Latest headlines about a symbol's asset, newest first. */
  headlines(symbol: string): string[] {
    const out: string[] = [];
    for (const a of newsAssetsOf(symbol)) out.push(...(this.latest.get(a) ?? []));
    return out.slice(0, HEADLINES);
  }

  private async poll(): Promise<void> {
    const ev = this.o.evaluator;
    const assets = new Set<string>();
    for (const s of ev.watchedSymbols()) for (const a of newsAssetsOf(s)) assets.add(a);
    if (assets.size) await this.pollNews([...assets]);
    if (ev.hasFearGreedRules) {
      for (const s of await this.o.influxql.query(MARKETS_DB, latestFearGreedQuery('7d'))) {
        for (const v of s.values) this.o.emit(ev.onFearGreed(Number(v[0]), Number(v[1])));
      }
    }
    if (ev.hasFundingRules) {
      const series = await this.o.influxql.query(MARKETS_DB, latestFundingQuery('1d'));
      for (const s of series) for (const v of s.values) this.o.emit(ev.onFunding(s.tags?.symbol ?? '', Number(v[0]), Number(v[1])));
    }
  }

  private async pollNews(assets: string[]): Promise<void> {
    const q = storyAssetsQuery(assets, `time > now() - ${NEWS_LOOKBACK}`, 2000);
    const articles = rowsOf(await this.o.influxql.query(NEWS_DB, q)).sort((a, b) => a.ts - b.ts);
    const latest = new Map<string, string[]>();
    for (let i = articles.length - 1; i >= 0; i--) {
      const a = articles[i]!;
      const list = latest.get(a.asset) ?? [];
      if (list.length < HEADLINES && !list.includes(a.title)) list.push(a.title);
      latest.set(a.asset, list);
    }
    this.latest = latest;
    const ev = this.o.evaluator;
    for (const a of articles) {
      const item = { ts: a.ts, id: a.id, title: a.title, sentiment: a.sentiment, url: a.url };
      if (!this.primed) ev.primeNews(a.asset, item);
      else this.o.emit(ev.onNews(a.asset, item));
    }
    this.primed = true;
  }
}

function rowsOf(series: InfluxQLSeries[]): Article[] {
  const out: Article[] = [];
  for (const s of series) {
    const at = (n: string) => s.columns.indexOf(n);
    const [t, title, url, sent, id, asset] = ['time', 'title', 'url', 'sentiment_score', 'story', 'related_asset'].map(at) as [number, number, number, number, number, number];
    for (const v of s.values) {
      const ts = Number(v[t]);
      if (!Number.isFinite(ts) || typeof v[title] !== 'string') continue;
      out.push({ ts, title: v[title], url: String(v[url] ?? ''), sentiment: Number(v[sent]), id: String(v[id] ?? `${ts}:${v[title]}`), asset: String(v[asset] ?? '') });
    }
  }
  return out;
}
