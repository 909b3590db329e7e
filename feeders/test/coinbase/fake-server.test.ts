// The local Coinbase server speaks the protocol the real one does (testing/fixtures/LIMITS.md): acks,
// errors, last_match, the subscribe deadline, the inbound limit, REST candles agreeing with the stream.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { CoinbaseFake, waitFor } from '@mt/testing';
import { parseCandleRow, parseFrame, type CoinbaseEvent } from '../../src/market/coinbase/mappers.js';

const fakes: CoinbaseFake[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

async function open(fake: CoinbaseFake) {
  const ws = new WebSocket(fake.wsUrl);
  const frames: CoinbaseEvent[] = [];
  ws.on('message', (d) => frames.push(parseFrame(d.toString())));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r) => ws.on('open', r));
  return { ws, frames, closed };
}

test('subscribe: cumulative acks, last_match first, matches with consecutive ids that the REST candles add up to', async () => {
  const fake = await new CoinbaseFake({ candleMs: 200 }).listen();
  fakes.push(fake);
  const { ws, frames } = await open(fake);
  ws.send(JSON.stringify({ type: 'subscribe', product_ids: ['BTC-USD'], channels: ['matches', 'heartbeat'] }));
  ws.send(JSON.stringify({ type: 'subscribe', channels: [{ name: 'ticker', product_ids: ['BTC-USD', 'ETH-USD'] }] }));
  await waitFor(() => frames.filter((f) => f.kind === 'subscriptions').length === 2, 2000, 'acks');
  const acks = frames.filter((f) => f.kind === 'subscriptions');
  assert.deepEqual(
    acks[1]!.kind === 'subscriptions' && acks[1]!.channels.map((c) => [c.name, c.products]),
    [
      ['matches', ['BTC-USD']],
      ['heartbeat', ['BTC-USD']],
      ['ticker', ['BTC-USD', 'ETH-USD']],
    ],
  );
  const firstMatch = frames.find((f) => f.kind === 'match');
  assert.ok(firstMatch?.kind === 'match' && firstMatch.last, 'last_match comes first');
  await waitFor(() => frames.filter((f) => f.kind === 'match').length > 25, 10_000, 'matches');
  fake.pause();
  const matches = frames.filter((f): f is Extract<CoinbaseEvent, { kind: 'match' }> => f.kind === 'match' && !f.last);
  for (let i = 1; i < matches.length; i++) assert.equal(matches[i]!.tradeId, matches[i - 1]!.tradeId + 1, 'consecutive trade ids');
  // a closed minute the stream showed completely, from REST: the same OHLCV
  const minute = Math.floor(matches[0]!.ts / 60_000) * 60_000 + 60_000;
  const inMinute = matches.filter((x) => x.ts >= minute && x.ts < minute + 60_000);
  const res = await fetch(`${fake.restUrl}/products/BTC-USD/candles?granularity=60&start=${minute / 1000}&end=${minute / 1000}`);
  const rows = (await res.json()) as unknown[];
  if (inMinute.length === 0) assert.deepEqual(rows, [], 'no candle for a minute without trades');
  else {
    const c = parseCandleRow(rows[0]);
    assert.deepEqual(
      [c.openTime, c.open, c.close, c.high, c.low],
      [minute, inMinute[0]!.price, inMinute.at(-1)!.price, Math.max(...inMinute.map((x) => x.price)), Math.min(...inMinute.map((x) => x.price))],
    );
    assert.equal(c.volume, inMinute.reduce((s, x) => s + Math.round(x.size * 1e8), 0) / 1e8);
  }
  ws.close();
});

test('errors: an unknown product or channel gets the error frame; no subscribe within the deadline closes the socket; too many messages close it', async () => {
  const fake = await new CoinbaseFake({ products: ['BTC-USD'], subscribeDeadlineMs: 300 }).listen();
  fakes.push(fake);
  const a = await open(fake);
  a.ws.send(JSON.stringify({ type: 'subscribe', product_ids: ['NOPE-USD'], channels: ['matches'] }));
  a.ws.send(JSON.stringify({ type: 'subscribe', product_ids: ['BTC-USD'], channels: ['candles'] }));
  await waitFor(() => a.frames.filter((f) => f.kind === 'error').length === 2, 2000, 'errors');
  assert.deepEqual(
    a.frames.filter((f) => f.kind === 'error'),
    [
      { kind: 'error', message: 'Failed to subscribe', reason: 'NOPE-USD is not a valid product' },
      { kind: 'error', message: 'Failed to subscribe', reason: 'candles is not a valid channel' },
    ],
  );
  const b = await open(fake);
  assert.equal(await b.closed, 1008, 'no subscribe within the deadline');
  const c = await open(fake);
  for (let i = 0; i < 30; i++) c.ws.send(JSON.stringify({ type: 'subscribe', product_ids: ['BTC-USD'], channels: ['heartbeat'] }));
  assert.equal(await c.closed, 1008, 'over 20 messages in a burst');
  a.ws.close();
});

test('REST: newest first, ≤ 300 rows, 404 for an unknown product, 429 over 15 requests in a burst', async () => {
  // a slow refill, so the burst is over 15 however slowly a loaded machine sends it
  const fake = await new CoinbaseFake({ products: ['BTC-USD'], restPerSecond: 0.5 }).listen();
  fakes.push(fake);
  const S = fake.o.startTime / 1000;
  const ok = await fetch(`${fake.restUrl}/products/BTC-USD/candles?granularity=60&start=${S - 3600}&end=${S - 60}`);
  const rows = (await ok.json()) as number[][];
  assert.ok(rows.length > 30 && rows.length <= 60);
  assert.ok(rows[0]![0]! > rows[1]![0]!, 'newest first');
  assert.equal((await fetch(`${fake.restUrl}/products/BTC-USD/candles?granularity=60&start=${S - 400 * 60}&end=${S}`)).status, 400);
  const nf = await fetch(`${fake.restUrl}/products/NOPE-USD/candles?granularity=60`);
  assert.deepEqual([nf.status, await nf.json()], [404, { message: 'NotFound' }]);
  const statuses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${fake.restUrl}/products/BTC-USD/candles?granularity=60`).then((r) => r.status)));
  assert.ok(statuses.includes(429), 'the burst limit answers 429');
});
