// POST /api/alert-rules/backtest's work (watchlist-api/src/backtest.ts) against a real InfluxDB 1.x holding
// 30 days of one symbol: 5-minute candles with the feeder's own indicators in markets/5m (8 640 candles),
// 7 days (the raw retention) of 1-minute candles in markets/raw, and the same 7 days as one-second prices
// (~600 000 points) stored for a second symbol that has no candles. Side by side:
//   floor   — the InfluxQL reads alone (the same SELECTs the backtest sends)
//   ours    — backtest(): the reads + the replay through the live RuleEvaluator
// for a candle rule (rsi_above on 5m, 30 days) and a price rule (crosses_above) on both price paths:
// from the candles (1m bars for 7 days, 5m before; each bar as its tick path) and from every stored
// second (the path before, still the fallback for a symbol without candles).
//
//   npm run bench -- backtest      (or: node --conditions=source --import tsx bench/backtest.ts)
import { BUCKETS, createInfluxQLClient, createLogger, bootstrapInflux, type AlertRule } from '@mt/common';
import { startInflux } from '@mt/testing';
import { IndicatorEngine } from '../feeders/src/market/indicators/index.js';
import type { Candle } from '../feeders/src/market/types.js';
import { backtest } from '../watchlist-api/src/backtest.js';
import { machine, median, saveResult } from './lib.js';

const influx = await startInflux();
const cfg = { url: influx.url, token: '', org: '', api: 'v1' as const };
await bootstrapInflux(cfg, createLogger('bench', 'silent'));
const ql = createInfluxQLClient(cfg);
const now = Math.floor(Date.now() / 300_000) * 300_000;
const DAY = 86_400_000;

async function write(rp: string, lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 50_000) {
    const res = await fetch(`${influx.url}/write?db=markets&rp=${rp}&precision=ms`, { method: 'POST', body: lines.slice(i, i + 50_000).join('\n') });
    if (res.status !== 204) throw new Error(`write: ${res.status} ${await res.text()}`);
  }
}

// 30 days (minus a margin inside the 30-day retention) of 5-minute candles on a random walk, indicators by the feeder's engine
let seed = 7;
const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
const engine = new IndicatorEngine();
const candleLines: string[] = [];
const indicatorLines: string[] = [];
let price = 100;
const start5m = now - 29.5 * DAY;
for (let t = start5m; t < now; t += 300_000) {
  const open = price;
  price *= 1 + (rnd() - 0.5) * 0.01;
  const c: Candle = { exchange: 'binance', symbol: 'BTC/USDT', assetType: 'crypto', interval: '5m', openTime: t, closeTime: t + 299_999, open, high: Math.max(open, price), low: Math.min(open, price), close: price, volume: 10 + rnd() * 5, quoteVolume: 1000, trades: 10, closed: true, receivedAt: t };
  const tags = 'asset_type=crypto,exchange=binance,interval=5m,symbol=BTC/USDT';
  candleLines.push(`candles,${tags} open=${c.open},high=${c.high},low=${c.low},close=${c.close},volume=${c.volume},quote_volume=1000,trades=10i ${t}`);
  const v = engine.onClosedCandle('k', c);
  const fields = Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${k}=${x}`);
  if (fields.length) indicatorLines.push(`indicators,${tags} ${fields.join(',')} ${t}`);
}
await write('5m', candleLines);
await write('5m', indicatorLines);
// 7 days (minus a margin) of one-second prices: stored as such for ETH/USDT (no candles: the backtest's
// fallback, the one-second path), and as the 1-minute candles they make for BTC/USDT
const priceLines: string[] = [];
const minuteLines: string[] = [];
price = 100;
let bar: { t: number; o: number; h: number; l: number; c: number } | undefined;
const closeBar = () => {
  if (bar) minuteLines.push(`candles,asset_type=crypto,exchange=binance,interval=1m,symbol=BTC/USDT open=${bar.o},high=${bar.h},low=${bar.l},close=${bar.c},volume=1,quote_volume=100,trades=60i ${bar.t}`);
};
for (let t = Math.floor((now - 6.9 * DAY) / 60_000) * 60_000; t < now; t += 1000) {
  price *= 1 + (rnd() - 0.5) * 0.0004;
  priceLines.push(`market_data,asset_type=crypto,exchange=binance,symbol=ETH/USDT price=${price} ${t}`);
  const m = Math.floor(t / 60_000) * 60_000;
  if (bar?.t !== m) {
    closeBar();
    bar = { t: m, o: price, h: price, l: price, c: price };
  } else {
    bar.h = Math.max(bar.h, price);
    bar.l = Math.min(bar.l, price);
    bar.c = price;
  }
}
closeBar();
await write(BUCKETS.marketsRaw.split('/')[1]!, priceLines);
await write(BUCKETS.marketsRaw.split('/')[1]!, minuteLines);
process.stdout.write(`stored: ${candleLines.length} candles + ${indicatorLines.length} indicator points (5m), ${minuteLines.length} 1m candles, ${priceLines.length} prices (raw)\n`);

const base = { id: 'b', symbol: 'BTC/USDT', window_seconds: null, cooldown_seconds: 0, severity: 'info' as const };
const cases: { name: string; rule: AlertRule; floor: string[] }[] = [
  {
    name: 'rsi_above 70 on 5m, 30 days',
    rule: { ...base, condition: 'rsi_above', threshold: 70, timeframe: '5m' },
    floor: [
      `SELECT "close" FROM "candles" WHERE "symbol" = 'BTC/USDT' AND "interval" = '1m' AND time >= ${now - 30 * DAY}ms AND time <= ${now}ms`,
      `SELECT "close", "volume" FROM "5m"."candles" WHERE "symbol" = 'BTC/USDT' AND "interval" = '5m' AND time >= ${now - 30 * DAY}ms AND time <= ${now}ms GROUP BY "exchange"`,
      `SELECT "rsi_14", "macd", "macd_signal", "bb_upper", "bb_lower" FROM "5m"."indicators" WHERE "symbol" = 'BTC/USDT' AND "interval" = '5m' AND time >= ${now - 30 * DAY}ms AND time <= ${now}ms GROUP BY "exchange"`,
    ],
  },
  {
    name: 'crosses_above from candles: 1m bars (7 d) + 5m bars before (30 d in all)',
    rule: { ...base, condition: 'crosses_above', threshold: 100, hysteresis_pct: 0.2 },
    floor: [
      `SELECT "open", "high", "low", "close" FROM "raw"."candles" WHERE "symbol" = 'BTC/USDT' AND "interval" = '1m' AND time >= ${now - 30 * DAY}ms AND time <= ${now}ms GROUP BY "exchange", "asset_type"`,
      `SELECT "open", "high", "low", "close" FROM "5m"."candles" WHERE "symbol" = 'BTC/USDT' AND "interval" = '5m' AND time >= ${now - 30 * DAY}ms AND time <= ${now - 6.9 * DAY}ms GROUP BY "exchange", "asset_type"`,
    ],
  },
  {
    name: 'crosses_above from every stored second (no candles: the fallback; 7 days stored of 30 asked)',
    rule: { ...base, symbol: 'ETH/USDT', condition: 'crosses_above', threshold: 100, hysteresis_pct: 0.2 },
    floor: [`SELECT "price" FROM "market_data" WHERE "symbol" = 'ETH/USDT' AND time >= ${now - 30 * DAY}ms AND time <= ${now}ms GROUP BY "asset_type"`],
  },
];

const rows: string[] = [];
const out: Record<string, { floorMs: number; oursMs: number; fires: number }> = {};
try {
  for (const c of cases) {
    const f: number[] = [];
    const o: number[] = [];
    let fires = 0;
    for (let r = 0; r < 6; r++) {
      let t = performance.now();
      await Promise.all(c.floor.map((q) => ql.query('markets', q)));
      f.push(performance.now() - t);
      t = performance.now();
      fires = (await backtest(ql, c.rule, 30, now)).fires.length;
      o.push(performance.now() - t);
    }
    out[c.name] = { floorMs: median(f.slice(1)), oursMs: median(o.slice(1)), fires };
    rows.push(`| ${c.name} | ${out[c.name]!.floorMs.toFixed(0)} | ${out[c.name]!.oursMs.toFixed(0)} | ${fires} |`);
  }
} finally {
  await influx.stop();
}
const table = ['| backtest, 1 symbol × 1 rule | floor: InfluxQL reads alone, ms | ours: reads + replay, ms | fires |', '|---|---|---|---|', ...rows, '', '(median of 5 runs after one warm-up, wall time)'].join('\n');
process.stdout.write(`${table}\n`);
saveResult('backtest', { machine: machine(), results: out, table });
process.exit(0);
