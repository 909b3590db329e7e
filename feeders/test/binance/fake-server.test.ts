// The local Binance server itself: protocol, limits, market determinism, REST. The source's tests rely on it,
// so its behaviour is pinned here against the recorded frames' shapes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BinanceFake, fixtureJson, waitFor } from '@mt/testing';

const fakes: BinanceFake[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

async function fake(opts: ConstructorParameters<typeof BinanceFake>[0] = {}): Promise<BinanceFake> {
  const f = await new BinanceFake(opts).listen();
  fakes.push(f);
  return f;
}

function open(url: string): Promise<{ ws: WebSocket; frames: string[] }> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames }));
    ws.once('error', reject);
  });
}

function keysOf(o: unknown): string[] {
  return Object.keys(o as object).sort();
}

test('combined stream frames have the field shapes of the recorded frames', async () => {
  const f = await fake({ candleMs: 150 });
  const { ws, frames } = await open(`${f.wsUrl}/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@ticker/btcusdt@miniTicker/btcusdt@kline_1m`);
  await waitFor(() => frames.some((x) => x.includes('"x":true')), 5000, 'a closed kline');
  ws.close();
  const byStream = new Map<string, { stream: string; data: Record<string, unknown> }>();
  for (const x of frames) {
    const m = JSON.parse(x) as { stream: string; data: Record<string, unknown> };
    byStream.set(m.stream, m);
  }
  const rec = (name: string) => fixtureJson<{ data: Record<string, unknown> }>(`binance/${name}`).data;
  const tradeRec = rec('ws_combined_trade.json');
  // The recorded trade still has the retired buyer/seller order ids b/a; the current format drops them.
  assert.deepEqual(keysOf(byStream.get('btcusdt@trade')!.data), keysOf(tradeRec).filter((k) => k !== 'b' && k !== 'a'));
  assert.deepEqual(keysOf(byStream.get('btcusdt@aggTrade')!.data), keysOf(rec('ws_combined_aggTrade.json')));
  assert.deepEqual(keysOf(byStream.get('btcusdt@bookTicker')!.data), keysOf(rec('ws_combined_bookTicker.json')));
  assert.deepEqual(keysOf(byStream.get('btcusdt@ticker')!.data), keysOf(rec('ws_combined_24hrTicker.json')));
  assert.deepEqual(keysOf(byStream.get('btcusdt@miniTicker')!.data), keysOf(rec('ws_combined_24hrMiniTicker.json')));
  const k = byStream.get('btcusdt@kline_1m')!.data;
  assert.deepEqual(keysOf(k), keysOf(rec('ws_combined_kline_1m.json')));
  assert.deepEqual(keysOf(k.k), keysOf(rec('ws_combined_kline_1m.json').k));
  // Types as on the wire: prices are strings, ids numbers.
  const t = byStream.get('btcusdt@trade')!.data;
  assert.equal(typeof t.p, 'string');
  assert.equal(typeof t.t, 'number');
});

test('SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS on an open raw connection, error frames for bad requests', async () => {
  const f = await fake({ candleMs: 150 });
  const { ws, frames } = await open(`${f.wsUrl}/ws`);
  const reply = async (msg: string, id: unknown) => {
    ws.send(msg);
    return waitFor(() => frames.map((x) => JSON.parse(x) as { id?: unknown }).find((x) => x.id === id), 2000, `reply ${String(id)}`);
  };
  assert.deepEqual(await reply(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@trade'], id: 1 }), 1), { result: null, id: 1 });
  await waitFor(() => frames.some((x) => x.includes('"e":"trade"')), 3000, 'raw trade event');
  assert.ok(frames.every((x) => !x.includes('"stream"')), 'raw connection frames are not wrapped');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await reply(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 2 }), 2), { result: ['ethusdt@trade'], id: 2 });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await reply(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@nonsense'], id: 3 }), 3), {
    ...fixtureJson<object>('binance/ws_error_invalid_stream.json'),
    id: 3,
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await reply(JSON.stringify({ method: 'UNSUBSCRIBE', params: ['ethusdt@trade'], id: 4 }), 4), { result: null, id: 4 });
  const mark = frames.length;
  await new Promise((r) => setTimeout(r, 300));
  ws.send('{oops');
  await waitFor(() => frames.slice(mark).some((x) => x.includes('"code":3')), 2000, 'invalid JSON error');
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(!frames.slice(mark).some((x) => x.includes('"e":"trade"')), 'no more trades after UNSUBSCRIBE');
  ws.close();
});

test('more than 5 incoming messages per second disconnects; pings are sent and ponged', async () => {
  const f = await fake({ pingIntervalMs: 200 });
  const { ws } = await open(`${f.wsUrl}/stream?streams=btcusdt@trade`);
  await waitFor(() => f.connections[0]!.pongs >= 2, 3000, 'pongs');
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  for (let i = 0; i < 8; i++) ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: i + 1 }));
  await closed;
  assert.equal(f.connections[0]!.closeReason, 'rate_limit');
});

test('1024 streams per connection; serverShutdown event; drop and stall faults', async () => {
  const f = await fake({ maxStreamsPerConnection: 3 });
  const { ws, frames } = await open(`${f.wsUrl}/stream?streams=a1usdt@trade/a2usdt@trade`);
  ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['a3usdt@trade', 'a4usdt@trade'], id: 7 }));
  await waitFor(() => frames.some((x) => x.includes('"id":7')), 2000, 'answer');
  assert.equal(f.connections[0]!.errors[0]!.code, 2);
  assert.equal(f.connections[0]!.streams.size, 2);

  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  f.serverShutdown(100);
  await waitFor(() => frames.some((x) => x.includes('"!serverShutdown"')), 2000, 'shutdown event');
  await closed;
  assert.equal(f.connections[0]!.closeReason, 'shutdown');

  const b = await open(`${f.wsUrl}/stream?streams=btcusdt@kline_1m`);
  await waitFor(() => b.frames.length > 0, 3000, 'data');
  f.stallAll();
  const n = b.frames.length;
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(b.frames.length <= n + 1, 'stalled connection stays silent');
  assert.equal(b.ws.readyState, WebSocket.OPEN);
  const dropped = new Promise<void>((r) => b.ws.once('close', () => r()));
  assert.equal(f.dropAll(), 1);
  await dropped;
  assert.equal(f.connections[1]!.closeReason, 'dropped');
});

test('maximum connection age and refused upgrades', async () => {
  const f = await fake({ maxConnectionAgeMs: 300 });
  const { ws } = await open(`${f.wsUrl}/stream?streams=btcusdt@trade`);
  await new Promise<void>((r) => ws.once('close', () => r()));
  assert.equal(f.connections[0]!.closeReason, 'max_age');
  f.refuseConnections(1, 503);
  await assert.rejects(open(`${f.wsUrl}/stream?streams=btcusdt@trade`), /503/);
  const again = await open(`${f.wsUrl}/stream?streams=btcusdt@trade`);
  again.ws.close();
  await assert.rejects(open(`${f.wsUrl}/stream?streams=btcusdt@bogus`), /400/);
});

test('REST klines: same candles as the stream, paging, open candle last, weight header, 429/418 with real bodies', async () => {
  const f = await fake({ candleMs: 90, historyMinutes: 30 });
  const { ws, frames } = await open(`${f.wsUrl}/stream?streams=btcusdt@kline_1m`);
  await waitFor(() => frames.filter((x) => x.includes('"x":true')).length >= 3, 5000, 'closed klines');
  f.pause();
  ws.close();
  const streamed = frames
    .map((x) => (JSON.parse(x) as { data: { k: { t: number; c: string; v: string; n: number; x: boolean } } }).data.k)
    .filter((k) => k.x);
  const res = await fetch(`${f.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${streamed[0]!.t}&limit=1000`);
  assert.equal(res.status, 200);
  assert.ok(Number(res.headers.get('x-mbx-used-weight-1m')) >= 2);
  const rows = (await res.json()) as unknown[][];
  for (const k of streamed) {
    const row = rows.find((r) => r[0] === k.t)!;
    assert.deepEqual([row[4], row[5], row[8]], [k.c, k.v, k.n]);
  }
  const recorded = fixtureJson<unknown[][]>('binance/rest_klines_BTCUSDT_1m_startTime_endTime.json');
  assert.deepEqual(
    rows[0]!.map((v) => typeof v),
    recorded[0]!.map((v) => typeof v),
  );
  // paging: limit + startTime
  const all = f.closedCandles('BTC/USDT');
  const page = (await (await fetch(`${f.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${all[0]!.openTime}&limit=10`)).json()) as unknown[][];
  assert.deepEqual(
    page.map((r) => r[0]),
    all.slice(0, 10).map((c) => c.openTime),
  );
  assert.equal((await fetch(`${f.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1001`)).status, 400);

  f.failRest(429, { retryAfterSec: 3 });
  const r429 = await fetch(`${f.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m`);
  assert.equal(r429.status, 429);
  assert.equal(r429.headers.get('retry-after'), '3');
  assert.deepEqual(await r429.json(), fixtureJson('binance/rest_error_429_too_much_weight.json'));

  const tight = await fake({ weightLimit: 4, banSeconds: 7 });
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push((await fetch(`${tight.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1`)).status);
  assert.deepEqual(codes, [200, 200, 429, 418]);
});
