// Sharded feeders on one machine: ingest of the whole watch set by one market feeder against three
// feeders sharing it (FEEDER_SHARD=0/3, 1/3, 2/3), side by side in one run and interleaved over rounds,
// with the floor (a bare `ws` client that only JSON.parses, all symbols) for the ceiling this box and
// the replay server reach. Frames/s from the replay server in flood mode (it sends as fast as each
// client drains), summed over the shards; each feeder's RSS at the end of its window.
// Feeders run as bundles on plain node (bench/lib.ts startBundled), as in production, so RSS is theirs.
//
//   npm run bench -- shards           (or: node --conditions=source --import tsx bench/shards.ts --rounds 3 --symbols 300)
import { parseArgs } from 'node:util';
import { metricValue, startInflux, waitFor } from '@mt/testing';
import { bundleService, cpuSeconds, forkClient, machine, median, rssMiB, saveResult, sleep, spread, startBundled, type BundledService } from './lib.js';
import { ReplayServer, replayFeederEnv } from './replay.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '8' },
    symbols: { type: 'string', default: '300' },
  },
});
const ROUNDS = Number(values.rounds);
const WINDOW_MS = Number(values.window) * 1000;
const N = Number(values.symbols);
type Mode = 'floor' | '1 feeder' | '3 shards';
const MODES: Mode[] = ['floor', '1 feeder', '3 shards'];

const replay = await new ReplayServer({ rate: 0 }).listen();
const influx = await startInflux();
const bundle = await bundleService('feeders/src/market/main.ts');

interface Run {
  mode: Mode;
  round: number;
  framesPerSec: number;
  /** CPU of the consumers (all shards together), cores */
  cpu: number;
  rssMiB: number[];
  pointsPerSec: number;
  dropped: number;
  loadavg: string;
}

async function measure(mode: Mode, round: number): Promise<Run> {
  const feeders: BundledService[] = [];
  let sample: () => Promise<{ frames: number; points: number; dropped: number }>;
  let pids: number[];
  let stop: () => Promise<unknown>;
  if (mode === 'floor') {
    const c = forkClient('floor', replay.wsUrl, N);
    pids = [c.pid];
    stop = () => c.stop();
    sample = async () => ({ frames: (await c.sample()).frames, points: 0, dropped: 0 });
  } else {
    const shards = mode === '1 feeder' ? [undefined] : ['0/3', '1/3', '2/3'];
    const env = await replayFeederEnv(replay, influx.url, N);
    feeders.push(...(await Promise.all(shards.map((s) => startBundled(bundle, { ...env, ...(s ? { FEEDER_SHARD: s } : {}) })))));
    pids = feeders.map((f) => f.pid);
    stop = () => Promise.all(feeders.map((f) => f.stop()));
    sample = async () => {
      const ms = await Promise.all(feeders.map((f) => f.metrics()));
      const sum = (name: string, labels?: Record<string, string>) => ms.reduce((a, m) => a + metricValue(m, name, labels), 0);
      return { frames: sum('feeder_messages_total', { source: 'binance_ws' }), points: sum('influx_points_written_total'), dropped: sum('influx_points_dropped_total') };
    };
  }
  try {
    await waitFor(() => replay.stats().streams >= 4 * N, 60_000, `${mode}: ${4 * N} streams subscribed`);
    await waitFor(async () => (await sample()).frames > 0, 30_000, `${mode}: receiving`);
    await sleep(2000);
    const a = await sample();
    const ca = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const b = await sample();
    const secs = (performance.now() - t0) / 1000;
    const cb = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    return {
      mode,
      round,
      framesPerSec: (b.frames - a.frames) / secs,
      cpu: (cb - ca) / secs,
      rssMiB: pids.map(rssMiB),
      pointsPerSec: (b.points - a.points) / secs,
      dropped: b.dropped - a.dropped,
      loadavg: (await import('node:os')).loadavg()[0]!.toFixed(2),
    };
  } finally {
    await stop();
    await waitFor(() => replay.stats().connections === 0, 10_000, 'clients gone').catch(() => {});
  }
}

const runs: Run[] = [];
const info = machine();
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of MODES) {
      const r = await measure(mode, round);
      runs.push(r);
      process.stdout.write(
        `round ${round} ${mode}: ${Math.round(r.framesPerSec)} frames/s, ${Math.round(r.pointsPerSec)} points/s, CPU ${(r.cpu * 100).toFixed(0)}%, RSS ${r.rssMiB.map((x) => x.toFixed(0)).join('/')} MiB, dropped ${r.dropped}, load ${r.loadavg}\n`,
      );
    }
  }
} finally {
  await replay.close();
  await influx.stop();
}

const of = (m: Mode, f: (r: Run) => number) => runs.filter((r) => r.mode === m).map(f);
const fps = (r: Run) => r.framesPerSec;
const perCpu = (r: Run) => r.framesPerSec / r.cpu;
const rows = [
  `| ${N} symbols | floor (ws + JSON.parse) | 1 feeder | 3 shards | 3 shards / 1 feeder | 3 shards / floor |`,
  '|---|---|---|---|---|---|',
  `| frames/s | ${spread(of('floor', fps))} | ${spread(of('1 feeder', fps))} | ${spread(of('3 shards', fps))} | ${(median(of('3 shards', fps)) / median(of('1 feeder', fps))).toFixed(2)} | ${(median(of('3 shards', fps)) / median(of('floor', fps))).toFixed(2)} |`,
  `| frames per consumer CPU-second | ${spread(of('floor', perCpu))} | ${spread(of('1 feeder', perCpu))} | ${spread(of('3 shards', perCpu))} | ${(median(of('3 shards', perCpu)) / median(of('1 feeder', perCpu))).toFixed(2)} | |`,
  `| RSS per process, MiB | ${spread(of('floor', (r) => r.rssMiB[0]!))} | ${spread(of('1 feeder', (r) => r.rssMiB[0]!))} | ${spread(runs.filter((r) => r.mode === '3 shards').flatMap((r) => r.rssMiB))} (each) | | |`,
];
const table = rows.join('\n');
process.stdout.write(`\n${table}\n`);
saveResult('shards', { machine: info, windowMs: WINDOW_MS, symbols: N, runs, table });
process.exit(0);
