// Does the InfluxDB outage buffer fit the market feeder's V8 heap cap? The real sink, pointed at an InfluxDB
// that refuses connections, is filled with the feeder's own points (market_data ticks, 1 m candles and
// indicators in the ratio the market feeder writes them) up to INFLUX_MAX_BUFFER_POINTS; then the JS heap is
// measured after a full GC. Run it under the container's flags (docker-compose.yml, market-feeder):
//
//   node --expose-gc --max-semi-space-size=4 --max-old-space-size=160 --conditions=source --import tsx \
//     bench/buffer-heap.ts [points=200000]
//
// The budget is then: live heap of the feeder at 500 symbols (docs/BENCHMARKS.md, 30–42 MiB) + this.
import { candlePoint, createInfluxSink, indicatorPoint, marketDataPoint } from '@mt/common';
import { freePort } from '@mt/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { benchSymbols } from './replay.js';

const target = Number(process.argv[2] ?? 200_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const mib = (b: number) => +(b / 2 ** 20).toFixed(1);

gc();
const before = process.memoryUsage();
const sink = createInfluxSink(
  { url: `http://127.0.0.1:${await freePort()}`, api: 'v2', token: 'x', org: 'o' } as never,
  { log: pino({ level: 'silent' }), registry: new Registry(), maxBufferPoints: target, requestTimeoutMs: 500 },
);
const symbols = benchSymbols(500);
let t = Date.now() - 86_400_000;
let written = 0;
while (written < target) {
  for (const s of symbols) {
    if (written >= target) break;
    const price = 100 + (written % 997) / 10;
    t += 7;
    // per symbol-minute the feeder writes ~many ticks, one candle and one indicator row; ticks dominate
    sink.write('markets/raw', marketDataPoint({ exchange: 'binance', symbol: s, assetType: 'crypto', ts: t, price, bid: price - 0.01, ask: price + 0.01, volume24h: 123456.78, changePct24h: -1.23, high24h: price + 5, low24h: price - 5 }));
    written++;
    if (written % 8 === 0) {
      const c = { exchange: 'binance', symbol: s, assetType: 'crypto' as const, interval: '1m', openTime: t - (t % 60_000), closeTime: t, open: price, high: price + 1, low: price - 1, close: price, volume: 12.5, quoteVolume: 1250.5, trades: 42, closed: true };
      sink.write('markets/raw', candlePoint(c as never));
      const ind = indicatorPoint(c as never, { sma_20: price, ema_12: price, ema_26: price, rsi_14: 55.5, macd: 0.1, macd_signal: 0.05, macd_hist: 0.05, bb_upper: price + 2, bb_middle: price, bb_lower: price - 2 } as never);
      if (ind) sink.write('markets/raw', ind);
      written += 2;
    }
  }
  if (written % 50_000 < 600) await new Promise((r) => setImmediate(r));
}
await new Promise((r) => setTimeout(r, 1500));
gc();
const after = process.memoryUsage();
const buffered = Object.values((sink as unknown as { pending(): Record<string, number> }).pending()).reduce((a, b) => a + b, 0);
const perPoint = (after.heapUsed - before.heapUsed) / buffered;
console.log(
  JSON.stringify({
    points: target,
    buffered,
    heapUsedMiB: mib(after.heapUsed),
    bufferHeapMiB: mib(after.heapUsed - before.heapUsed),
    bytesPerPoint: Math.round(perPoint),
    rssMiB: mib(after.rss),
    oldSpaceLimitMiB: mib(((await import('node:v8')).getHeapStatistics().heap_size_limit)),
  }),
);
process.exit(0);
