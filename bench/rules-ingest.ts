// Ingest throughput with and without alert rules, made to resolve a few per cent (docs/BENCHMARKS.md §11):
// the bundled market feeder (plain node, as in production and bench/profile.ts) at --symbols symbols in
// flood mode, in these variants:
//   none        — no rules
//   none-aa     — no rules again: the A/A control, whose ratio to `none` is the noise floor of the run
//   rules       — --rules rules of bench/rule-mix.ts from a real PostgreSQL (migrated by the API), firing to
//                 an Alertmanager stand-in and to alert_events, on the replay's default random walk (which
//                 moves prices far faster than a real market, so the rules fire far more often)
//   rules-notick — as many rules on the same symbols, none of them evaluated by a tick (bench/rule-mix.ts
//                 noTickMix): what rules cost a tick before any is evaluated, and the rest of having them
//   none-calm, rules-calm — the same on a second replay whose walk is --calm times smaller, the rule levels
//                 placed half a level step off the starting price: a realistic firing rate
//   peer-<variant> — any of the above on another checkout's feeder (--peer-root: a checkout with its
//                 node_modules installed, e.g. of the commit before a change), for a before/after in one run
// The variants of a slot (--slots) run side by side, each on a replay server process of its own (one replay
// thread cannot flood two feeders), and are measured over the same window, so the shared machine's load
// hits them alike; the A/A slot (none + none-aa) shows how far two
// identical feeders differ that way. Every round runs each slot once, the slots rotated and, in even
// rounds, reversed with each pair started the other way round (the first feeder to subscribe tends to
// get more of the replay). Each feeder warms up (rules loaded, streams subscribed, --warmup s), then frames
// and its own CPU time are counted over --window s. The figure is frames per feeder CPU-second, compared
// within a window (paired) and as the ratio of all runs' medians.
//
//   node --conditions=source --import tsx bench/rules-ingest.ts --symbols 500 --rounds 6 --window 20 --calm 20
//   … --peer-root /tmp/before --slots none+none-aa,rules+peer-rules,rules-calm+peer-rules-calm,none+rules
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HttpFake, metricValue, startInflux, startPostgres, waitFor, type PostgresServer } from '@mt/testing';
import { BENCH_DIR, bundleService, cpuSeconds, machine, median, saveResult, sleep, spread, startBundled } from './lib.js';
import { DEFAULT_WALK, benchSymbols, replayFeederEnv } from './replay.js';
import { noTickMix, ruleMix, ruleMixDatabase } from './rule-mix.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '500' },
    rules: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '4' },
    window: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    calm: { type: 'string', default: '100' },
    // what runs at the same time: `+` joins variants measured side by side over the same window
    slots: { type: 'string', default: 'none+none-aa,none+rules,none-aa+rules-notick,none-calm+rules-calm' },
    'peer-root': { type: 'string' },
  },
});
const N = Number(values.symbols);
const RULES = Number(values.rules);
const ROUNDS = Number(values.rounds);
const WINDOW_MS = Number(values.window) * 1000;
const WARMUP_MS = Number(values.warmup) * 1000;
type Own = 'none' | 'none-aa' | 'rules' | 'rules-notick' | 'none-calm' | 'rules-calm';
type Variant = Own | `peer-${Own}`;
const SLOTS = values.slots.split(',').map((slot) => slot.split('+') as Variant[]);
const VARIANTS = [...new Set(SLOTS.flat())];
const ownOf = (v: Variant) => v.replace(/^peer-/, '') as Own;
const peerOf = (v: Variant) => v.startsWith('peer-');
const calmOf = (v: Variant) => v.endsWith('-calm');
const rulesOf = (v: Variant) => ownOf(v).startsWith('rules');
if (VARIANTS.some(peerOf) && !values['peer-root']) throw new Error('peer-* variants need --peer-root');

const info = machine();

/** A replay server in a child process (bench/clients/replay.ts). */
interface Replay {
  wsUrl: string;
  restUrl: string;
  prices: Record<string, number>;
  stats(): Promise<{ connections: number; streams: number }>;
  stop(): Promise<void>;
}
async function forkReplay(walk: number): Promise<Replay> {
  const child = fork(path.join(BENCH_DIR, 'clients', 'replay.ts'), [String(N), String(walk)], {
    execArgv: ['--conditions=source', '--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ wsUrl: string; restUrl: string; prices: Record<string, number> }>((resolve, reject) => {
    child.once('message', resolve as never);
    child.once('exit', () => reject(new Error('replay child exited')));
  });
  return {
    ...ready,
    stats: () =>
      new Promise((resolve) => {
        child.once('message', resolve as never);
        child.send('sample');
      }),
    async stop() {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}
// one replay per place in a slot and per walk: each feeder of a slot has a replay process of its own
const WIDTH = Math.max(...SLOTS.map((s) => s.length));
const fast = await Promise.all(Array.from({ length: WIDTH }, () => forkReplay(DEFAULT_WALK)));
const calm = VARIANTS.some(calmOf) ? await Promise.all(Array.from({ length: WIDTH }, () => forkReplay(DEFAULT_WALK / Number(values.calm)))) : [];
const replays = [...fast, ...calm];
const influx = await startInflux();
const bundle = await bundleService('feeders/src/market/main.ts');
const peerBundle = values['peer-root'] ? await bundleService('feeders/src/market/main.ts', path.resolve(values['peer-root'])) : undefined;
let postgres: PostgresServer | undefined;
let alertmanager: HttpFake | undefined;
const dbs = new Map<string, string>();
async function rulesDb(isCalm: boolean, noTick: boolean): Promise<string> {
  const key = `${isCalm ? 'calm' : 'fast'}${noTick ? '_notick' : ''}`;
  const known = dbs.get(key);
  if (known) return known;
  postgres ??= await startPostgres();
  // every replay of a walk starts from the same prices (the REST history's)
  const replay = isCalm ? calm[0]! : fast[0]!;
  // calm: levels half a step (0.5 %) off the price, so none sits on it (a real alert is set away from the price)
  const url = await ruleMixDatabase(postgres, `rules_ingest_${key}`, influx.url, benchSymbols(N), RULES, (s) => replay.prices[s]! * (isCalm ? 1.005 : 1), noTick ? noTickMix : ruleMix);
  dbs.set(key, url);
  return url;
}

interface Run {
  variant: Variant;
  round: number;
  position: number;
  /** Runs with the same window ran side by side. */
  window: string;
  frames: number;
  cpuSeconds: number;
  seconds: number;
  firings: number;
  points: number;
  gcSeconds: number;
  heapUsedMiB: number;
  load: number;
}

/** A feeder of `variant` started, with its rules loaded. */
async function startFeeder(variant: Variant, place: number) {
  const replay = (calmOf(variant) ? calm : fast)[place]!;
  let over: Record<string, string> = {};
  if (rulesOf(variant)) {
    alertmanager ??= await new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen();
    over = { DATABASE_URL: await rulesDb(calmOf(variant), ownOf(variant) === 'rules-notick'), ALERTMANAGER_URL: alertmanager.url };
  }
  const feeder = await startBundled(peerOf(variant) ? peerBundle! : bundle, await replayFeederEnv(replay, influx.url, N, over));
  const want = Math.min(RULES, Math.ceil(RULES / N) * N);
  if (rulesOf(variant)) await waitFor(async () => metricValue(await feeder.metrics(), 'market_price_alert_rules') === want || undefined, 60_000, `${want} rules loaded`);
  const sample = async () => {
    const m = await feeder.metrics();
    return {
      frames: metricValue(m, 'feeder_messages_total', { source: 'binance_ws' }),
      firings: rulesOf(variant) ? metricValue(m, 'market_alert_firings_total') : 0,
      points: metricValue(m, 'influx_points_written_total'),
      gc: metricValue(m, 'nodejs_gc_duration_seconds_sum'),
      heap: metricValue(m, 'nodejs_heap_size_used_bytes'),
      cpu: cpuSeconds(feeder.pid),
      t: performance.now(),
    };
  };
  return { variant, replay, feeder, sample };
}

/** The variants of `slot` started in that order, then measured over the same window. */
async function measure(slot: Variant[], round: number, position: number): Promise<Run[]> {
  const started: Awaited<ReturnType<typeof startFeeder>>[] = [];
  try {
    for (const [place, v] of slot.entries()) {
      const f = await startFeeder(v, place);
      started.push(f);
      await waitFor(async () => (await f.replay.stats()).streams >= 4 * N || undefined, 60_000, 'subscribed');
    }
    await sleep(WARMUP_MS);
    const a = await Promise.all(started.map((f) => f.sample()));
    await sleep(WINDOW_MS);
    const b = await Promise.all(started.map((f) => f.sample()));
    const load = os.loadavg()[0]!;
    return started.map((f, i) => {
      const [x, y] = [a[i]!, b[i]!];
      return {
        variant: f.variant,
        round,
        position: position + i,
        window: `${round}/${position}`,
        frames: y.frames - x.frames,
        cpuSeconds: y.cpu - x.cpu,
        seconds: (y.t - x.t) / 1000,
        firings: y.firings - x.firings,
        points: y.points - x.points,
        gcSeconds: y.gc - x.gc,
        heapUsedMiB: y.heap / 2 ** 20,
        load,
      };
    });
  } finally {
    await Promise.all(started.map((f) => f.feeder.stop()));
    for (const r of replays) await waitFor(async () => (await r.stats()).connections === 0 || undefined, 10_000, 'feeders gone').catch(() => {});
  }
}

const perCpu = (r: Run) => r.frames / r.cpuSeconds;
const runs: Run[] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const k = (round - 1) % SLOTS.length;
    let order = [...SLOTS.slice(k), ...SLOTS.slice(0, k)];
    // even rounds: slots in reverse, and each pair started the other way round
    if (round % 2 === 0) order = order.reverse().map((slot) => [...slot].reverse());
    let position = 1;
    for (const slot of order) {
      const rs = await measure(slot, round, position);
      position += rs.length;
      for (const r of rs) {
        runs.push(r);
        process.stdout.write(
          `round ${round} #${r.position} ${r.variant}: ${Math.round(perCpu(r))} frames per CPU-s, ${Math.round(r.frames / r.seconds)} frames/s, ` +
            `CPU ${((r.cpuSeconds / r.seconds) * 100).toFixed(0)} %, ${((r.firings / r.seconds) * 60).toFixed(0)} firings/min, ` +
            `GC ${((r.gcSeconds / r.cpuSeconds) * 100).toFixed(1)} % of CPU, heap ${r.heapUsedMiB.toFixed(0)} MiB, load ${r.load.toFixed(2)}\n`,
        );
      }
    }
  }
} finally {
  await Promise.allSettled([...replays.map((r) => r.stop()), influx.stop(), postgres?.stop(), alertmanager?.close()]);
}

const of = (v: Variant) => runs.filter((r) => r.variant === v);
const lines = [
  `${N} symbols, ${RULES} rules, ${ROUNDS} rounds × ${values.window} s windows; load ${spread(runs.map((r) => r.load), 1)}; started ${info.at}`,
  '',
  '| variant | frames per feeder CPU-second | frames/s | feeder CPU | firings per minute | GC, % of CPU |',
  '|---|---|---|---|---|---|',
];
for (const v of VARIANTS) {
  const rs = of(v);
  lines.push(
    `| ${v} | ${spread(rs.map(perCpu))} | ${spread(rs.map((r) => r.frames / r.seconds))} | ${spread(rs.map((r) => (r.cpuSeconds / r.seconds) * 100))} % | ` +
      `${spread(rs.map((r) => (r.firings / r.seconds) * 60))} | ${spread(rs.map((r) => (r.gcSeconds / r.cpuSeconds) * 100), 1)} |`,
  );
}
lines.push('', '| ratio of frames per CPU-second | of the medians of all runs | side by side, same window (paired) |', '|---|---|---|');
for (const [label, x, y] of [
  ['A/A control: none-aa / none', 'none-aa', 'none'],
  ['rules / none', 'rules', 'none'],
  ['rules / none-aa', 'rules', 'none-aa'],
  ['rules-notick / none-aa', 'rules-notick', 'none-aa'],
  ['rules-calm / none-calm', 'rules-calm', 'none-calm'],
  ['rules / peer-rules (this checkout / the peer)', 'rules', 'peer-rules'],
  ['rules-calm / peer-rules-calm', 'rules-calm', 'peer-rules-calm'],
  ['rules-notick / peer-rules-notick', 'rules-notick', 'peer-rules-notick'],
  ['peer-rules / none', 'peer-rules', 'none'],
  ['peer-rules-calm / none-calm', 'peer-rules-calm', 'none-calm'],
  ['rules-calm / none', 'rules-calm', 'none'],
  ['peer-rules-calm / none', 'peer-rules-calm', 'none'],
] as [string, Variant, Variant][]) {
  if (!VARIANTS.includes(x) || !VARIANTS.includes(y)) continue;
  // paired: the two ran side by side over the same window (both orders of starting)
  const paired: number[] = [];
  for (const a of runs.filter((r) => r.variant === x)) {
    const b = runs.find((r) => r.variant === y && r.window === a.window);
    if (b) paired.push(perCpu(a) / perCpu(b));
  }
  if (!paired.length) continue;
  lines.push(`| ${label} | ${(median(of(x).map(perCpu)) / median(of(y).map(perCpu))).toFixed(3)} | ${spread(paired, 3)} |`);
}
process.stdout.write(`\n${lines.join('\n')}\n`);
saveResult(`rules-ingest-${N}`, { machine: info, symbols: N, rules: RULES, windowMs: WINDOW_MS, warmupMs: WARMUP_MS, calm: Number(values.calm), peerRoot: values['peer-root'], runs, lines });
process.exit(0);
