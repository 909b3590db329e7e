// Per-frame CPU cost of the Kraken path, in one process without sockets: JSON.parse alone (the floor),
// the pure parseFrame (book prices/qty kept as wire digits), and parseFrame + the feed (candles, ticks,
// L2 books applied, truncated and CRC32-checked on every update) over a mix like a busy feed: 20 symbols,
// book updates of 1-4 levels on depth-25 books (60 %), ticker (20 %) and ohlc (20 %) updates. Frames are
// printed as Kraken prints them (numbers with the pair's decimals, trailing zeros kept).
//
//   node --conditions=source --import tsx bench/kraken.ts
import { crc32 } from 'node:zlib';
import { CandleLedger } from '../feeders/src/market/stream/backfill.js';
import { KrakenFeed } from '../feeders/src/market/kraken/feed.js';
import { parseFrame } from '../feeders/src/market/kraken/mappers.js';
import { median, saveResult } from './lib.js';

const N = 20;
const DEPTH = 25;
const symbols = Array.from({ length: N }, (_, i) => `S${i}/USD`);
const p1 = (n: number) => n.toFixed(1);
const q8 = (n: number) => n.toFixed(8);
const t0 = Date.UTC(2026, 0, 1);

// Each symbol's book as the exchange keeps it, so every update carries the right checksum.
const books = symbols.map((_, i) => ({ bids: new Map<number, number>(), asks: new Map<number, number>(), mid: 1000 * (i + 1) }));
const top = (m: Map<number, number>, desc: boolean) => [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, DEPTH);
const checksum = (b: (typeof books)[number]) => {
  const s = (l: [number, number]) => p1(l[0]).replace('.', '').replace(/^0+/, '') + q8(l[1]).replace('.', '').replace(/^0+/, '');
  return crc32(top(b.asks, false).slice(0, 10).map(s).join('') + top(b.bids, true).slice(0, 10).map(s).join('')) >>> 0;
};
const lv = (p: number, q: number) => `{"price":${p1(p)},"qty":${q8(q)}}`;
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

const frames: string[] = [];
for (let i = 0; i < N; i++) {
  const b = books[i]!;
  for (let k = 1; k <= DEPTH; k++) {
    b.bids.set(b.mid - k / 10, 0.5 + rnd());
    b.asks.set(b.mid + k / 10, 0.5 + rnd());
  }
  const bids = top(b.bids, true).map(([p, q]) => lv(p, q));
  const asks = top(b.asks, false).map(([p, q]) => lv(p, q));
  frames.push(`{"channel":"book","type":"snapshot","data":[{"symbol":"${symbols[i]}","bids":[${bids.join(',')}],"asks":[${asks.join(',')}],"checksum":${checksum(b)},"timestamp":"2026-01-01T00:00:00.000000Z"}]}`);
  frames.push(`{"channel":"ohlc","type":"snapshot","data":[{"symbol":"${symbols[i]}","open":${p1(b.mid)},"high":${p1(b.mid)},"low":${p1(b.mid)},"close":${p1(b.mid)},"trades":1,"volume":1.00000000,"vwap":${p1(b.mid)},"interval_begin":"2026-01-01T00:00:00.000000000Z","interval":1,"timestamp":"2026-01-01T00:01:00.000000Z"}]}`);
}
const snapshots = frames.length;
for (let f = 0; f < 100_000; f++) {
  const i = f % N;
  const b = books[i]!;
  const sym = symbols[i];
  const r = rnd();
  if (r < 0.6) {
    // 1-4 level changes near the top, each side kept ≥ DEPTH levels and uncrossed
    const bids: string[] = [];
    const asks: string[] = [];
    for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++) {
      const bid = rnd() < 0.5;
      const p = Math.round((bid ? b.mid - (1 + Math.floor(rnd() * DEPTH)) / 10 : b.mid + (1 + Math.floor(rnd() * DEPTH)) / 10) * 10) / 10;
      const q = rnd() < 0.2 ? 0 : 0.1 + rnd();
      const m = bid ? b.bids : b.asks;
      if (q === 0 && m.size <= DEPTH + 2) continue;
      if (q === 0) m.delete(p);
      else m.set(p, q);
      (bid ? bids : asks).push(lv(p, q));
    }
    frames.push(`{"channel":"book","type":"update","data":[{"symbol":"${sym}","bids":[${bids.join(',')}],"asks":[${asks.join(',')}],"checksum":${checksum(b)},"timestamp":"2026-01-01T00:00:01.000000Z"}]}`);
  } else if (r < 0.8) {
    frames.push(`{"channel":"ticker","type":"update","data":[{"symbol":"${sym}","bid":${p1(b.mid - 0.1)},"bid_qty":1.00000000,"ask":${p1(b.mid + 0.1)},"ask_qty":1.00000000,"last":${p1(b.mid)},"volume":100.00000000,"vwap":${p1(b.mid)},"low":${p1(b.mid - 5)},"high":${p1(b.mid + 5)},"change":1.0,"change_pct":0.10,"timestamp":"2026-01-01T00:00:01.000000Z"}]}`);
  } else {
    const minute = Math.floor(f / 2000);
    frames.push(`{"channel":"ohlc","type":"update","data":[{"symbol":"${sym}","open":${p1(b.mid)},"high":${p1(b.mid + 1)},"low":${p1(b.mid - 1)},"close":${p1(b.mid)},"trades":${f % 50},"volume":2.00000000,"vwap":${p1(b.mid)},"interval_begin":"${new Date(t0 + minute * 60_000).toISOString().replace('Z', '000000Z')}","interval":1,"timestamp":"2026-01-01T00:01:00.000000Z"}]}`);
  }
}

let sink = 0;
const run = (name: string, fn: (f: string) => void, fresh?: () => void): number => {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    fresh?.();
    const t = process.hrtime.bigint();
    for (const f of frames) fn(f);
    runs.push(Number(process.hrtime.bigint() - t) / frames.length);
  }
  const ns = median(runs.slice(2)); // the first runs warm up the JIT
  process.stdout.write(`${name}: ${ns.toFixed(0)} ns/frame (median of 5 runs after 2 warm-up runs)\n`);
  return ns;
};

const out: Record<string, number> = {};
out['JSON.parse (floor)'] = run('JSON.parse (floor)', (f) => {
  sink += (JSON.parse(f) as { data: unknown[] }).data.length;
});
out.parseFrame = run('parseFrame', (f) => {
  sink += parseFrame(f).kind.length;
});
let feed!: KrakenFeed;
let resyncs = 0;
let summaries = 0;
out['parseFrame + feed'] = run(
  'parseFrame + feed (books checked per update)',
  (f) => feed.onEvent(parseFrame(f), 0, 1),
  () => {
    feed = new KrakenFeed(new CandleLedger(), {
      tick: () => sink++,
      candle: () => sink++,
      book: () => summaries++,
      boundary: () => {},
      resync: () => resyncs++,
    });
    feed.setSymbols(new Map(symbols.map((s) => [s, { symbol: s, depth: DEPTH }])));
  },
);
if (resyncs !== 0) throw new Error(`${resyncs} checksum mismatches: the bench's books are wrong`);
const ratio = out['JSON.parse (floor)']! / out['parseFrame + feed']!;
process.stdout.write(`frames: ${frames.length} (${snapshots} snapshots); book summaries ${summaries}; floor / full path = ${ratio.toFixed(2)}×\n`);
saveResult('kraken', { ns: out, ratio, frames: frames.length, sink });
