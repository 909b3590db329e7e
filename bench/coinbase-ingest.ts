// Coinbase ingest, side by side in one run: frames per CPU-second consumed from a flood server speaking
// the Coinbase Exchange protocol (subscribe → `subscriptions` ack, then matches + tickers + heartbeats as
// fast as each client drains its socket) by
//   floor — a bare `ws` client that only JSON.parses (bench/clients/coinbase-floor.ts),
//   ours  — the real market feeder process (Coinbase source on the streaming layer: mapper, trade →
//           candle assembly, core, InfluxDB writes to a real InfluxDB 1.x),
// interleaved over several rounds so machine load hits both alike. Goal (issue 16): ours ≥ 0.5 × floor.
//
//   node --conditions=source --import tsx bench/coinbase-ingest.ts --rounds 3 --window 8 --symbols 50
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fork } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { metricValue, startInflux, startService, waitFor } from '@mt/testing';
import { BENCH_DIR, cpuSeconds, machine, median, saveResult, sleep, spread } from './lib.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, window: { type: 'string', default: '8' }, symbols: { type: 'string', default: '50' } },
});
const ROUNDS = Number(values.rounds);
const WINDOW_MS = Number(values.window) * 1000;
const N = Number(values.symbols);
const products = Array.from({ length: N }, (_, i) => `C${i}-USD`);

// ---- flood server: frame shapes of testing/fixtures/coinbase (match, ticker, heartbeat)
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
function floodServer() {
  const server = http.createServer((req, res) => {
    // REST candles: the feeder asks for its first minute of each product; nothing is simulated here
    res.writeHead(req.url?.includes('/candles') ? 200 : 404, { 'content-type': 'application/json' });
    res.end('[]');
  });
  const wss = new WebSocketServer({ server });
  let sent = 0;
  wss.on('connection', (ws: WebSocket) => {
    const state = products.map(() => ({ id: 1_000_000, t: Date.now() - 600_000, seq: 1 }));
    let live = false;
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string };
      if (m.type !== 'subscribe' || live) return;
      live = true;
      ws.send(JSON.stringify({ type: 'subscriptions', channels: ['matches', 'ticker', 'heartbeat'].map((name) => ({ name, product_ids: products })) }));
      let k = 0;
      const pump = () => {
        while (ws.readyState === ws.OPEN && ws.bufferedAmount < 1 << 20) {
          const i = k++ % products.length;
          const s = state[i]!;
          const p = products[i]!;
          s.id++;
          s.t += 250; // 4 trades per simulated second per product: minutes close as the flood goes on
          const price = (100 + (s.id % 97) / 10).toFixed(2);
          const size = ((s.id % 13) / 100 + 0.001).toFixed(8);
          ws.send(`{"type":"match","trade_id":${s.id},"maker_order_id":"a","taker_order_id":"b","side":"buy","size":"${size}","price":"${price}","product_id":"${p}","sequence":${s.seq++},"time":"${iso(s.t)}"}`);
          ws.send(
            `{"type":"ticker","sequence":${s.seq++},"product_id":"${p}","price":"${price}","open_24h":"100.00","volume_24h":"1234.5","low_24h":"99.00","high_24h":"111.00","volume_30d":"9999.9","best_bid":"${(Number(price) - 0.01).toFixed(2)}","best_ask":"${(Number(price) + 0.01).toFixed(2)}","side":"buy","time":"${iso(s.t)}","trade_id":${s.id},"last_size":"${size}"}`,
          );
          sent += 2;
          if (s.id % 4 === 0) {
            ws.send(`{"type":"heartbeat","last_trade_id":${s.id},"product_id":"${p}","sequence":${s.seq++},"time":"${iso(s.t)}"}`);
            sent++;
          }
        }
        if (ws.readyState === ws.OPEN) setImmediate(pump);
      };
      pump();
    });
  });
  return new Promise<{ url: string; close(): Promise<void>; sent(): number }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `ws://127.0.0.1:${port}`,
        sent: () => sent,
        close: () =>
          new Promise((r) => {
            for (const c of wss.clients) c.terminate();
            wss.close();
            server.close(() => r());
          }),
      });
    }),
  );
}

const influx = await startInflux();

async function measure(client: 'floor' | 'ours'): Promise<{ framesPerCpuSec: number; framesPerSec: number; cpu: number }> {
  const flood = await floodServer();
  let pid: number;
  let stop: () => Promise<unknown>;
  let frames: () => Promise<number>;
  if (client === 'ours') {
    const svc = await startService('market-feeder', {
      INFLUX_URL: influx.url,
      INFLUX_API: 'v1',
      DATABASE_URL: '',
      WATCH_SYMBOLS: products.map((p) => `coinbase:${p.replace('-', '/')}:crypto`).join(','),
      COINBASE_WS_URL: flood.url,
      COINBASE_REST_URL: flood.url.replace('ws:', 'http:'),
      BACKFILL_HOURS: '0',
      YAHOO_URL: 'http://127.0.0.1:1',
      COINGECKO_URL: 'http://127.0.0.1:1',
      FEAR_GREED_URL: 'http://127.0.0.1:1',
      RSS_FEEDS: '',
      LOG_LEVEL: 'warn',
    });
    pid = svc.proc.child.pid!;
    stop = () => svc.stop();
    frames = async () => metricValue(await svc.metrics(), 'feeder_messages_total', { source: 'coinbase_ws' });
  } else {
    const child = fork(path.join(BENCH_DIR, 'clients', 'coinbase-floor.ts'), [flood.url, String(N)], {
      execArgv: ['--conditions=source', '--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    pid = child.pid!;
    stop = async () => {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    };
    // a child still loading misses a 'sample': answer 0 after a while rather than hang
    frames = () =>
      new Promise((resolve) => {
        const onMessage = (m: { frames: number }) => {
          clearTimeout(t);
          resolve(m.frames);
        };
        const t = setTimeout(() => {
          child.off('message', onMessage);
          resolve(0);
        }, 2000);
        child.once('message', onMessage);
        child.send('sample');
      });
  }
  try {
    await waitFor(async () => (await frames()) > 1000, 60_000, `${client} receiving`);
    await sleep(2000);
    const f0 = await frames();
    const c0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const f1 = await frames();
    const c1 = cpuSeconds(pid);
    const secs = (performance.now() - t0) / 1000;
    return { framesPerCpuSec: (f1 - f0) / Math.max(0.01, c1 - c0), framesPerSec: (f1 - f0) / secs, cpu: (c1 - c0) / secs };
  } finally {
    await stop();
    await flood.close();
  }
}

const runs: Record<'floor' | 'ours', { framesPerCpuSec: number; framesPerSec: number; cpu: number }[]> = { floor: [], ours: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const c of ['floor', 'ours'] as const) {
    const m = await measure(c);
    runs[c].push(m);
    console.log(`round ${r + 1} ${c}: ${Math.round(m.framesPerCpuSec)} frames/CPU-s, ${Math.round(m.framesPerSec)} frames/s, ${m.cpu.toFixed(2)} CPU`);
  }
}
await influx.stop();
const med = (c: 'floor' | 'ours') => median(runs[c].map((x) => x.framesPerCpuSec));
const ratio = med('ours') / med('floor');
const result = {
  machine: machine(),
  symbols: N,
  floor: { framesPerCpuSec: med('floor'), spread: spread(runs.floor.map((x) => x.framesPerCpuSec)) },
  ours: { framesPerCpuSec: med('ours'), spread: spread(runs.ours.map((x) => x.framesPerCpuSec)) },
  ratio,
  goal: ratio >= 0.5 ? 'met (≥ 0.5 × floor)' : 'NOT met (< 0.5 × floor)',
};
console.log(JSON.stringify(result, null, 2));
saveResult('coinbase-ingest', result);
