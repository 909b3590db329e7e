// Issue 16 "ingest per venue vs the bare-ws floor (≥ 0.5×)" at saturation, side by side in one run
// (docs/BENCHMARKS.md §15, "Saturated"): per venue a flood server (Binance spot: bench/replay.ts as §1;
// Binance USDⓈ-M, Coinbase, Kraken: bench/venue-floods.ts) sends as fast as the client drains, and
//   ours  — the real market feeder (bundled, plain node) watching that venue alone (SYMBOLS symbols and
//           its L2 books as in bench/venues.ts), writing to a real InfluxDB 1.x, counted by its own
//           feeder_messages_total; after each run the points it stored in the window are counted in
//           InfluxDB, and its bad-frame, gap, resync and dropped-point counters are kept;
//   floor — a bare `ws` client that opens the feeder's own connections again (URL + its subscribe
//           messages, bench/clients/replay-floor.ts) and only JSON.parses each frame;
// each measured over WINDOW s after the subscriptions settled and WARMUP s more, in alternating order
// per round (round 1 starts with ours: the floor needs the feeder's subscriptions), ROUNDS rounds.
// Reported: frames/s and frames per client CPU-second (/proc), medians with spreads, ours / floor.
// --before-bundle <file>: a feeder bundle of other code (bench/lib.ts bundleService, e.g. before a change)
// run in each round as `before` beside ours (order: ours, before, floor; reversed every other round).
//
//   node --conditions=source --import tsx bench/venue-ingest.ts --rounds 3 --window 8
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVICE_ENTRY, metricValue, startInflux, tmpDir, unreachablePolledSources, waitFor } from '@mt/testing';
import { BENCH_DIR, bundleService, machine, measureWindow, median, saveResult, sleep, spread, startBundled, type WindowResult, type WindowSample } from './lib.js';
import { ReplayServer } from './replay.js';
import { CoinbaseFlood, KrakenFlood, futuresFlood, VENUE_BASES } from './venue-floods.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    symbols: { type: 'string', default: '50' },
    venues: { type: 'string', default: 'binance,binance-futures,coinbase,kraken' },
    'before-bundle': { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const WINDOW_MS = Number(values.window) * 1000;
const WARMUP_MS = Number(values.warmup) * 1000;
const N = Number(values.symbols);
type Venue = 'binance' | 'binance-futures' | 'coinbase' | 'kraken';
const VENUES = values.venues.split(',') as Venue[];
const bases = VENUE_BASES.slice(0, N);
if (bases.length < N) throw new Error(`--symbols ≤ ${VENUE_BASES.length}`);

interface Flood {
  wsUrl: string;
  restUrl: string;
  stats(): { connections: number; streams: number; sent: number };
  openConnections(): { url: string; send: string[] }[];
  close(): Promise<void>;
}

interface VenueSetup {
  flood: Flood;
  /** feeder_messages_total's `source` */
  source: string;
  env: Record<string, string>;
}

/** L2 books per venue, as bench/venues.ts; Binance spot as §1 (top of book only: the replay has no diff stream). */
const BOOKS: Record<Venue, number> = { binance: 0, 'binance-futures': 7, coinbase: 7, kraken: 6 };
const symbolOf: Record<Venue, (b: string) => string> = {
  binance: (b) => `${b}/USDT`,
  'binance-futures': (b) => `${b}/USDT:USDT`,
  coinbase: (b) => `${b}/USD`,
  kraken: (b) => `${b}/USD`,
};

async function setup(v: Venue): Promise<VenueSetup> {
  const key = v === 'binance-futures' ? 'BINANCE_FUTURES' : v.toUpperCase();
  let flood: Flood;
  if (v === 'binance') flood = await new ReplayServer({ rate: 0 }).listen();
  else if (v === 'binance-futures') flood = await futuresFlood().listen();
  else if (v === 'coinbase') flood = await CoinbaseFlood.start(bases.map((b) => `${b}-USD`));
  else flood = await KrakenFlood.start(bases.map((b) => `${b}/USD`));
  const env = {
    WATCH_SYMBOLS: bases.map((b) => `${v}:${symbolOf[v](b)}:crypto`).join(','),
    DEPTH_BOOKS: bases
      .slice(0, BOOKS[v])
      .map((b) => `${v}:${symbolOf[v](b)}`)
      .join(','),
    [`${key}_WS_URL`]: flood.wsUrl,
    [`${key}_REST_URL`]: flood.restUrl,
  };
  return { flood, source: `${v.replace('-', '_')}_ws`, env };
}

interface Run extends WindowResult {
  venue: Venue;
  client: 'ours' | 'before' | 'floor';
  round: number;
  loadavg: string;
}

/** Wait until the flood's subscribed stream count stops changing (every subscribe message answered). */
async function settled(f: Flood, what: string): Promise<void> {
  await waitFor(() => f.stats().streams > 0 || undefined, 60_000, `${what} subscribed`);
  let last = -1;
  let same = 0;
  await waitFor(
    () => {
      const n = f.stats().streams;
      same = n === last ? same + 1 : 0;
      last = n;
      return same >= 5 || undefined;
    },
    60_000,
    `${what} subscriptions settled`,
    200,
  );
}

async function window(pid: number, sample: () => Promise<WindowSample>) {
  await sleep(WARMUP_MS);
  return measureWindow(pid, WINDOW_MS, sample);
}

const influx = await startInflux();
const base = { ...(await unreachablePolledSources()), INFLUX_URL: influx.url, INFLUX_API: 'v1', DATABASE_URL: '', LOG_LEVEL: 'warn', BACKFILL_HOURS: '0' };
const file = await bundleService(SERVICE_ENTRY['market-feeder']);
const setups = new Map<Venue, VenueSetup>();
/** The feeder's connections per venue (its last run), for the floor. */
const subs = new Map<Venue, { venue: Venue; url: string; send: string[]; gapMs: number }[]>();

async function ours(v: Venue, round: number, client: 'ours' | 'before' = 'ours'): Promise<Run> {
  const s = setups.get(v)!;
  const svc = await startBundled(client === 'before' ? values['before-bundle']! : file, { ...base, ...s.env });
  const counters = ['feeder_parse_errors_total', 'market_gaps_detected_total', 'market_book_resyncs_total', 'market_events_rejected_total', 'influx_points_written_total', 'influx_points_dropped_total'];
  let r: Awaited<ReturnType<typeof window>>;
  try {
    await settled(s.flood, `${v} feeder`);
    r = await window(svc.pid, async () => {
      const m = await svc.metrics();
      const extra: Record<string, number> = {};
      for (const c of counters) extra[c.replace(/_total$/, '')] = metricValue(m, c);
      return { frames: metricValue(m, 'feeder_messages_total', { source: s.source }), extra };
    });
    subs.set(
      v,
      s.flood.openConnections().map((c) => ({ venue: v, ...c, gapMs: 20 })),
    );
  } finally {
    await svc.stop();
    await waitFor(() => s.flood.stats().connections === 0 || undefined, 10_000, 'feeder gone').catch(() => {});
  }
  // what it stored in the window (the feeder flushes on SIGTERM)
  const q = async (sql: string) => Number(((await influx.query(sql, 'markets')).results[0]?.series?.[0]?.values?.[0] as unknown[] | undefined)?.[1] ?? 0);
  const where = `"exchange" = '${v}' AND time >= ${r.from}ms AND time < ${r.to}ms`;
  r.extra.storedTicks = await q(`SELECT count("price") FROM "market_data" WHERE ${where}`);
  r.extra.storedBooks = await q(`SELECT count("best_bid") FROM "order_book" WHERE ${where}`);
  r.extra.storedDepthBooks = await q(`SELECT count("bid_depth_1pct") FROM "order_book" WHERE ${where}`);
  return { venue: v, client, round, ...r, loadavg: os.loadavg()[0]!.toFixed(2) };
}

async function floor(v: Venue, round: number): Promise<Run> {
  const s = setups.get(v)!;
  const conns = subs.get(v)!;
  const subsFile = path.join(tmpDir('bench-venue-ingest'), 'subs.json');
  writeFileSync(subsFile, JSON.stringify(conns));
  const child = fork(path.join(BENCH_DIR, 'clients', 'replay-floor.ts'), [subsFile], { execArgv: ['--conditions=source', '--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const sample = () => new Promise<Record<string, number>>((res) => (child.once('message', (m: Record<string, number>) => res(m)), child.send('sample')));
    await settled(s.flood, `${v} floor`);
    const r = await window(child.pid!, async () => ({ frames: (await sample())[v] ?? 0, extra: {} }));
    return { venue: v, client: 'floor', round, ...r, loadavg: os.loadavg()[0]!.toFixed(2) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((res) => (child.exitCode !== null ? res(null) : child.once('exit', res)));
    await waitFor(() => s.flood.stats().connections === 0 || undefined, 10_000, 'floor gone').catch(() => {});
  }
}

const runs: Run[] = [];
const info = machine();
const uptime = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = uptime();
try {
  for (const v of VENUES) setups.set(v, await setup(v));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of VENUES) {
      const order: Run['client'][] = values['before-bundle'] ? ['ours', 'before', 'floor'] : ['ours', 'floor'];
      for (const client of round % 2 === 1 ? order : order.reverse()) {
        const r = client === 'floor' ? await floor(v, round) : await ours(v, round, client);
        runs.push(r);
        process.stdout.write(
          `round ${round} ${v} ${client}: ${Math.round(r.framesPerSec)} frames/s, client CPU ${(r.clientCpu * 100).toFixed(0)}%, floods CPU ${(r.serverCpu * 100).toFixed(0)}%, load ${r.loadavg} ${JSON.stringify(r.extra)}\n`,
        );
      }
    }
  }
} finally {
  for (const s of setups.values()) await s.flood.close();
  await influx.stop();
}

const withBefore = runs.some((r) => r.client === 'before');
const rows = [
  `| venue | floor frames/s | ours frames/s | ours / floor | floor frames per CPU-s | ours frames per CPU-s | ours / floor per CPU-s (per round) |${withBefore ? ' before frames per CPU-s | before / floor per CPU-s | ours / before per CPU-s |' : ''}`,
  `|---|---|---|---|---|---|---|${withBefore ? '---|---|---|' : ''}`,
];
for (const v of VENUES) {
  const of = (c: Run['client'], f: (r: Run) => number) => runs.filter((r) => r.venue === v && r.client === c).map(f);
  const wall = (r: Run) => r.framesPerSec;
  const cpu = (r: Run) => r.framesPerSec / r.clientCpu;
  const perRound = [...new Set(runs.map((r) => r.round))].map((rd) => {
    const o = runs.find((r) => r.venue === v && r.round === rd && r.client === 'ours');
    const f = runs.find((r) => r.venue === v && r.round === rd && r.client === 'floor');
    return o && f ? cpu(o) / cpu(f) : NaN;
  });
  const ratio = (f: (r: Run) => number) => (median(of('ours', f)) / median(of('floor', f))).toFixed(2);
  const before = withBefore ? ` ${spread(of('before', cpu))} | ${(median(of('before', cpu)) / median(of('floor', cpu))).toFixed(2)} | ${(median(of('ours', cpu)) / median(of('before', cpu))).toFixed(2)} |` : '';
  rows.push(
    `| ${v} | ${spread(of('floor', wall))} | ${spread(of('ours', wall))} | ${ratio(wall)} | ${spread(of('floor', cpu))} | ${spread(of('ours', cpu))} | **${ratio(cpu)}** (${perRound.map((x) => x.toFixed(2)).join(', ')}) |${before}`,
  );
}
const table = rows.join('\n');
process.stdout.write(`\nload before: ${loadBefore}, after: ${uptime()}\n${table}\n`);
saveResult('venue-ingest', { machine: info, loadBefore, loadAfter: uptime(), symbols: N, windowMs: WINDOW_MS, warmupMs: WARMUP_MS, runs, table });
process.exit(0);
