// Market feeder resident memory at 500 symbols over 10 minutes (target < 150 MB and flat).
// The feeder (bundled from its sources and run on plain node, as in production) follows 500 symbols ×
// 4 streams from the replay server at --rate frames/s with ×5 bursts of 1 s every 30 s, backfills
// --backfill hours of 1 m candles over REST, and writes to a real InfluxDB 1.x. RSS from /proc every 15 s.
//
//   npm run bench -- rss     (or: node --conditions=source --import tsx bench/rss.ts --minutes 10)
import { parseArgs } from 'node:util';
import { metricValue, startInflux, waitFor } from '@mt/testing';
import { bundleService, machine, rssMiB, saveResult, sleep, startBundled } from './lib.js';
import { ReplayServer, replayFeederEnv } from './replay.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    symbols: { type: 'string', default: '500' },
    rate: { type: 'string', default: '2000' },
    backfill: { type: 'string', default: '1' },
    // extra node flags for the feeder, e.g. --node-args=--max-semi-space-size=4,--max-old-space-size=96
    'node-args': { type: 'string', default: '' },
  },
});
const N = Number(values.symbols);
const info = machine();
const replay = await new ReplayServer({ rate: Number(values.rate), burstEveryMs: 30_000, burstMs: 1000, burstFactor: 5 }).listen();
const influx = await startInflux();
const feeder = await startBundled(await bundleService('feeders/src/market/main.ts'), await replayFeederEnv(replay, influx.url, N, { BACKFILL_HOURS: values.backfill }), values['node-args'].split(',').filter(Boolean));
const pid = feeder.pid;
interface Sample {
  atS: number;
  rssMiB: number;
  heapUsedMiB: number;
  frames: number;
  written: number;
  dropped: number;
  loadavg: number;
}
const samples: Sample[] = [];
const t0 = Date.now();
try {
  await waitFor(() => replay.stats().streams >= 4 * N, 60_000, 'subscribed');
  while (Date.now() - t0 < Number(values.minutes) * 60_000) {
    const m = await feeder.metrics();
    const s: Sample = {
      atS: Math.round((Date.now() - t0) / 1000),
      rssMiB: Math.round(rssMiB(pid) * 10) / 10,
      heapUsedMiB: Math.round((metricValue(m, 'nodejs_heap_size_used_bytes') / 2 ** 20) * 10) / 10,
      frames: metricValue(m, 'feeder_messages_total', { source: 'binance_ws' }),
      written: metricValue(m, 'influx_points_written_total'),
      dropped: metricValue(m, 'influx_points_dropped_total'),
      loadavg: (await import('node:os')).loadavg()[0]!,
    };
    samples.push(s);
    process.stdout.write(`${JSON.stringify(s)}\n`);
    await sleep(15_000);
  }
} finally {
  await feeder.stop();
  await replay.close();
  await influx.stop();
}
const at = (sec: number) => samples.reduce((best, s) => (Math.abs(s.atS - sec) < Math.abs(best.atS - sec) ? s : best), samples[0]!);
const half = samples.filter((s) => s.atS >= samples[samples.length - 1]!.atS / 2);
// least-squares slope of RSS over the second half, MiB per minute
const mx = half.reduce((a, s) => a + s.atS, 0) / half.length;
const my = half.reduce((a, s) => a + s.rssMiB, 0) / half.length;
const slope = (half.reduce((a, s) => a + (s.atS - mx) * (s.rssMiB - my), 0) / half.reduce((a, s) => a + (s.atS - mx) ** 2, 0)) * 60;
const last = samples[samples.length - 1]!;
const table = [
  '| RSS at 1 min | 5 min | end | max | slope over 2nd half | heap used at end | frames/s (avg) | points dropped |',
  '|---|---|---|---|---|---|---|---|',
  `| ${at(60).rssMiB} MiB | ${at(300).rssMiB} MiB | ${last.rssMiB} MiB (${Math.round(last.atS / 60)} min) | ${Math.max(...samples.map((s) => s.rssMiB))} MiB | ${slope.toFixed(2)} MiB/min | ${last.heapUsedMiB} MiB | ${Math.round(last.frames / last.atS)} | ${last.dropped} |`,
].join('\n');
process.stdout.write(`\n${table}\n`);
saveResult(values['node-args'] ? 'rss-tuned' : 'rss', { machine: info, options: values, samples, table });
process.exit(0);
