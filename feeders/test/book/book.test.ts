// The maintained L2 book against an independent oracle: a naive book (one Map per side, sorted and summed
// from scratch on every question) fed the same random updates. Every answer the core stores or a venue
// acts on (best bid/ask, the kept levels, depth and imbalance within 1 %, crossed, the summary) must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderBook, topOfBook, type Level } from '../../src/market/book/index.js';

/** Deterministic PRNG (mulberry32): a failure replays exactly. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class NaiveBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  set(side: 'bid' | 'ask', price: number, qty: number) {
    const m = side === 'bid' ? this.bids : this.asks;
    if (qty > 0) m.set(price, qty);
    else m.delete(price);
  }
  sorted(side: 'bid' | 'ask'): [number, number][] {
    const m = side === 'bid' ? this.bids : this.asks;
    return [...m].sort((x, y) => (side === 'bid' ? y[0] - x[0] : x[0] - y[0]));
  }
  truncate(depth: number) {
    for (const side of ['bid', 'ask'] as const) {
      const keep = new Map(this.sorted(side).slice(0, depth));
      if (side === 'bid') this.bids = keep;
      else this.asks = keep;
    }
  }
  depth(): { bid: number; ask: number } | undefined {
    const b = this.sorted('bid')[0];
    const a = this.sorted('ask')[0];
    if (!b || !a) return undefined;
    const mid = (b[0] + a[0]) / 2;
    let bid = 0;
    let ask = 0;
    for (const [p, q] of this.sorted('bid')) if (p >= mid * 0.99) bid += p * q;
    for (const [p, q] of this.sorted('ask')) if (p <= mid * 1.01) ask += p * q;
    return { bid, ask };
  }
}

const pairs = (ls: readonly Level[]) => ls.map((l) => [l.price, l.qty]);
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('random updates around a moving mid: levels, best, depth/imbalance within 1 %, crossed, summary = the naive recomputation', () => {
  for (const depth of [0, 10, 25]) {
    const r = rng(1000 + depth);
    const book = new OrderBook({ depth });
    const naive = new NaiveBook();
    let mid = 100;
    let crossedSeen = 0;
    for (let step = 0; step < 1500; step++) {
      mid *= 1 + (r() - 0.5) * 0.002;
      const batch = 1 + Math.floor(r() * 6);
      const bids: Level[] = [];
      const asks: Level[] = [];
      for (let k = 0; k < batch; k++) {
        const bidSide = r() < 0.5;
        // mostly on the right side of the mid, sometimes 2 % beyond it (outside the band), rarely across
        const off = (r() < 0.05 ? -1 : 1) * Math.floor(r() * (r() < 0.2 ? 400 : 150)) * 0.01;
        const price = Math.round((bidSide ? mid - off : mid + off) * 100) / 100;
        const qty = r() < 0.25 ? 0 : Math.round(r() * 1e6) / 1e4;
        (bidSide ? bids : asks).push({ price, qty });
        naive.set(bidSide ? 'bid' : 'ask', price, qty);
      }
      book.apply(bids, asks);
      if (depth) naive.truncate(depth);

      assert.deepEqual(pairs(book.top('bid')), naive.sorted('bid'), `bids at step ${step}`);
      assert.deepEqual(pairs(book.top('ask')), naive.sorted('ask'), `asks at step ${step}`);
      assert.deepEqual(pairs(book.top('ask', 10)), naive.sorted('ask').slice(0, 10));
      assert.equal(book.bestBid?.price, naive.sorted('bid')[0]?.[0]);
      assert.equal(book.bestAsk?.price, naive.sorted('ask')[0]?.[0]);
      const nb = naive.sorted('bid')[0];
      const na = naive.sorted('ask')[0];
      const crossed = !!nb && !!na && nb[0] >= na[0];
      assert.equal(book.crossed(), crossed, `crossed at step ${step}`);
      const want = naive.depth();
      const got = book.depthWithinBand();
      assert.equal(got === undefined, want === undefined);
      if (want && got) {
        close(got.bid, want.bid, 'bid depth');
        close(got.ask, want.ask, 'ask depth');
      }
      const meta = { exchange: 'kraken', symbol: 'BTC/USD', assetType: 'crypto' as const, ts: step, receivedAt: step + 1 };
      const s = book.summary(meta);
      if (!nb || !na || crossed) {
        assert.equal(s, undefined, 'no summary of an empty-sided or crossed book');
        if (crossed) crossedSeen++;
      } else {
        assert.ok(s);
        assert.equal(s.bestBid, nb[0]);
        assert.equal(s.bestAsk, na[0]);
        close(s.bidDepth1pct!, want!.bid, 'summary bid depth');
        close(s.askDepth1pct!, want!.ask, 'summary ask depth');
        if (want!.bid + want!.ask > 0) {
          close(s.imbalance!, (want!.bid - want!.ask) / (want!.bid + want!.ask), 'imbalance');
          assert.ok(s.imbalance! >= -1 && s.imbalance! <= 1);
        } else assert.equal(s.imbalance, undefined);
        assert.equal(s.ts, step);
        assert.equal(s.receivedAt, step + 1);
      }
      // Now and then the venue sends a fresh snapshot: clear and rebuild, and the oracle does the same.
      if (step % 497 === 496) {
        book.clear();
        naive.bids.clear();
        naive.asks.clear();
        assert.equal(book.size('bid') + book.size('ask'), 0);
        assert.equal(book.summary(meta), undefined);
      }
    }
    assert.ok(crossedSeen > 0, 'the random walk produced crossed books, so that branch was exercised');
  }
});

test('depth band: a level exactly at mid ± 1 % is inside, one tick beyond is outside; imbalance sign', () => {
  const book = new OrderBook();
  // mid = 100: band 99 … 101
  book.apply(
    [
      { price: 99.5, qty: 2 },
      { price: 99, qty: 1 },
      { price: 98.99, qty: 50 },
    ],
    [
      { price: 100.5, qty: 1 },
      { price: 101, qty: 1 },
      { price: 101.01, qty: 50 },
    ],
  );
  assert.equal(book.mid, 100);
  assert.deepEqual(book.depthWithinBand(), { bid: 99.5 * 2 + 99, ask: 100.5 + 101 });
  const s = book.summary({ exchange: 'x', symbol: 'A/B', assetType: 'crypto', ts: 1, receivedAt: 2 })!;
  assert.equal(s.imbalance, (298 - 201.5) / (298 + 201.5));
  assert.ok(s.imbalance! > 0, 'more bids than asks near the mid');
});

test('set/remove by price, qty 0 removes, re-set replaces; truncate keeps the best', () => {
  const book = new OrderBook();
  book.set('bid', 10, 1);
  book.set('bid', 12, 1);
  book.set('bid', 11, 1);
  book.set('bid', 11, 3, 'raw');
  assert.deepEqual(book.top('bid'), [{ price: 12, qty: 1 }, { price: 11, qty: 3, text: 'raw' }, { price: 10, qty: 1 }]);
  book.set('bid', 12, 0);
  assert.equal(book.bestBid?.price, 11);
  assert.equal(book.remove('bid', 99), false);
  assert.equal(book.remove('bid', 10), true);
  book.set('ask', 13, 1);
  book.set('ask', 14, 1);
  book.set('ask', 15, 1);
  book.truncate(2);
  assert.deepEqual(pairs(book.top('ask')), [[13, 1], [14, 1]]);
  book.set('bid', 13, 1);
  assert.equal(book.crossed(), true, 'locked (bid = ask) counts as crossed');
});

test('checksum hook: the venue function sees bids best-first and asks best-first; verify compares', () => {
  const seen: string[] = [];
  const book = new OrderBook({
    checksum: (bids, asks) => {
      seen.push(`${asks.map((l) => l.text).join()}|${bids.map((l) => l.text).join()}`);
      return asks.length * 100 + bids.length;
    },
  });
  book.apply([{ price: 1, qty: 1, text: 'b1' }, { price: 2, qty: 1, text: 'b2' }], [{ price: 4, qty: 1, text: 'a4' }, { price: 3, qty: 1, text: 'a3' }]);
  assert.equal(book.verify(202), true);
  assert.equal(book.verify(201), false);
  assert.deepEqual(seen[0], 'a3,a4|b2,b1');
  assert.throws(() => new OrderBook().checksum(), /no checksum/);
});

test('top of book from a ticker: none when crossed, locked or a side missing', () => {
  const meta = { exchange: 'kraken', symbol: 'BTC/USD', assetType: 'crypto' as const, ts: 1, receivedAt: 2 };
  assert.deepEqual(topOfBook(meta, 99, 100), { ...meta, bestBid: 99, bestAsk: 100 });
  assert.equal(topOfBook(meta, 100, 100), undefined);
  assert.equal(topOfBook(meta, 101, 100), undefined);
  assert.equal(topOfBook(meta, 0, 100), undefined);
  assert.equal(topOfBook(meta, Number.NaN, 100), undefined);
});
