// Ingest throughput, side by side in one run: frames/s consumed from the replay server in flood mode
// (it sends as fast as each client drains its socket) by
//   floor — a bare `ws` client that only JSON.parses (bench/clients/floor.ts),
//   peer  — ccxt pro binance watch* (bench/clients/ccxt.ts),
//   ours  — the real market feeder process writing to a real InfluxDB 1.x,
//   rules — the same feeder with 10 000 alert rules (20 per symbol, bench/rule-mix.ts, levels around each
//           symbol's price) loaded from a real PostgreSQL migrated by the watchlist API, firing to an
//           Alertmanager stand-in (with --clients …,rules; --rules sets the count),
// at 1, 50 and 500 symbols (4 streams each), interleaved over several rounds so machine load hits all alike.
//
//   npm run bench -- ingest            (or: node --conditions=source --import tsx bench/ingest.ts --rounds 3 --window 8)
//   rules vs none:  node --conditions=source --import tsx bench/ingest.ts --symbols 500 --clients ours,rules --rounds 5
import { parseArgs } from 'node:util';
import { HttpFake, metricValue, startInflux, startPostgres, startService, waitFor, type PostgresServer } from '@mt/testing';
import { forkClient, machine, measureWindow, median, saveResult, sleep, spread, type WindowResult } from './lib.js';
import { ReplayServer, benchSymbols, replayFeederEnv } from './replay.js';
import { ruleMixDatabase } from './rule-mix.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '8' },
    symbols: { type: 'string', default: '1,50,500' },
    clients: { type: 'string', default: 'floor,peer,ours' },
    rules: { type: 'string', default: '10000' },
  },
});
const ROUNDS = Number(values.rounds);
const WINDOW_MS = Number(values.window) * 1000;
const SIZES = values.symbols.split(',').map(Number);
const CLIENTS = values.clients.split(',') as Client[];
type Client = 'floor' | 'peer' | 'ours' | 'rules';
const RULES = Number(values.rules);

const replay = await new ReplayServer({ rate: 0 }).listen();
const influx = await startInflux();

// `rules`: one database per symbol count, migrated by the API, holding RULES rules spread over the symbols
let postgres: PostgresServer | undefined;
let alertmanager: HttpFake | undefined;
const ruleDbs = new Map<number, string>();
async function rulesDatabase(n: number): Promise<string> {
  const known = ruleDbs.get(n);
  if (known) return known;
  postgres ??= await startPostgres();
  const url = await ruleMixDatabase(postgres, `ingest_rules_${n}`, influx.url, benchSymbols(n), RULES, (s) => replay.priceOf(s));
  ruleDbs.set(n, url);
  return url;
}

interface Run extends Omit<WindowResult, 'from' | 'to'> {
  client: Client;
  symbols: number;
  round: number;
  loadavg: string;
}

async function measure(client: Client, n: number, round: number): Promise<Run> {
  let sample: () => Promise<{ frames: number; extra: Record<string, number> }>;
  let pid: number;
  let stop: () => Promise<unknown>;
  if (client === 'ours' || client === 'rules') {
    let over: Record<string, string> = {};
    if (client === 'rules') {
      alertmanager ??= await new HttpFake('alertmanager').route('POST', '/api/v2/alerts', () => ({ status: 200, body: '' })).listen();
      over = { DATABASE_URL: await rulesDatabase(n), ALERTMANAGER_URL: alertmanager.url };
    }
    const svc = await startService('market-feeder', await replayFeederEnv(replay, influx.url, n, over));
    if (client === 'rules') {
      const want = Math.min(RULES, Math.ceil(RULES / n) * n);
      await waitFor(async () => metricValue(await svc.metrics(), 'market_price_alert_rules') === want || undefined, 60_000, `${want} rules loaded`);
    }
    pid = svc.proc.child.pid!;
    stop = () => svc.stop();
    sample = async () => {
      const m = await svc.metrics();
      return {
        frames: metricValue(m, 'feeder_messages_total', { source: 'binance_ws' }),
        extra: {
          pointsWritten: metricValue(m, 'influx_points_written_total'),
          pointsDropped: metricValue(m, 'influx_points_dropped_total'),
          parseErrors: metricValue(m, 'feeder_parse_errors_total'),
          firings: metricValue(m, 'market_alert_firings_total'),
        },
      };
    };
  } else {
    const child = forkClient(client, replay.wsUrl, n);
    pid = child.pid;
    stop = () => child.stop();
    sample = async () => {
      const { frames, ...extra } = await child.sample();
      return { frames, extra };
    };
  }
  try {
    // warm-up: every stream subscribed, frames flowing, then 2 s more
    await waitFor(() => replay.stats().streams >= 4 * n, 60_000, `${client} subscribed to ${4 * n} streams`);
    await waitFor(async () => (await sample()).frames > 0, 30_000, `${client} receiving`);
    await sleep(2000);
    const w = await measureWindow(pid, WINDOW_MS, sample);
    return {
      client,
      symbols: n,
      round,
      framesPerSec: w.framesPerSec,
      clientCpu: w.clientCpu,
      serverCpu: w.serverCpu,
      loadavg: (await import('node:os')).loadavg()[0]!.toFixed(2),
      extra: w.extra,
    };
  } finally {
    await stop();
    await waitFor(() => replay.stats().connections === 0, 10_000, 'client gone').catch(() => {});
  }
}

const runs: Run[] = [];
const info = machine();
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const n of SIZES) {
      for (const client of CLIENTS) {
        const r = await measure(client, n, round);
        runs.push(r);
        process.stdout.write(
          `round ${round} ${n} symbols ${client}: ${Math.round(r.framesPerSec)} frames/s (client CPU ${(r.clientCpu * 100).toFixed(0)}%, replay CPU ${(r.serverCpu * 100).toFixed(0)}%, load ${r.loadavg}) ${JSON.stringify(r.extra)}\n`,
        );
      }
    }
  }
} finally {
  await replay.close();
  await Promise.allSettled([influx.stop(), postgres?.stop(), alertmanager?.close()]);
}

const rows: string[] = [
  `| symbols | floor (ws + JSON.parse) | peer (ccxt pro) | ours (feeder → InfluxDB) | ours + ${RULES} rules | ours / peer | ours / floor | with rules / without |`,
  '|---|---|---|---|---|---|---|---|',
];
/** frames/s, and frames per CPU-second of the client (less sensitive to how much CPU the shared machine left it) */
const metricsOf = {
  wall: (r: Run) => r.framesPerSec,
  cpu: (r: Run) => r.framesPerSec / r.clientCpu,
};
for (const [label, f] of Object.entries(metricsOf)) {
  rows.push(`| **${label === 'wall' ? 'frames/s' : 'frames per client CPU-second'}** | | | | | | | |`);
  for (const n of SIZES) {
    const of = (c: Client) => runs.filter((r) => r.symbols === n && r.client === c).map(f);
    const [fl, p, o, ru] = [of('floor'), of('peer'), of('ours'), of('rules')];
    const ratio = (a: number[], b: number[]) => (a.length && b.length ? (median(a) / median(b)).toFixed(2) : 'n/a');
    const cell = (xs: number[]) => (xs.length ? spread(xs) : 'n/a');
    rows.push(`| ${n} | ${cell(fl)} | ${cell(p)} | ${cell(o)} | ${cell(ru)} | ${ratio(o, p)} | ${ratio(o, fl)} | ${ratio(ru, o)} |`);
  }
}
const table = rows.join('\n');
process.stdout.write(`\n${table}\n`);
saveResult('ingest', { machine: info, windowMs: WINDOW_MS, runs, table });
process.exit(0);
