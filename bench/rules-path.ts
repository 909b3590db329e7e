// The feeder's per-frame path with and without alert rules, in one process without sockets (explains
// bench/rules-ingest.ts, docs/BENCHMARKS.md §11): the replay's frames for --symbols symbols × the four
// streams the feeder subscribes, round-robin as a flood delivers them, each through parseFrame → toTick →
// the core's tick throttle with the alerts hook (market_data points to a sink that drops them), once with
// the hook holding no rules and once with --rules rules of bench/rule-mix.ts; the two alternate over
// --rounds passes, CPU time per frame.
//
// With --peer-root (another checkout with its node_modules, e.g. of the commit before a change) a third
// variant runs the same rules through that checkout's core and alerts, alternating with the other two:
// a before/after in one process.
//
//   node --conditions=source --import tsx bench/rules-path.ts --symbols 500 --rules 10000 [--peer-root /tmp/before]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseFrame, toTick } from '../feeders/src/market/binance/mappers.js';
import { MarketCore } from '../feeders/src/market/core.js';
import { createPriceAlerts } from '../feeders/src/market/alerts/index.js';
import type { MarketContext } from '../feeders/src/market/context.js';
import { machine, median, saveResult, spread } from './lib.js';
import { benchSymbols, frameData, newSym, type StreamKind } from './replay.js';
import { ruleMix } from './rule-mix.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '500' },
    rules: { type: 'string', default: '10000' },
    frames: { type: 'string', default: '400000' },
    rounds: { type: 'string', default: '8' },
    // the width of the replay's per-trade move (bench/replay.ts DEFAULT_WALK = 0.001)
    walk: { type: 'string', default: '0.001' },
    // one variant only (`none` or `rules`), e.g. under --cpu-prof to compare two profiles
    only: { type: 'string' },
    'peer-root': { type: 'string' },
  },
});
const N = Number(values.symbols);
const RULES = Number(values.rules);
const FRAMES = Number(values.frames);
const KINDS: StreamKind[] = ['trade', 'kline_1m', 'ticker', 'bookTicker'];
const symbols = benchSymbols(N);
const syms = symbols.map((s) => ({ ...newSym(s.replace('/', ''), 100), walk: Number(values.walk) }));
const bySymbol = new Map(symbols.map((s) => [s.replace('/', ''), s]));

// frames in the order a flood brings them: stream after stream, symbol after symbol; exchange time moving
// on from round to round (the walk goes on too), 20 frames a millisecond
const t0 = Date.now();
const frames: string[] = new Array<string>(FRAMES);
/** When each frame is received: a millisecond after it was sent (a book tick carries our receive time). */
const receivedAt = new Float64Array(FRAMES);
function makeFrames(round: number): void {
  for (let i = 0; i < FRAMES; i++) {
    const s = syms[i % N]!;
    const kind = KINDS[Math.floor(i / N) % KINDS.length]!;
    const sent = t0 + Math.floor((round * FRAMES + i) / 20);
    frames[i] = `{"stream":"${s.S.toLowerCase()}@${kind}","data":${frameData(kind, s, sent)}}`;
    receivedAt[i] = sent + 1;
  }
}

const log = pino({ level: 'silent' });
const cfg = { ALERTMANAGER_URL: 'http://127.0.0.1:9', ALERT_DIGEST_AFTER: 5, ALERT_DIGEST_HOLD_MS: 10_000, GRAFANA_URL: 'http://localhost:3000' } as unknown as MarketContext['cfg'];
let points = 0;
const peerRoot = values['peer-root'] ? path.resolve(values['peer-root']) : undefined;
const peer = peerRoot
  ? {
      MarketCore: ((await import(pathToFileURL(path.join(peerRoot, 'feeders/src/market/core.ts')).href)) as { MarketCore: typeof MarketCore }).MarketCore,
      createPriceAlerts: ((await import(pathToFileURL(path.join(peerRoot, 'feeders/src/market/alerts/index.ts')).href)) as { createPriceAlerts: typeof createPriceAlerts }).createPriceAlerts,
    }
  : undefined;
function variant(rules: number, code: { MarketCore: typeof MarketCore; createPriceAlerts: typeof createPriceAlerts } = { MarketCore, createPriceAlerts }) {
  const registry = new Registry();
  const alerts = code.createPriceAlerts({ cfg, log, registry });
  alerts.setRules(rules ? symbols.flatMap((s, i) => ruleMix(s, i, Math.ceil(rules / N), 100)).slice(0, rules) : []);
  const core = new code.MarketCore({
    sink: { write: () => void points++ } as never,
    influxql: {} as never,
    indicators: { seed: () => {}, onClosedCandle: () => ({}), drop: () => {} } as never,
    alerts,
    log,
  });
  return { core, alerts, registry };
}
const none = variant(0);
const withRules = variant(RULES);
const peerRules = peer ? variant(RULES, peer) : undefined;


/** CPU ns per frame of one pass over the frames through `v`. */
function pass(v: typeof none): number {
  const lastPrice = new Map<string, number>();
  const c = process.cpuUsage();
  for (let i = 0; i < frames.length; i++) {
    const ev = parseFrame(frames[i]!);
    if (ev.kind === 'result' || ev.kind === 'error' || ev.kind === 'shutdown' || ev.kind === 'kline' || ev.kind === 'depth') continue;
    const symbol = bySymbol.get(ev.symbol)!;
    if (ev.kind === 'trade' || ev.kind === 'aggTrade') lastPrice.set(symbol, ev.price);
    const t = toTick(symbol, ev, receivedAt[i]!, lastPrice.get(symbol));
    if (t) v.core.out.tick(t);
  }
  const u = process.cpuUsage(c);
  return ((u.user + u.system) * 1000) / frames.length;
}

const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
for (let r = 0; r < Number(values.rounds) + 1; r++) {
  // alternate which goes first; the first round warms up the JIT and is left out
  let order = [none, withRules, ...(peerRules ? [peerRules] : [])];
  for (let k = 0; k < r % order.length; k++) order.push(order.shift()!);
  if (r % 2) order.reverse();
  if (values.only) order = order.filter((v) => (v === none) === (values.only === 'none'));
  makeFrames(r);
  for (const v of order) {
    const ns = pass(v);
    if (r > 0) (v === none ? a : v === withRules ? b : c).push(ns);
  }
}
const firings = (await withRules.registry.getSingleMetric('market_alert_firings_total')!.get()).values.reduce((x, v) => x + v.value, 0);
await Promise.all([none.alerts.close(), withRules.alerts.close(), peerRules?.alerts.close()]);
const ratios = a.length === b.length ? a.map((x, i) => x / b[i]!) : [];
const lines = [
  `${N} symbols, ${RULES} rules, ${FRAMES} frames per pass, walk ${values.walk}; ${machine().loadavg}`,
  `no rules: ${spread(a)} ns per frame; with rules: ${spread(b)} ns per frame; difference ${(median(b) - median(a)).toFixed(0)} ns`,
  `frames per CPU-second with / without, per round: ${spread(ratios, 3)}`,
  `firings per 1 000 frames: ${((firings / (b.length + 1) / FRAMES) * 1000).toFixed(2)}`,
  ...(c.length === b.length && c.length
    ? [`peer (${peerRoot}) with rules: ${spread(c)} ns per frame; frames per CPU-second this checkout / the peer, per round: ${spread(c.map((x, i) => x / b[i]!), 3)}`]
    : []),
];
process.stdout.write(`${lines.join('\n')}\n`);
saveResult(`rules-path-${N}`, { lines, a, b, peer: c, peerRoot, points, firings });
process.exit(0);
