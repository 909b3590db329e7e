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
import { OrderBook } from '../feeders/src/market/book/index.js';
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
let feed!: KrakenFeed;
let resyncs = 0;
let summaries = 0;
// Peer: the way other clients check Kraken books (e.g. the kraken-book crate): JSON.parse, then format
// every level with the pair's precision (toFixed) for each checksum; books only, no candles or ticks.
let peerBooks = new Map<string, OrderBook>();
const peerChecksum = (bids: readonly { price: number; qty: number }[], asks: readonly { price: number; qty: number }[]) => {
  const s = (l: { price: number; qty: number }) => p1(l.price).replace('.', '').replace(/^0+/, '') + q8(l.qty).replace('.', '').replace(/^0+/, '');
  return crc32(asks.slice(0, 10).map(s).join('') + bids.slice(0, 10).map(s).join('')) >>> 0;
};
let peerMismatches = 0;
type Msg = { channel: string; type: string; data: { symbol: string; bids?: { price: number; qty: number }[]; asks?: { price: number; qty: number }[]; checksum?: number }[] };
const cases: { name: string; fn: (f: string) => void; fresh?: () => void }[] = [
  {
    name: 'JSON.parse (floor)',
    fn: (f) => {
      sink += (JSON.parse(f) as { data: unknown[] }).data.length;
    },
  },
  {
    name: 'parseFrame',
    fn: (f) => {
      sink += parseFrame(f).kind.length;
    },
  },
  {
    name: 'peer: JSON.parse + book + toFixed checksum',
    fn: (f) => {
      const m = JSON.parse(f) as Msg;
      if (m.channel !== 'book') return;
      const d = m.data[0]!;
      let b = peerBooks.get(d.symbol);
      if (m.type === 'snapshot' || !b) peerBooks.set(d.symbol, (b = new OrderBook({ depth: DEPTH, checksum: peerChecksum })));
      b.apply(d.bids ?? [], d.asks ?? []);
      if (!b.verify(d.checksum!)) peerMismatches++;
    },
    fresh: () => {
      peerBooks = new Map();
    },
  },
  {
    name: 'ours: parseFrame + feed (books checked per update, summaries, candles, ticks)',
    fn: (f) => feed.onEvent(parseFrame(f), 0, 1),
    fresh: () => {
      feed = new KrakenFeed(new CandleLedger(), {
        tick: () => sink++,
        candle: () => sink++,
        book: () => summaries++,
        boundary: () => {},
        resync: () => resyncs++,
      });
      feed.setSymbols(new Map(symbols.map((s) => [s, { symbol: s, depth: DEPTH }])));
    },
  },
];
// Interleaved rounds (each case once per round) so that the shared machine's load drifts over all alike;
// the first 2 rounds warm up the JIT.
const runs = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < 9; r++) {
  for (const c of cases) {
    c.fresh?.();
    const t = process.hrtime.bigint();
    for (const f of frames) c.fn(f);
    if (r >= 2) runs.get(c.name)!.push(Number(process.hrtime.bigint() - t) / frames.length);
  }
}
const out: Record<string, number> = {};
for (const c of cases) {
  out[c.name] = median(runs.get(c.name)!);
  process.stdout.write(`${c.name}: ${out[c.name]!.toFixed(0)} ns/frame (median of 7 interleaved rounds after 2 warm-up rounds)\n`);
}
if (peerMismatches !== 0) throw new Error(`peer: ${peerMismatches} checksum mismatches`);
if (resyncs !== 0) throw new Error(`${resyncs} checksum mismatches: the bench's books are wrong`);
const ratio = out['JSON.parse (floor)']! / out['ours: parseFrame + feed (books checked per update, summaries, candles, ticks)']!;
const peerRatio = out['peer: JSON.parse + book + toFixed checksum']! / out['ours: parseFrame + feed (books checked per update, summaries, candles, ticks)']!;
process.stdout.write(`frames: ${frames.length} (${snapshots} snapshots); book summaries ${summaries}; floor / ours = ${ratio.toFixed(2)}×, peer / ours = ${peerRatio.toFixed(2)}×\n`);
saveResult('kraken', { ns: out, ratio, peerRatio, frames: frames.length, sink });
