// The Grafana Live sink against the protocol-true push fake (testing/src/fakes/grafana-live.ts, read from
// Grafana 12.3's source): what a panel subscribed to `stream/markets/<measurement>` receives (field names,
// types, labels, a schema that does not change), the per-symbol rate bound, closed candles, and the
// failure modes: 401 with a token written late, Grafana down, slow, a full queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { pino } from 'pino';
import { GrafanaLiveFake, panelSeries, parseLineProtocol, waitFor } from '@mt/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GrafanaLiveSink, liveTokenSource, type GrafanaLiveOptions } from '../../src/market/live/index.js';
import { LiveHistogram } from '../../src/market/live/sink.js';
import { TickerBody, lineHead, tickerLine } from '../../src/market/live/lines.js';
import { watchItemKey } from '@mt/common';
import { MarketCore } from '../../src/market/core.js';
import { MemorySink, candle, tick } from './helpers.js';

const log = pino({ level: 'silent' });
const TOKEN = 'glsa_live_test';

function sink(g: GrafanaLiveFake, over: Partial<GrafanaLiveOptions> = {}): GrafanaLiveSink {
  return new GrafanaLiveSink({ url: g.url, token: () => TOKEN, log, registry: new Registry(), maxHz: 5, ...over });
}
const counter = async (s: GrafanaLiveSink, name: keyof GrafanaLiveSink['metrics'], labels: Record<string, string> = {}) =>
  ((await s.metrics[name].get()).values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ticks arrive as the frames a panel reads: one ticker line per symbol (price, bid, ask, change_pct_24h, time_ms), labelled per symbol, unknown values null', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g);
  try {
    const t0 = Date.now();
    // a Binance symbol: trade, then 24 h ticker, then book; a Yahoo stock: price and change only
    s.tick(tick({ ts: t0, price: 100 }));
    s.tick(tick({ ts: t0 + 1, price: 101, changePct24h: 2.5 }));
    s.tick(tick({ ts: t0 + 2, price: 101, bid: 100.9, ask: 101.1 }));
    s.tick({ exchange: 'yahoo', symbol: 'AAPL', assetType: 'stock', ts: t0, receivedAt: t0, price: 190.5, changePct24h: -0.4 });
    await waitFor(async () => g.on('stream/markets/ticker').length > 0, 5000, 'pushed');
    await sleep(400);
    assert.deepEqual([...new Set(g.publications.map((p) => p.channel))], ['stream/markets/ticker'], 'one channel');
    const ticker = g.on('stream/markets/ticker');
    assert.deepEqual(
      ticker[0]!.json.schema!.fields.map((f) => [f.name, f.type, f.typeInfo.frame]),
      [
        ['labels', 'string', 'string'],
        ['time', 'time', 'time.Time'],
        ['ask', 'number', 'float64'],
        ['bid', 'number', 'float64'],
        ['change_pct_24h', 'number', 'float64'],
        ['price', 'number', 'float64'],
        ['time_ms', 'number', 'float64'],
      ],
    );
    const series = panelSeries(ticker);
    const btc = series.get('asset_type=crypto, exchange=binance, symbol=BTC/USDT')!;
    assert.deepEqual(btc.labels, { asset_type: 'crypto', exchange: 'binance', symbol: 'BTC/USDT' });
    const last = (k: string) => btc.fields.get(k)!.at(-1);
    assert.deepEqual(['price', 'change_pct_24h', 'bid', 'ask'].map(last), [101, 2.5, 100.9, 101.1]);
    assert.equal(last('time'), t0 + 2, 'exchange time, in ms');
    assert.equal(last('time_ms'), t0 + 2, 'the same time as a value of the symbol (quote tables reduce it to the Age)');
    assert.ok(btc.fields.get('price')!.length <= 2, 'the first tick at once, the rest merged into the next slot');
    const aapl = series.get('asset_type=stock, exchange=yahoo, symbol=AAPL')!;
    assert.deepEqual(['price', 'change_pct_24h', 'bid', 'ask'].map((k) => aapl.fields.get(k)!.at(-1)), [190.5, -0.4, null, null], 'no book: null bid/ask, same columns');
    assert.ok(g.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
    assert.equal(g.schemaChanges.size, 0, 'no schema change on any channel: panels keep their buffers');
  } finally {
    await s.close();
    await g.close();
  }
});

test('at most maxHz pushes per symbol per second under a flood, the last value always delivered, schema stable', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g, { maxHz: 5 });
  try {
    const t0 = Date.now();
    let last = 0;
    // 2 s of 1000 ticks/s for one symbol, changing field sets (trade / ticker / book) as Binance sends them
    for (let i = 0; i < 2000; i++) {
      last = 100 + i / 100;
      s.tick(tick({ ts: t0 + i, price: last, ...(i % 3 === 1 ? { changePct24h: i / 1000 } : {}), ...(i % 3 === 2 ? { bid: last - 0.01, ask: last + 0.01 } : {}) }));
      if (i % 50 === 49) await sleep(50);
    }
    // the trailing update: its slot, then the timer (a backstop a slot later if ticks were flowing)
    const lastPrice = () => panelSeries(g.on('stream/markets/ticker')).values().next().value?.fields.get('price')?.at(-1);
    await waitFor(async () => lastPrice() === last, 5000, 'the last price pushed');
    await sleep(300);
    const prices = panelSeries(g.on('stream/markets/ticker')).values().next().value!.fields.get('price')!;
    const elapsedS = (Date.now() - t0) / 1000;
    assert.ok(prices.length <= Math.ceil(elapsedS * 5) + 2, `${prices.length} ticker updates in ${elapsedS.toFixed(1)} s at 5 Hz (a bucket of three lines)`);
    assert.ok(prices.length >= 5, `${prices.length} updates: the stream keeps moving`);
    // the contract's burst: at most three lines within one 1 / MAX_HZ (200 ms), so any four span at least
    // that (receive times; a request's way through loopback jitters by a few ms)
    const at = g.on('stream/markets/ticker').map((p) => p.at);
    for (let i = 0; i + 3 < at.length; i++) assert.ok(at[i + 3]! - at[i]! >= 200 - 15, `lines ${i}–${i + 3} within ${at[i + 3]! - at[i]!} ms`);
    assert.equal(prices.at(-1), last, 'the trailing update carries the last price');
    assert.equal(g.schemaChanges.size, 0);
  } finally {
    await s.close();
    await g.close();
  }
});

test('a change right after its symbol\'s line went out follows with the next request, the spare line for the end of the move; the next waits for the sustained rate', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  // 1 Hz: a slot is 1 s, far longer than the 100 ms cadence
  const s = sink(g, { maxHz: 1, flushMs: 100 });
  try {
    const pushedAt = async (n: number) => {
      await waitFor(async () => g.on('stream/markets/ticker').length >= n, 5000, `push ${n}`);
      return g.on('stream/markets/ticker')[n - 1]!.at;
    };
    const price = () => panelSeries(g.on('stream/markets/ticker')).values().next().value!.fields.get('price')!.at(-1);
    // a trade, pushed at once; then the rest of the same move (its book frame) just after the line went out
    s.tick(tick({ ts: Date.now(), price: 100 }));
    const first = await pushedAt(1);
    s.tick(tick({ ts: Date.now(), price: 100.5, bid: 100.4, ask: 100.6 }));
    const second = await pushedAt(2);
    assert.equal(price(), 100.5);
    // with the next request (a cadence on), not held until the move has been quiet for a cadence (two on)
    assert.ok(second - first < 170, `the rest of the move ${second - first} ms after the first line, with the next request`);
    // its end: the spare line, after a cadence without ticks
    s.tick(tick({ ts: Date.now(), price: 100.7 }));
    const third = await pushedAt(3);
    assert.equal(price(), 100.7);
    assert.ok(third - first < 600, `the move's last value ${third - first} ms after the first line, not a 1 s slot later`);
    // the bucket is empty now: the next change waits for the sustained 1 Hz
    s.tick(tick({ ts: Date.now(), price: 101 }));
    const fourth = await pushedAt(4);
    assert.equal(price(), 101);
    assert.ok(fourth - first >= 1000 - 100, `fourth line ${fourth - first} ms after the first: three lines per second at most at 1 Hz`);
    await sleep(300);
    assert.equal(g.on('stream/markets/ticker').length, 4, 'one line per change, nothing repeated');
  } finally {
    await s.close();
    await g.close();
  }
});

test('a symbol still moving gets its lines at the sustained rate; when it stops, its last value goes out a cadence later, not a slot later', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g, { maxHz: 1, flushMs: 100 });
  const btc = 'asset_type=crypto, exchange=binance, symbol=BTC/USDT';
  // another symbol keeps ticking slowly all along, as in a feeder with many symbols
  let eth = 0;
  const other = setInterval(() => s.tick(tick({ symbol: 'ETH/USDT', ts: Date.now(), price: 3000 + eth++ })), 30);
  try {
    // BTC changes every 5 ms for 300 ms (far faster than the 100 ms cadence), then stops
    const t0 = Date.now();
    let last = 0;
    for (let i = 0; Date.now() - t0 < 300; i++) {
      last = 100 + i / 100;
      s.tick(tick({ ts: Date.now(), price: last }));
      await sleep(5);
    }
    const stopped = Date.now();
    const lines = () => panelSeries(g.on('stream/markets/ticker')).get(btc)?.fields.get('price')?.filter((p) => p !== null) ?? [];
    await waitFor(async () => lines().at(-1) === last, 5000, 'the last price pushed');
    const lastAt = Date.now();
    assert.ok(lastAt - stopped < 450, `the last value ${lastAt - stopped} ms after the moves stopped: not held for the 1 s slot`);
    // the first change at once, the move's next change with the next request, then the spare line kept
    // while it moved: the last value
    assert.equal(lines().length, 3, `BTC lines: ${lines().join(', ')}`);
  } finally {
    clearInterval(other);
    await s.close();
    await g.close();
  }
});

test('a flood of many symbols: one request per flush cadence at most, each carrying many symbols, every symbol\'s last value delivered', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g, { maxHz: 4, flushMs: 100 });
  try {
    const symbols = Array.from({ length: 200 }, (_, i) => `S${i}/USDT`);
    const t0 = Date.now();
    let k = 0;
    // ~1.5 s: every 10 ms a batch of 100 ticks, round-robin over the symbols (as frames arrive from a venue)
    for (let round = 0; round < 150; round++) {
      for (let j = 0; j < 100; j++, k++) s.tick(tick({ symbol: symbols[k % symbols.length]!, ts: t0 + round * 10, price: 100 + k / 1000 }));
      await sleep(10);
    }
    const last = new Map(Array.from({ length: symbols.length }, (_, i) => [symbols[(k - 1 - i) % symbols.length]!, 100 + (k - 1 - i) / 1000]));
    await waitFor(async () => panelSeries(g.on('stream/markets/ticker')).size === symbols.length && s.queued === 0, 10_000, 'every symbol delivered');
    await sleep(300);
    const elapsed = Date.now() - t0;
    assert.ok(g.pushes.length <= Math.ceil(elapsed / 100) + 1, `${g.pushes.length} requests in ${elapsed} ms at one per 100 ms`);
    assert.ok(g.pushes.length >= 3, `${g.pushes.length} requests: pushed as it went, not at the end`);
    const lines = g.pushes.reduce((a, p) => a + p.lines, 0);
    assert.ok(lines / g.pushes.length >= 10, `${(lines / g.pushes.length).toFixed(1)} lines per request: symbols share requests`);
    const series = panelSeries(g.on('stream/markets/ticker'));
    for (const [symbol, price] of last) {
      assert.equal(series.get(`asset_type=crypto, exchange=binance, symbol=${symbol}`)!.fields.get('price')!.at(-1), price, `${symbol}: the last price`);
    }
  } finally {
    await s.close();
    await g.close();
  }
});

test('closed candles are not pushed (no panel reads them: the chart bars come from InfluxDB), ticks still are', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g);
  try {
    const open = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    s.candle(candle(open));
    s.candle(candle(open, { interval: '5m' }));
    s.tick(tick({ ts: Date.now(), price: 100, changePct24h: 1 }));
    await waitFor(async () => g.on('stream/markets/ticker').length > 0, 5000, 'ticker pushed');
    await sleep(300);
    assert.deepEqual([...new Set(g.publications.map((p) => p.channel))], ['stream/markets/ticker']);
    assert.ok(g.requests.every((r) => !r.body.includes('candles')), 'no candle line in any push');
  } finally {
    await s.close();
    await g.close();
  }
});

test('401: counted, retried with backoff, and a token written to the file later is picked up', async () => {
  const g = await new GrafanaLiveFake({ tokens: ['the-real-token'] }).listen();
  let file = 'stale-token';
  let reads = 0;
  let current = file;
  const s = sink(g, {
    token: () => current,
    onAuthFailure: () => {
      reads++;
      current = file;
    },
    backoff: { initialMs: 100, maxMs: 300, jitter: 0 },
  });
  try {
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) {
      s.tick(tick({ ts: t0 + i, price: 200 + i, changePct24h: 1 }));
      await sleep(50);
    }
    assert.ok((await counter(s, 'requests', { status: '401' })) >= 2, 'refusals counted');
    assert.equal(g.publications.length, 0);
    assert.ok(s.queued <= 1, `one line per symbol waits, not one per tick (${s.queued})`);
    const before = (await counter(s, 'requests', { status: '401' }));
    await sleep(700);
    assert.ok((await counter(s, 'requests', { status: '401' })) - before <= 4, 'backoff: no hammering');
    file = 'the-real-token';
    await waitFor(async () => g.publications.length > 0, 5000, 'delivered with the new token');
    assert.ok(reads >= 1);
    assert.equal(panelSeries(g.on('stream/markets/ticker')).values().next().value!.fields.get('price')!.at(-1), 219);
    // the fake records a push when it receives it; the sink marks Grafana up when it has read the answer, just after
    await waitFor(async () => (await counter(s, 'up')) === 1, 5000, 'up once the accepted answer is read');
    assert.equal(await counter(s, 'up'), 1);
  } finally {
    await s.close();
    await g.close();
  }
});

test('Grafana down: ticks keep being accepted, the queue holds one line per series, stale lines are dropped, fresh ones delivered after', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g, { staleMs: 1500, backoff: { initialMs: 100, maxMs: 400 } });
  try {
    const port = await g.stop();
    const t0 = Date.now();
    const symbols = Array.from({ length: 50 }, (_, i) => `S${i}/USDT`);
    for (let k = 0; k < 20; k++) {
      for (const symbol of symbols) s.tick(tick({ symbol, ts: t0 + k * 100, price: 10 + k, changePct24h: 0.1, bid: 9 + k, ask: 11 + k }));
      await sleep(100);
    }
    assert.ok(s.queued <= symbols.length, `one line per symbol at most: ${s.queued}`);
    assert.ok((await counter(s, 'requests', { status: 'transport' })) >= 2, 'connection refusals counted');
    await sleep(1600); // everything queued is now older than staleMs
    await g.listen(port);
    for (const symbol of symbols.slice(0, 3)) s.tick(tick({ symbol, ts: Date.now(), price: 99, changePct24h: 0.2, bid: 98, ask: 100 }));
    await waitFor(async () => g.on('stream/markets/ticker').length > 0, 5000, 'delivered after the outage');
    await sleep(300);
    assert.ok((await counter(s, 'dropped', { reason: 'stale' })) >= 47, 'what went stale during the outage is not sent');
    const delivered = panelSeries(g.on('stream/markets/ticker'));
    assert.deepEqual([...delivered.keys()].length, 3, 'only fresh lines after recovery');
    assert.ok([...delivered.values()].every((x) => x.fields.get('price')!.at(-1) === 99));
  } finally {
    await s.close();
    await g.close();
  }
});

test('Grafana slow (5 s answers): requests time out and are counted, one request at a time, the queue stays bounded', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  g.fail({ kind: 'stall', ms: 5000 }, { times: 1000 });
  const s = sink(g, { timeoutMs: 500, maxQueue: 40, backoff: { initialMs: 100, maxMs: 200 } });
  try {
    const t0 = Date.now();
    for (let k = 0; k < 15; k++) {
      for (let i = 0; i < 60; i++) s.tick(tick({ symbol: `S${i}/USDT`, ts: t0 + k * 100, price: 1 + k, changePct24h: 0, bid: 1, ask: 2 }));
      await sleep(100);
    }
    await sleep(800);
    assert.ok((await counter(s, 'requests', { status: 'timeout' })) >= 1, 'timeouts counted');
    assert.ok(s.queued <= 40, `queue within maxQueue: ${s.queued}`);
    assert.ok((await counter(s, 'dropped', { reason: 'overflow' })) > 0, 'overflow counted (60 symbols, room for 40)');
    const inFlightAtOnce = Math.max(...g.requests.map((r) => g.requests.filter((x) => Math.abs(x.at - r.at) < 400).length));
    assert.ok(inFlightAtOnce <= 2, 'no pile-up of concurrent requests');
  } finally {
    g.clearFaults();
    await s.close();
    await g.close();
  }
});

test('every pushed line, as Grafana converts it, carries the sticky quote of its moment: values that change, change back, need 17 digits or an exponent; an unchanged quote costs no line; a failed line goes again', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  // 20 Hz: a slot (50 ms) no longer than the cadence, so every step below gets its own line
  const s = sink(g, { maxHz: 20, flushMs: 50, backoff: { initialMs: 50, maxMs: 100, jitter: 0 } });
  const btc = 'asset_type=crypto, exchange=binance, symbol=BTC/USDT';
  const row = () => {
    const x = panelSeries(g.on('stream/markets/ticker')).get(btc)!;
    return Object.fromEntries(['price', 'bid', 'ask', 'change_pct_24h', 'time_ms'].map((k) => [k, x.fields.get(k)!.at(-1)]));
  };
  let ts = Date.now();
  // sticky quote: a tick carries some of the fields, the others keep their last value
  const state: Record<string, number | null> = { price: null, bid: null, ask: null, change_pct_24h: null };
  const step = async (over: { price?: number; bid?: number; ask?: number; changePct24h?: number }, what: string) => {
    const before = g.on('stream/markets/ticker').length;
    ts += 1000;
    s.tick(tick({ ts, price: over.price ?? (state.price as number), bid: over.bid, ask: over.ask, changePct24h: over.changePct24h }));
    if (over.price !== undefined) state.price = over.price;
    if (over.bid !== undefined) state.bid = over.bid;
    if (over.ask !== undefined) state.ask = over.ask;
    if (over.changePct24h !== undefined) state.change_pct_24h = over.changePct24h;
    await waitFor(async () => g.on('stream/markets/ticker').length > before, 5000, what);
    assert.deepEqual(row(), { ...state, time_ms: ts }, what);
  };
  try {
    await step({ price: 100 }, 'first line: price, nothing else known');
    await step({ price: 101, changePct24h: 2.5 }, 'price and 24 h change');
    await step({ price: 100 }, 'the price back to an earlier value');
    await step({ bid: 99.9, ask: 100.1 }, 'book only: price unchanged');
    await step({ bid: 99.95 }, 'bid moves, ask unchanged');
    await step({ ask: 99.95 }, 'ask now equals bid');
    await step({ changePct24h: 0 }, '24 h change to zero');
    await step({ changePct24h: -0.0000001 }, 'a tiny 24 h change (exponent form)');
    await step({ price: 1e21 }, 'a price in exponent form');
    await step({ price: 0.1 + 0.2, changePct24h: 2.5 }, 'a price that needs 17 digits; the 24 h change back to an earlier value');
    // an unchanged quote costs no line
    const before = g.on('stream/markets/ticker').length;
    s.tick(tick({ ts: ts + 1, price: state.price as number }));
    await sleep(300);
    assert.equal(g.on('stream/markets/ticker').length, before, 'no line for an unchanged quote');
    // a push that fails: the quote goes again, unchanged and with its values, once Grafana accepts
    g.fail({ kind: 'status', status: 503 }, { times: 1 });
    ts += 1000;
    s.tick(tick({ ts, price: 42 }));
    state.price = 42;
    await waitFor(async () => g.on('stream/markets/ticker').length > before, 5000, 'sent again after the 503');
    assert.deepEqual(row(), { ...state, time_ms: ts }, 'the failed line\'s values, resent');
    await step({ price: 43 }, 'and on from there');
    assert.equal(g.schemaChanges.size, 0);
  } finally {
    await s.close();
    await g.close();
  }
});

test('a tick value that is not a number (NaN, ±Infinity) is ignored: the last known one stays, one never known is null; a quote unchanged with a value still unknown costs no line', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g, { maxHz: 20, flushMs: 50 });
  const row = () => {
    const x = panelSeries(g.on('stream/markets/ticker')).get('asset_type=crypto, exchange=binance, symbol=BTC/USDT')!;
    return Object.fromEntries(['price', 'bid', 'ask', 'change_pct_24h', 'time_ms'].map((k) => [k, x.fields.get(k)!.at(-1)]));
  };
  const lines = () => g.on('stream/markets/ticker').length;
  try {
    let ts = Date.now();
    // no price known yet: nothing to send
    s.tick(tick({ ts, price: NaN, bid: 99, changePct24h: Infinity }));
    await sleep(200);
    assert.equal(lines(), 0, 'no line before a price is known');
    s.tick(tick({ ts: ++ts, price: 100, ask: NaN }));
    await waitFor(async () => lines() === 1, 5000, 'first line');
    assert.deepEqual(row(), { price: 100, bid: 99, ask: null, change_pct_24h: null, time_ms: ts });
    // the same quote again (ask and 24 h change still unknown, a NaN among the new values): no line
    s.tick(tick({ ts, price: 100, bid: NaN, ask: NaN, changePct24h: NaN }));
    s.tick(tick({ ts, price: -Infinity, bid: 99 }));
    await sleep(300);
    assert.equal(lines(), 1, 'an unchanged quote with unknown values costs no line');
    s.tick(tick({ ts: ++ts, price: Infinity, ask: 101, changePct24h: -Infinity }));
    await waitFor(async () => lines() === 2, 5000, 'the ask known');
    assert.deepEqual(row(), { price: 100, bid: 99, ask: 101, change_pct_24h: null, time_ms: ts });
    assert.equal(g.schemaChanges.size, 0);
  } finally {
    await s.close();
    await g.close();
  }
});

test('through the core (its per-symbol handle): a symbol that left the watch set makes room for a new one, which pushes only its own values; one that comes back starts afresh', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g, { maxHz: 20, flushMs: 50 });
  const core = new MarketCore({ sink: new MemorySink(), influxql: { query: async () => [] }, indicators: { seed() {}, onClosedCandle: () => ({}), drop() {} }, live: s, log });
  // as main.ts does on a new watch list
  const watch = (...symbols: string[]) => {
    const items = symbols.map((symbol) => ({ exchange: 'binance', symbol, asset_type: 'crypto' as const }));
    core.setWatch(items);
    s.setWatch(new Set(items.map(watchItemKey)));
  };
  const last = (symbol: string) => {
    const x = panelSeries(g.on('stream/markets/ticker')).get(`asset_type=crypto, exchange=binance, symbol=${symbol}`);
    return x && Object.fromEntries(['price', 'bid', 'ask', 'change_pct_24h'].map((k) => [k, x.fields.get(k)!.at(-1)]));
  };
  const lines = (symbol: string) => panelSeries(g.on('stream/markets/ticker')).get(`asset_type=crypto, exchange=binance, symbol=${symbol}`)?.fields.get('price')!.length ?? 0;
  const settled = async (what: string) => {
    await waitFor(async () => s.queued === 0 && !(s as unknown as { inFlight?: unknown }).inFlight, 5000, what);
    await sleep(100);
  };
  try {
    let ts = Date.now();
    watch('A/USDT', 'B/USDT');
    core.out.tick(tick({ symbol: 'A/USDT', ts: ++ts, price: 1, bid: 0.9, ask: 1.1, changePct24h: 1.5 }));
    core.out.tick(tick({ symbol: 'B/USDT', ts: ++ts, price: 2 }));
    await waitFor(async () => lines('A/USDT') === 1 && lines('B/USDT') === 1, 5000, 'A and B pushed');
    await settled('A and B sent');
    // A leaves; C arrives (nothing in flight: A's place is free for it); B's handle goes on
    watch('B/USDT', 'C/USDT');
    core.out.tick(tick({ symbol: 'C/USDT', ts: ++ts, price: 30, bid: 29 }));
    core.out.tick(tick({ symbol: 'B/USDT', ts: ++ts, price: 20 }));
    await waitFor(async () => lines('C/USDT') === 1 && lines('B/USDT') === 2, 5000, 'C and B pushed');
    assert.deepEqual(last('C/USDT'), { price: 30, bid: 29, ask: null, change_pct_24h: null }, 'nothing of A in C\'s line');
    assert.deepEqual(last('B/USDT'), { price: 20, bid: null, ask: null, change_pct_24h: null });
    await settled('C and B sent');
    // A comes back: a symbol of its own again, its old values forgotten
    watch('A/USDT', 'B/USDT', 'C/USDT');
    core.out.tick(tick({ symbol: 'A/USDT', ts: ++ts, price: 5 }));
    core.out.tick(tick({ symbol: 'C/USDT', ts: ++ts, price: 31 }));
    await waitFor(async () => lines('A/USDT') === 2 && lines('C/USDT') === 2, 5000, 'A back, C on');
    assert.deepEqual(last('A/USDT'), { price: 5, bid: null, ask: null, change_pct_24h: null }, 'A afresh');
    assert.deepEqual(last('C/USDT'), { price: 31, bid: 29, ask: null, change_pct_24h: null }, 'C keeps its own sticky bid');
    await sleep(200);
    assert.equal(lines('B/USDT'), 2, 'B unchanged: no line');
    assert.equal(g.schemaChanges.size, 0);
  } finally {
    await core.stop();
    await s.close();
    await g.close();
  }
});

test('a full queue drops its oldest symbols (counted); a symbol that left the watch set is forgotten, pending or not', async () => {
  const g = await new GrafanaLiveFake({ tokens: [TOKEN] }).listen();
  const s = sink(g, { maxQueue: 5, backoff: { initialMs: 1500, maxMs: 1500, jitter: 0 } });
  try {
    const port = await g.stop();
    // a first push is refused: the next waits 1.5 s, so the queue below stays as the ticks leave it
    s.tick(tick({ symbol: 'W/USDT', ts: Date.now(), price: 1 }));
    await waitFor(async () => (await counter(s, 'requests', { status: 'transport' })) === 1 && s.queued === 1, 5000, 'first push refused');
    s.setWatch(new Set());
    assert.equal(s.queued, 0);
    const t0 = Date.now();
    // 8 symbols in order while Grafana is away: S0…S2 are dropped for S5…S7
    for (let i = 0; i < 8; i++) s.tick(tick({ symbol: `S${i}/USDT`, ts: t0 + i, price: 10 + i }));
    assert.equal(s.queued, 5);
    assert.equal(await counter(s, 'dropped', { reason: 'overflow' }), 3);
    // S6 leaves the watch set while pending; S3 ticks again (it stays pending, in its place)
    s.setWatch(new Set([0, 1, 2, 3, 4, 5, 7].map((i) => `binance:S${i}/USDT`)));
    assert.equal(s.queued, 4);
    s.tick(tick({ symbol: 'S3/USDT', ts: t0 + 10, price: 33 }));
    assert.equal(s.queued, 4);
    await g.listen(port);
    await waitFor(async () => s.queued === 0 && g.on('stream/markets/ticker').length > 0, 5000, 'delivered after the outage');
    await sleep(300);
    const series = panelSeries(g.on('stream/markets/ticker'));
    assert.deepEqual(
      [...series.keys()].map((k) => k.replace(/.*symbol=/, '')).sort(),
      ['S3/USDT', 'S4/USDT', 'S5/USDT', 'S7/USDT'],
      'the newest pending symbols, the forgotten one not',
    );
    assert.equal(series.get('asset_type=crypto, exchange=binance, symbol=S3/USDT')!.fields.get('price')!.at(-1), 33);
    // a forgotten symbol that ticks again starts afresh
    s.tick(tick({ symbol: 'S6/USDT', ts: Date.now(), price: 66 }));
    await waitFor(async () => panelSeries(g.on('stream/markets/ticker')).has('asset_type=crypto, exchange=binance, symbol=S6/USDT'), 5000, 'S6 again');
  } finally {
    await s.close();
    await g.close();
  }
});

test('a line written as bytes, as Grafana parses it: every value exactly the number (8-decimal values from integers, the rest in JS\'s form), null for unknown, the time in ms and ns', () => {
  const head = lineHead({ assetType: 'crypto', exchange: 'binance', symbol: 'BTC/USDT' });
  assert.equal(
    tickerLine(head, { price: 101, bid: 100.9, ask: 101.1, changePct24h: -2.5, ts: 1_764_172_388_123 }),
    'ticker,asset_type=crypto,exchange=binance,symbol=BTC/USDT ask=101.1,bid=100.9,change_pct_24h=-2.5,price=101,time_ms=1764172388123 1764172388123000000',
  );
  assert.equal(
    tickerLine(head, { price: 0.00012345, bid: undefined, ask: undefined, changePct24h: undefined, ts: 1_764_172_000_005 }),
    'ticker,asset_type=crypto,exchange=binance,symbol=BTC/USDT ask="NaN",bid="NaN",change_pct_24h="NaN",price=0.00012345,time_ms=1764172000005 1764172000005000000',
  );
  const values = [0, -0, 1, -1, 0.1, 0.1 + 0.2, 1e-8, -1e-8, 1e-9, 5e-324, 12345678.12345678, 89_999_999.99999999, 99_999_999.99999999, -0.05, 1e15, 1e21, -1e21, 1.7976931348623157e308, 2 ** 53, 123456789.1];
  for (let i = 0; i < 20_000; i++) {
    const mag = 10 ** Math.floor(Math.random() * 14 - 5);
    // exchange-like values (a fixed number of decimals) and arbitrary doubles
    values.push(Number((Math.random() * mag * (i % 5 ? 1 : -1)).toFixed(i % 9)), Math.random() * mag);
  }
  const quotes = Array.from({ length: values.length / 4 }, (_, i) => ({
    ask: values[4 * i]!,
    bid: values[4 * i + 1]!,
    changePct24h: values[4 * i + 2]!,
    price: values[4 * i + 3]!,
    ts: [0, 999_999, 1_000_000, 1_764_172_000_000, 1_764_172_099_999][i % 5]! + (i % 7 ? Math.floor(Math.random() * 1e12) : 0),
  }));
  // one body, as the sink writes it (the buffer grows past its first size on the way)
  const body = new TickerBody();
  const headBytes = Buffer.from(head);
  for (const q of quotes) body.add(headBytes, q);
  const text = body.bytes().toString('utf8');
  const metrics = parseLineProtocol(text);
  assert.equal(metrics.length, quotes.length);
  const num = (x: number) => (Object.is(x, -0) ? 0 : x); // -0 is written 0, as String(-0)
  metrics.forEach((m, i) => {
    const q = quotes[i]!;
    assert.deepEqual(Object.fromEntries(m.fields), {
      ask: { kind: 'float', v: num(q.ask) },
      bid: { kind: 'float', v: num(q.bid) },
      change_pct_24h: { kind: 'float', v: num(q.changePct24h) },
      price: { kind: 'float', v: num(q.price) },
      time_ms: { kind: 'float', v: q.ts },
    });
    assert.equal(m.timeNs, BigInt(q.ts) * 1_000_000n);
  });
  // the same lines one by one equal the body's
  assert.equal(quotes.slice(0, 50).map((q) => tickerLine(head, q)).join('\n'), text.split('\n').slice(0, 50).join('\n'));
  body.clear();
  assert.equal(body.bytes().length, 0);
});

test('grafana_live_wait_seconds is exposed exactly as a prom-client histogram of the same observations', async () => {
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const help = 'h';
  const a = new Registry();
  const b = new Registry();
  const ours = new LiveHistogram('grafana_live_wait_seconds', help, buckets, a);
  const theirs = new Histogram({ name: 'grafana_live_wait_seconds', help, buckets, registers: [b] });
  assert.equal(await a.metrics(), await b.metrics(), 'nothing observed yet');
  // bounds themselves (a bucket counts values ≤ its bound), between them, beyond the last, zero
  for (const v of [0, 0.001, 0.005, 0.0051, 0.01, 0.3, 1, 2.5, 2.6, 30, 0.049]) {
    ours.observe(v);
    theirs.observe(v);
  }
  assert.equal(await a.metrics(), await b.metrics());
  assert.deepEqual(await a.getMetricsAsJSON(), await b.getMetricsAsJSON());
  a.resetMetrics();
  b.resetMetrics();
  ours.observe(0.02);
  theirs.observe(0.02);
  assert.equal(await a.metrics(), await b.metrics(), 'after a reset');
});

test('token: GRAFANA_LIVE_TOKEN wins; GRAFANA_LIVE_TOKEN_FILE is read (trimmed) on each call, missing = none yet; neither = Live off', () => {
  assert.equal(liveTokenSource({ GRAFANA_LIVE_TOKEN: undefined, GRAFANA_LIVE_TOKEN_FILE: undefined }, log), undefined);
  assert.equal(liveTokenSource({ GRAFANA_LIVE_TOKEN: 'direct', GRAFANA_LIVE_TOKEN_FILE: '/nonexistent' }, log)!(), 'direct');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'live-token-')), 'grafana_live_token');
  const read = liveTokenSource({ GRAFANA_LIVE_TOKEN: undefined, GRAFANA_LIVE_TOKEN_FILE: file }, log)!;
  assert.equal(read(), undefined, 'not written yet (bootstrap creates it after Grafana is up)');
  writeFileSync(file, 'glsa_first\n');
  assert.equal(read(), 'glsa_first');
  writeFileSync(file, 'glsa_rotated\n');
  assert.equal(read(), 'glsa_rotated');
});
