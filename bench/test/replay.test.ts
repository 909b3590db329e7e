// The replay server's frames have the recorded shapes, and it speaks enough of the protocol for our
// feeder and ccxt (correctness only; its speed is what bench/ measures).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { fixtureJson, waitFor } from '@mt/testing';
import { ReplayServer, frameData, newSym, type StreamKind } from '../replay.js';

const FIXTURES: Record<StreamKind, string> = {
  // the current trade format (the combined-stream fixture still has the retired b/a fields)
  trade: 'binance/ws_raw_trade_payload_docs_current_format.json',
  aggTrade: 'binance/ws_combined_aggTrade.json',
  bookTicker: 'binance/ws_combined_bookTicker.json',
  ticker: 'binance/ws_combined_24hrTicker.json',
  miniTicker: 'binance/ws_combined_24hrMiniTicker.json',
  kline_1m: 'binance/ws_combined_kline_1m.json',
};

/** Keys in order and the JSON type of every value, recursively. */
function shape(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v;
  return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]);
}

test('every synthesised frame has the recorded shape (keys, order, value types)', () => {
  const s = newSym('BTCUSDT', 9302);
  for (const [kind, file] of Object.entries(FIXTURES) as [StreamKind, string][]) {
    const recorded = fixtureJson<Record<string, unknown>>(file);
    const data = 'stream' in recorded ? recorded.data : recorded;
    const frame = JSON.parse(frameData(kind, s, Date.now())) as unknown;
    assert.deepEqual(shape(frame), shape(data), kind);
  }
});

test('a closed kline is sent once after the minute turns, with the candle of the trades in it', () => {
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
  const s = newSym('ETHUSDT', 2000, t0);
  const open = JSON.parse(frameData('kline_1m', s, t0 + 1000)) as { k: { t: number; n: number; x: boolean } };
  frameData('trade', s, t0 + 2000);
  const closed = JSON.parse(frameData('kline_1m', s, t0 + 60_500)) as { k: { t: number; n: number; x: boolean; o: string; h: string; l: string } };
  const next = JSON.parse(frameData('kline_1m', s, t0 + 61_000)) as { k: { t: number; x: boolean } };
  assert.equal(open.k.x, false);
  assert.deepEqual([closed.k.t, closed.k.x, closed.k.n], [t0, true, 2]);
  assert.ok(Number(closed.k.l) <= Number(closed.k.o) && Number(closed.k.o) <= Number(closed.k.h));
  assert.deepEqual([next.k.t, next.k.x], [t0 + 60_000, false]);
});

const servers: ReplayServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

test('SUBSCRIBE / LIST_SUBSCRIPTIONS / UNSUBSCRIBE on a raw /ws/<n> connection (as ccxt does), frames only for subscribed streams', async () => {
  const r = await new ReplayServer({ rate: 2000 }).listen();
  servers.push(r);
  const ws = new WebSocket(`${r.wsUrl}/ws/0`);
  const msgs: Record<string, unknown>[] = [];
  ws.on('message', (d) => msgs.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((res) => ws.once('open', res));
  ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@trade', 'ethusdt@depth'], id: 1 }));
  await waitFor(() => msgs.some((m) => m.e === 'trade'), 5000, 'trades');
  assert.deepEqual(msgs[0], { result: null, id: 1 });
  ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 2 }));
  const list = await waitFor(() => msgs.find((m) => m.id === 2), 5000, 'list');
  assert.deepEqual(list.result, ['ethusdt@trade', 'ethusdt@depth']);
  assert.ok(msgs.every((m) => 'id' in m || (m.e === 'trade' && m.s === 'ETHUSDT')));
  ws.send(JSON.stringify({ method: 'UNSUBSCRIBE', params: ['ethusdt@trade'], id: 3 }));
  await waitFor(() => msgs.some((m) => m.id === 3), 5000, 'unsubscribed');
  await new Promise((res) => setTimeout(res, 100));
  const n = msgs.length;
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(msgs.length, n, 'nothing after UNSUBSCRIBE');
  ws.close();
});

test('combined /stream URL, flood mode; REST klines answer from the same port', async () => {
  const r = await new ReplayServer({ rate: 0 }).listen();
  servers.push(r);
  const ws = new WebSocket(`${r.wsUrl}/stream?streams=btcusdt@kline_1m/btcusdt@bookTicker`);
  const streams = new Set<string>();
  let n = 0;
  ws.on('message', (d) => {
    n++;
    streams.add((JSON.parse(String(d)) as { stream: string }).stream);
  });
  await waitFor(() => n > 1000, 10_000, 'a flood of frames');
  ws.terminate();
  assert.deepEqual([...streams].sort(), ['btcusdt@bookTicker', 'btcusdt@kline_1m']);
  const res = await fetch(`${r.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=3`);
  const rows = (await res.json()) as unknown[][];
  assert.equal(rows.length, 3);
  assert.equal(rows[2]![0], Math.floor(Date.now() / 60_000) * 60_000 - 60_000, 'history ends at the last closed minute');
});
