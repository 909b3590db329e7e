// The floor for Coinbase: a bare `ws` client that subscribes like the feeder (matches, ticker, heartbeat
// per product, one subscribe message) and only JSON.parses each frame.
// Child of bench/coinbase-ingest.ts: argv = wsUrl, product count; answers IPC 'sample' with its frame count.
import WebSocket from 'ws';
import { serveSamples } from './common.js';

const [url, n] = [process.argv[2]!, Number(process.argv[3])];
const products = Array.from({ length: n }, (_, i) => `C${i}-USD`);
let frames = 0;
let parsed = 0;
const ws = new WebSocket(url);
ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channels: ['matches', 'ticker', 'heartbeat'].map((name) => ({ name, product_ids: products })) })));
ws.on('message', (data) => {
  frames++;
  // keep the result alive so the parse cannot be optimised away
  if ((JSON.parse(data.toString()) as { type?: string }).type !== undefined) parsed++;
});
serveSamples(() => ({ frames, parsed }));
