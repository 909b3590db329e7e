// The Grafana Live sink's rate rule alone (docs/BENCHMARKS.md §10), without the feeder's own lag: one
// process hands the same ticks to this code's sink and to --peer's (another version's sink module), each
// pushing to its own Grafana Live push fake (testing/src/fakes/grafana-live.ts) in the same process. The
// ticks follow bench/replay.ts's pattern: --symbols symbols, --rate frames/s round-robin over (symbol ×
// trade, 24 h ticker, book) every 10 ms, ×10 for 1 s every 5 s. Per pushed line: received − the time of the
// newest tick merged into it, split by when that tick came in the burst cycle. --steady: no bursts.
//   node --conditions=source --import tsx bench/live-rule.ts --seconds 20 --peer /tmp/before/feeders/src/market/live/index.ts
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { GrafanaLiveFake } from '@mt/testing';
import { GrafanaLiveSink } from '../feeders/src/market/live/index.js';
import type { MarketTick } from '../feeders/src/market/types.js';
import { percentile, sleep } from './lib.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '20' }, symbols: { type: 'string', default: '500' }, rate: { type: 'string', default: '5000' }, 'max-hz': { type: 'string', default: '5' }, peer: { type: 'string' }, steady: { type: 'boolean', default: false } },
});
type SinkClass = typeof GrafanaLiveSink;
const Peer: SinkClass | undefined = values.peer ? ((await import(path.resolve(values.peer))) as { GrafanaLiveSink: SinkClass }).GrafanaLiveSink : undefined;
const TOKEN = 't';
const variants = [{ name: 'this code', Sink: GrafanaLiveSink }, ...(Peer ? [{ name: 'peer', Sink: Peer }] : [])];
const runs = await Promise.all(
  variants.map(async (v) => {
    const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
    const sink = new v.Sink({ url: g.url, token: () => TOKEN, log: pino({ level: 'silent' }), registry: new Registry(), maxHz: Number(values['max-hz']) });
    return { ...v, g, sink };
  }),
);
const n = Number(values.symbols);
const symbols = Array.from({ length: n }, (_, i) => `S${i}/USDT`);
const start = Date.now();
let k = 0;
let owed = 0;
let last = start;
const timer = setInterval(() => {
  const now = Date.now();
  const burst = !values.steady && (now - start) % 5000 < 1000;
  owed += ((Number(values.rate) * (now - last)) / 1000) * (burst ? 10 : 1);
  last = now;
  for (; owed >= 1; owed--) {
    const i = k++ % (3 * n);
    const kind = i % 3;
    const price = 100 + (k % 10_000) / 100;
    const t: MarketTick = { exchange: 'binance', symbol: symbols[Math.floor(i / 3)]!, assetType: 'crypto', ts: now, receivedAt: now, price };
    if (kind === 1) t.changePct24h = (k % 500) / 100;
    if (kind === 2) Object.assign(t, { bid: price - 0.01, ask: price + 0.01 });
    for (const r of runs) r.sink.tick(t);
  }
}, 10);
await sleep(Number(values.seconds) * 1000);
clearInterval(timer);
const phases: [string, number, number][] = [['burst 0–1 s', 0, 1000], ['after 1–1.5 s', 1000, 1500], ['1.5–2.5 s', 1500, 2500], ['calm 2.5–5 s', 2500, 5000], ['all', 0, 5000]];
const rows = ['| sink | ' + phases.map((p) => `${p[0]}: p50 / p99 ms (> 100 ms: held by the bound, a move's end)`).join(' | ') + ' | lines/s |', `|---|${phases.map(() => '---|').join('')}---|`];
for (const r of runs) {
  // [phase, latency, held by the rate bound]: a line > 100 ms is "held by the bound" when the symbol's line
  // two before it went less than a slot + a cadence earlier — the GCRA (≤ 2 lines in 1 / MAX_HZ) allowed it no sooner
  // a late line not held by the bound is "a move's end" when the symbol's previous line went within two
  // cadences before it: the rest of a move that straddled a request, kept until a cadence without ticks
  const lat: [number, number, boolean, boolean][] = [];
  const prev = new Map<string, number[]>();
  const slotMs = 1000 / Number(values['max-hz']);
  for (const p of r.g.on('stream/markets/ticker')) {
    const labels = p.frame.fields[0]!.values as string[];
    (p.frame.fields[1]!.values as number[]).forEach((t, i) => {
      const at = prev.get(labels[i]!) ?? [];
      if (t >= start + 3000) lat.push([(t - start) % 5000, p.at - t, at.length >= 2 && p.at - at.at(-2)! < slotMs + 60, at.length >= 1 && p.at - at.at(-1)! < 2 * 50 + 10]);
      prev.set(labels[i]!, [...at.slice(-1), p.at]);
    });
  }
  const cell = (a: number, b: number) => {
    const ls = lat.filter(([ph]) => ph >= a && ph < b);
    const xs = ls.map(([, l]) => l);
    const late = ls.filter(([, l]) => l > 100);
    const share = (f: (x: (typeof late)[number]) => boolean) => (late.length ? ((late.filter(f).length / late.length) * 100).toFixed(0) : '–');
    return `${percentile(xs, 50)} / ${percentile(xs, 99)} (${((late.length / xs.length) * 100).toFixed(1)} %: ${share((x) => x[2])} % held by the bound, ${share((x) => !x[2] && x[3])} % a move's end)`;
  };
  rows.push(`| ${r.name} | ${phases.map(([, a, b]) => cell(a, b)).join(' | ')} | ${(lat.length / (Number(values.seconds) - 3)).toFixed(0)} |`);
  await r.sink.close();
  await r.g.close();
}
process.stdout.write(`${rows.join('\n')}\n(load ${os.loadavg()[0]!.toFixed(2)})\n`);
process.exit(0);
