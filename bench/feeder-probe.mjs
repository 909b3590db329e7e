// Preloaded into the feeder (NODE_OPTIONS=--import) by bench/live.ts --probe: what its event loop did, to
// split the latency's tail (docs/BENCHMARKS.md §10). Records, in epoch ms, written to $PROBE_FILE at exit
// (the services exit through process.exit on SIGTERM):
//   lag — a timer due every PROBE_EVERY_MS (default 10): [when it ran, how late];
//   gc  — every garbage collection: [start, duration, kind] (PerformanceObserver 'gc').
// The timer wakes an idle feeder PROBE_EVERY_MS apart: a probed run is a diagnosis, not a timing.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const file = process.env.PROBE_FILE;
if (file) {
  const every = Number(process.env.PROBE_EVERY_MS ?? 10);
  const lag = [];
  const gc = [];
  let due = Date.now() + every;
  setInterval(() => {
    const now = Date.now();
    lag.push(now, now - due);
    due = now + every;
  }, every).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push(performance.timeOrigin + e.startTime, e.duration, e.detail?.kind ?? 0);
  }).observe({ type: 'gc' });
  process.on('exit', () => writeFileSync(file, JSON.stringify({ lag, gc })));
}
