// Issue 16 "Measured", side by side in one run: the real market feeder (bundled, plain node) against the
// four local venue servers (testing/src/fakes) and a real InfluxDB 1.x, WATCH_SYMBOLS = 4 venues × N
// symbols, DEPTH_BOOKS = 20 L2 books (binance, coinbase, kraken). Measured:
//  (c) feeder RSS from /proc (max and end), goal < 200 MB;
//  (b) book update sent → its order_book row queryable: InfluxDB polled every POLL_MS for depth rows
//      (bid_depth_1pct set = a maintained L2 book); latency = end of the first query returning the row −
//      the wall time the fake sent the step whose exchange time the row carries (an upper bound by ≤ one
//      poll); goal p99 < 1.5 s;
//  (a) frames the venues sent to the feeder per feeder CPU-second, per venue, against a floor: afterwards
//      a bare `ws` client that replays the feeder's own subscribe messages on the same fakes and only
//      JSON.parses (same streams, same rate, feeder stopped), frames per its CPU-second; goal ≥ 0.5×; then
//      the same per venue, the feeder watching that venue alone (one process cannot split its CPU by venue).
// The fakes run on the real clock (1 simulated minute = 60 s) with STEPS_PER_MIN market steps a minute
// per symbol, driven from here so each step's exchange time is its send time.
// Env: SYMBOLS (per venue, 50), SECONDS (measured, 180), WARMUP (s, 30), FLOOR_SECONDS (30), STEPS_PER_MIN (60), POLL_MS (250),
// ALONE_SECONDS (45; 0 = no per-venue runs), ALONE_ROUNDS (1), ALONE_VENUES (all four, comma-separated),
// BEFORE_BUNDLE (a second feeder bundle run beside this code's in each per-venue round: before/after a
// change side by side). SECONDS=0 skips the four-venue run (per-venue runs only). BOOKS: L2 books per venue
// (`binance:7,coinbase:7,kraken:6`; e.g. `binance-futures:7` for the USDⓈ-M book → stored latency).
import { execFileSync, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BinanceFake, BinanceFuturesFake, CoinbaseFake, KrakenFake, SERVICE_ENTRY, startInflux, tmpDir, unreachablePolledSources, type InfluxServer } from '@mt/testing';
import { BENCH_DIR, bundleService, cpuSeconds, machine, percentile, rssMiB, saveResult, sleep, startBundled, type BundledService } from './lib.js';

const MINUTE = 60_000;
const N = Number(process.env.SYMBOLS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 180);
const WARMUP = Number(process.env.WARMUP ?? 30);
const FLOOR_SECONDS = Number(process.env.FLOOR_SECONDS ?? 30);
const STEPS = Number(process.env.STEPS_PER_MIN ?? 60);
const POLL_MS = Number(process.env.POLL_MS ?? 250);
const ALONE_SECONDS = Number(process.env.ALONE_SECONDS ?? 45);
const ALONE_ROUNDS = Number(process.env.ALONE_ROUNDS ?? 1);
const ALONE_VENUES = (process.env.ALONE_VENUES ?? 'binance,binance-futures,coinbase,kraken').split(',');
const BEFORE_BUNDLE = process.env.BEFORE_BUNDLE;
const BOOKS = Object.fromEntries((process.env.BOOKS ?? 'binance:7,coinbase:7,kraken:6').split(',').map((e) => [e.split(':')[0]!, Number(e.split(':')[1])])) as Partial<Record<Venue, number>>;

// 50 real base assets; quote USDT on Binance (spot, perpetuals), USD on Coinbase and Kraken
const BASES = (
  'BTC ETH SOL XRP ADA DOGE DOT LTC LINK AVAX ATOM UNI XLM ETC FIL AAVE ALGO NEAR APT ARB OP INJ SUI SEI TIA ' +
  'MKR SNX CRV COMP GRT SAND MANA AXS APE LDO RNDR FET IMX STX EGLD HBAR ICP VET QNT XTZ EOS KSM ZEC DASH BCH'
).split(' ');
if (N > BASES.length) throw new Error(`SYMBOLS ≤ ${BASES.length}`);
const bases = BASES.slice(0, N);

type Venue = 'binance' | 'binance-futures' | 'coinbase' | 'kraken';
const symbolOf: Record<Venue, (b: string) => string> = {
  binance: (b) => `${b}/USDT`,
  'binance-futures': (b) => `${b}/USDT:USDT`,
  coinbase: (b) => `${b}/USD`,
  kraken: (b) => `${b}/USD`,
};

interface Fake {
  now(): number;
  advance(): void;
  close(): Promise<void>;
}

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

async function main(): Promise<void> {
  const startTime = Math.floor(Date.now() / MINUTE) * MINUTE;
  const common = { startTime, candleMs: MINUTE, stepsPerCandle: STEPS, historyMinutes: 60, autoStart: false };
  const usdt = bases.map((b) => `${b}USDT`);
  const influx: InfluxServer = await startInflux();
  const fakes = {
    binance: await new BinanceFake({ ...common, symbols: usdt }).listen(),
    'binance-futures': await new BinanceFuturesFake({ ...common, symbols: usdt }).listen(),
    coinbase: await new CoinbaseFake({ ...common, products: bases.map((b) => `${b}-USD`) }).listen(),
    kraken: await new KrakenFake({ ...common, symbols: bases.map((b) => `${b}/USD`) }).listen(),
  } satisfies Record<Venue, Fake>;
  const venues = Object.keys(fakes) as Venue[];

  // the market clock: each fake steps when its exchange time falls behind the wall clock; the send
  // time of every step is kept by its exchange time (the timestamp the book row will carry)
  const sentAt = new Map<string, number>();
  const stepMs = MINUTE / STEPS;
  const drive = () => {
    for (const v of venues) {
      const f: Fake = fakes[v];
      while (f.now() + stepMs <= Date.now()) {
        f.advance();
        sentAt.set(`${v}@${f.now()}`, Date.now());
      }
    }
  };
  drive();
  const clock = setInterval(drive, 50);

  const depth = (Object.keys(BOOKS) as Venue[]).flatMap((v) => bases.slice(0, BOOKS[v]).map((b) => `${v}:${symbolOf[v](b)}`));
  const dead = await unreachablePolledSources();
  const env: Record<string, string> = {
    ...dead,
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    DATABASE_URL: '',
    LOG_LEVEL: 'warn',
    WATCH_SYMBOLS: venues.flatMap((v) => bases.map((b) => `${v}:${symbolOf[v](b)}:crypto`)).join(','),
    DEPTH_BOOKS: depth.join(','),
    BINANCE_WS_URL: fakes.binance.wsUrl,
    BINANCE_REST_URL: fakes.binance.restUrl,
    BINANCE_FUTURES_WS_URL: fakes['binance-futures'].wsUrl,
    BINANCE_FUTURES_REST_URL: fakes['binance-futures'].restUrl,
    COINBASE_WS_URL: fakes.coinbase.wsUrl,
    COINBASE_REST_URL: fakes.coinbase.restUrl,
    KRAKEN_WS_URL: fakes.kraken.wsUrl,
    KRAKEN_REST_URL: fakes.kraken.restUrl,
    BACKFILL_HOURS: '0.25',
  };
  const file = await bundleService(SERVICE_ENTRY['market-feeder']);
  const loadBefore = uptime();
  const t0 = Date.now();
  let feeder: BundledService | undefined = SECONDS > 0 ? await startBundled(file, env) : undefined;
  const rss: number[] = [];
  const sampleRss = setInterval(() => feeder && rss.push(rssMiB(feeder.pid)), 1000);
  try {
    let result: Record<string, unknown> = { machine: machine(), loadBefore, config: { symbolsPerVenue: N, depthBooks: depth, stepsPerMinute: STEPS, aloneSeconds: ALONE_SECONDS, floorSeconds: FLOOR_SECONDS } };
    if (feeder) {
      await sleep(WARMUP * 1000);
      // measured window
      const frames0 = framesByVenue(fakes);
      const cpu0 = cpuSeconds(feeder.pid);
      const mStart = Date.now();
      const lat: Record<string, number[]> = {};
      const seen = new Set<string>();
      let unmatched = 0;
      let first = true;
      while (Date.now() - mStart < SECONDS * 1000) {
        const t = Date.now();
        const res = await influx.query('SELECT "bid_depth_1pct" FROM "order_book" WHERE time > now() - 20s GROUP BY "exchange", "symbol"', 'markets');
        const at = Date.now();
        for (const s of (res.results[0]?.series ?? []) as { tags?: Record<string, string>; values: unknown[][] }[]) {
          const ex = s.tags?.exchange ?? '?';
          for (const [time, d] of s.values) {
            const key = `${ex}|${s.tags?.symbol}|${time}`;
            if (d === null || seen.has(key)) continue;
            seen.add(key);
            if (first || (time as number) < mStart) continue;
            const sent = sentAt.get(`${ex}@${time}`);
            if (sent === undefined) unmatched++;
            (lat[ex] ??= []).push(at - (sent ?? (time as number)));
          }
        }
        first = false;
        await sleep(Math.max(0, POLL_MS - (Date.now() - t)));
      }
      const mEnd = Date.now();
      const cpu = cpuSeconds(feeder.pid) - cpu0;
      const frames1 = framesByVenue(fakes);
      const rssEnd = rssMiB(feeder.pid);
      const metrics = await feeder.metrics();
      // every depth row of the window, to count those the polling never saw within 20 s
      const all = await influx.query(`SELECT count("bid_depth_1pct") FROM "order_book" WHERE time >= ${mStart}ms AND time < ${mEnd - 20_000}ms GROUP BY "exchange"`, 'markets');
      const stored: Record<string, number> = {};
      for (const s of (all.results[0]?.series ?? []) as { tags?: Record<string, string>; values: unknown[][] }[]) stored[s.tags?.exchange ?? '?'] = Number(s.values[0]?.[1] ?? 0);
      const seenInWindow = (ex: string) => [...seen].filter((k) => k.startsWith(`${ex}|`) && Number(k.split('|')[2]) >= mStart && Number(k.split('|')[2]) < mEnd - 20_000).length;
      const loadDuring = uptime();
      const subs = subscriptions(fakes);
      clearInterval(sampleRss);
      await feeder.stop();
      feeder = undefined;

      // the floor: the feeder's own subscriptions replayed by a bare ws + JSON.parse client, same fakes, same clock
      const { f0, f1, cpu: floorCpu } = await floor(subs, FLOOR_SECONDS);

      const p = (xs: number[] | undefined, q: number) => (xs?.length ? percentile(xs, q) : NaN);
      const allLat = Object.values(lat).flat();
      const rows = venues.map((v) => {
        const fr = frames1[v] - frames0[v];
        const floorFrames = (f1[v] ?? 0) - (f0[v] ?? 0);
        return {
          venue: v,
          framesPerSec: fr / ((mEnd - mStart) / 1000),
          floorFramesPerSec: floorFrames / FLOOR_SECONDS,
          bookRows: lat[v]?.length ?? 0,
          storedRows: stored[v] ?? 0,
          seenByPolling: seenInWindow(v),
          p50: p(lat[v], 50),
          p99: p(lat[v], 99),
        };
      });
      const totalFrames = venues.reduce((s, v) => s + frames1[v] - frames0[v], 0);
      const floorTotal = venues.reduce((s, v) => s + (f1[v] ?? 0) - (f0[v] ?? 0), 0);
      result = {
        machine: machine(),
        loadBefore,
        loadDuring,
        config: { symbolsPerVenue: N, depthBooks: depth, seconds: SECONDS, warmup: WARMUP, floorSeconds: FLOOR_SECONDS, stepsPerMinute: STEPS, pollMs: POLL_MS },
        rss: { maxMiB: Math.max(...rss), endMiB: rssEnd, samples: rss.length, startupSeconds: (mStart - t0) / 1000 },
        latency: { p50: p(allLat, 50), p99: p(allLat, 99), max: Math.max(...allLat), n: allLat.length, unmatchedSendTime: unmatched },
        ingest: {
          feederCpuSeconds: cpu,
          feederFramesPerCpuSecond: totalFrames / cpu,
          floorCpuSeconds: floorCpu,
          floorFramesPerCpuSecond: floorTotal / floorCpu,
          ratio: totalFrames / cpu / (floorTotal / floorCpu),
          feederCpuShare: cpu / ((mEnd - mStart) / 1000),
        },
        venues: rows,
        feederMetrics: metrics.split('\n').filter((l) => /^market_(points_total|events_rejected_total|component_errors_total|watch_items)/.test(l)),
      };
    }
    // (a) per venue: the feeder alone on one venue, then the floor on that venue's subscriptions
    // With BEFORE_BUNDLE (a bundle of the feeder built from other code, e.g. the main branch before a
    // change), each round runs both bundles on the venue, in alternating order, before the floor.
    const bundles: { code: string; file: string }[] = [{ code: 'this', file }, ...(BEFORE_BUNDLE ? [{ code: 'before', file: BEFORE_BUNDLE }] : [])];
    const alone: Record<string, unknown>[] = [];
    for (const v of ALONE_SECONDS > 0 ? venues.filter((x) => ALONE_VENUES.includes(x)) : []) {
      const only = (list: string) => list.split(',').filter((x) => x.startsWith(`${v}:`)).join(',');
      for (let round = 0; round < ALONE_ROUNDS; round++) {
        const load = uptime();
        const feeders: { code: string; fr: number; c: number }[] = [];
        let vsubs: ReturnType<typeof subscriptions> = [];
        for (const b of round % 2 ? [...bundles].reverse() : bundles) {
          const svc = await startBundled(b.file, { ...env, WATCH_SYMBOLS: only(env.WATCH_SYMBOLS!), DEPTH_BOOKS: only(env.DEPTH_BOOKS!) });
          try {
            await sleep(20_000);
            const a0 = framesByVenue(fakes)[v];
            const c0 = cpuSeconds(svc.pid);
            await sleep(ALONE_SECONDS * 1000);
            feeders.push({ code: b.code, fr: framesByVenue(fakes)[v] - a0, c: cpuSeconds(svc.pid) - c0 });
            vsubs = subscriptions(fakes).filter((x) => x.venue === v);
          } finally {
            await svc.stop();
          }
        }
        const fl = await floor(vsubs, FLOOR_SECONDS);
        const flFrames = (fl.f1[v] ?? 0) - (fl.f0[v] ?? 0);
        const floorPerCpu = flFrames / fl.cpu;
        for (const { code, fr, c } of feeders) {
          const row = { venue: v, round, code, load, feederFramesPerSec: fr / ALONE_SECONDS, feederCpu: c, feederFramesPerCpuSecond: fr / c, floorFramesPerSec: flFrames / FLOOR_SECONDS, floorCpu: fl.cpu, floorFramesPerCpuSecond: floorPerCpu, ratio: fr / c / floorPerCpu };
          console.log(JSON.stringify(row));
          alone.push(row);
        }
      }
    }
    Object.assign(result, { alone, loadEnd: uptime() });
    saveResult('venues', result);
    console.log(JSON.stringify({ ...result, machine: undefined }, null, 1));
  } finally {
    clearInterval(sampleRss);
    clearInterval(clock);
    await feeder?.stop();
    for (const f of Object.values(fakes)) await f.close();
    await influx.stop();
  }
}

/** The floor client on `subs` for `seconds` (after 10 s to subscribe): its frames per venue at both ends and its CPU seconds. */
async function floor(subs: ReturnType<typeof subscriptions>, seconds: number): Promise<{ f0: Record<string, number>; f1: Record<string, number>; cpu: number }> {
  const subsFile = path.join(tmpDir('bench-venues'), 'subs.json');
  writeFileSync(subsFile, JSON.stringify(subs));
  const child = fork(path.join(BENCH_DIR, 'clients', 'replay-floor.ts'), [subsFile], { execArgv: ['--conditions=source', '--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const sample = () => new Promise<Record<string, number>>((r) => (child.once('message', (m: Record<string, number>) => r(m)), child.send('sample')));
    await sleep(10_000);
    const f0 = await sample();
    const c0 = cpuSeconds(child.pid!);
    await sleep(seconds * 1000);
    const f1 = await sample();
    return { f0, f1, cpu: cpuSeconds(child.pid!) - c0 };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

function framesByVenue(f: { binance: BinanceFake; 'binance-futures': BinanceFuturesFake; coinbase: CoinbaseFake; kraken: KrakenFake }): Record<Venue, number> {
  const sum = (cs: { framesSent: number }[]) => cs.reduce((s, c) => s + c.framesSent, 0);
  return {
    binance: sum(f.binance.connections),
    'binance-futures': sum(f['binance-futures'].connections),
    coinbase: sum(f.coinbase.connections),
    kraken: sum(f.kraken.connections),
  };
}

/** Per still-open feeder connection: its URL and the subscribe messages it sent, to be replayed by the floor. */
function subscriptions(f: { binance: BinanceFake; 'binance-futures': BinanceFuturesFake; coinbase: CoinbaseFake; kraken: KrakenFake }): { venue: Venue; url: string; send: string[] }[] {
  const open = <C extends { closedAt?: number }>(cs: C[]) => cs.filter((c) => c.closedAt === undefined);
  const isSub = (raw: string) => /subscribe/i.test(raw) && !/unsubscribe/i.test(raw);
  const base = (u: string) => u.replace(/\/(stream|ws)$/, '');
  return [
    ...open(f.binance.connections).map((c) => ({ venue: 'binance' as const, url: `${base(f.binance.wsUrl)}${c.url}`, send: c.control.map((m) => m.raw).filter(isSub) })),
    ...open(f['binance-futures'].connections).map((c) => ({ venue: 'binance-futures' as const, url: `${base(f['binance-futures'].wsUrl)}${c.url}`, send: c.control.map((m) => m.raw).filter(isSub) })),
    ...open(f.coinbase.connections).map((c) => ({ venue: 'coinbase' as const, url: f.coinbase.wsUrl, send: c.inbound.map((m) => m.raw).filter(isSub) })),
    ...open(f.kraken.connections).map((c) => ({ venue: 'kraken' as const, url: f.kraken.wsUrl, send: c.control.map((m) => m.raw).filter(isSub) })),
  ];
}

await main();
