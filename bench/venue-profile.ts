// Where the market feeder spends its CPU on one venue (explains bench/venues.ts (a), docs/BENCHMARKS.md
// §15): the bundled feeder with --cpu-prof watching VENUE alone (SYMBOLS symbols, its L2 books as in
// bench/venues.ts) on that venue's local server, real InfluxDB, for SECONDS after WARMUP; then the
// functions with the most self and inclusive time, and CPU per thread. STEPS_PER_MIN raises the venue
// server's rate (the Kraken server rebuilds each minute from its first trade at every step: at several
// hundred steps a minute it cannot keep up). PROFILE=0: no profile; NODE_ARGS: more node flags (e.g.
// --trace-gc); KEEP_LOG: copy the feeder's log there. FLOOD=1: the venue's flood server instead
// (bench/venue-floods.ts, bench/replay.ts for Binance spot: as fast as the feeder drains, as
// bench/venue-ingest.ts measures it; spot then without L2 books, as there).
//
//   VENUE=kraken node --conditions=source --import tsx bench/venue-profile.ts
//   FLOOD=1 VENUE=kraken SECONDS=20 WARMUP=15 node --conditions=source --import tsx bench/venue-profile.ts
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { BinanceFake, BinanceFuturesFake, CoinbaseFake, KrakenFake, SERVICE_ENTRY, startInflux, unreachablePolledSources } from '@mt/testing';
import { bundleService, cpuSeconds, profileSummary, saveResult, sleep, startBundled } from './lib.js';
import { ReplayServer } from './replay.js';
import { CoinbaseFlood, KrakenFlood, futuresFlood } from './venue-floods.js';

const MINUTE = 60_000;
const VENUE = process.env.VENUE ?? 'kraken';
const N = Number(process.env.SYMBOLS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 45);
const WARMUP = Number(process.env.WARMUP ?? 20);
const STEPS = Number(process.env.STEPS_PER_MIN ?? 60);
const TOP = Number(process.env.TOP ?? 30);
const PROFILE = process.env.PROFILE !== '0';
const FLOOD = process.env.FLOOD === '1';
const BOOKS: Record<string, number> = { binance: FLOOD ? 0 : 7, 'binance-futures': FLOOD ? 7 : 0, coinbase: 7, kraken: 6 };
const BASES = 'BTC ETH SOL XRP ADA DOGE DOT LTC LINK AVAX ATOM UNI XLM ETC FIL AAVE ALGO NEAR APT ARB OP INJ SUI SEI TIA MKR SNX CRV COMP GRT SAND MANA AXS APE LDO RNDR FET IMX STX EGLD HBAR ICP VET QNT XTZ EOS KSM ZEC DASH BCH'.split(' ').slice(0, N);
const symbolOf: Record<string, (b: string) => string> = {
  binance: (b) => `${b}/USDT`,
  'binance-futures': (b) => `${b}/USDT:USDT`,
  coinbase: (b) => `${b}/USD`,
  kraken: (b) => `${b}/USD`,
};
if (!symbolOf[VENUE]) throw new Error(`VENUE one of ${Object.keys(symbolOf).join(', ')}`);

const common = { startTime: Math.floor(Date.now() / MINUTE) * MINUTE, candleMs: MINUTE, stepsPerCandle: STEPS, historyMinutes: 60, autoStart: false };
const usdt = BASES.map((b) => `${b}USDT`);
const fake: { wsUrl: string; restUrl: string; close(): Promise<void> } = FLOOD
  ? VENUE === 'binance'
    ? await new ReplayServer({ rate: 0 }).listen()
    : VENUE === 'binance-futures'
      ? await futuresFlood().listen()
      : VENUE === 'coinbase'
        ? await CoinbaseFlood.start(BASES.map((b) => `${b}-USD`))
        : await KrakenFlood.start(BASES.map((b) => `${b}/USD`))
  : VENUE === 'binance'
    ? await new BinanceFake({ ...common, symbols: usdt }).listen()
    : VENUE === 'binance-futures'
      ? await new BinanceFuturesFake({ ...common, symbols: usdt }).listen()
      : VENUE === 'coinbase'
        ? await new CoinbaseFake({ ...common, products: BASES.map((b) => `${b}-USD`) }).listen()
        : await new KrakenFake({ ...common, symbols: BASES.map((b) => `${b}/USD`) }).listen();
const stepMs = MINUTE / STEPS;
const stepped = fake as { now?(): number; advance?(): void };
const clock = setInterval(() => {
  if (!FLOOD) while (stepped.now!() + stepMs <= Date.now()) stepped.advance!();
}, 50);
const influx = await startInflux();
const key = VENUE === 'binance-futures' ? 'BINANCE_FUTURES' : VENUE.toUpperCase();
const env: Record<string, string> = {
  ...(await unreachablePolledSources()),
  INFLUX_URL: influx.url,
  INFLUX_API: 'v1',
  DATABASE_URL: '',
  LOG_LEVEL: 'warn',
  WATCH_SYMBOLS: BASES.map((b) => `${VENUE}:${symbolOf[VENUE]!(b)}:crypto`).join(','),
  DEPTH_BOOKS: BASES.slice(0, BOOKS[VENUE] ?? 0)
    .map((b) => `${VENUE}:${symbolOf[VENUE]!(b)}`)
    .join(','),
  [`${key}_WS_URL`]: fake.wsUrl,
  [`${key}_REST_URL`]: fake.restUrl,
  BACKFILL_HOURS: FLOOD ? '0' : '0.25',
};
const frames = () =>
  FLOOD ? (fake as unknown as { stats(): { sent: number } }).stats().sent : (fake as unknown as { connections: { framesSent: number }[] }).connections.reduce((s, c) => s + c.framesSent, 0);
const file = await bundleService(SERVICE_ENTRY['market-feeder']);
const t0 = Date.now();
const feeder = await startBundled(file, env, [...(PROFILE ? ['--cpu-prof', '--cpu-prof-interval', '250'] : []), ...(process.env.NODE_ARGS?.split(' ').filter(Boolean) ?? [])]);
let skipMs = 0;
let threads: string[] = [];
let f = 0;
let cpu = 0;
try {
  await sleep(WARMUP * 1000);
  skipMs = Date.now() - t0;
  const f0 = frames();
  const c0 = cpuSeconds(feeder.pid);
  const th0 = threadCpu(feeder.pid);
  await sleep(SECONDS * 1000);
  f = frames() - f0;
  cpu = cpuSeconds(feeder.pid) - c0;
  const th1 = threadCpu(feeder.pid);
  threads = [...th1].map(([k, v]) => `  ${k}: ${(v - (th0.get(k) ?? 0)).toFixed(2)} CPU-s`);
} finally {
  await feeder.stop();
  if (process.env.KEEP_LOG) copyFileSync(feeder.logFile, process.env.KEEP_LOG);
  clearInterval(clock);
  await fake.close();
  await influx.stop();
}
const lines = [`${VENUE}: ${(f / SECONDS).toFixed(0)} frames/s, ${cpu.toFixed(2)} CPU-s in ${SECONDS} s = ${(f / cpu).toFixed(0)} frames per CPU-second`, 'CPU per thread (/proc/<pid>/task):', ...threads, ...(PROFILE ? profileSummary(feeder.dir, TOP, skipMs) : [])];
process.stdout.write(`${lines.join('\n')}\n`);
saveResult(`venue-profile-${VENUE}`, { venue: VENUE, symbols: N, seconds: SECONDS, stepsPerMinute: STEPS, lines });
process.exit(0);

/** CPU seconds per thread (`main` = the JavaScript thread). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(') ') + 2).split(' ');
      const k = tid === String(pid) ? 'main' : `${name} ${tid}`;
      out.set(k, (out.get(k) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}
