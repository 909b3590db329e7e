// The Grafana Live sink's work counted in instructions, for an A/B that the shared box's load cannot blur
// (docs/BENCHMARKS.md §10): a built sink (feeders/dist of this checkout or of --root) is driven on a fake
// clock through a fixed workload — 500 symbols, 50 ticks every 10 ms (trade, 24 h ticker, book in turn,
// prices that never repeat), its requests sent to a real HTTP server in another process and each awaited
// — so the same ticks, lines and requests happen in every run. Run under callgrind, twice: with --steps 0
// and with --steps N; the difference is the instructions of N steps (JIT and GC included, cache misses
// not: those only the paired CPU runs of bench/live.ts show). `--slotted` drives it as the core does
// (tickSlot once per symbol, then tickAt with the handle: the feeder's path); `--digest` prints a hash of
// every request body the server read, so two checkouts can be shown to send the same bytes.
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/live-instr.mjs [--root DIR] [--slotted] --steps 1000
// With --requests N the sink is left out: N POSTs of a --lines body (the bench's ticker line, as bytes) on
// the checkout's PushConnection alone, each awaited — the request path's own instructions (N minus 0).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: { root: { type: 'string', default: process.cwd() }, steps: { type: 'string', default: '1000' }, warm: { type: 'string', default: '300' }, slotted: { type: 'boolean' }, digest: { type: 'boolean' }, requests: { type: 'string' }, lines: { type: 'string', default: '100' } },
});
const root = path.resolve(values.root);
const require = createRequire(path.join(root, 'feeders', 'package.json'));
const { Registry } = require('prom-client');
const { GrafanaLiveSink } = await import(pathToFileURL(path.join(root, 'feeders/dist/market/live/index.js')).href);

const server = spawn(
  process.execPath,
  [
    '-e',
    values.digest
      ? "const h=require('crypto').createHash('sha256');process.on('SIGTERM',()=>{console.log(h.digest('hex'));process.exit()});require('http').createServer((q,s)=>{q.on('data',(d)=>h.update(d));q.on('end',()=>{h.update('|');s.writeHead(200,{'content-length':0}).end()})}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"
      : "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.writeHead(200,{'content-length':0}).end())}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})",
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise((r) => server.stdout.once('data', (d) => r(Number(String(d)))));

if (values.requests !== undefined) {
  const { PushConnection } = await import(pathToFileURL(path.join(root, 'feeders/dist/market/live/push-connection.js')).href);
  const url = new URL(`http://127.0.0.1:${port}/api/live/push/markets`);
  const conn = new PushConnection(url);
  const line = 'ticker,asset_type=crypto,exchange=binance,symbol=S123/USDT ask=100.01,bid=99.99,change_pct_24h=1.23,price=100.005,time_ms=1764140000000 1764140000000000000';
  const body = Buffer.from(Array.from({ length: Number(values.lines) }, () => line).join('\n'));
  const headers = 'Authorization: Bearer glsa_bench\r\nContent-Type: text/plain; charset=utf-8\r\n';
  for (let i = 0; i < Number(values.warm); i++) await conn.post(url.pathname, headers, body, 3000);
  for (let i = 0; i < Number(values.requests); i++) await conn.post(url.pathname, headers, body, 3000);
  process.stderr.write(`requests ${values.requests} of ${body.length} bytes\n`);
  conn.close();
  server.kill();
  process.exit(0);
}

let clock = 1_764_000_000_000;
const quiet = { warn() {}, error() {}, info() {}, debug() {} };
const sink = new GrafanaLiveSink({ url: `http://127.0.0.1:${port}`, token: () => 'glsa_bench', log: quiet, registry: new Registry(), now: () => clock, maxHz: 4, flushMs: 50 });
const symbols = Array.from({ length: 500 }, (_, i) => `S${i}/USDT`);
let k = 0;
/** --slotted: each symbol's handle, taken again when the sink's slotVersion changes (as the core does). */
const handles = new Array(symbols.length);
let version = -1;
const tick = values.slotted
  ? (t, s) => {
      if (version !== sink.slotVersion) {
        handles.fill(undefined);
        version = sink.slotVersion;
      }
      sink.tickAt((handles[s] ??= sink.tickSlot(t)), t, clock);
    }
  : (t) => sink.tick(t);

async function step() {
  clock += 10;
  for (let j = 0; j < 50; j++, k++) {
    const i = k % 1500;
    const kind = i % 3;
    const s = Math.floor(i / 3);
    const t = { exchange: 'binance', symbol: symbols[s], assetType: 'crypto', ts: clock, receivedAt: clock, price: 20_000 + k / 100 };
    if (kind === 1) t.changePct24h = -5 + k / 1000;
    if (kind === 2) Object.assign(t, { bid: 20_000 + k / 100 - 0.01, ask: 20_000 + k / 100 + 0.01 });
    tick(t, s);
  }
  // the flush runs from a microtask; its request is awaited, so every run sends the same requests
  await new Promise((r) => setImmediate(r));
  while (sink.inFlight) await sink.inFlight;
}

for (let s = 0; s < Number(values.warm); s++) await step();
const lines0 = (await sink.metrics.lines.get()).values[0]?.value ?? 0;
for (let s = 0; s < Number(values.steps); s++) await step();
const lines = ((await sink.metrics.lines.get()).values[0]?.value ?? 0) - lines0;
const requests = (await sink.metrics.requests.get()).values.find((v) => v.labels.status === '200')?.value ?? 0;
process.stderr.write(`steps ${values.steps}: ticks ${Number(values.steps) * 50}, lines ${lines}, requests (all) ${requests}\n`);
await sink.close();
if (values.digest) {
  server.stdout.once('data', (d) => process.stderr.write(`bodies sha256 ${String(d).trim()}\n`));
  await new Promise((r) => server.once('exit', r).kill());
} else server.kill();
