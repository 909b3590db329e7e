// The long InfluxDB outage, as a script (minutes of real time do not fit CI): the market feeder as a real
// process at full rate (16 symbols, a simulated 1-minute candle every 100 ms) while the real InfluxDB 1.x
// is stopped for OUTAGE_SECONDS (default 300). Checks, then prints one JSON line for docs/RELIABILITY.md:
// every candle the exchange closed is stored exactly once with its values, nothing dropped, and how the
// backlog and the process memory grew (bytes per buffered point → memory at the 500 000-point bound).
// Run: npm run reliability   (OUTAGE_SECONDS=30 for a quick run)
import { metricValue, startInflux, startService, waitFor } from '@mt/testing';
import { readFileSync } from 'node:fs';
import { MINUTE, binanceFake, eventuallyGapFree, feederEnv, lastStored } from './test/helpers.js';

const OUTAGE_S = Number(process.env.OUTAGE_SECONDS ?? 300);
const SYMBOLS = ['BTC', 'ETH', 'BNB', 'SOL', 'XRP', 'ADA', 'DOGE', 'LTC', 'DOT', 'LINK', 'TRX', 'AVAX', 'ATOM', 'XLM', 'ETC', 'BCH'].map((s) => `${s}/USDT`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const influx = await startInflux();
const fake = await binanceFake(SYMBOLS, { candleMs: 100, historyMinutes: 60 });
const feeder = await startService('market-feeder', await feederEnv(influx, fake, SYMBOLS));
const metric = async (name: string) => metricValue(await feeder.metrics(), name);
let failed = false;
try {
  for (const s of SYMBOLS) await waitFor(async () => (await lastStored(influx, s)) > fake.historyStart(), 60_000, `${s} stored`);
  await waitFor(async () => (await metric('influx_buffer_points')) < 1000, 60_000, 'steady state');
  const pid = feeder.proc.child.pid!;
  const baseRss = rssMb(pid);
  const written0 = await metric('influx_points_written_total');
  const from = fake.lastClosedOpenTime();
  const t0 = Date.now();
  await influx.stop();
  const samples: { s: number; buffered: number; rssMb: number }[] = [];
  while (Date.now() - t0 < OUTAGE_S * 1000) {
    await sleep(5000);
    samples.push({ s: Math.round((Date.now() - t0) / 1000), buffered: await metric('influx_buffer_points'), rssMb: Math.round(rssMb(pid)) });
  }
  await influx.start();
  const tUp = Date.now();
  // drained = back to the steady state (points keep arriving: a second or two of them is always queued)
  await waitFor(async () => (await metric('influx_buffer_points')) < 1000, 300_000, 'drained after the outage', 500);
  const drainS = (Date.now() - tUp) / 1000;
  const target = fake.lastClosedOpenTime() + MINUTE;
  for (const s of SYMBOLS) await waitFor(async () => (await lastStored(influx, s)) >= target, 60_000, `${s} caught up`);
  await eventuallyGapFree(influx, fake, SYMBOLS, target);
  const maxBuffered = Math.max(...samples.map((x) => x.buffered));
  const maxRss = Math.max(...samples.map((x) => x.rssMb));
  const dropped = await metric('influx_points_dropped_total');
  const result = {
    scenario: 'influx-down-long',
    outageSeconds: OUTAGE_S,
    symbols: SYMBOLS.length,
    simulatedMinutes: (target - from) / MINUTE,
    candlesCompared: SYMBOLS.length * ((target - from) / MINUTE),
    maxBufferedPoints: maxBuffered,
    pointsPerSecond: Math.round(maxBuffered / OUTAGE_S),
    written: (await metric('influx_points_written_total')) - written0,
    dropped,
    drainSeconds: drainS,
    rssBaseMb: Math.round(baseRss),
    rssMaxMb: maxRss,
    bytesPerBufferedPoint: Math.round(((maxRss - baseRss) * 1024 * 1024) / Math.max(1, maxBuffered)),
    samples,
  };
  if (dropped !== 0) throw new Error(`${dropped} points dropped`);
  console.log(JSON.stringify(result));
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await feeder.kill();
  await fake.close();
  await influx.stop();
}
process.exit(failed ? 1 : 0);
