// Grafana Live (docs/GRAFANA_LIVE.md), side by side in the same runs:
//   latency — a frame leaving the replay server → the push request carrying its price received by the
//             Grafana Live push fake (testing/src/fakes/grafana-live.ts), beside the same run's frame →
//             point queryable in InfluxDB (polled every --poll ms, an upper bound; bench/latency.ts's method);
//             each ticker line carries the time of the newest frame merged into it = that frame's send time;
//   CPU     — the feeder at --cpu-symbols symbols, same replay load, Live on vs off, alternating rounds;
//             with --cpu-paired, side by side instead: two feeders (each on a replay server of its own)
//             measured over the same window, so the shared machine's load hits both alike — off+on, the
//             A/A control off+off (its ratio is the run's noise floor), and with a peer peer+on and
//             off+peer; the start order flips every round. The figure is CPU per frame, paired per window;
//   burst   — frames sent per second vs push requests and lines received per second while the replay
//             multiplies its rate ×10 for 1 s every 5 s: what reaches Grafana stays bounded by
//             symbols × (GRAFANA_LIVE_MAX_HZ + 2) lines per calendar second (one `ticker` line per symbol,
//             a bucket of three lines: docs/GRAFANA_LIVE.md "The contract", rate).
// Live's latency is also split by frames sent during a burst (or the 500 ms after) vs between bursts, with
// the feeder's own share (grafana_live_wait_seconds) and the push request's duration beside it.
// --probe DIR splits the tail (docs/BENCHMARKS.md §10, "Where the tail comes from"): the replay records
// every 10th symbol's frames' send times by value (ReplayOptions.record) and how late its writes left, the feeder runs
// with bench/feeder-probe.mjs (event-loop lag, GC pauses), and the CPU of the feeder, influxd and this
// process (replay + InfluxDB poller + the push fake's thread) is sampled every 100 ms; each is binned by
// its place in the 5 s burst cycle. Per pushed line it also gives "trade frame → push received" from the
// send time of the frame that gave the line its price (a book frame carries no event time: its tick's time
// is the feeder's read, so the time_ms-based latency starts there for lines whose newest frame is a book).
// A load "n:rate:steady" runs without bursts. --influx-symbols K polls the InfluxDB path on K symbols (default
// 50; 0 = all, the method before 2026-11-26, which kept influxd at ~60 % of a core of the 2). --node-options
// gives this code's feeder V8 flags (compose's: "--node-options=--max-semi-space-size=4 --max-old-space-size=128").
// --peer-root DIR runs another version's feeder (e.g. the commit before a change) as a third variant in
// every round: before/after in the same run. --cpu-prof DIR profiles the feeder in the CPU and latency runs.
//   git archive <rev> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/node_modules
// (that node_modules resolves @mt/* to this checkout: for a peer whose common/ differs, give it a node_modules
// of links to this one's entries with @mt/* pointing into the peer)
// --cpu-warm S: seconds of flow before each CPU window opens (default 3; V8 optimises code that runs ~20
// times a second, as Live's per-request path, later than that).
//
//   npm run bench -- live      (or: node --conditions=source --import tsx bench/live.ts --runs 2 --seconds 20)
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { metricValue, startInflux, startService, waitFor, type RunningService } from '@mt/testing';
import { cpuSeconds, influxPointLatencies, machine, median, percentile, saveResult, sleep, spread } from './lib.js';
import { ReplayServer, benchSymbols, replayFeederEnv, type SendRecord } from './replay.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '20' },
    poll: { type: 'string', default: '50' },
    // symbols:frames per second (trade + 24 h ticker + book frames, ×10 bursts)
    loads: { type: 'string', default: '50:2000,500:5000' },
    'cpu-symbols': { type: 'string', default: '500' },
    'cpu-rate': { type: 'string', default: '5000' },
    'cpu-rounds': { type: 'string', default: '3' },
    // CPU runs: seconds of flow between every stream subscribed and the window opening (default 3). Longer
    // lets V8 optimise code that runs only ~20 times a second (Live's per-request path) before the window
    'cpu-warm': { type: 'string', default: '3' },
    // CPU rounds side by side (see the top of this file): the on/off ratio resolved to a few per cent
    'cpu-paired': { type: 'boolean', default: false },
    'max-hz': { type: 'string', default: '5' },
    // GRAFANA_LIVE_FLUSH_MS for the Live-on variants (this code and the peer); unset: the feeder's default
    'flush-ms': { type: 'string' },
    // a V8 CPU profile of the feeder per CPU run, written to this directory (node --cpu-prof)
    'cpu-prof': { type: 'string' },
    // another checkout of this repository (its node_modules a link to this one's): its feeder runs as a
    // third variant, "peer", in every latency and CPU round — before/after in the same run
    'peer-root': { type: 'string' },
    // raw per-line latencies of every latency run (frame time, latency, phase in the burst cycle) to this JSON file
    dump: { type: 'string' },
    // per-run diagnosis of the tail into this directory (see the top of this file)
    probe: { type: 'string' },
    // V8/Node flags for this code's feeder ("on") only, e.g. compose's `--max-semi-space-size=4 --max-old-space-size=128`
    'node-options': { type: 'string', default: '' },
    // the InfluxDB path's latency from this many symbols (evenly spread); 0 = all, as before 2026-11-26 13:40
    // UTC: polling all 500 every 50 ms kept influxd at ~60 % of a core (docs/BENCHMARKS.md §10). A list
    // ("50,0") runs each in every round, alternating: the harness's share, paired
    'influx-symbols': { type: 'string', default: '50' },
  },
});
const SECONDS = Number(values.seconds);
const TOKEN = 'glsa_bench_live';
const KINDS = ['trade', 'ticker', 'bookTicker'] as const;

const influx = await startInflux();
// the push fake on its own thread (bench/grafana-live-worker.ts): a push is stamped when it arrives, not
// when the replay server's busy event loop gets round to it
// (a worker gets no --import: tsx is registered in it before the TypeScript module is loaded)
const workerBoot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(new URL('./grafana-live-worker.ts', import.meta.url).href)}); })`;
const grafanaWorker = new Worker(workerBoot, { eval: true, workerData: { token: TOKEN }, execArgv: ['--conditions=source'] });
const grafana = { url: await new Promise<string>((r) => grafanaWorker.once('message', (m: { url: string }) => r(m.url))) };
const collect = (since: number) =>
  new Promise<{ latency: number[]; frameAt: number[]; perSec: [number, number, number][]; at: number[]; sym: string[]; price: number[]; bid: number[] }>((r) => {
    grafanaWorker.once('message', r);
    grafanaWorker.postMessage({ cmd: 'collect', since });
  });
const info = machine();

/** off = Live off; on = Live on, this code; peer = Live on, the feeder of --peer-root. */
type Variant = 'off' | 'on' | 'peer';
const PEER = values['peer-root'];

function feeder(replay: ReplayServer, n: number, variant: Variant, prof?: string, probeFile?: string): Promise<RunningService> {
  const over: Record<string, string> =
    variant === 'off' ? {} : { GRAFANA_LIVE_URL: grafana.url, GRAFANA_LIVE_TOKEN: TOKEN, GRAFANA_LIVE_MAX_HZ: values['max-hz'], ...(values['flush-ms'] ? { GRAFANA_LIVE_FLUSH_MS: values['flush-ms'] } : {}) };
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: bench/cpu-prof.mjs starts the profiler instead
  const imports: string[] = variant === 'on' && values['node-options'] ? [values['node-options']] : [];
  if (prof) imports.push(`--import=${new URL('./cpu-prof.mjs', import.meta.url).href}`);
  if (probeFile) imports.push(`--import=${new URL('./feeder-probe.mjs', import.meta.url).href}`);
  Object.assign(over, prof ? { CPU_PROF_DIR: prof } : {}, probeFile ? { PROBE_FILE: probeFile } : {}, imports.length ? { NODE_OPTIONS: imports.join(' ') } : {});
  return replayFeederEnv(replay, influx.url, n, over).then((env) => startService('market-feeder', env, { root: variant === 'peer' ? PEER : undefined }));
}

const loadavg = () => os.loadavg()[0]!.toFixed(2);

/** A histogram's q-quantile over the increase between two scrapes, as its bucket's upper bound (s). */
function histogramQuantile(before: string, after: string, name: string, q: number): number {
  const buckets = (text: string) => [...text.matchAll(new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))].map((x) => [x[1] === '+Inf' ? Infinity : Number(x[1]), Number(x[2])] as const);
  const b0 = new Map(buckets(before));
  const inc = buckets(after).map(([le, v]) => [le, v - (b0.get(le) ?? 0)] as const);
  const total = inc.at(-1)?.[1] ?? 0;
  return inc.find(([, v]) => v >= q * total)?.[0] ?? NaN;
}

async function warm(replay: ReplayServer, n: number, seconds = 3): Promise<void> {
  await waitFor(() => replay.stats().streams >= 4 * n, 60_000, 'subscribed');
  await sleep(seconds * 1000);
}

interface LatencyRun {
  variant: Variant;
  symbols: number;
  rate: number;
  run: number;
  live: { n: number; p50: number; p99: number; max: number };
  /** Live split by when the frame was sent: during a ×10 burst (or the 500 ms after it), or between bursts. */
  liveBurst: { n: number; p50: number; p99: number; max: number };
  liveCalm: { n: number; p50: number; p99: number; max: number };
  /** grafana_live_push_duration_seconds (request sent → answer read, bucket upper bounds). */
  pushDuration: { p50: number; p99: number };
  /** Inside the feeder (grafana_live_wait_seconds, bucket upper bounds): tick read → its line sent. */
  sinkWait: { p50: number; p99: number };
  influx: { n: number; p50: number; p99: number; max: number };
  burst: { maxFramesPerSec: number; maxPushesPerSec: number; maxLinesPerSec: number; bound: number };
  dropped: number;
  loadavg: string;
  steady: boolean;
  /** Symbols the InfluxDB path was polled on. */
  influxSymbols: number;
  probe?: ProbeResult;
}

/** One phase of the burst cycle, as --probe measured it. */
interface ProbePhase {
  phase: string;
  /** Per line: trade/ticker frame (its price) sent → push received; newest frame merged sent → received; the time_ms-based figure. */
  trade: { n: number; p50: number; p99: number; over100: number };
  newest: { p50: number; p99: number };
  timeMs: { p50: number; p99: number };
  /** Lines whose newest frame was a book frame: its send → the feeder's read, and that read → push received. */
  bookRead: { n: number; p50: number; p99: number };
  readToPush: { p50: number; p99: number };
  /** The feeder's 10 ms timer: how late it ran (event-loop delay), p99 / max. */
  loopLag: { p99: number; max: number };
  /** GC in the feeder: ms per second of this phase, longest pause. */
  gc: { msPerSec: number; max: number };
  /** % of a core over this phase. */
  cpu: { feeder: number; influxd: number; bench: number };
  /** The replay's ticks: stamp → last write returned (ms) p99 / max, and the most bytes Node still held for the sockets. */
  replayWrite: { p99: number; max: number; maxBuffered: number };
}
interface ProbeResult {
  phases: ProbePhase[];
  /** Lines of recorded symbols whose price or bid was not found among the frames sent (warm-up frames, repeated values). */
  unmatched: number;
}

/** Every child pid of this process whose command is `comm`. */
function childPids(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === comm && ppid === process.pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function probeResult(
  rec: SendRecord,
  lines: { at: number[]; sym: string[]; price: number[]; bid: number[]; frameAt: number[] },
  probe: { lag: number[]; gc: number[] },
  cpuSamples: [number, number, number, number][],
  replayStart: number,
  since: number,
): ProbeResult {
  const phaseOf = (t: number) => (t - replayStart) % BURST.burstEveryMs;
  const inPhase = (t: number, [, a, b]: [string, number, number]) => {
    const ph = phaseOf(t);
    return ph >= a && ph < b;
  };
  type L = { t: number; trade: number; newest: number; timeMs: number; bookRead?: number; readToPush?: number };
  const ls: L[] = [];
  let unmatched = 0;
  lines.at.forEach((at, i) => {
    const sp = rec.price.get(lines.sym[i]!)?.get(lines.price[i]!);
    const sb = rec.bid.get(lines.sym[i]!)?.get(lines.bid[i]!);
    if (!rec.price.has(lines.sym[i]!)) return; // not in the recorded sample
    if (sp === undefined || sb === undefined) return void unmatched++;
    const newest = Math.max(sp, sb);
    const tm = lines.frameAt[i]!;
    // time_ms above every send stamp merged: it is the read time of the newest (book) frame
    const book = tm > newest ? { bookRead: tm - sb, readToPush: at - tm } : {};
    ls.push({ t: newest, trade: at - sp, newest: at - newest, timeMs: at - tm, ...book });
  });
  const lag: [number, number][] = [];
  for (let i = 0; i < probe.lag.length; i += 2) if (probe.lag[i]! >= since) lag.push([probe.lag[i]!, probe.lag[i + 1]!]);
  const gc: [number, number][] = [];
  for (let i = 0; i < probe.gc.length; i += 3) if (probe.gc[i]! >= since) gc.push([probe.gc[i]!, probe.gc[i + 1]!]);
  const writes = rec.writes.filter((w) => w[0] >= since);
  const q = (xs: number[], p: number) => Math.round(percentile(xs, p) * 10) / 10;
  const phases = PHASES.map((P): ProbePhase => {
    const pl = ls.filter((l) => inPhase(l.t, P));
    const trade = pl.map((l) => l.trade);
    const bl = pl.filter((l) => l.bookRead !== undefined);
    // time spent in this phase and CPU used in it, from the 100 ms samples
    let ms = 0;
    const used = [0, 0, 0];
    for (let i = 1; i < cpuSamples.length; i++) {
      const [t0, ...c0] = cpuSamples[i - 1]!;
      const [t1, ...c1] = cpuSamples[i]!;
      if (!inPhase(t0, P)) continue;
      ms += t1 - t0;
      c1.forEach((c, k) => (used[k]! += c - c0[k]!));
    }
    const secs = ms / 1000;
    const lagP = lag.filter(([t]) => inPhase(t, P)).map(([, l]) => l);
    const gcP = gc.filter(([t]) => inPhase(t, P)).map(([, d]) => d);
    const wP = writes.filter((w) => inPhase(w[0], P));
    return {
      phase: P[0],
      trade: { n: trade.length, p50: q(trade, 50), p99: q(trade, 99), over100: trade.filter((x) => x > 100).length / trade.length },
      newest: { p50: q(pl.map((l) => l.newest), 50), p99: q(pl.map((l) => l.newest), 99) },
      timeMs: { p50: q(pl.map((l) => l.timeMs), 50), p99: q(pl.map((l) => l.timeMs), 99) },
      bookRead: { n: bl.length, p50: q(bl.map((l) => l.bookRead!), 50), p99: q(bl.map((l) => l.bookRead!), 99) },
      readToPush: { p50: q(bl.map((l) => l.readToPush!), 50), p99: q(bl.map((l) => l.readToPush!), 99) },
      loopLag: { p99: q(lagP, 99), max: Math.max(0, ...lagP) },
      gc: { msPerSec: secs ? Math.round((gcP.reduce((a, b) => a + b, 0) / secs) * 10) / 10 : NaN, max: Math.round(Math.max(0, ...gcP) * 10) / 10 },
      cpu: { feeder: secs ? Math.round((used[0]! / secs) * 1000) / 10 : NaN, influxd: secs ? Math.round((used[1]! / secs) * 1000) / 10 : NaN, bench: secs ? Math.round((used[2]! / secs) * 1000) / 10 : NaN },
      replayWrite: { p99: q(wP.map((w) => w[1]), 99), max: Math.max(0, ...wP.map((w) => w[1])), maxBuffered: Math.max(0, ...wP.map((w) => w[3])) },
    };
  });
  return { phases, unmatched };
}

const BURST = { burstEveryMs: 5000, burstMs: 1000, burstFactor: 10 };
/** A frame sent during a burst or in the 500 ms after it (the feeder's backlog drains then). */
const inBurst = (t: number, replayStart: number) => (t - replayStart) % BURST.burstEveryMs < BURST.burstMs + 500;
/** Places in the burst cycle the probe bins by (ms since the burst began). */
const PHASES: [string, number, number][] = [['burst 0–1 s', 0, 1000], ['after 1–1.5 s', 1000, 1500], ['1.5–2.5 s', 1500, 2500], ['calm 2.5–5 s', 2500, 5000], ['all', 0, 5000]];

const stats = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) });

async function latencyRun(n: number, rate: number, run: number, variant: Variant, steady: boolean, k: number): Promise<LatencyRun> {
  const probeDir = values.probe;
  // the per-line split on every 10th symbol: recording every frame would make the replay itself late
  const recorded = probeDir ? new Set(benchSymbols(n).filter((_, i) => i % 10 === 0).map((x) => x.replace('/', ''))) : undefined;
  const replay = await new ReplayServer({ rate, kinds: KINDS, ...(steady ? {} : BURST), record: recorded }).listen();
  const replayStart = Date.now() - replay.stats().uptimeMs;
  let probeFile: string | undefined;
  if (probeDir) {
    mkdirSync(probeDir, { recursive: true });
    probeFile = `${probeDir}/feeder-${variant}-${n}${steady ? '-steady' : ''}-influx${k}-${run}.json`;
  }
  // --cpu-prof profiles the latency runs' feeders too (bursts included)
  const prof = values['cpu-prof'] && `${values['cpu-prof']}/latency-${variant}-${n}${steady ? '-steady' : ''}-${run}`;
  const svc = await feeder(replay, n, variant, prof, probeFile);
  let probeOut: { rec: SendRecord; lines: Parameters<typeof probeResult>[1]; cpu: [number, number, number, number][]; since: number } | undefined;
  try {
    await warm(replay, n);
    await collect(Infinity); // forget the warm-up
    const m0 = await svc.metrics();
    const start = Date.now();
    // frames sent per second, sampled beside the pushes
    const sent: [number, number][] = [];
    const sampler = setInterval(() => sent.push([Date.now(), replay.stats().sent]), 1000);
    const cpuSamples: [number, number, number, number][] = [];
    const influxPid = probeDir ? childPids('influxd')[0] : undefined;
    const self0 = process.cpuUsage();
    const cpuSampler = probeDir
      ? setInterval(() => {
          const me = process.cpuUsage(self0);
          cpuSamples.push([Date.now(), cpuSeconds(svc.proc.child.pid!), influxPid ? cpuSeconds(influxPid) : 0, (me.user + me.system) / 1e6]);
        }, 100)
      : undefined;
    const sample = k > 0 && k < n ? benchSymbols(n).filter((_, i) => i % Math.ceil(n / k) === 0) : undefined;
    const influxLat = await influxPointLatencies(influx.url, SECONDS * 1000, Number(values.poll), sample);
    clearInterval(sampler);
    clearInterval(cpuSampler);
    const { latency: liveLat, frameAt, perSec: secs, at, sym, price, bid } = await collect(start);
    const rec = replay.takeRecord();
    if (rec) probeOut = { rec, lines: { at, sym, price, bid, frameAt }, cpu: cpuSamples, since: start };
    const perSec = new Map(secs.map(([s, pushes, lines]) => [s, { pushes, lines }]));
    const framesPerSec = sent.slice(1).map(([, v], i) => v - sent[i]![1]);
    const m = await svc.metrics();
    if (values.dump) dumps.push({ variant, symbols: n, run, lines: liveLat.map((l, i) => [frameAt[i]!, l, (frameAt[i]! - replayStart) % BURST.burstEveryMs]) });
    return {
      variant,
      symbols: n,
      rate,
      run,
      live: stats(liveLat),
      liveBurst: stats(liveLat.filter((_, i) => !steady && inBurst(frameAt[i]!, replayStart))),
      liveCalm: stats(liveLat.filter((_, i) => steady || !inBurst(frameAt[i]!, replayStart))),
      pushDuration: { p50: histogramQuantile(m0, m, 'grafana_live_push_duration_seconds', 0.5) * 1000, p99: histogramQuantile(m0, m, 'grafana_live_push_duration_seconds', 0.99) * 1000 },
      sinkWait: { p50: histogramQuantile(m0, m, 'grafana_live_wait_seconds', 0.5) * 1000, p99: histogramQuantile(m0, m, 'grafana_live_wait_seconds', 0.99) * 1000 },
      influx: stats(influxLat),
      burst: {
        maxFramesPerSec: Math.max(...framesPerSec),
        maxPushesPerSec: Math.max(...[...perSec.values()].map((e) => e.pushes)),
        maxLinesPerSec: Math.max(...[...perSec.values()].map((e) => e.lines)),
        // per symbol MAX_HZ lines a second sustained, two more in a burst (the contract's rate)
        bound: n * (Number(values['max-hz']) + 2),
      },
      dropped: metricValue(m, 'grafana_live_dropped_total'),
      loadavg: loadavg(),
      steady,
      influxSymbols: k > 0 && k < n ? k : n,
    };
  } finally {
    await svc.stop();
    await replay.close();
    if (probeOut && probeFile) {
      const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as { lag: number[]; gc: number[] };
      lastProbe = probeResult(probeOut.rec, probeOut.lines, probe, probeOut.cpu, replayStart, probeOut.since);
    }
  }
}
let lastProbe: ProbeResult | undefined;

function probeTable(r: LatencyRun): string {
  const p = r.probe!;
  const rows = [
    `${r.variant} ${r.symbols} symbols ${r.rate} frames/s${r.steady ? ' steady' : ' ×10 bursts'}, InfluxDB polled on ${r.influxSymbols}, run ${r.run} (load ${r.loadavg}; ${p.unmatched} lines unmatched)`,
    '| phase | lines (every 10th symbol) | trade frame sent → push p50 / p99 ms (> 100 ms) | newest frame sent → push p50 / p99 | time_ms → push p50 / p99 | book frame sent → feeder read p50 / p99 (lines) | read → push p50 / p99 | feeder loop lag p99 / max ms | feeder GC ms/s, max pause | CPU % feeder / influxd / bench | replay stamp → written p99 / max ms, max buffered KiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const x of p.phases) {
    if (r.steady && x.phase !== 'all') continue; // no burst cycle to place it in
    rows.push(
      `| ${x.phase} | ${x.trade.n} | ${x.trade.p50} / ${x.trade.p99} (${(x.trade.over100 * 100).toFixed(1)} %) | ${x.newest.p50} / ${x.newest.p99} | ${x.timeMs.p50} / ${x.timeMs.p99} | ${x.bookRead.p50} / ${x.bookRead.p99} (${x.bookRead.n}) | ${x.readToPush.p50} / ${x.readToPush.p99} | ` +
        `${x.loopLag.p99} / ${x.loopLag.max} | ${x.gc.msPerSec}, ${x.gc.max} | ${x.cpu.feeder} / ${x.cpu.influxd} / ${x.cpu.bench} | ${x.replayWrite.p99} / ${x.replayWrite.max}, ${Math.round(x.replayWrite.maxBuffered / 1024)} |`,
    );
  }
  return rows.join('\n');
}

interface CpuRun {
  variant: Variant;
  round: number;
  cpu: number;
  framesPerSec: number;
  loadavg: string;
  /** Side by side (--cpu-paired): the slot it ran in, e.g. "off+on", and its position in the slot. */
  slot?: string;
  pos?: number;
}

/** The feeders of `variants` side by side, each on a replay server of its own, measured over the same window. */
async function cpuRuns(variants: Variant[], round: number, slot?: string): Promise<CpuRun[]> {
  const n = Number(values['cpu-symbols']);
  const started: { variant: Variant; replay: ReplayServer; svc: RunningService }[] = [];
  try {
    for (const [i, variant] of variants.entries()) {
      const replay = await new ReplayServer({ rate: Number(values['cpu-rate']), kinds: KINDS }).listen();
      const prof = values['cpu-prof'] && `${values['cpu-prof']}/live-${variant}-${round}-${i}`;
      started.push({ variant, replay, svc: await feeder(replay, n, variant, prof).catch(async (err) => { await replay.close(); throw err; }) });
    }
    await Promise.all(started.map((s) => warm(s.replay, n, Number(values['cpu-warm']))));
    const frames = (s: (typeof started)[number]) => s.svc.metrics().then((m) => metricValue(m, 'feeder_messages_total', { source: 'binance_ws' }));
    const m0 = await Promise.all(started.map(frames));
    const c0 = started.map((s) => cpuSeconds(s.svc.proc.child.pid!));
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const c1 = started.map((s) => cpuSeconds(s.svc.proc.child.pid!));
    const secs = (performance.now() - t0) / 1000;
    const m1 = await Promise.all(started.map(frames));
    return started.map((s, i) => ({ variant: s.variant, round, cpu: (c1[i]! - c0[i]!) / secs, framesPerSec: (m1[i]! - m0[i]!) / secs, loadavg: loadavg(), slot, pos: i }));
  } finally {
    for (const s of started) {
      await s.svc.stop();
      await s.replay.close();
    }
    await collect(Infinity); // the fake's record of these pushes is not needed: keep its memory flat
  }
}

/** --cpu-paired: the pairs measured side by side; off+off is the A/A control. */
const SLOTS: Variant[][] = [['off', 'on'], ['off', 'off'], ...(PEER ? [['peer', 'on'], ['off', 'peer']] as Variant[][] : [])];

const latency: LatencyRun[] = [];
const dumps: { variant: Variant; symbols: number; run: number; lines: [number, number, number][] }[] = [];
const cpu: CpuRun[] = [];
try {
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const load of values.loads.split(',')) {
      const [n, rate] = load.split(':').map(Number) as [number, number];
      const steady = load.split(':')[2] === 'steady';
      // with a peer, both versions in each run, their order alternating
      const variants: Variant[] = PEER ? (run % 2 ? ['on', 'peer'] : ['peer', 'on']) : ['on'];
      const ks = values['influx-symbols'].split(',').map(Number);
      for (const variant of variants) for (const k of run % 2 ? ks : [...ks].reverse()) {
        lastProbe = undefined;
        const r = await latencyRun(n, rate, run, variant, steady, k);
        if (lastProbe) r.probe = lastProbe;
        latency.push(r);
        process.stdout.write(
          `run ${run} ${variant} ${n} symbols ${rate} frames/s${steady ? ' steady' : ''}, InfluxDB polled on ${r.influxSymbols} (load ${loadavg()}): live p50 ${r.live.p50} p99 ${r.live.p99} ms (${r.live.n}; frames in/after bursts p99 ${r.liveBurst.p99}, between p99 ${r.liveCalm.p99}; ` +
            `in the feeder's sink ≤ ${r.sinkWait.p50} / ≤ ${r.sinkWait.p99} ms; push request ≤ ${r.pushDuration.p50} / ≤ ${r.pushDuration.p99} ms), influx p50 ${r.influx.p50} p99 ${r.influx.p99} ms (${r.influx.n}); ` +
            `max ${r.burst.maxFramesPerSec} frames/s → ${r.burst.maxPushesPerSec} pushes/s, ${r.burst.maxLinesPerSec} lines/s (bound ${r.burst.bound}); dropped ${r.dropped}\n`,
        );
        if (r.probe) process.stdout.write(`${probeTable(r)}\n`);
      }
    }
  }
  for (let round = 1; round <= Number(values['cpu-rounds']); round++) {
    if (values['cpu-paired']) {
      for (const slot of SLOTS) {
        // the start order flips every round (the first feeder to subscribe may fare differently)
        const rs = await cpuRuns(round % 2 ? slot : [...slot].reverse(), round, slot.join('+'));
        cpu.push(...rs);
        process.stdout.write(`cpu round ${round} side by side: ${rs.map((r) => `${r.variant} ${(r.cpu * 100).toFixed(1)} % at ${r.framesPerSec.toFixed(0)} frames/s`).join(', ')} (load ${rs[0]!.loadavg})\n`);
      }
      continue;
    }
    const order: Variant[] = PEER ? ['off', 'peer', 'on'] : ['off', 'on'];
    for (const variant of round % 2 ? order : order.reverse()) {
      const [r] = await cpuRuns([variant], round);
      cpu.push(r!);
      process.stdout.write(`cpu round ${round} ${variant}: ${(r!.cpu * 100).toFixed(1)} % of a core at ${r!.framesPerSec.toFixed(0)} frames/s (load ${r!.loadavg})\n`);
    }
  }
} finally {
  grafanaWorker.postMessage({ cmd: 'close' });
  await new Promise((r) => grafanaWorker.once('exit', r));
  await influx.stop();
}

const rows = [
  '| Live | symbols | frames/s (×10 bursts) | InfluxDB polled on | Live: frame → push received p50 / p99 ms | of which in the feeder\'s Live sink p50 / p99 (≤ bucket) | InfluxDB: frame → queryable p50 / p99 ms | max frames/s sent | max pushes/s | max lines/s (bound) | load |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const load of values.loads.split(',')) for (const variant of ['peer', 'on'] as const) for (const k of new Set(latency.map((r) => r.influxSymbols))) {
  const [n, rate] = load.split(':').map(Number) as [number, number];
  const steady = load.split(':')[2] === 'steady';
  const rs = latency.filter((r) => r.symbols === n && r.rate === rate && r.variant === variant && r.steady === steady && r.influxSymbols === k);
  if (!rs.length) continue;
  rows.push(
    `| ${variant === 'on' ? 'this code' : 'peer'} | ${n} | ${rate}${steady ? ' steady' : ''} | ${k} | ${spread(rs.map((r) => r.live.p50))} / ${spread(rs.map((r) => r.live.p99))} | ${spread(rs.map((r) => r.sinkWait.p50))} / ${spread(rs.map((r) => r.sinkWait.p99))} | ${spread(rs.map((r) => r.influx.p50))} / ${spread(rs.map((r) => r.influx.p99))} | ` +
      `${spread(rs.map((r) => r.burst.maxFramesPerSec))} | ${spread(rs.map((r) => r.burst.maxPushesPerSec))} | ${spread(rs.map((r) => r.burst.maxLinesPerSec))} (${rs[0]!.burst.bound}) | ${rs.map((r) => r.loadavg).join(', ')} |`,
  );
}
const cpuOf = (v: Variant) => cpu.filter((r) => r.variant === v).map((r) => r.cpu);
const [off, on, peer] = [cpuOf('off'), cpuOf('on'), cpuOf('peer')];
rows.push(
  '',
  `| feeder CPU at ${values['cpu-symbols']} symbols, ${values['cpu-rate']} frames/s | Live off | Live on | on / off (medians) |${PEER ? ' peer: Live on | peer / off |' : ''} load |`,
  `|---|---|---|---|${PEER ? '---|---|' : ''}---|`,
  `| % of one core | ${spread(off.map((x) => x * 100), 1)} | ${spread(on.map((x) => x * 100), 1)} | ${(median(on) / median(off)).toFixed(3)} |` +
    `${PEER ? ` ${spread(peer.map((x) => x * 100), 1)} | ${(median(peer) / median(off)).toFixed(3)} |` : ''} ${cpu.map((r) => r.loadavg).join(', ')} |`,
);
for (const r of latency) if (r.probe) rows.push('', probeTable(r));
if (values['cpu-paired']) {
  // CPU per frame, second of the pair over the first, in the same window (both feeders' frame rates are the replay's)
  const perFrame = (r: CpuRun) => r.cpu / r.framesPerSec;
  rows.push('', `| side by side, same window: CPU per frame | ratio, median (range) of ${values['cpu-rounds']} windows |`, '|---|---|');
  for (const slot of SLOTS) {
    const name = slot.join('+');
    const ratios: number[] = [];
    for (let round = 1; round <= Number(values['cpu-rounds']); round++) {
      const rs = cpu.filter((r) => r.slot === name && r.round === round);
      // the slot's second variant over its first (by variant, whichever started first; off+off by position)
      const a = slot[0] === slot[1] ? rs.find((r) => r.pos === 0) : rs.find((r) => r.variant === slot[0]);
      const b = slot[0] === slot[1] ? rs.find((r) => r.pos === 1) : rs.find((r) => r.variant === slot[1]);
      if (a && b) ratios.push(perFrame(b) / perFrame(a));
    }
    const label = name === 'off+off' ? 'A/A control: off / off' : `${slot[1]} / ${slot[0]}`;
    rows.push(`| ${label} | ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}) |`);
  }
}
const table = rows.join('\n');
process.stdout.write(`\n${table}\n`);
if (values.dump) writeFileSync(values.dump, JSON.stringify(dumps));
saveResult('live', { machine: info, peer: PEER, maxHz: Number(values['max-hz']), flushMs: values['flush-ms'], paired: values['cpu-paired'], pollMs: Number(values.poll), latency, cpu, table });
process.exit(0);
