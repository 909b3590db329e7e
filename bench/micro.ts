// Per-frame CPU cost of the feeder's pure steps, in one process without sockets (so the load of the
// shared machine matters less): JSON.parse alone (what the floor does), the feeder's parseFrame, and
// parseFrame + toTick, over the replay server's frames for 50 symbols × 4 streams; then toTick alone
// per event kind, and the V8 effect behind it: an object spread of a freshly built object vs a literal.
//
//   node --conditions=source --import tsx bench/micro.ts
import { parseFrame, toTick } from '../feeders/src/market/binance/mappers.js';
import { median, saveResult } from './lib.js';
import { benchSymbols, frameData, newSym, type StreamKind } from './replay.js';

const KINDS: StreamKind[] = ['trade', 'kline_1m', 'ticker', 'bookTicker'];
const syms = benchSymbols(50).map((s) => newSym(s.replace('/', ''), 100));
const frames: string[] = [];
const now = Date.now();
for (let i = 0; i < 200_000; i++) {
  const s = syms[i % syms.length]!;
  const kind = KINDS[Math.floor(i / syms.length) % KINDS.length]!;
  frames.push(`{"stream":"${s.S.toLowerCase()}@${kind}","data":${frameData(kind, s, now + i)}}`);
}
let sink = 0;
const cases: Record<string, (f: string) => void> = {
  'JSON.parse': (f) => {
    sink += (JSON.parse(f) as { data: unknown }).data ? 1 : 0;
  },
  parseFrame: (f) => {
    sink += parseFrame(f).kind.length;
  },
  'parseFrame + toTick': (f) => {
    const ev = parseFrame(f);
    if (ev.kind === 'result' || ev.kind === 'error' || ev.kind === 'shutdown') return;
    sink += toTick('BTC/USDT', ev, now, 100)?.price ?? 0;
  },
};
const base = (symbol: string, receivedAt: number) => ({ exchange: 'binance', symbol, assetType: 'crypto', receivedAt });
const trade = { ts: now, price: 100 };
cases['object spread {...base, ts, price}'] = (f) => {
  sink += { ...base(f, 1), ts: trade.ts, price: trade.price }.price;
};
cases['object literal, same fields'] = (f) => {
  sink += { exchange: 'binance', symbol: f, assetType: 'crypto', receivedAt: 1, ts: trade.ts, price: trade.price }.price;
};
for (const kind of KINDS) {
  const evs = frames.filter((f) => f.includes(`@${kind}"`)).map((f) => parseFrame(f));
  let i = 0;
  cases[`toTick alone, ${kind}`] = () => {
    sink += toTick('BTC/USDT', evs[i++ % evs.length]!, now, 100)?.price ?? 0;
  };
}
const out: Record<string, number> = {};
for (const [name, fn] of Object.entries(cases)) {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (const f of frames) fn(f);
    runs.push(Number(process.hrtime.bigint() - t) / frames.length);
  }
  out[name] = median(runs.slice(2)); // the first runs warm up the JIT
  process.stdout.write(`${name}: ${out[name].toFixed(0)} ns/frame (median of 5 runs after 2 warm-up runs)\n`);
}
saveResult('micro', { ns: out, sink });
