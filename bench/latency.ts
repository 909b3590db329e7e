// Latency from a frame leaving the replay server to the point being queryable in InfluxDB.
// The replay sends only trade frames (steady rate + ×10 bursts) whose trade time T is their send time;
// the feeder's market_data point carries the time of the newest trade merged into it, so
// (first poll that returns the point) − T is the latency of that point, including the feeder's
// one-point-per-second throttle wait, the sink's 250 ms flush and InfluxDB's write path.
// A point is counted at the end of the first query that returns it: an upper bound, poll every --poll ms.
//
//   npm run bench -- latency     (or: node --conditions=source --import tsx bench/latency.ts --runs 3 --seconds 30)
import { parseArgs } from 'node:util';
import { startInflux, startService, waitFor } from '@mt/testing';
import { influxPointLatencies, machine, percentile, saveResult, sleep, spread } from './lib.js';
import { ReplayServer, replayFeederEnv } from './replay.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '30' },
    poll: { type: 'string', default: '50' },
    // symbols:frames per second (total)
    loads: { type: 'string', default: '50:2000,500:5000' },
  },
});

const influx = await startInflux();
const info = machine();

interface Run {
  symbols: number;
  rate: number;
  run: number;
  points: number;
  p50: number;
  p99: number;
  max: number;
  framesSent: number;
  skipped: number;
  loadavg: string;
}
const runs: Run[] = [];

async function once(n: number, rate: number, run: number): Promise<Run> {
  const replay = await new ReplayServer({ rate, kinds: ['trade'], burstEveryMs: 5000, burstMs: 200, burstFactor: 10 }).listen();
  const feeder = await startService('market-feeder', await replayFeederEnv(replay, influx.url, n));
  try {
    await waitFor(() => replay.stats().streams >= 4 * n, 60_000, 'subscribed');
    await sleep(3000);
    const sent0 = replay.stats();
    const lat = await influxPointLatencies(influx.url, Number(values.seconds) * 1000, Number(values.poll));
    const sent1 = replay.stats();
    return {
      symbols: n,
      rate,
      run,
      points: lat.length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: Math.max(...lat),
      framesSent: sent1.sent - sent0.sent,
      skipped: sent1.skipped - sent0.skipped,
      loadavg: (await import('node:os')).loadavg()[0]!.toFixed(2),
    };
  } finally {
    await feeder.stop();
    await replay.close();
  }
}

try {
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const load of values.loads.split(',')) {
      const [n, rate] = load.split(':').map(Number) as [number, number];
      const r = await once(n, rate, run);
      runs.push(r);
      process.stdout.write(`run ${run} ${n} symbols ${rate} frames/s: ${r.points} points, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms (frames sent ${r.framesSent}, skipped ${r.skipped}, load ${r.loadavg})\n`);
    }
  }
} finally {
  await influx.stop();
}
const rows = ['| symbols | frames/s (bursts ×10) | points per run | p50 ms | p99 ms | max ms |', '|---|---|---|---|---|---|'];
for (const load of values.loads.split(',')) {
  const [n, rate] = load.split(':').map(Number) as [number, number];
  const rs = runs.filter((r) => r.symbols === n && r.rate === rate);
  rows.push(`| ${n} | ${rate} | ${spread(rs.map((r) => r.points))} | ${spread(rs.map((r) => r.p50))} | ${spread(rs.map((r) => r.p99))} | ${spread(rs.map((r) => r.max))} |`);
}
const table = rows.join('\n');
process.stdout.write(`\n${table}\n`);
saveResult('latency', { machine: info, pollMs: Number(values.poll), runs, table });
process.exit(0);
