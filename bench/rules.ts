// Alert-rule evaluation on the tick path, in one process (no sockets): 10 000 rules over 500 symbols
// (20 per symbol: price levels with and without hysteresis, pct_change windows, and candle / news rules
// that ticks do not touch), ticks round-robin over the symbols on a random walk. Side by side in one run:
//   floor       — the per-tick work without rules: the symbol lookup and a price window add
//   evaluator   — RuleEvaluator.onTick, what the feeder runs (rules indexed by symbol and by input)
//   naive scan  — every rule checked on every tick (symbol compare, then the same condition code)
//   ingest peer — the feeder's own per-frame parse (parseFrame + toTick), the cost a tick already has
// Then a backtest-sized replay: 30 days of 1-minute candles for one symbol and one rule through the same
// evaluator (the API's query time is measured separately with the real InfluxDB in the backtest test).
//
//   npm run bench -- rules      (or: node --conditions=source --import tsx bench/rules.ts)
import { RuleEvaluator } from '@mt/common';
import { ruleMix } from './rule-mix.js';
import { parseFrame, toTick } from '../feeders/src/market/binance/mappers.js';
import { machine, median, saveResult } from './lib.js';
import { benchSymbols, frameData, newSym } from './replay.js';

const SYMBOLS = 500;
const PER_SYMBOL = 20;
const TICKS = 1_000_000;
const symbols = benchSymbols(SYMBOLS);
const T0 = Date.UTC(2026, 10, 25, 0, 0, 0);

const rules = symbols.flatMap((s, i) => ruleMix(s, i, PER_SYMBOL));

// ticks: a 0.05 % random walk per symbol, one tick every 2 ms of exchange time round-robin
const prices = new Float64Array(SYMBOLS).fill(100);
let seed = 42;
const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
const tickSym = new Int32Array(TICKS);
const tickPrice = new Float64Array(TICKS);
for (let i = 0; i < TICKS; i++) {
  const s = i % SYMBOLS;
  prices[s] = prices[s]! * (1 + (rnd() - 0.5) * 0.001);
  tickSym[i] = s;
  tickPrice[i] = prices[s]!;
}

let sink = 0;
/** CPU time (user + system) per tick: on a shared machine wall time mostly measures the other processes. */
function time(fn: () => void): number {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const c = process.cpuUsage();
    fn();
    const u = process.cpuUsage(c);
    runs.push(((u.user + u.system) * 1000) / TICKS);
  }
  return median(runs.slice(2)); // the first runs warm up the JIT
}

const live = new RuleEvaluator();
const t0 = process.hrtime.bigint();
live.setRules(rules, T0);
const setRulesMs = Number(process.hrtime.bigint() - t0) / 1e6;

// the floor: what any per-symbol evaluation costs before looking at a rule
const floorMap = new Map(symbols.map((s) => [s, { last: 0 }]));
const floor = time(() => {
  for (let i = 0; i < TICKS; i++) {
    const st = floorMap.get(symbols[tickSym[i]!]!)!;
    st.last = tickPrice[i]!;
    sink += st.last;
  }
});

let fired = 0;
let run = 0;
const evaluator = time(() => {
  // one evaluator across runs, time moving on: the state (crossings, hysteresis, windows) carries over as live
  const base = T0 + run++ * TICKS * 2;
  for (let i = 0; i < TICKS; i++) fired += live.onTick(symbols[tickSym[i]!]!, base + i * 2, tickPrice[i]!).length;
});

// the naive scan: one evaluator per rule is the same condition code; every tick asks every rule
const naiveRules = rules.filter((r) => r.condition !== 'rsi_above' && r.condition !== 'news_keyword');
const naive = time(() => {
  const single = naiveRules.map((r) => {
    const ev = new RuleEvaluator();
    ev.setRules([r], T0);
    return { symbol: r.symbol, ev };
  });
  const n = single.length;
  for (let i = 0; i < TICKS / 100; i++) {
    const sym = symbols[tickSym[i]!]!;
    for (let j = 0; j < n; j++) {
      const x = single[j]!;
      if (x.symbol === sym) sink += x.ev.onTick(sym, T0 + i * 2, tickPrice[i]!).length;
    }
  }
}) * 100; // a hundredth of the ticks: the scan is that slow

// the ingest peer: the per-frame parse every tick already pays
const frames: string[] = [];
const syms = symbols.slice(0, 50).map((s) => newSym(s.replace('/', ''), 100));
for (let i = 0; i < 10_000; i++) frames.push(`{"stream":"${syms[i % 50]!.S.toLowerCase()}@trade","data":${frameData('trade', syms[i % 50]!, T0 + i)}}`);
const ingest = time(() => {
  for (let i = 0; i < TICKS; i++) {
    const ev = parseFrame(frames[i % frames.length]!);
    if (ev.kind === 'result' || ev.kind === 'error' || ev.kind === 'shutdown') continue;
    sink += toTick('BTC/USDT', ev, T0, 100)?.price ?? 0;
  }
});

// backtest-sized replay: 30 days × 1 symbol × 1 rule on 1-minute candles with indicators
const BARS = 30 * 1440;
const bt: number[] = [];
for (let r = 0; r < 7; r++) {
  const ev = new RuleEvaluator();
  ev.setRules([{ id: 'b', symbol: 'BTC/USDT', condition: 'rsi_above', threshold: 70, window_seconds: null, cooldown_seconds: 0, severity: 'info' }], T0);
  let rsi = 50;
  const t = process.hrtime.bigint();
  for (let i = 0; i < BARS; i++) {
    rsi = Math.min(100, Math.max(0, rsi + (rnd() - 0.5) * 8));
    sink += ev.onBar('BTC/USDT', '1m', { openTime: T0 + i * 60_000, close: 100, volume: 1 }, { rsi_14: rsi }).length;
    sink += ev.onTick('BTC/USDT', T0 + i * 60_000 + 60_000, 100).length;
  }
  bt.push(Number(process.hrtime.bigint() - t) / 1e6);
}
const btMs = median(bt.slice(2));

const rows = [
  ['floor (symbol lookup, no rules)', floor],
  [`evaluator: ${rules.length} rules / ${SYMBOLS} symbols`, evaluator],
  [`naive scan: every tick × ${naiveRules.length} tick rules`, naive],
  ['ingest peer: parseFrame + toTick per frame', ingest],
] as const;
const table = [
  '| per tick | CPU ns (median of 5 runs) |',
  '|---|---|',
  ...rows.map(([n, v]) => `| ${n} | ${v.toFixed(0)} |`),
  '',
  `evaluator − floor = ${(evaluator - floor).toFixed(0)} ns/tick amortised (goal < 1000); naive scan / evaluator = ${(naive / evaluator).toFixed(0)}×; ` +
    `evaluator / (ingest peer) = ${((evaluator / ingest) * 100).toFixed(1)} % of the per-frame parse; ${fired} firings over ${TICKS * 5} ticks (5 runs)`,
  `evaluator replay of 30 days × 1 symbol × 1 rule (43 200 candles + closes): ${btMs.toFixed(1)} ms (median of 5); setRules(${rules.length}): ${setRulesMs.toFixed(0)} ms`,
].join('\n');
process.stdout.write(`${table}\n`);
saveResult('rules', { machine: machine(), ns: Object.fromEntries(rows), backtestReplayMs: btMs, setRulesMs, fired, sink });
