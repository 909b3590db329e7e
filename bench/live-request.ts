// What one Grafana Live push request costs the feeder's process, by HTTP client (docs/BENCHMARKS.md §10):
// the same 100-line body POSTed --hz times a second to a minimal HTTP server in another process (its CPU
// not counted), one request at a time on one kept-alive connection, the process's CPU per request:
//   floor  — the timer wake-up alone, no request;
//   http   — node:http with a keep-alive Agent (maxSockets 1), as the Live sink did before;
//   undici — undici's Pool (1 connection, pipelining 1), if the package is installed;
//   socket — the sink's PushConnection (feeders/src/market/live/push-connection.ts);
//   peer   — the PushConnection of another built checkout (--peer DIR: its feeders/dist), for a before/after.
// The body is sent as bytes, as the sink sends it. --modes picks some (comma-separated). Modes alternate in
// each round.
//   node --conditions=source --import tsx bench/live-request.ts --rounds 3 --seconds 6 --hz 20 [--peer DIR] [--modes floor,socket,peer]
import http from 'node:http';
import os from 'node:os';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { PushConnection } from '../feeders/src/market/live/push-connection.js';
import { median, sleep, spread } from './lib.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '6' }, hz: { type: 'string', default: '20' }, lines: { type: 'string', default: '100' }, peer: { type: 'string' }, modes: { type: 'string' } } });
const server = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.writeHead(200,{'content-length':0}).end())}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((r) => server.stdout!.once('data', (d) => r(Number(String(d)))));
const url = new URL(`http://127.0.0.1:${port}/api/live/push/markets`);
const line = 'ticker,asset_type=crypto,exchange=binance,symbol=S123/USDT ask=100.01,bid=99.99,change_pct_24h=1.23,price=100.005,time_ms=1764140000000 1764140000000000000';
const body = Buffer.from(Array.from({ length: Number(values.lines) }, () => line).join('\n'));

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const viaHttp = () =>
  new Promise<void>((resolve, reject) => {
    const buf = body;
    const req = http.request({ hostname: '127.0.0.1', port, path: url.pathname, method: 'POST', agent, headers: { authorization: 'Bearer t', 'content-type': 'text/plain; charset=utf-8', 'content-length': buf.length } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    const timer = setTimeout(() => req.destroy(), 3000);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(buf);
  });
const conn = new PushConnection(url);
const HEADERS = 'Authorization: Bearer t\r\nContent-Type: text/plain; charset=utf-8\r\n';
const viaSocket = () => conn.post(url.pathname, HEADERS, body, 3000).then(() => {});
type Conn = { post(p: string, h: string, b: Uint8Array, t: number): Promise<unknown>; close(): void };
let peer: Conn | undefined;
if (values.peer) {
  const mod = (await import(pathToFileURL(path.resolve(values.peer, 'feeders/dist/market/live/push-connection.js')).href)) as { PushConnection: new (u: URL) => Conn };
  peer = new mod.PushConnection(url);
}
const viaPeer = () => peer!.post(url.pathname, HEADERS, body, 3000).then(() => {});
type UndiciPool = { request(o: object): Promise<{ body: { dump(): Promise<void> } }>; close(): Promise<void> };
let pool: UndiciPool | undefined;
try {
  const undici = (await import('undici' as string)) as { Pool: new (u: string, o: object) => UndiciPool };
  pool = new undici.Pool(url.origin, { connections: 1, pipelining: 1 });
} catch {
  process.stdout.write('undici not installed: mode skipped\n');
}
const viaUndici = async () => {
  const r = await pool!.request({ path: url.pathname, method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'text/plain; charset=utf-8' }, body, headersTimeout: 3000, bodyTimeout: 3000 });
  await r.body.dump();
};
const all: [string, () => Promise<void>][] = [['floor', async () => {}], ['http', viaHttp], ...(pool ? [['undici', viaUndici] as [string, () => Promise<void>]] : []), ['socket', viaSocket], ...(peer ? [['peer', viaPeer] as [string, () => Promise<void>]] : [])];
const modes = values.modes ? all.filter(([m]) => values.modes!.split(',').includes(m)) : all;

const results = new Map<string, number[]>(modes.map(([m]) => [m, []]));
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const [m, f] of round % 2 ? modes : [...modes].reverse()) {
    for (let i = 0; i < 50; i++) await f(); // warm: connection open, code compiled
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < Number(values.seconds) * 1000) {
      await f();
      n++;
      await sleep(1000 / Number(values.hz));
    }
    const c = process.cpuUsage(c0);
    const us = (c.user + c.system) / n;
    results.get(m)!.push(us);
    process.stdout.write(`round ${round} ${m}: ${us.toFixed(0)} µs CPU per request (load ${os.loadavg()[0]!.toFixed(2)})\n`);
  }
}
server.kill();
conn.close();
peer?.close();
await pool?.close();
const floor = median(results.get('floor')!);
const rows = ['| client | µs CPU per request (with the wake-up) | above the floor |', '|---|---|---|'];
for (const [m, xs] of results) rows.push(`| ${m} | ${spread(xs)} | ${m === 'floor' ? '' : (median(xs) - floor).toFixed(0)} |`);
process.stdout.write(`\n${rows.join('\n')}\n`);
process.exit(0);
