// The Grafana Live sink alone, in one process, to split its CPU cost (docs/BENCHMARKS.md §10): 500 symbols
// × 10 ticks/s (trade, 24 h ticker, book in turn, as the replay server sends them) handed to the sink,
// pushed to a minimal HTTP server in another process (its CPU is not counted). Side by side, alternating:
//   floor — the same ticks made, no sink;  lines — the sink with its HTTP request stubbed out (tick,
//   coalescing, line rendering);  flush N — the full sink pushing every N ms (GRAFANA_LIVE_FLUSH_MS);
//   peer N — with --peer, another version's sink module (before/after in the same run), same cadence.
// The difference per request and per line says where a Live line's cost is.
//   node --conditions=source --import tsx bench/live-sink.ts --rounds 2 --seconds 10 --flush 25,50,100,200
//   (--peer: e.g. `git archive <rev> | tar -x -C /tmp/before && ln -s $PWD/node_modules /tmp/before/`,
//    then --peer /tmp/before/feeders/src/market/live/index.ts)
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { GrafanaLiveSink } from '../feeders/src/market/live/index.js';
import type { MarketTick } from '../feeders/src/market/types.js';
import { median, sleep, spread } from './lib.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, seconds: { type: 'string', default: '10' }, flush: { type: 'string', default: '25,50,100,200' }, peer: { type: 'string' } },
});
type SinkClass = typeof GrafanaLiveSink;
const Peer: SinkClass | undefined = values.peer ? ((await import(path.resolve(values.peer))) as { GrafanaLiveSink: SinkClass }).GrafanaLiveSink : undefined;
const server = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.writeHead(200,{'content-length':0}).end())}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((r) => server.stdout!.once('data', (d) => r(Number(String(d)))));
const symbols = Array.from({ length: 500 }, (_, i) => `S${i}/USDT`);

async function run(mode: string): Promise<{ cpu: number; requests: number; lines: number }> {
  const [kind, ms] = mode.split(' ') as [string, string | undefined];
  const Sink = kind === 'peer' ? Peer! : GrafanaLiveSink;
  // the peer may name its cadence minGapMs (before GRAFANA_LIVE_FLUSH_MS)
  const cadence = ms === undefined ? 50 : Number(ms);
  const sink = kind === 'floor' ? undefined : new Sink({ url: `http://127.0.0.1:${port}`, token: () => 't', log: pino({ level: 'silent' }), registry: new Registry(), flushMs: cadence, ...{ minGapMs: cadence } });
  if (kind === 'lines') (sink as unknown as { post: () => Promise<void> }).post = async () => {};
  let k = 0;
  let made = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    for (let j = 0; j < 50; j++) {
      const i = k++ % 1500;
      const kind = i % 3;
      const t: MarketTick = { exchange: 'binance', symbol: symbols[Math.floor(i / 3)]!, assetType: 'crypto', ts: now, receivedAt: now, price: 100 + (k % 1000) / 100 };
      if (kind === 1) t.changePct24h = (k % 500) / 100;
      if (kind === 2) Object.assign(t, { bid: 99.99, ask: 100.01 + (k % 7) / 100 });
      if (sink) sink.tick(t);
      else made += t.price > 0 ? 1 : 0;
    }
  }, 10);
  await sleep(2000);
  const l0 = (await sink?.metrics.lines.get())?.values[0]?.value ?? 0;
  const r0 = (await sink?.metrics.requests.get())?.values[0]?.value ?? 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(Number(values.seconds) * 1000);
  const c = process.cpuUsage(c0);
  const secs = (performance.now() - t0) / 1000;
  const lines = ((await sink?.metrics.lines.get())?.values[0]?.value ?? 0) - l0;
  const requests = ((await sink?.metrics.requests.get())?.values[0]?.value ?? 0) - r0;
  clearInterval(timer);
  await sink?.close();
  if (made < 0) throw new Error('unreachable'); // keeps the floor's ticks from being optimised away
  return { cpu: ((c.user + c.system) / 1e6 / secs) * 100, requests: requests / secs, lines: lines / secs };
}

const modes = ['floor', 'lines', ...values.flush.split(',').flatMap((ms) => [`flush ${ms}`, ...(Peer ? [`peer ${ms}`] : [])])];
const results = new Map<string, { cpu: number; requests: number; lines: number }[]>(modes.map((m) => [m, []]));
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const m of round % 2 ? modes : [...modes].reverse()) {
    const r = await run(m);
    results.get(m)!.push(r);
    process.stdout.write(`round ${round} ${m}: ${r.cpu.toFixed(2)} % of a core, ${r.requests.toFixed(1)} requests/s, ${r.lines.toFixed(0)} lines/s (load ${os.loadavg()[0]!.toFixed(2)})\n`);
  }
}
server.kill();
const rows = ['| mode | % of one core | requests/s | lines/s |', '|---|---|---|---|'];
for (const [m, rs] of results) rows.push(`| ${m === 'floor' || m === 'lines' ? m : `${m} ms`} | ${spread(rs.map((r) => r.cpu), 2)} | ${median(rs.map((r) => r.requests)).toFixed(1)} | ${median(rs.map((r) => r.lines)).toFixed(0)} |`);
process.stdout.write(`\n${rows.join('\n')}\n`);
process.exit(0);
