// The Kraken feed logic on the protocol-true fake, transport aside: a plain websocket subscribes, every
// frame goes through the pure parser into KrakenFeed; REST OHLC fills up to each boundary. Candles must
// equal the exchange's own (flat minutes included), each handed on once; books verify every checksum and
// resync alone on a corrupted checksum or a lost update; nothing crossed is handed on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { KrakenFake, waitFor } from '@mt/testing';
import { createLogger } from '@mt/common';
import { Registry } from 'prom-client';
import { CandleLedger } from '../../src/market/stream/backfill.js';
import { KrakenFeed, type ResyncReason } from '../../src/market/kraken/feed.js';
import { parseFrame } from '../../src/market/kraken/mappers.js';
import { KrakenRest } from '../../src/market/kraken/rest.js';
import { createSourceMetrics } from '../../src/common/metrics.js';
import type { BookSummary, Candle, MarketTick } from '../../src/market/types.js';

const fakes: KrakenFake[] = [];
const sockets: WebSocket[] = [];
after(async () => {
  for (const s of sockets) s.terminate();
  for (const f of fakes) await f.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function harness(fake: KrakenFake, depthOf: Record<string, number | undefined>) {
  const ledger = new CandleLedger();
  const candles: Candle[] = [];
  const ticks: MarketTick[] = [];
  const books: BookSummary[] = [];
  const boundaries: { symbol: string; openTime: number }[] = [];
  const resyncs: { symbol: string; reason: ResyncReason }[] = [];
  const feed = new KrakenFeed(ledger, {
    tick: (t) => ticks.push(t),
    candle: (c) => candles.push(c),
    book: (b) => books.push(b),
    boundary: (symbol, openTime) => boundaries.push({ symbol, openTime }),
    resync: (symbol, reason) => resyncs.push({ symbol, reason }),
  });
  feed.setSymbols(new Map(Object.entries(depthOf).map(([s, depth]) => [s, depth === undefined ? { symbol: s } : { symbol: s, depth }])));
  let socketId = 0;
  let ws: WebSocket | undefined;
  const connect = async () => {
    const id = ++socketId;
    ws = new WebSocket(fake.wsUrl);
    sockets.push(ws);
    const s = ws;
    s.on('message', (d) => {
      const ev = parseFrame(d.toString());
      feed.onEvent(ev, Date.now(), id);
    });
    await new Promise((r) => s.once('open', r));
    const symbols = Object.keys(depthOf);
    s.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ohlc', symbol: symbols, interval: 1 } }));
    s.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol: symbols } }));
    const deep = symbols.filter((x) => depthOf[x] !== undefined);
    for (const x of deep) s.send(JSON.stringify({ method: 'subscribe', params: { channel: 'book', symbol: [x], depth: depthOf[x] } }));
    return s;
  };
  const resubscribeBook = (symbol: string) => {
    feed.invalidateBook(symbol);
    ws!.send(JSON.stringify({ method: 'unsubscribe', params: { channel: 'book', symbol: [symbol], depth: depthOf[symbol] } }));
    ws!.send(JSON.stringify({ method: 'subscribe', params: { channel: 'book', symbol: [symbol], depth: depthOf[symbol] } }));
  };
  const registry = new Registry();
  const rest = new KrakenRest({ baseUrl: fake.restUrl, log: createLogger('kraken-feed-test', 'silent'), metrics: createSourceMetrics(registry), minIntervalMs: 0 });
  /** What the Backfiller does: from the watermark (or `from`) up to each boundary, over REST. */
  const backfill = async (from: number) => {
    for (const { symbol, openTime } of boundaries.splice(0)) {
      const start = (ledger.watermark(symbol) ?? from - 60_000) + 60_000;
      if (start < openTime) {
        for (;;) {
          try {
            for (const k of await rest.klines(symbol, start, openTime - 1, AbortSignal.timeout(5000))) {
              if (ledger.accept(symbol, k.openTime)) candles.push({ exchange: 'kraken', symbol, assetType: 'crypto', interval: '1m', ...k, closed: true, receivedAt: 0 });
            }
            break;
          } catch (err) {
            if ((err as Error).name !== 'NotCommittedError') throw err;
            await sleep(50);
          }
        }
      }
      ledger.raiseWatermark(symbol, openTime - 60_000);
    }
  };
  return { feed, ledger, candles, ticks, books, boundaries, resyncs, connect, resubscribeBook, backfill, get ws() { return ws!; } };
}

test('candles across drops: WS-closed minutes + REST up to each snapshot = the exchange candles (flat minutes too), each once, equal values', async () => {
  const fake = await new KrakenFake({ candleMs: 90, heartbeatMs: 200 }).listen();
  fakes.push(fake);
  const h = harness(fake, { 'BTC/USD': undefined, 'ETH/USD': 10 });
  const from = fake.o.startTime - 30 * 60_000;
  await h.connect();
  for (let i = 0; i < 4; i++) {
    await sleep(700);
    await h.backfill(from);
    fake.dropAll();
    await sleep(150 + i * 50);
    await h.connect();
    await waitFor(() => h.boundaries.length >= 2, 5000, 'snapshots on the new socket');
  }
  await sleep(600);
  await h.backfill(from);
  fake.pause();
  const last = fake.lastClosedOpenTime();
  // the minute being built closes with the next minute's first update: step the market by hand
  for (let i = 0; i < 2 * fake.o.stepsPerCandle && !['BTC/USD', 'ETH/USD'].every((s) => h.candles.some((c) => c.symbol === s && c.openTime === last)); i++) {
    fake.advance();
    await sleep(30);
  }
  for (const symbol of ['BTC/USD', 'ETH/USD']) {
    const want = fake.closedCandles(symbol, from).filter((c) => c.openTime <= last);
    const got = h.candles.filter((c) => c.symbol === symbol && c.openTime <= last).sort((a, b) => a.openTime - b.openTime);
    assert.ok(want.length > 40, `${want.length} minutes simulated`);
    assert.ok(want.some((c) => c.trades === 0), 'minutes without trades were part of it');
    assert.deepEqual(
      got.map((c) => c.openTime),
      want.map((c) => c.openTime),
      `${symbol}: every minute once`,
    );
    for (const [i, c] of got.entries()) {
      const w = want[i]!;
      assert.deepEqual([c.open, c.high, c.low, c.close, c.volume, c.quoteVolume, c.trades], [w.open, w.high, w.low, w.close, w.volume, w.quoteVolume, w.trades], `${symbol} ${c.openTime}`);
    }
  }
  // live-closed minutes were part of it (not everything came from REST)
  assert.ok(h.candles.filter((c) => c.receivedAt > 0).length > 10);
  assert.ok(h.ticks.length > 10 && h.ticks.every((t) => t.bid! < t.ask!));
  assert.ok(h.books.some((b) => b.symbol === 'BTC/USD' && b.bidDepth1pct === undefined), 'top of book from the ticker');
  assert.ok(h.books.some((b) => b.symbol === 'ETH/USD' && b.bidDepth1pct! > 0), 'depth from the L2 book');
  assert.deepEqual(h.resyncs, [], 'every checksum held');
});

test('book: a corrupted checksum and a lost update each resync that symbol alone; nothing crossed or unverified is handed on', async () => {
  const fake = await new KrakenFake({ candleMs: 150, symbols: ['BTC/USD', 'ETH/USD'] }).listen();
  fakes.push(fake);
  const h = harness(fake, { 'BTC/USD': 25, 'ETH/USD': 10 });
  await h.connect();
  await waitFor(() => h.feed.state('BTC/USD')?.bookValid === true && h.feed.state('ETH/USD')?.bookValid === true, 5000, 'books');
  assert.equal(h.feed.state('BTC/USD')!.bookLevels, 50, 'depth 25 per side kept');
  await sleep(400);
  fake.corruptChecksum('BTC/USD');
  await waitFor(() => h.resyncs.length === 1, 5000, 'resync after the corrupted checksum');
  assert.deepEqual(h.resyncs, [{ symbol: 'BTC/USD', reason: 'checksum' }]);
  assert.equal(h.feed.state('ETH/USD')!.bookValid, true, 'the other symbol untouched');
  const before = h.books.filter((b) => b.symbol === 'BTC/USD').length;
  await sleep(300);
  assert.equal(h.books.filter((b) => b.symbol === 'BTC/USD').length, before, 'nothing from the invalid book');
  h.resubscribeBook('BTC/USD');
  await waitFor(() => h.feed.state('BTC/USD')?.bookValid === true, 5000, 'resynced from a new snapshot');
  await sleep(300);
  assert.ok(h.books.filter((b) => b.symbol === 'BTC/USD').length > before, 'summaries again');
  fake.loseBookUpdate('ETH/USD');
  await waitFor(() => h.resyncs.length === 2, 5000, 'a lost update shows in the next checksum');
  assert.deepEqual(h.resyncs[1], { symbol: 'ETH/USD', reason: 'checksum' });
  assert.equal(fake.faultsDone.corruptedChecksums, 1);
  assert.equal(fake.faultsDone.lostBookUpdates, 1);
  assert.ok(h.books.every((b) => b.bestBid < b.bestAsk), 'no crossed book handed on');
});
