// A real InfluxDB holding data in the contract layout (DESIGN.md) for the dashboard tests, its rollups
// made by the installed continuous queries, and the dashboards' variables resolved against it the way
// Grafana does. Shared by influxql-panels.test.ts (every query runs) and panels-render.test.ts (what
// the panels show).
import assert from 'node:assert/strict';
import { bootstrapInflux, createLogger } from '@mt/common';
import { startInflux, type InfluxServer } from '@mt/testing';
import { apply, continuousQueries, cqStatementFor } from '@mt/influxdb-tasks';
// the venues' points exactly as the market feeder builds them (docs/INFLUXDB.md, "Order books and derivatives")
import { candlePoint, fundingPoint, indicatorPoint, liquidationPoint, marketDataPoint, openInterestPoint, orderBookPoint } from '@mt/feeders/market/points';
import type { DashboardJson, Variable } from './helpers.js';
import { interpolate, variableValues, type Range } from './grafana-interpolate.js';

const log = createLogger('grafana-test', 'silent');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DB_OF: Record<string, string> = { 'influxdb-markets': 'markets', 'influxdb-news': 'news' };

export interface SeedSymbol {
  symbol: string;
  exchange: string;
  asset_type: string;
  px: number;
  extra: boolean;
  marketState?: string;
}

export const SYMBOLS: SeedSymbol[] = [
  { symbol: 'BTC/USDT', exchange: 'binance', asset_type: 'crypto', px: 60000, extra: true },
  { symbol: 'ETH/USDT', exchange: 'binance', asset_type: 'crypto', px: 3000, extra: true },
  { symbol: 'AAPL', exchange: 'yahoo', asset_type: 'stock', px: 200, extra: true, marketState: 'REGULAR' },
  { symbol: '^GSPC', exchange: 'yahoo', asset_type: 'index', px: 5000, extra: false, marketState: 'CLOSED' },
  { symbol: 'EUR/USD', exchange: 'yahoo', asset_type: 'forex', px: 1.08, extra: true, marketState: 'REGULAR' },
  { symbol: 'USD/JPY', exchange: 'yahoo', asset_type: 'forex', px: 154.2, extra: true, marketState: 'REGULAR' },
  { symbol: 'SHIB/USDT', exchange: 'binance', asset_type: 'crypto', px: 0.00001234, extra: true },
];

const esc = (v: string) => v.replace(/([ ,=])/g, '\\$1');
export const tags = (t: Record<string, string>) => Object.entries(t).map(([k, v]) => `,${k}=${esc(v)}`).join('');

/** Six hours of 1 m data in the contract layout (DESIGN.md), ending at `end`. */
export function marketLines(end: number, symbols = SYMBOLS): string[] {
  const out: string[] = [];
  const start = end - 6 * HOUR;
  for (const [i, s] of symbols.entries()) {
    const t0 = tags({ exchange: s.exchange, symbol: s.symbol, asset_type: s.asset_type });
    for (let t = start, k = 0; t < end; t += MIN, k++) {
      const priceAt = (n: number) => s.px * (1 + 0.01 * Math.sin(n / 20 + i));
      const px = priceAt(k);
      const chg = 5 * Math.sin(k / 50 + i * 2);
      // as the feeder computes it (docs/INFLUXDB.md): against the close an hour before; none in the first hour
      const chg1h = k >= 60 ? `,change_pct_1h=${((px - priceAt(k - 60)) / priceAt(k - 60)) * 100}` : '';
      const extra = s.extra ? `,bid=${px * 0.9999},ask=${px * 1.0001}${s.asset_type === 'crypto' || s.asset_type === 'stock' ? `,market_cap=${px * 19e6}` : ''}` : '';
      // market_session as docs/INFLUXDB.md defines it: crypto 1 (24/7), REGULAR 1, CLOSED 0
      const session = s.marketState === 'CLOSED' ? 0 : 1;
      const state = `${s.marketState ? `,market_state="${s.marketState}"` : ''},market_session=${session}`;
      out.push(`market_data${t0} price=${px},change_pct_24h=${chg}${chg1h},volume_24h=${1000 + k},high_24h=${px * 1.02},low_24h=${px * 0.98}${extra}${state} ${t}`);
      const c = `${t0},interval=1m`;
      out.push(`candles${c} open=${px},high=${px * 1.001},low=${px * 0.999},close=${px * 1.0002},volume=${10 + (k % 7)},quote_volume=${px * 10},trades=${100 + k}i ${t}`);
      out.push(
        `indicators${c} sma_20=${px},ema_50=${px * 0.999},rsi_14=${50 + 20 * Math.sin(k / 9)},macd=${Math.sin(k / 15)},macd_signal=${Math.sin(k / 17)},` +
          `macd_hist=${Math.sin(k / 15) - Math.sin(k / 17)},bb_upper=${px * 1.01},bb_middle=${px},bb_lower=${px * 0.99} ${t}`,
      );
    }
  }
  for (let d = 0; d < 7; d++) out.push(`fear_greed value=${40 + d}i,classification="Fear" ${end - d * 86400_000 - MIN}`);
  // fired price alerts as the market feeder stores them (alert_events contract, docs/ALERTING.md)
  out.push(
    `alert_events${tags({ symbol: 'BTC/USDT', rule_id: 'r-above', severity: 'warning' })} condition="above",threshold=60500,price=60512.5,message="BTC/USDT above 60500" ${end - 2 * HOUR}`,
    `alert_events${tags({ symbol: 'AAPL', rule_id: 'r-below', severity: 'critical' })} condition="below",threshold=199,price=198.75,message="AAPL below 199" ${end - HOUR}`,
    `alert_events${tags({ symbol: 'BTC/USDT', rule_id: 'r-macd', severity: 'info' })} condition="macd_cross_up",price=60100,message="BTC/USDT MACD crossed up" ${end - 30 * MIN}`,
  );
  return out;
}

/**
 * The 5m, 1h and 1d candles and indicators the market feeder writes straight into the policy that keeps
 * them (docs/INFLUXDB.md, "Timeframes"), ending at `end`: rp → lines.
 */
export function timeframeLines(end: number, symbols = SYMBOLS): Record<string, string[]> {
  const out: Record<string, string[]> = { '5m': [], '1h': [] };
  const frames: [string, string, number, number][] = [
    ['5m', '5m', 5 * MIN, 7 * 86400_000],
    ['1h', '1h', HOUR, 60 * 86400_000],
    ['1d', '1h', 24 * HOUR, 360 * 86400_000],
  ];
  for (const [i, s] of symbols.entries()) {
    for (const [interval, rp, step, span] of frames) {
      const c = tags({ exchange: s.exchange, symbol: s.symbol, asset_type: s.asset_type, interval });
      for (let t = Math.floor((end - span) / step) * step, k = 0; t < end; t += step, k++) {
        const px = s.px * (1 + 0.05 * Math.sin(k / 20 + i));
        out[rp]!.push(`candles${c} open=${px},high=${px * 1.01},low=${px * 0.99},close=${px * 1.002},volume=${10 + (k % 7)},quote_volume=${px * 10},trades=${100 + k}i ${t}`);
        out[rp]!.push(
          `indicators${c} sma_20=${px},ema_50=${px * 0.999},rsi_14=${50 + 20 * Math.sin(k / 9)},macd=${Math.sin(k / 15)},macd_signal=${Math.sin(k / 17)},` +
            `macd_hist=${Math.sin(k / 15) - Math.sin(k / 17)},bb_upper=${px * 1.01},bb_middle=${px},bb_lower=${px * 0.99} ${t}`,
        );
      }
    }
  }
  return out;
}

/** The news layout (docs/INFLUXDB.md): one point per article, per story, per story and asset. */
export function newsLines(end: number): string[] {
  const out: string[] = [];
  const sources = ['cryptopanic', 'newsapi', 'rss:www.coindesk.com'];
  const assets = ['BTC', 'ETH', 'AAPL', 'none', 'BTC,ETH'];
  const q = (v: string) => `"${v.replace(/"/g, '\\"')}"`;
  for (let k = 0; k < 60; k++) {
    const id = `a${k.toString(16).padStart(8, '0')}`;
    const t = end - k * 13 * MIN;
    const a = assets[k % 5]!;
    const title = q(`Headline ${k} about "markets"`);
    out.push(`news_articles${tags({ source: sources[k % 3]!, category: k % 2 ? 'crypto' : 'markets', lang: 'en' })} title=${title},url="https://example.org/${id}",sentiment_score=${Math.sin(k)},id="${id}",story="${id}",assets="${a}" ${t}`);
    // rank: not the recency order (docs/SENTIMENT.md "Rank" weighs outlets, relevance, sentiment too)
    const story = `story="${id}",title=${title},url="https://example.org/${id}",sources="${sources[k % 3]},${sources[(k + 1) % 3]}",publishers="example.org, example.com",outlets=2i,articles=2i,assets="${a}",rank=${1000 + ((k * 37) % 60)},sentiment_score=${Math.sin(k)}`;
    out.push(`news_stories${tags({ category: 'crypto', lang: 'en' })} ${story} ${t}`);
    for (const x of a.split(',')) out.push(`news_story_assets${tags({ related_asset: x })} ${story} ${t}`);
  }
  return out;
}

/**
 * The issue-16 venues over the last hour, built by the feeder's own point builders (ns line protocol):
 * BTC/USD on coinbase (60 000.00) and kraken (60 030.00) beside binance's BTC/USDT (a different quote, never
 * mixed with them); the order book of BTC/USD on kraken (spread 1.2 bps, depth, imbalance +0.25) and of
 * BTC/USDT on binance (imbalance −0.4); the perpetual BTC/USDT:USDT on binance-futures with funding 0.0100 % every 8 h,
 * mark 60 090 / index 60 080, open interest and four liquidations (in the last closed hour). The last points
 * are at `end` − 5 s.
 */
export function venueLines(end: number): string[] {
  const out: string[] = [];
  const crypto = 'crypto' as const;
  const last = end - 5_000;
  for (let k = 0; k < 60; k++) {
    const t = end - HOUR + k * MIN;
    const at = k === 59 ? last : t; // the newest point of each series at `end` − 5 s
    for (const [exchange, px] of [['coinbase', 60000], ['kraken', 60030]] as const) {
      const quote = { bid: px - 0.5, ask: px + 0.5, changePct24h: 1.5, volume24h: 1200, high24h: px + 500, low24h: px - 500 };
      out.push(marketDataPoint({ exchange, symbol: 'BTC/USD', assetType: crypto, price: px, ...quote, ts: at, receivedAt: at }).toLineProtocol()!);
      out.push(
        candlePoint({ exchange, symbol: 'BTC/USD', assetType: crypto, interval: '1m', open: px, high: px + 10, low: px - 10, close: px, volume: 2 + (k % 3), quoteVolume: px * 2, trades: 10, openTime: Math.floor(t / MIN) * MIN, closeTime: Math.floor(t / MIN) * MIN + MIN - 1, closed: true, receivedAt: t }).toLineProtocol()!,
      );
    }
    const c = { exchange: 'kraken', symbol: 'BTC/USD', assetType: crypto, interval: '1m' as const, openTime: Math.floor(t / MIN) * MIN };
    out.push(indicatorPoint(c, { sma_20: 60030, ema_50: 60020, rsi_14: 55, macd: 1, macd_signal: 0.5, macd_hist: 0.5, bb_upper: 60300, bb_middle: 60030, bb_lower: 59760 })!.toLineProtocol()!);
    // binance's own BTC/USDT order book: more asks than bids within 1 %
    out.push(orderBookPoint({ exchange: 'binance', symbol: 'BTC/USDT', assetType: crypto, ts: at, receivedAt: at, bestBid: 59999.99, bestAsk: 60000.01, bidDepth1pct: 3_000_000, askDepth1pct: 7_000_000, imbalance: -0.4 }).toLineProtocol()!);
    // kraken BTC/USD: bid 60 026.39, ask 60 033.59 → (7.2 / 60 029.99) × 10 000 = 1.2 bps
    out.push(orderBookPoint({ exchange: 'kraken', symbol: 'BTC/USD', assetType: crypto, ts: at, receivedAt: at, bestBid: 60026.39, bestAsk: 60033.59, bidDepth1pct: 2_500_000, askDepth1pct: 1_500_000, imbalance: 0.25 }).toLineProtocol()!);
    const perp = { exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', assetType: crypto };
    out.push(fundingPoint({ ...perp, ts: at, receivedAt: at, markPrice: 60090, indexPrice: 60080, fundingRate: 0.0001, nextFundingTime: Date.UTC(2026, 10, 26, 8), fundingIntervalHours: 8 }).toLineProtocol()!);
    out.push(marketDataPoint({ ...perp, price: 60088, ts: at, receivedAt: at }).toLineProtocol()!);
    out.push(openInterestPoint({ ...perp, ts: at, receivedAt: at, openInterest: 80000 + k, openInterestValue: (80000 + k) * 60090 }).toLineProtocol()!);
  }
  const perp = { exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', assetType: crypto };
  const liq = (side: 'buy' | 'sell', price: number, quantity: number, ts: number) => liquidationPoint({ ...perp, side, price, quantity, value: price * quantity, ts, receivedAt: ts }).toLineProtocol()!;
  // in the last closed hour, whatever minute `end` falls on: the rollups the tests make (startDashboardInflux,
  // up to that hour) hold them, so the 5m and 1h policies show the same liquidations as raw
  const hour = Math.floor(end / HOUR) * HOUR - HOUR;
  out.push(liq('sell', 60000, 2.5, hour + 10 * MIN), liq('sell', 59950, 0.1, hour + 20 * MIN), liq('buy', 60100, 1, hour + 40 * MIN), liq('buy', 60120, 0.05, hour + 50 * MIN));
  return out;
}

export async function write(influx: InfluxServer, db: string, rp: string, lines: string[], precision = 'ms'): Promise<void> {
  const res = await fetch(`${influx.url}/write?db=${db}&rp=${rp}&precision=${precision}`, { method: 'POST', body: lines.join('\n') });
  assert.equal(res.status, 204, await res.text());
}

/** influxd with the contract's databases, the real installer's CQs and rp_config, seeded data and its rollups. */
export async function startDashboardInflux(end: number, symbols = SYMBOLS, opts: { venues?: boolean } = {}): Promise<InfluxServer> {
  const influx = await startInflux({ cqRunInterval: '1h' });
  await bootstrapInflux({ url: influx.url, token: '', org: '', api: 'v1' }, log);
  await apply({ url: influx.url, token: '', org: '', api: 'v1' }, log);
  await write(influx, 'markets', 'raw', marketLines(end, symbols));
  for (const [rp, lines] of Object.entries(timeframeLines(end, symbols))) await write(influx, 'markets', rp, lines);
  await write(influx, 'news', 'raw', newsLines(end));
  if (opts.venues) await write(influx, 'markets', 'raw', venueLines(end), 'ns');
  // the installed CQ text over the closed windows fills 5m, then 1h
  const closed = Math.floor(end / HOUR) * HOUR;
  for (const target of ['5m', '1h'])
    for (const cq of continuousQueries().filter((c) => c.name.endsWith(`_${target}`))) {
      const r = await influx.query(cqStatementFor(cq.create, end - 7 * HOUR, closed), 'markets');
      assert.equal(r.results[0]!.error, undefined);
    }
  return influx;
}

export type Vars = Map<string, { def: Variable; values: string[] }>;

/** Each variable's query interpolated and run as Grafana does, in order; `pick` chooses a value. */
export async function resolveVariables(influx: InfluxServer, d: DashboardJson, range: Range, pick: Record<string, string | string[]>): Promise<Vars> {
  const vars: Vars = new Map();
  for (const def of d.templating.list ?? []) {
    const q = interpolate(def.query!, vars, range, 60_000);
    const res = await influx.query(q, DB_OF[def.datasource!.uid]);
    assert.equal(res.results[0]!.error, undefined, `${d.uid} $${def.name}: ${q}`);
    const values = variableValues(def, res.results[0]!.series ?? []);
    const want = pick[def.name] === undefined ? undefined : ([] as string[]).concat(pick[def.name]!);
    const chosen = want ?? (def.includeAll ? values : values.slice(0, 1));
    for (const w of want ?? []) if (w !== '') assert.ok(values.includes(w), `${d.uid} $${def.name} offers ${w}: ${values}`);
    vars.set(def.name, { def, values: chosen });
  }
  return vars;
}
