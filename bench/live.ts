// Grafana Live (docs/GRAFANA_LIVE.md), side by side in the same runs:
//   latency — a frame leaving the replay server → the push request carrying its price received by the
//             Grafana Live push fake (testing/src/fakes/grafana-live.ts), beside the same run's frame →
//             point queryable in InfluxDB (polled every --poll ms, an upper bound; bench/latency.ts's method);
//             each ticker line carries the time of the newest frame merged into it = that frame's send time;
//   CPU     — the feeder at --cpu-symbols symbols, same replay load, Live on vs off, alternating rounds;
//   burst   — frames sent per second vs push requests and lines received per second while the replay
//             multiplies its rate ×10 for 1 s every 5 s: what reaches Grafana stays bounded by
//             symbols × (GRAFANA_LIVE_MAX_HZ + 1) lines per calendar second (one `ticker` line per symbol).
// Live's latency is also split by frames sent during a burst (or the 500 ms after) vs between bursts, with
// the feeder's own share (grafana_live_wait_seconds) and the push request's duration beside it.
// --peer-root DIR runs another version's feeder (e.g. the commit before a change) as a third variant in
// every round: before/after in the same run. --cpu-prof DIR profiles the feeder in the CPU runs.
//   git archive <rev> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/node_modules
//
//   npm run bench -- live      (or: node --conditions=source --import tsx bench/live.ts --runs 2 --seconds 20)
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { metricValue, startInflux, startService, waitFor, type RunningService } from '@mt/testing';
import { cpuSeconds, influxPointLatencies, machine, median, percentile, saveResult, sleep, spread } from './lib.js';
import { ReplayServer, replayFeederEnv } from './replay.js';

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
    'max-hz': { type: 'string', default: '4' },
    // a V8 CPU profile of the feeder per CPU run, written to this directory (node --cpu-prof)
    'cpu-prof': { type: 'string' },
    // another checkout of this repository (its node_modules a link to this one's): its feeder runs as a
    // third variant, "peer", in every latency and CPU round — before/after in the same run
    'peer-root': { type: 'string' },
    // raw per-line latencies of every latency run (frame time, latency, phase in the burst cycle) to this JSON file
    dump: { type: 'string' },
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
  new Promise<{ latency: number[]; frameAt: number[]; perSec: [number, number, number][] }>((r) => {
    grafanaWorker.once('message', r);
    grafanaWorker.postMessage({ cmd: 'collect', since });
  });
const info = machine();

/** off = Live off; on = Live on, this code; peer = Live on, the feeder of --peer-root. */
type Variant = 'off' | 'on' | 'peer';
const PEER = values['peer-root'];

function feeder(replay: ReplayServer, n: number, variant: Variant, prof?: string): Promise<RunningService> {
  const over: Record<string, string> = variant === 'off' ? {} : { GRAFANA_LIVE_URL: grafana.url, GRAFANA_LIVE_TOKEN: TOKEN, GRAFANA_LIVE_MAX_HZ: values['max-hz'] };
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: bench/cpu-prof.mjs starts the profiler instead
  if (prof) Object.assign(over, { NODE_OPTIONS: `--import=${new URL('./cpu-prof.mjs', import.meta.url).href}`, CPU_PROF_DIR: prof });
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

async function warm(replay: ReplayServer, n: number): Promise<void> {
  await waitFor(() => replay.stats().streams >= 4 * n, 60_000, 'subscribed');
  await sleep(3000);
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
}

const BURST = { burstEveryMs: 5000, burstMs: 1000, burstFactor: 10 };
/** A frame sent during a burst or in the 500 ms after it (the feeder's backlog drains then). */
const inBurst = (t: number, replayStart: number) => (t - replayStart) % BURST.burstEveryMs < BURST.burstMs + 500;

const stats = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) });

async function latencyRun(n: number, rate: number, run: number, variant: Variant): Promise<LatencyRun> {
  const replay = await new ReplayServer({ rate, kinds: KINDS, ...BURST }).listen();
  const replayStart = Date.now() - replay.stats().uptimeMs;
  const svc = await feeder(replay, n, variant);
  try {
    await warm(replay, n);
    await collect(Infinity); // forget the warm-up
    const m0 = await svc.metrics();
    const start = Date.now();
    // frames sent per second, sampled beside the pushes
    const sent: [number, number][] = [];
    const sampler = setInterval(() => sent.push([Date.now(), replay.stats().sent]), 1000);
    const influxLat = await influxPointLatencies(influx.url, SECONDS * 1000, Number(values.poll));
    clearInterval(sampler);
    const { latency: liveLat, frameAt, perSec: secs } = await collect(start);
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
      liveBurst: stats(liveLat.filter((_, i) => inBurst(frameAt[i]!, replayStart))),
      liveCalm: stats(liveLat.filter((_, i) => !inBurst(frameAt[i]!, replayStart))),
      pushDuration: { p50: histogramQuantile(m0, m, 'grafana_live_push_duration_seconds', 0.5) * 1000, p99: histogramQuantile(m0, m, 'grafana_live_push_duration_seconds', 0.99) * 1000 },
      sinkWait: { p50: histogramQuantile(m0, m, 'grafana_live_wait_seconds', 0.5) * 1000, p99: histogramQuantile(m0, m, 'grafana_live_wait_seconds', 0.99) * 1000 },
      influx: stats(influxLat),
      burst: {
        maxFramesPerSec: Math.max(...framesPerSec),
        maxPushesPerSec: Math.max(...[...perSec.values()].map((e) => e.pushes)),
        maxLinesPerSec: Math.max(...[...perSec.values()].map((e) => e.lines)),
        // per symbol slots are ≥ 1/MAX_HZ s apart: a calendar second holds at most MAX_HZ + 1
        bound: n * (Number(values['max-hz']) + 1),
      },
      dropped: metricValue(m, 'grafana_live_dropped_total'),
      loadavg: loadavg(),
    };
  } finally {
    await svc.stop();
    await replay.close();
  }
}

interface CpuRun {
  variant: Variant;
  round: number;
  cpu: number;
  framesPerSec: number;
  loadavg: string;
}

async function cpuRun(variant: Variant, round: number): Promise<CpuRun> {
  const n = Number(values['cpu-symbols']);
  const replay = await new ReplayServer({ rate: Number(values['cpu-rate']), kinds: KINDS }).listen();
  const prof = values['cpu-prof'] && `${values['cpu-prof']}/live-${variant}-${round}`;
  const svc = await feeder(replay, n, variant, prof);
  try {
    await warm(replay, n);
    const pid = svc.proc.child.pid!;
    const m0 = metricValue(await svc.metrics(), 'feeder_messages_total', { source: 'binance_ws' });
    const c0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const secs = (performance.now() - t0) / 1000;
    const c1 = cpuSeconds(pid);
    const m1 = metricValue(await svc.metrics(), 'feeder_messages_total', { source: 'binance_ws' });
    return { variant, round, cpu: (c1 - c0) / secs, framesPerSec: (m1 - m0) / secs, loadavg: loadavg() };
  } finally {
    await svc.stop();
    await replay.close();
  }
}

const latency: LatencyRun[] = [];
const dumps: { variant: Variant; symbols: number; run: number; lines: [number, number, number][] }[] = [];
const cpu: CpuRun[] = [];
try {
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const load of values.loads.split(',')) {
      const [n, rate] = load.split(':').map(Number) as [number, number];
      // with a peer, both versions in each run, their order alternating
      const variants: Variant[] = PEER ? (run % 2 ? ['on', 'peer'] : ['peer', 'on']) : ['on'];
      for (const variant of variants) {
        const r = await latencyRun(n, rate, run, variant);
        latency.push(r);
        process.stdout.write(
          `run ${run} ${variant} ${n} symbols ${rate} frames/s (load ${loadavg()}): live p50 ${r.live.p50} p99 ${r.live.p99} ms (${r.live.n}; frames in/after bursts p99 ${r.liveBurst.p99}, between p99 ${r.liveCalm.p99}; ` +
            `in the feeder's sink ≤ ${r.sinkWait.p50} / ≤ ${r.sinkWait.p99} ms; push request ≤ ${r.pushDuration.p50} / ≤ ${r.pushDuration.p99} ms), influx p50 ${r.influx.p50} p99 ${r.influx.p99} ms (${r.influx.n}); ` +
            `max ${r.burst.maxFramesPerSec} frames/s → ${r.burst.maxPushesPerSec} pushes/s, ${r.burst.maxLinesPerSec} lines/s (bound ${r.burst.bound}); dropped ${r.dropped}\n`,
        );
      }
    }
  }
  for (let round = 1; round <= Number(values['cpu-rounds']); round++) {
    const order: Variant[] = PEER ? ['off', 'peer', 'on'] : ['off', 'on'];
    for (const variant of round % 2 ? order : order.reverse()) {
      const r = await cpuRun(variant, round);
      cpu.push(r);
      process.stdout.write(`cpu round ${round} ${variant}: ${(r.cpu * 100).toFixed(1)} % of a core at ${r.framesPerSec.toFixed(0)} frames/s (load ${r.loadavg})\n`);
    }
  }
} finally {
  grafanaWorker.postMessage({ cmd: 'close' });
  await new Promise((r) => grafanaWorker.once('exit', r));
  await influx.stop();
}

const rows = [
  '| Live | symbols | frames/s (×10 bursts) | Live: frame → push received p50 / p99 ms | of which in the feeder\'s Live sink p50 / p99 (≤ bucket) | InfluxDB: frame → queryable p50 / p99 ms | max frames/s sent | max pushes/s | max lines/s (bound) | load |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const load of values.loads.split(',')) for (const variant of ['peer', 'on'] as const) {
  const [n, rate] = load.split(':').map(Number) as [number, number];
  const rs = latency.filter((r) => r.symbols === n && r.rate === rate && r.variant === variant);
  if (!rs.length) continue;
  rows.push(
    `| ${variant === 'on' ? 'this code' : 'peer'} | ${n} | ${rate} | ${spread(rs.map((r) => r.live.p50))} / ${spread(rs.map((r) => r.live.p99))} | ${spread(rs.map((r) => r.sinkWait.p50))} / ${spread(rs.map((r) => r.sinkWait.p99))} | ${spread(rs.map((r) => r.influx.p50))} / ${spread(rs.map((r) => r.influx.p99))} | ` +
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
const table = rows.join('\n');
process.stdout.write(`\n${table}\n`);
if (values.dump) writeFileSync(values.dump, JSON.stringify(dumps));
saveResult('live', { machine: info, peer: PEER, maxHz: Number(values['max-hz']), pollMs: Number(values.poll), latency, cpu, table });
process.exit(0);
