// The floor: a bare `ws` client that only JSON.parses each frame. Same streams and connection layout
// as the market feeder (4 streams per symbol, ≤ 1024 streams per combined connection).
// Child of bench/ingest.ts: argv = wsUrl, symbol count; answers IPC 'sample' with its frame count.
import WebSocket from 'ws';
import { benchSymbols } from '../replay.js';
import { streamsOf, serveSamples } from './common.js';

const [url, n] = [process.argv[2]!, Number(process.argv[3])];
let frames = 0;
let parsed = 0;
const streams = benchSymbols(n).flatMap(streamsOf);
for (let i = 0; i < streams.length; i += 1024) {
  const ws = new WebSocket(`${url}/stream`);
  const mine = streams.slice(i, i + 1024);
  ws.on('open', () => ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: mine, id: 1 })));
  ws.on('message', (data) => {
    frames++;
    // keep the result alive so the parse cannot be optimised away
    if ((JSON.parse(data.toString()) as { stream?: string }).stream !== undefined) parsed++;
  });
}
serveSamples(() => ({ frames, parsed }));
