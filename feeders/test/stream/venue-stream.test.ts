// The generic streaming layer (docs/STREAMING.md) against a local websocket server speaking a minimal
// subscribe protocol of our own (no venue's payloads: this tests our transport, the venues' parsers are
// tested on their real recorded frames): subscription by message in paced batches, onOpen first,
// heartbeats keep a socket alive, a silent one is replaced and resubscribed, a shutdown notice rolls over
// with overlap (acks alone do not take over), the pool's spread and live unsubscribe, the registry's routing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { ParseError, type WatchItem } from '@mt/common';
import { waitFor } from '@mt/testing';
import { createSourceMetrics } from '../../src/common/metrics.js';
import { MarketSourceRegistry, VenueStream, type FrameRole, type VenueStreamSpec } from '../../src/market/stream/index.js';
import type { MarketComponent } from '../../src/market/context.js';

const log = pino({ level: 'silent' });
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

type Ev = { type: 'data'; stream: string; n: number } | { type: 'ack' | 'hb' | 'bye' | 'hello' | 'err' };

interface Conn {
  ws: WebSocket;
  url: string;
  streams: Set<string>;
  received: { at: number; msg: Record<string, unknown> }[];
  openedAt: number;
  closedAt?: number;
  /** What the server sends on its own: data for the subscribed streams, heartbeats only, or nothing. */
  mode: 'data' | 'heartbeat' | 'silent';
}

/** A tiny venue: {op:'sub'|'unsub', args, id} → {type:'ack'}; every 50 ms one data frame per subscribed stream. */
async function venue(o: { mode?: (n: number) => Conn['mode']; dataDelayMs?: number } = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const conns: Conn[] = [];
  wss.on('connection', (ws, req) => {
    const c: Conn = { ws, url: req.url ?? '', streams: new Set(), received: [], openedAt: Date.now(), mode: o.mode?.(conns.length) ?? 'data' };
    conns.push(c);
    const url = new URL(req.url ?? '/', 'http://x');
    for (const s of url.searchParams.get('s')?.split(',').filter(Boolean) ?? []) c.streams.add(s);
    ws.send(JSON.stringify({ type: 'hello' }));
    let n = 0;
    const start = Date.now();
    const timer = setInterval(() => {
      if (c.mode === 'heartbeat') ws.send(JSON.stringify({ type: 'hb' }));
      if (c.mode !== 'data' || Date.now() - start < (o.dataDelayMs ?? 0)) return;
      for (const s of c.streams) ws.send(JSON.stringify({ type: 'data', stream: s, n: n++ }));
    }, 50);
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: string; args?: string[]; id?: number };
      c.received.push({ at: Date.now(), msg });
      if (msg.op === 'sub') for (const a of msg.args ?? []) c.streams.add(a);
      if (msg.op === 'unsub') for (const a of msg.args ?? []) c.streams.delete(a);
      if (msg.op === 'sub' || msg.op === 'unsub') ws.send(JSON.stringify(msg.args?.some((a) => a.endsWith(':bad')) ? { type: 'err' } : { type: 'ack', id: msg.id }));
    });
    ws.on('close', () => {
      clearInterval(timer);
      c.closedAt = Date.now();
    });
  });
  const close = () => new Promise<void>((r) => {
    for (const c of conns) c.ws.terminate();
    wss.close(() => r());
  });
  cleanup.push(close);
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, conns, open: () => conns.filter((c) => c.closedAt === undefined) };
}

function spec(url: string, over: Partial<VenueStreamSpec<Ev>> = {}): VenueStreamSpec<Ev> {
  return {
    exchange: 'testvenue',
    source: 'testvenue_ws',
    limits: { maxStreamsPerConnection: 100, streamsPerMessage: 3, controlIntervalMs: 150, maxAgeMs: 60_000, staleMs: 800, connects: { max: 100, windowMs: 60_000 }, backoff: { initialMs: 50, maxMs: 200 } },
    streamsFor: (s) => [`trade:${s}`, `book:${s}`],
    url: (initial) => `${url}/ws?s=${initial.join(',')}`,
    urlStreams: 0,
    subscribe: (args, id) => JSON.stringify({ op: 'sub', args, id }),
    unsubscribe: (args, id) => JSON.stringify({ op: 'unsub', args, id }),
    parse: (text) => {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        throw new ParseError('not JSON', 'invalid_json', text);
      }
      const t = (v as { type?: string }).type;
      if (t === 'data' || t === 'ack' || t === 'hb' || t === 'bye' || t === 'hello' || t === 'err') return v as Ev;
      throw new ParseError('unknown', 'unknown_event', text);
    },
    role: (ev): FrameRole => ({ data: 'data', hb: 'heartbeat', ack: 'ack', hello: 'info', err: 'error', bye: 'shutdown' } as const)[ev.type],
    ...over,
  };
}

function stream(s: VenueStreamSpec<Ev>) {
  const registry = new Registry();
  const got: { ev: Ev; socketId: number }[] = [];
  const vs = new VenueStream<Ev>({ spec: s, log, metrics: createSourceMetrics(registry), registry, onData: (ev, _at, link) => got.push({ ev, socketId: link.socketId }) });
  cleanup.push(() => vs.stop());
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return ((m?.values ?? []) as { value: number; labels: Record<string, string | number> }[])
      .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
      .reduce((a, v) => a + v.value, 0);
  };
  return { vs, got, metric };
}

test('subscriptions by message in batches of streamsPerMessage, paced, after the onOpen message; acks and info never reach the handler', async () => {
  const v = await venue();
  const { vs, got, metric } = stream(spec(v.url, { onOpen: () => [JSON.stringify({ op: 'hello' })] }));
  vs.setSymbols(['A', 'B', 'C', 'D']);
  vs.start();
  await waitFor(() => v.conns[0]?.streams.size === 8, 5000, 'all 8 streams subscribed');
  const rx = v.conns[0]!.received;
  assert.deepEqual(rx[0]!.msg, { op: 'hello' }, 'onOpen message first');
  const subs = rx.filter((r) => r.msg.op === 'sub');
  assert.deepEqual(subs.map((r) => (r.msg.args as string[]).length), [3, 3, 2], 'batches of 3');
  // paced at 150 ms, as stamped on arrival at the venue fake (this process's event loop: one arrival may be
  // stamped late, which shortens the gap after it): every gap well above nothing, and the span the pacing sets
  for (let i = 1; i < rx.length; i++) assert.ok(rx[i]!.at - rx[i - 1]!.at >= 100, `control messages ${rx[i]!.at - rx[i - 1]!.at} ms apart`);
  assert.ok(rx.at(-1)!.at - rx[0]!.at >= (rx.length - 1) * 150 - 25, `${rx.length} control messages over ${rx.at(-1)!.at - rx[0]!.at} ms`);
  await waitFor(() => new Set(got.map((g) => (g.ev as { stream: string }).stream)).size === 8, 5000, 'data of every stream');
  assert.ok(got.every((g) => g.ev.type === 'data'));
  assert.equal(await metric('market_subscribed_streams', { exchange: 'testvenue' }), 8);
  assert.equal(await metric('market_ws_connections', { exchange: 'testvenue' }), 1);

  // live: one symbol out, one in, on the same socket
  vs.setSymbols(['A', 'B', 'C', 'E']);
  await waitFor(() => v.conns[0]!.streams.has('book:E') && !v.conns[0]!.streams.has('trade:D'), 3000, 'E in, D out');
  assert.equal(v.conns.length, 1, 'no reconnect');
  const unsub = v.conns[0]!.received.find((r) => r.msg.op === 'unsub')!;
  assert.deepEqual(unsub.msg.args, ['trade:D', 'book:D']);
});

test('heartbeats keep a quiet socket; a silent one is replaced after staleMs and resubscribed', async () => {
  const v = await venue({ mode: (n) => (n === 0 ? 'heartbeat' : n === 1 ? 'silent' : 'data') });
  const { vs, got, metric } = stream(spec(v.url, { limits: { ...spec('').limits, staleMs: 600 } }));
  vs.setSymbols(['A']);
  vs.start();
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(v.conns.length, 1, 'heartbeats only: still the first socket after 2.5 × staleMs');
  v.conns[0]!.mode = 'silent';
  await waitFor(() => v.conns.length === 3, 6000, 'silent socket replaced, and the silent second one too');
  await waitFor(() => got.length > 0, 3000, 'data on the third socket');
  assert.deepEqual([...v.conns[2]!.streams].sort(), ['book:A', 'trade:A'], 'resubscribed');
  assert.ok((await metric('feeder_source_errors_total', { source: 'testvenue_ws', kind: 'timeout' })) >= 2);
  assert.ok((await metric('feeder_reconnects_total', { source: 'testvenue_ws' })) >= 2);
});

test('a shutdown notice rolls over with overlap: the old socket closes only after the new one delivers data', async () => {
  // the replacement acks at once but delivers data only after 600 ms
  const v = await venue({ dataDelayMs: 600 });
  const { vs, got, metric } = stream(spec(v.url, { urlStreams: 10 }));
  vs.setSymbols(['A']);
  vs.start();
  await waitFor(() => got.length > 3, 3000, 'data');
  assert.equal(v.conns[0]!.received.length, 0, 'streams in the URL: nothing to subscribe');
  await new Promise((r) => setTimeout(r, 700));
  v.conns[0]!.ws.send(JSON.stringify({ type: 'bye' }));
  await waitFor(() => v.conns.length === 2, 3000, 'replacement opened');
  await waitFor(() => v.conns[0]!.closedAt !== undefined, 3000, 'old socket closed');
  const firstNew = got.find((g) => g.socketId !== got[0]!.socketId);
  assert.ok(firstNew, 'data from the new socket');
  assert.ok(v.conns[0]!.closedAt! - v.conns[1]!.openedAt >= 550, `old socket kept ${v.conns[0]!.closedAt! - v.conns[1]!.openedAt} ms until the new one delivered`);
  assert.equal(await metric('feeder_reconnects_total', { source: 'testvenue_ws' }), 0, 'a roll, not a reconnect');
  // an error frame is counted, bad frames too
  vs.setSymbols(['A', 'bad']);
  v.conns[1]!.ws.send('{oops');
  await waitFor(async () => (await metric('feeder_source_errors_total', { kind: 'request_error' })) === 1 && (await metric('feeder_parse_errors_total', { reason: 'invalid_json' })) === 1, 3000, 'error frame and bad frame counted');
  assert.equal(v.conns.length, 2, 'neither costs a reconnect');
});

test('pool: symbols spread over connections up to maxStreamsPerConnection, an emptied connection closed', async () => {
  const v = await venue();
  const { vs } = stream(spec(v.url, { limits: { ...spec('').limits, maxStreamsPerConnection: 4 } }));
  vs.setSymbols(['A', 'B', 'C']);
  vs.start();
  await waitFor(() => v.open().length === 2 && v.open().reduce((n, c) => n + c.streams.size, 0) === 6, 5000, 'two connections, 6 streams');
  assert.deepEqual(v.open().map((c) => c.streams.size).sort(), [2, 4]);
  vs.setSymbols(['A', 'B']);
  await waitFor(() => v.open().length === 1, 3000, 'emptied connection closed');
  assert.equal(vs.streamCount(), 4);
});

test('registry: items routed by exchange, global sources see all, unserved exchanges counted', async () => {
  const registry = new Registry();
  const r = new MarketSourceRegistry(log, registry);
  const seen = new Map<string, WatchItem[]>();
  const comp = (name: string): MarketComponent => ({ name, setWatch: (i) => void seen.set(name, i), start() {}, stop: async () => {} });
  r.register('binance', comp('binance'));
  r.register('kraken', comp('kraken'));
  r.addGlobal(comp('yahoo+coingecko'), ['yahoo']);
  assert.throws(() => r.register('kraken', comp('again')), /has a source already/);
  const items: WatchItem[] = [
    { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' },
    { symbol: 'BTC/USD', asset_type: 'crypto', exchange: 'kraken' },
    { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' },
    { symbol: 'BTC/USD', asset_type: 'crypto', exchange: 'bitstamp' },
  ];
  for (const [c, own] of r.route(items)) c.setWatch(own);
  assert.deepEqual(seen.get('binance')!.map((i) => i.symbol), ['BTC/USDT']);
  assert.deepEqual(seen.get('kraken')!.map((i) => i.symbol), ['BTC/USD']);
  assert.equal(seen.get('yahoo+coingecko')!.length, 4);
  const m = await registry.getSingleMetric('market_watch_items_unrouted')!.get();
  assert.deepEqual(m.values.map((v) => [v.labels.exchange, v.value]), [['bitstamp', 1]]);
  assert.deepEqual(r.exchanges(), ['binance', 'kraken', 'yahoo']);
});
