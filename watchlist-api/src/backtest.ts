// POST /api/alert-rules/backtest: replay what InfluxDB stored for a rule's symbol through the RuleEvaluator
// the market feeder runs live (@mt/common), in time order, and answer where it would have fired
// (docs/ALERTING.md "Backtest"). What is replayed, per condition input:
// - price rules (above, below, crosses_*, pct_change): the stored 1-minute candles (`markets/raw`, 7 days),
//   and before the oldest of them the 5-minute candles (`markets/5m`, 30 days), each bar as the tick path
//   `barPath` maps it to (open, extremes, close) — ~60× fewer rows than the 1-second `market_data`, and a
//   firing exact to its bar; a symbol without stored candles falls back to `market_data` (1 second);
// - candle rules: `candles` + `indicators` of the rule's timeframe from the policy that keeps it;
// - news rules: `news_story_assets` of the symbol's asset (each story once); `fear_greed`; `funding`;
// - feed_stale: the gaps between stored `market_data` points.
// Mute, expiry and a once-rule's fired_at are about delivery now, so the backtest ignores them; cooldown
// and trigger apply.
import {
  BUCKETS,
  CONDITION_INPUT,
  fromClause,
  RuleEvaluator,
  TIMEFRAME_MS,
  barPath,
  influxQLString,
  newsAssetsOf,
  storyAssetsQuery,
  type AlertRule,
  type AlertTimeframe,
  type BarIndicators,
  type Firing,
  type InfluxQLClient,
  type InfluxQLSeries,
} from '@mt/common';
import { influxUnavailable } from './repos/alert-events.js';

const MARKETS = BUCKETS.marketsRaw.split('/')[0]!;
const NEWS = BUCKETS.newsRaw.split('/')[0]!;
const rpOf = (bucket: string) => bucket.split('/')[1]!;
/** Where each timeframe's candles and indicators are stored (docs/INFLUXDB.md "Timeframes"). */
const TIMEFRAME_RP: Record<AlertTimeframe, string> = {
  '1m': rpOf(BUCKETS.marketsRaw),
  '5m': rpOf(BUCKETS.markets5m),
  '1h': rpOf(BUCKETS.markets1h),
  '1d': rpOf(BUCKETS.markets1h),
};
const INDICATOR_FIELDS = ['rsi_14', 'macd', 'macd_signal', 'bb_upper', 'bb_lower'] as const;

export interface BacktestFire {
  /** When it fired; for a price rule replayed from candles, the open time of the bar it fired in. */
  time: string;
  price: number | null;
  value: number | null;
  /** Price rules replayed from candles: the bar (`1m`, `5m`) the firing is exact to; absent when exact to the stored point. */
  bar?: '1m' | '5m';
}

export interface BacktestResult {
  fires: BacktestFire[];
  from: string;
  to: string;
  /** How much was replayed, by kind. */
  replayed: { ticks: number; bars: number; articles: number; readings: number };
}

type Event =
  | { ts: number; kind: 'tick'; price: number; bar?: { tf: '1m' | '5m'; openTime: number } }
  | { ts: number; kind: 'bar'; openTime: number; close: number; volume: number; ind: BarIndicators }
  | { ts: number; kind: 'news'; asset: string; id: string; title: string; sentiment: number; url: string }
  | { ts: number; kind: 'fear_greed'; value: number }
  | { ts: number; kind: 'funding'; rate: number }
  | { ts: number; kind: 'clock' };

/** Conditions on the price alone: replayed from candles (barPath) rather than from every stored second. */
const PRICE_PATH = new Set<AlertRule['condition']>(['above', 'below', 'crosses_above', 'crosses_below', 'pct_change']);

/** Kinds at the same timestamp: a candle closes after the ticks of its last second, the clock runs last. */
const ORDER: Record<Event['kind'], number> = { tick: 0, funding: 1, fear_greed: 2, news: 3, bar: 4, clock: 5 };

export async function backtest(influx: InfluxQLClient, rule: AlertRule, days: number, now = Date.now()): Promise<BacktestResult> {
  const from = now - days * 86_400_000;
  const events: Event[] = [];
  const count = { ticks: 0, bars: 0, articles: 0, readings: 0 };
  const input = CONDITION_INPUT[rule.condition];
  const q = async (db: string, sql: string) => {
    try {
      return await influx.query(db, sql);
    } catch (err) {
      throw influxUnavailable(err);
    }
  };
  const sym = influxQLString(rule.symbol);
  const range = `time >= ${from}ms AND time <= ${now}ms`;
  let assetType: string | undefined;

  // prices: price rules from candles (each bar as its tick path), staleness rules from every stored second;
  // otherwise 1-minute closes are context enough
  const fromCandles = PRICE_PATH.has(rule.condition) ? await priceBars(q, sym, from, now) : undefined;
  if (fromCandles?.events.length) {
    events.push(...fromCandles.events);
    assetType = fromCandles.assetType;
    count.bars = fromCandles.bars;
  } else if (input === 'tick' || input === 'clock') {
    for (const s of await q(MARKETS, `SELECT "price" FROM ${fromClause('market_data')} WHERE "symbol" = ${sym} AND ${range} GROUP BY "asset_type"`)) {
      assetType ??= s.tags?.asset_type;
      for (const v of s.values) {
        const price = Number(v[1]);
        if (Number.isFinite(price)) events.push({ ts: Number(v[0]), kind: 'tick', price });
      }
    }
    count.ticks = events.length;
  } else {
    const closes = await q(MARKETS, `SELECT "close" FROM ${fromClause('candles')} WHERE "symbol" = ${sym} AND "interval" = '1m' AND ${range}`);
    for (const v of valuesOf(closes)) events.push({ ts: Number(v[0]) + 60_000, kind: 'tick', price: Number(v[1]) });
  }

  if (input === 'bar') {
    const tf = rule.timeframe ?? '1m';
    const rp = TIMEFRAME_RP[tf];
    const where = `"symbol" = ${sym} AND "interval" = ${influxQLString(tf)} AND ${range}`;
    const [candles, indicators] = await Promise.all([
      q(MARKETS, `SELECT "close", "volume" FROM ${fromClause('candles', rp)} WHERE ${where} GROUP BY "exchange"`),
      q(MARKETS, `SELECT ${INDICATOR_FIELDS.map((f) => `"${f}"`).join(', ')} FROM ${fromClause('indicators', rp)} WHERE ${where} GROUP BY "exchange"`),
    ]);
    // one venue: the one with the most candles (a symbol listed on two venues is two series)
    const best = candles.reduce<InfluxQLSeries | undefined>((b, s) => (!b || s.values.length > b.values.length ? s : b), undefined);
    const ind = new Map<number, BarIndicators>();
    for (const s of indicators) {
      if (best && s.tags?.exchange !== best.tags?.exchange) continue;
      for (const v of s.values) {
        const values: BarIndicators = {};
        INDICATOR_FIELDS.forEach((f, i) => {
          const x = v[i + 1];
          if (typeof x === 'number' && Number.isFinite(x)) values[f] = x;
        });
        ind.set(Number(v[0]), values);
      }
    }
    const ms = TIMEFRAME_MS[tf];
    for (const v of best?.values ?? []) {
      const openTime = Number(v[0]);
      events.push({ ts: openTime + ms, kind: 'bar', openTime, close: Number(v[1]), volume: Number(v[2]), ind: ind.get(openTime) ?? {} });
      count.bars++;
    }
  } else if (input === 'news') {
    // each story once per asset, however many outlets carried it (docs/INFLUXDB.md "news")
    const rows = await q(NEWS, storyAssetsQuery(newsAssetsOf(rule.symbol), range));
    for (const s of rows) {
      const at = (n: string) => s.columns.indexOf(n);
      for (const v of s.values) {
        events.push({
          ts: Number(v[0]),
          kind: 'news',
          asset: String(v[at('related_asset')]),
          id: String(v[at('story')] ?? v[0]),
          title: String(v[at('title')] ?? ''),
          sentiment: Number(v[at('sentiment_score')]),
          url: String(v[at('url')] ?? ''),
        });
        count.articles++;
      }
    }
  } else if (input === 'fear_greed') {
    for (const v of valuesOf(await q(MARKETS, `SELECT "value" FROM ${fromClause('fear_greed')} WHERE ${range}`))) {
      events.push({ ts: Number(v[0]), kind: 'fear_greed', value: Number(v[1]) });
      count.readings++;
    }
  } else if (input === 'funding') {
    for (const v of valuesOf(await q(MARKETS, `SELECT "funding_rate" FROM ${fromClause('funding')} WHERE "symbol" = ${sym} AND ${range}`))) {
      events.push({ ts: Number(v[0]), kind: 'funding', rate: Number(v[1]) });
      count.readings++;
    }
  } else if (input === 'clock') {
    // the moments the live clock would have found the feed stale: `seconds` after each tick that the next one did not follow
    const limit = (rule.params?.seconds ?? 120) * 1000;
    const ticks = events.filter((e) => e.kind === 'tick');
    for (let i = 0; i < ticks.length; i++) {
      const next = ticks[i + 1]?.ts ?? now;
      const at = ticks[i]!.ts + limit;
      if (at < next) events.push({ ts: Math.ceil(at / 1000) * 1000, kind: 'clock' });
      // and once more right after the gap, so the rule sees the feed fresh again (re-arm)
      if (at < next && i + 1 < ticks.length) events.push({ ts: next, kind: 'clock' });
    }
  }

  events.sort((a, b) => a.ts - b.ts || ORDER[a.kind] - ORDER[b.kind]);
  const ev = new RuleEvaluator();
  ev.setRules([{ ...rule, expires_at: null, muted_until: null, fired_at: null }], from);
  const fires: BacktestFire[] = [];
  const push = (fs: readonly Firing[], bar?: { tf: '1m' | '5m'; openTime: number }) => {
    for (const f of fs) {
      const fire: BacktestFire = {
        time: new Date(bar ? bar.openTime : f.ts).toISOString(),
        price: Number.isFinite(f.price) ? f.price : null,
        value: f.value ?? (Number.isFinite(f.price) ? f.price : null),
      };
      if (bar) fire.bar = bar.tf;
      fires.push(fire);
    }
  };
  for (const e of events) {
    switch (e.kind) {
      case 'tick':
        push(ev.onTick(rule.symbol, e.ts, e.price, assetType), e.bar);
        break;
      case 'bar':
        push(ev.onBar(rule.symbol, rule.timeframe ?? '1m', { openTime: e.openTime, close: e.close, volume: e.volume }, e.ind));
        break;
      case 'news':
        push(ev.onNews(e.asset, { ts: e.ts, id: e.id, title: e.title, sentiment: e.sentiment, url: e.url }));
        break;
      case 'fear_greed':
        push(ev.onFearGreed(e.ts, e.value));
        break;
      case 'funding':
        push(ev.onFunding(rule.symbol, e.ts, e.rate));
        break;
      case 'clock':
        push(ev.onClock(e.ts));
        break;
    }
  }
  return { fires, from: new Date(from).toISOString(), to: new Date(now).toISOString(), replayed: count };
}

/**
 * The price path of `symbol` from its stored candles: 1-minute bars where `markets/raw` still has them,
 * 5-minute bars (`markets/5m`) before the oldest 1-minute one; one venue (the one with the most bars).
 */
async function priceBars(
  q: (db: string, sql: string) => Promise<InfluxQLSeries[]>,
  sym: string,
  from: number,
  to: number,
): Promise<{ events: Event[]; bars: number; assetType: string | undefined }> {
  const read = async (tf: '1m' | '5m', until: number) => {
    const sql = `SELECT "open", "high", "low", "close" FROM ${fromClause('candles', TIMEFRAME_RP[tf])} WHERE "symbol" = ${sym} AND "interval" = '${tf}' AND time >= ${from}ms AND time <= ${until}ms GROUP BY "exchange", "asset_type"`;
    return (await q(MARKETS, sql)).reduce<InfluxQLSeries | undefined>((b, s) => (!b || s.values.length > b.values.length ? s : b), undefined);
  };
  const m1 = await read('1m', to);
  const oldest1m = m1?.values.length ? Number(m1.values[0]![0]) : to + 1;
  // the 5-minute bars end where the 1-minute ones begin (a 5m bar overlapping them is left out)
  const m5 = oldest1m - 300_000 >= from ? await read('5m', oldest1m - 300_000) : undefined;
  const events: Event[] = [];
  let bars = 0;
  for (const [tf, series] of [['5m', m5], ['1m', m1]] as const) {
    const ms = TIMEFRAME_MS[tf];
    for (const v of series?.values ?? []) {
      const [openTime, open, high, low, close] = v.map(Number) as [number, number, number, number, number];
      if (![open, high, low, close].every(Number.isFinite)) continue;
      const bar = { tf, openTime };
      for (const p of barPath({ openTime, ms, open, high, low, close })) events.push({ ts: p.ts, kind: 'tick', price: p.price, bar });
      bars++;
    }
  }
  return { events, bars, assetType: m1?.tags?.asset_type ?? m5?.tags?.asset_type };
}

function valuesOf(series: InfluxQLSeries[]): unknown[][] {
  return series.length === 1 ? series[0]!.values : series.flatMap((s) => s.values);
}
