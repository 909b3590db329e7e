// Where the market feeder spends its CPU under a flood (explains the ingest figures): the bundled
// feeder runs with --cpu-prof at --symbols symbols for --seconds, then the functions with the most
// self time are listed, grouped by package (node internals, ws, prom-client, our code, ...).
// With --rules N the same run is repeated with N alert rules (the mix of bench/rule-mix.ts, from a real
// PostgreSQL, firing to an Alertmanager stand-in, as in bench/ingest.ts's `rules` client) and the two
// profiles are compared per frame: CPU µs per 1 000 frames by function, the largest differences first.
//
//   node --conditions=source --import tsx bench/profile.ts --symbols 50 --seconds 15
//   node --conditions=source --import tsx bench/profile.ts --symbols 500 --seconds 20 --rules 10000
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HttpFake, metricValue, startInflux, startPostgres, waitFor, type PostgresServer } from '@mt/testing';
import { BENCH_DIR, bundleService, cpuSeconds, saveResult, selfTimes, sleep, startBundled, type ProfileNode } from './lib.js';
import { ReplayServer, benchSymbols, replayFeederEnv } from './replay.js';
import { ruleMixDatabase } from './rule-mix.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    top: { type: 'string', default: '25' },
    rules: { type: 'string', default: '0' },
    // extra node flags for the feeder, e.g. --node-args=--trace-gc (its output lands in the service log)
    'node-args': { type: 'string', default: '' },
  },
});
const N = Number(values.symbols);
const RULES = Number(values.rules);
const NODE_ARGS = values['node-args'].split(/\s+/).filter(Boolean);
const replay = await new ReplayServer({ rate: 0 }).listen();
const influx = await startInflux();
const bundle = await bundleService('feeders/src/market/main.ts');

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}
interface Run {
  label: string;
  frames: number;
  cpuSeconds: number;
  firings: number;
  heapUsedMiB: number;
  gcSeconds: number;
  /** self µs by function and by package, over the whole run */
  byFn: Map<string, number>;
  byPkg: Map<string, number>;
  totalUs: number;
}

async function profileRun(label: string, over: Record<string, string>, rules: number): Promise<Run> {
  const feeder = await startBundled(bundle, await replayFeederEnv(replay, influx.url, N, over), ['--cpu-prof', ...NODE_ARGS]);
  let frames = 0;
  let cpu = 0;
  let firings = 0;
  let heapUsedMiB = 0;
  let gcSeconds = 0;
  try {
    if (rules) await waitFor(async () => metricValue(await feeder.metrics(), 'market_price_alert_rules') >= rules || undefined, 60_000, `${rules} rules loaded`);
    await waitFor(() => replay.stats().streams >= 4 * N, 60_000, 'subscribed');
    await sleep(Number(values.seconds) * 1000);
    const m = await feeder.metrics();
    frames = metricValue(m, 'feeder_messages_total', { source: 'binance_ws' });
    firings = metricValue(m, 'market_alert_firings_total');
    heapUsedMiB = metricValue(m, 'nodejs_heap_size_used_bytes') / 2 ** 20;
    gcSeconds = metricValue(m, 'nodejs_gc_duration_seconds_sum');
    cpu = cpuSeconds(feeder.pid);
  } finally {
    await feeder.stop();
    await waitFor(() => replay.stats().connections === 0, 10_000, 'feeder gone').catch(() => {});
  }
  const file = readdirSync(feeder.dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  // kept for a closer look (Chrome DevTools, or line ticks): bench/results/ is git-ignored
  mkdirSync(path.join(BENCH_DIR, 'results'), { recursive: true });
  const kept = path.join(BENCH_DIR, 'results', `profile-${N}-${label.replace(/\W+/g, '-')}.cpuprofile`);
  copyFileSync(path.join(feeder.dir, file), kept);
  const prof = JSON.parse(readFileSync(kept, 'utf8')) as Profile;
  // samples are taken on wall time (a descheduled process on a loaded machine gathers them too): the
  // non-idle samples are scaled to the CPU time the process used instead
  const busy = prof.nodes.reduce((a, n) => a + (n.callFrame.functionName === '(idle)' ? 0 : (n.hitCount ?? 0)), 0);
  const usPerHit = (cpu * 1e6) / Math.max(1, busy);
  const { byFn, byPkg, total: totalUs } = selfTimes(prof.nodes, (n) => (n.hitCount ?? 0) * usPerHit);
  return { label, frames, cpuSeconds: cpu, firings, heapUsedMiB, gcSeconds, byFn, byPkg, totalUs };
}

const runs: Run[] = [];
let postgres: PostgresServer | undefined;
let alertmanager: HttpFake | undefined;
try {
  runs.push(await profileRun('no rules', {}, 0));
  if (RULES) {
    postgres = await startPostgres();
    alertmanager = await new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen();
    const url = await ruleMixDatabase(postgres, 'profile_rules', influx.url, benchSymbols(N), RULES, (s) => replay.priceOf(s));
    runs.push(await profileRun(`${RULES} rules`, { DATABASE_URL: url, ALERTMANAGER_URL: alertmanager.url }, RULES));
  }
} finally {
  await replay.close();
  await Promise.allSettled([influx.stop(), postgres?.stop(), alertmanager?.close()]);
}

const lines: string[] = [];
const top = Number(values.top);
for (const r of runs) {
  const pct = (us: number) => `${((us / r.totalUs) * 100).toFixed(1)} %`;
  lines.push(
    `== ${r.label}: ${r.frames} frames, ${r.cpuSeconds.toFixed(1)} CPU s (${Math.round(r.frames / r.cpuSeconds)} frames per CPU-second), ` +
      `${r.firings} firings, heap used ${r.heapUsedMiB.toFixed(0)} MiB, GC ${r.gcSeconds.toFixed(2)} s`,
  );
  lines.push('self time by package:', ...[...r.byPkg].sort((a, b) => b[1] - a[1]).map(([k, us]) => `  ${pct(us).padStart(7)}  ${k}`));
  lines.push(`top ${top} functions by self time:`, ...[...r.byFn].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `  ${pct(us).padStart(7)}  ${k}`));
}
if (runs.length === 2) {
  // per frame: the faster run consumed more frames in the same seconds, so shares alone would mislead
  const [a, b] = runs as [Run, Run];
  const per = (r: Run, us: number | undefined) => ((us ?? 0) / r.frames) * 1000;
  lines.push(
    `== CPU µs per 1 000 frames (process CPU time split by the profile's shares, start-up included): ${a.label} ${per(a, a.totalUs).toFixed(0)}, ${b.label} ${per(b, b.totalUs).toFixed(0)} (×${(per(b, b.totalUs) / per(a, a.totalUs)).toFixed(3)})`,
  );
  for (const [title, ka, kb] of [
    ['package', a.byPkg, b.byPkg],
    ['function', a.byFn, b.byFn],
  ] as const) {
    const keys = new Set([...ka.keys(), ...kb.keys()]);
    const diffs = [...keys].map((k) => [k, per(a, ka.get(k)), per(b, kb.get(k))] as const).sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]));
    lines.push(`largest differences by ${title} (µs per 1 000 frames: ${a.label} → ${b.label}):`);
    for (const [k, x, y] of diffs.slice(0, top)) lines.push(`  ${(y - x >= 0 ? '+' : '') + (y - x).toFixed(1)}`.padEnd(10) + `  ${x.toFixed(1)} → ${y.toFixed(1)}  ${k}`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
saveResult(RULES ? `profile-${N}-rules-${RULES}` : `profile-${N}`, { symbols: N, seconds: Number(values.seconds), rules: RULES, lines });
process.exit(0);
