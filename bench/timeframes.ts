// Cost per closed 1-minute candle in the market core (no sockets, a sink that drops points): a Binance
// candle (stored, 5m / 1h / 1d built from it, indicators of every timeframe that closes) beside a Yahoo
// candle (stored, 1-minute indicators only: Yahoo serves its own timeframes) and the floor, the
// indicator engine alone on the same closes.
//
//   node --conditions=source --import tsx bench/timeframes.ts
import { pino } from 'pino';
import type { InfluxSink } from '@mt/common';
import { MarketCore } from '../feeders/src/market/core.js';
import { IndicatorEngine } from '../feeders/src/market/indicators/index.js';
import type { Candle } from '../feeders/src/market/types.js';
import { median, saveResult } from './lib.js';

const N = 200_000; // ~139 days of minutes per round
const START = Date.UTC(2026, 0, 1);
const closes = Array.from({ length: N }, (_, i) => 100 + 10 * Math.sin(i / 50) + (i % 7) * 0.01);
const candle = (exchange: string, i: number): Candle => ({
  exchange,
  symbol: 'X/USDT',
  assetType: 'crypto',
  interval: '1m',
  openTime: START + i * 60_000,
  closeTime: START + i * 60_000 + 59_999,
  open: closes[i]!,
  high: closes[i]! + 0.5,
  low: closes[i]! - 0.5,
  close: closes[i]!,
  volume: 1,
  quoteVolume: closes[i]!,
  trades: 3,
  closed: true,
  receivedAt: START + (i + 1) * 60_000,
});
let written = 0;
const sink: InfluxSink = { write: (_b, p) => void (written += Array.isArray(p) ? p.length : 1), flush: async () => {}, close: async () => {}, pending: () => ({}) };
const log = pino({ level: 'silent' });

async function core(exchange: string): Promise<number> {
  const c = new MarketCore({ sink, influxql: { query: async () => [] }, indicators: new IndicatorEngine(), log });
  const cs = Array.from({ length: N }, (_, i) => candle(exchange, i));
  c.out.candle(cs[0]!);
  await c.flush(); // the warm-up read, outside the timed loop
  const t0 = process.hrtime.bigint();
  for (let i = 1; i < N; i++) c.out.candle(cs[i]!);
  return Number(process.hrtime.bigint() - t0) / (N - 1);
}

function floor(): number {
  const e = new IndicatorEngine();
  const cs = Array.from({ length: N }, (_, i) => candle('binance', i));
  const t0 = process.hrtime.bigint();
  for (const c of cs) e.onClosedCandle('k', c);
  return Number(process.hrtime.bigint() - t0) / N;
}

const rounds: Record<string, number[]> = { 'indicator engine alone (floor)': [], 'core, Yahoo candle (1m only)': [], 'core, Binance candle (1m + 5m/1h/1d)': [] };
for (let r = 0; r < 5; r++) {
  rounds['indicator engine alone (floor)']!.push(floor());
  rounds['core, Yahoo candle (1m only)']!.push(await core('yahoo'));
  rounds['core, Binance candle (1m + 5m/1h/1d)']!.push(await core('binance'));
}
const result = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, Math.round(median(v))]));
for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(40)} ${String(v).padStart(6)} ns per closed 1-minute candle (median of 5)`);
console.log(`points handed to the sink: ${written}`);
saveResult('timeframes', { nsPerCandle: result, candlesPerRound: N });
