// The floor of bench/venues.ts: a bare `ws` client that opens the market feeder's own connections again
// (URL + the subscribe messages it sent, recorded by the venue servers) and only JSON.parses each frame.
// argv = a JSON file [{ venue, url, send[], gapMs? }]; answers IPC 'sample' with frames per venue.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { serveSamples } from './common.js';

const conns = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { venue: string; url: string; send: string[]; gapMs?: number }[];
const frames: Record<string, number> = {};
let parsed = 0;
for (const c of conns) {
  frames[c.venue] ??= 0;
  const ws = new WebSocket(c.url);
  // spaced like a careful client: the venues limit inbound messages per second (a flood server does not: gapMs)
  ws.on('open', () => c.send.forEach((m, i) => setTimeout(() => ws.send(m), i * (c.gapMs ?? 250))));
  ws.on('message', (data) => {
    frames[c.venue]!++;
    // keep the result alive so the parse cannot be optimised away
    if (JSON.parse(data.toString()) !== undefined) parsed++;
  });
  ws.on('error', () => {});
}
serveSamples(() => ({ ...frames, parsed }));
