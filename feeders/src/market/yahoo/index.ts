// Yahoo Finance source: stocks, indices and forex from the watch set, every YAHOO_POLL_MS. One batched
// v7 quote per poll; symbols the quote leaves out are asked of the v8 chart, which says whether a symbol
// exists (404 → logged once, counted, skipped for a while; the others go on). When the quote endpoint is
// refused outright (crumb renewed and still 401, or 403) every symbol goes through the chart instead.
// Candles: each symbol's v8 chart per timeframe (`candleIntervals`), a history range the first time and a
// short one when that timeframe's refresh is due; closed bars newer than the last handed on go to the
// core, which stores each once (docs/INFLUXDB.md, "Timeframes"). Yahoo's bars are split-adjusted as of the
// request: a split the chart reports that the stored bars may predate (a new one, or at the first sight in
// this process one within the stored year) has every timeframe of that symbol fetched with its history
// range on the next poll and restated (stored again over the old values, indicators recomputed).
import { HttpStatusError, ParseError, toYahooSymbol, type WatchItem } from '@mt/common';
import { errorKind } from '../../common/metrics.js';
import { PolledSource, type PolledSourceDeps } from '../polled-source.js';
import type { Candle, Interval, MarketSink, MarketTick } from '../types.js';
import type { MarketContext } from '../context.js';
import type { Split } from './mapper.js';
import { YahooClient } from './client.js';
import { chartToCandles, chartToTick, quoteResults, quoteToTick } from './mapper.js';
import type { PrimaryHealth } from '../fallback/primary.js';

export interface YahooSourceOptions extends PolledSourceDeps {
  baseUrl: string;
  cookieUrl: string;
  out: Pick<MarketSink, 'tick'> & Partial<Pick<MarketSink, 'candle' | 'restate'>> & Partial<Pick<MarketContext['out'], 'marketState'>>;
  /** Timeframes of candles taken from the chart (default none: quotes only). */
  candleIntervals?: Interval[];
  /** How often each timeframe's chart is asked again (default: CHART_BARS' refreshMs). */
  chartRefreshMs?: Partial<Record<Interval, number>>;
  /** How long an unknown (404) symbol, or a quote endpoint that refuses our crumb, is left alone (default 15 min). */
  unknownRetryMs?: number;
  /** Told after every poll which symbols got a quote and which did not: the fallback sources read it. */
  primary?: PrimaryHealth;
}

const QUOTE_BATCH = 50;
const CHART_CONCURRENCY = 4;

/** Splits older than this cannot have left unadjusted bars in storage (the longest retention is 365 d). */
const SPLIT_HORIZON_MS = 366 * 86_400_000;

/** Yahoo's `interval`, the range asked the first time (indicator warm-up: ≥ 100 bars), and after. */
const CHART_BARS: Record<Interval, { interval: string; history: string; recent: string; refreshMs: number }> = {
  '1m': { interval: '1m', history: '1d', recent: '1d', refreshMs: 60_000 },
  '5m': { interval: '5m', history: '5d', recent: '1d', refreshMs: 5 * 60_000 },
  '1h': { interval: '1h', history: '3mo', recent: '5d', refreshMs: 15 * 60_000 },
  '1d': { interval: '1d', history: '1y', recent: '5d', refreshMs: 60 * 60_000 },
};

interface YahooPoll {
  ticks: MarketTick[];
  candles: Candle[];
  /** Bars to store again over older values (after a split). */
  restate: Candle[];
}

export class YahooSource extends PolledSource<YahooPoll> {
  readonly client: YahooClient;
  /** Yahoo symbol (`EURUSD=X`) → watch item (`EUR/USD`, forex). */
  private items = new Map<string, WatchItem>();
  /** Yahoo symbol → when to try an unknown symbol again. */
  private readonly unknown = new Map<string, number>();
  /** Our symbol → `ts|price|state` of the last tick handed on: a closed market repeats itself every poll. */
  private readonly lastSent = new Map<string, string>();
  /** After the quote endpoint refused a fresh crumb, leave it alone until then (chart only). */
  private quoteBlockedUntil = 0;
  private quoteRefusedLogged = false;
  private readonly unknownRetryMs: number;
  private readonly candleIntervals: Interval[];
  /** `yahooSymbol|interval` → when its chart is due next (absent: never fetched, history range). */
  private readonly barsDue = new Map<string, number>();
  /** `symbol|interval` → open time of the newest closed bar handed on. */
  private readonly lastBar = new Map<string, number>();
  /** Yahoo symbol → date of the newest split seen. */
  private readonly splitSeen = new Map<string, number>();
  /** Yahoo symbols whose bars the next fetch restates (a split was reported). */
  private readonly restateNext = new Set<string>();
  private stopping = false;

  constructor(private readonly o: YahooSourceOptions) {
    super('yahoo', o);
    this.client = new YahooClient({ baseUrl: o.baseUrl, cookieUrl: o.cookieUrl, log: this.log });
    this.unknownRetryMs = o.unknownRetryMs ?? 15 * 60_000;
    this.candleIntervals = o.candleIntervals ?? [];
  }

  override setWatch(items: WatchItem[]): void {
    this.items = new Map(items.filter((i) => i.exchange === 'yahoo' && i.asset_type !== 'crypto').map((i) => [toYahooSymbol(i.symbol, i.asset_type), i]));
    for (const s of this.unknown.keys()) if (!this.items.has(s)) this.unknown.delete(s);
    const ours = new Set([...this.items.values()].map((i) => i.symbol));
    for (const s of this.lastSent.keys()) if (!ours.has(s)) this.lastSent.delete(s);
    for (const k of this.barsDue.keys()) if (!this.items.has(k.slice(0, k.lastIndexOf('|')))) this.barsDue.delete(k);
    for (const k of this.lastBar.keys()) if (!ours.has(k.slice(0, k.lastIndexOf('|')))) this.lastBar.delete(k);
    for (const k of this.splitSeen.keys()) if (!this.items.has(k)) this.splitSeen.delete(k);
    this.o.primary?.setWatch([...this.items.values()]);
  }

  protected async fetch(signal: AbortSignal): Promise<YahooPoll> {
    const items = this.items; // setWatch may swap the map while this poll awaits
    try {
      const poll = await this.fetchPoll(signal, items);
      if (this.o.primary) {
        const served = new Set(poll.ticks.map((t) => t.symbol));
        const asked = [...items].filter(([ys]) => !this.unknown.has(ys)).map(([, i]) => i);
        const back = this.o.primary.report(
          asked.filter((i) => served.has(i.symbol)),
          asked.filter((i) => !served.has(i.symbol)),
        );
        // the last stored point is the fallback's: Yahoo's quote goes out again even if it did not change
        for (const symbol of back) this.lastSent.delete(symbol);
      }
      return poll;
    } catch (err) {
      // refused (401/403 crumb, 429), down, unreachable or hanging: every symbol of this poll goes to the fallbacks
      // (a timed-out poll counts; only a poll cut short by stop() does not)
      if (!this.stopping) this.o.primary?.report([], [...items].filter(([ys]) => !this.unknown.has(ys)).map(([, i]) => i));
      throw err;
    }
  }

  private async fetchPoll(signal: AbortSignal, items: Map<string, WatchItem>): Promise<YahooPoll> {
    const receivedAt = Date.now();
    const symbols = [...items.keys()].filter((s) => (this.unknown.get(s) ?? 0) <= receivedAt);
    if (!symbols.length) return { ticks: [], candles: [], restate: [] };
    const ticks: MarketTick[] = [];
    const missing = new Set(symbols);

    try {
      for (let i = 0; receivedAt >= this.quoteBlockedUntil && i < symbols.length; i += QUOTE_BATCH) {
        const body = await this.client.quote(symbols.slice(i, i + QUOTE_BATCH), signal);
        for (const q of quoteResults(body)) {
          const ys = typeof q.symbol === 'string' ? q.symbol : '';
          const item = items.get(ys);
          if (!item || !missing.delete(ys)) continue;
          const t = this.mapItem(() => quoteToTick(q, item, receivedAt));
          if (t) ticks.push(t);
          this.known(ys);
        }
      }
    } catch (err) {
      if (!(err instanceof HttpStatusError && (err.status === 401 || err.status === 403))) throw err;
      this.metrics.sourceErrors.inc({ source: this.name, kind: errorKind(err) });
      // renewing the session on every poll would cost three requests each time for nothing
      this.quoteBlockedUntil = receivedAt + this.unknownRetryMs;
      if (!this.quoteRefusedLogged) this.log.warn({ err, retryInMs: this.unknownRetryMs }, 'quote endpoint refused even with a fresh crumb: using the chart endpoint');
      this.quoteRefusedLogged = true;
    }

    const errors: unknown[] = [];
    await forEachLimit([...missing], CHART_CONCURRENCY, async (ys) => {
      const item = items.get(ys)!;
      try {
        const { body } = await this.client.chart(ys, signal);
        const out = this.mapItem(() => chartToTick(body, item, receivedAt));
        if (out?.kind === 'not_found') this.notFound(ys, out.description, receivedAt);
        else if (out) {
          ticks.push(out.tick);
          this.known(ys);
        }
      } catch (err) {
        if (signal.aborted) throw err;
        errors.push(err);
      }
    });
    // one symbol's failure does not cost the others their ticks; a poll where nothing worked is a failure
    // (then the Poller counts it)
    if (!ticks.length && errors.length) throw errors[0];
    for (const err of errors) this.metrics.sourceErrors.inc({ source: this.name, kind: errorKind(err) });
    if (errors.length) this.log.debug({ err: errors[0], failed: errors.length }, 'some chart requests failed');
    this.metrics.messages.inc({ source: this.name }, ticks.length);
    return { ticks, ...(await this.fetchBars(symbols, items, signal)) };
  }

  /** The closed bars of every timeframe whose refresh is due; a failing chart is counted and retried next poll. */
  private async fetchBars(symbols: string[], items: Map<string, WatchItem>, signal: AbortSignal): Promise<{ candles: Candle[]; restate: Candle[] }> {
    if (!this.candleIntervals.length || !this.o.out.candle) return { candles: [], restate: [] };
    const now = Date.now();
    const restating = new Set([...this.restateNext].filter((ys) => items.has(ys)));
    this.restateNext.clear();
    for (const ys of restating) for (const iv of this.candleIntervals) this.barsDue.delete(`${ys}|${iv}`);
    const due = symbols.flatMap((ys) => this.candleIntervals.filter((iv) => (this.barsDue.get(`${ys}|${iv}`) ?? 0) <= now).map((iv) => [ys, iv] as const));
    const candles: Candle[] = [];
    const restate: Candle[] = [];
    let failed = 0;
    await forEachLimit(due, CHART_CONCURRENCY, async ([ys, interval]) => {
      if ((this.unknown.get(ys) ?? 0) > now) return; // found unknown by an earlier request of this poll
      const item = items.get(ys)!;
      const bars = CHART_BARS[interval];
      const key = `${ys}|${interval}`;
      try {
        const { body } = await this.client.chart(ys, signal, { interval: bars.interval, range: this.barsDue.has(key) ? bars.recent : bars.history });
        const out = this.mapItem(() => chartToCandles(body, item, interval, Date.now()));
        if (out?.kind === 'not_found') return this.notFound(ys, out.description, now);
        this.barsDue.set(key, now + (this.o.chartRefreshMs?.[interval] ?? bars.refreshMs));
        if (!out) return;
        (restating.has(ys) ? restate : candles).push(...out.candles);
        if (this.newSplit(ys, out.splits, now)) this.restateNext.add(ys);
      } catch (err) {
        if (signal.aborted) throw err;
        failed++;
        this.metrics.sourceErrors.inc({ source: this.name, kind: errorKind(err) });
        if (failed === 1) this.log.debug({ err, symbol: ys, interval }, 'chart bars request failed');
      }
    });
    return { candles, restate };
  }

  /**
   * Whether `splits` holds one that bars stored before may predate (see the header); remembers the newest
   * (-Infinity once a chart reported none: any split reported later is new).
   */
  private newSplit(ys: string, splits: Split[], now: number): boolean {
    const seen = this.splitSeen.get(ys);
    const newest = splits.at(-1)?.date;
    if (newest === undefined) {
      if (seen === undefined) this.splitSeen.set(ys, -Infinity);
      return false;
    }
    if (seen !== undefined && newest <= seen) return false;
    this.splitSeen.set(ys, newest);
    if (seen === undefined && newest < now - SPLIT_HORIZON_MS) return false;
    this.log.info({ symbol: ys, split: new Date(newest).toISOString(), firstSight: seen === undefined }, 'split reported: restating stored bars');
    return true;
  }

  protected onData({ ticks, candles, restate }: YahooPoll): void {
    for (const t of ticks) {
      // the state on every poll: a market closed all day (a holiday) sends no tick, yet is known closed
      if (t.marketState !== undefined) this.o.out.marketState?.(t.symbol, t.marketState);
      // a closing market keeps its last price and time: the state change alone is news
      const sig = `${t.ts}|${t.price}|${t.marketState ?? ''}`;
      if (this.lastSent.get(t.symbol) === sig) continue;
      this.lastSent.set(t.symbol, sig);
      this.o.out.tick(t);
    }
    // oldest first per series, each bar once per process (the core drops those stored before a restart)
    candles.sort((a, b) => a.openTime - b.openTime);
    for (const c of candles) {
      const key = `${c.symbol}|${c.interval}`;
      if (c.openTime <= (this.lastBar.get(key) ?? -Infinity)) continue;
      this.lastBar.set(key, c.openTime);
      this.o.out.candle?.(c);
    }
    if (restate.length) {
      restate.sort((a, b) => a.openTime - b.openTime);
      for (const c of restate) {
        const key = `${c.symbol}|${c.interval}`;
        if (c.openTime > (this.lastBar.get(key) ?? -Infinity)) this.lastBar.set(key, c.openTime);
      }
      if (this.o.out.restate) this.o.out.restate(restate);
      else for (const c of restate) this.o.out.candle?.(c);
    }
  }

  /** A malformed item is counted and skipped; the rest of the payload still counts. */
  private mapItem<R>(fn: () => R): R | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.parseError(err);
      return undefined;
    }
  }

  private known(ys: string): void {
    if (this.unknown.delete(ys)) this.log.info({ symbol: ys }, 'symbol known again');
  }

  private notFound(ys: string, description: string, now: number): void {
    this.metrics.sourceErrors.inc({ source: this.name, kind: 'http_404' });
    if (!this.unknown.has(ys)) this.log.warn({ symbol: ys, description, retryInMs: this.unknownRetryMs }, 'unknown symbol: skipped for now');
    this.unknown.set(ys, now + this.unknownRetryMs);
  }

  override async stop(): Promise<void> {
    this.stopping = true;
    await super.stop();
  }

  override health(): Record<string, unknown> {
    return { ...super.health(), symbols: this.items.size, unknownSymbols: [...this.unknown.keys()], sessions: this.client.sessions };
  }
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
