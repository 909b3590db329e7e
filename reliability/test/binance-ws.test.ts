// The market feeder as a real process, fed by the local Binance server through a man-in-the-middle
// (ws-proxy.ts), storing into a real InfluxDB 1.x:
// 1. fuzzed frames injected into the live streams (random JSON, real frames with a field of the wrong
//    type, truncated frames, invalid UTF-8, multi-megabyte messages) → the process stays up, every
//    rejected frame is counted in feeder_parse_errors_total, the stored candles are still exactly the
//    exchange's;
// 2. connections rolled on a shortened maximum age (BINANCE_MAX_CONNECTION_AGE_MS 10 s, the exchange
//    cuts at 15 s instead of 24 h), a fault every 5 s (drop, stall, serverShutdown), then a reconnect storm (every upgrade refused for
//    20 s) → zero missing and zero duplicate candles, and the attempts the proxy saw stay far under
//    Binance's 300 connections / 5 min per IP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fixtureJson, metricValue, startInflux, startService, waitFor, type BinanceFake, type InfluxServer, type RunningService } from '@mt/testing';
import { WsProxy } from './ws-proxy.js';
import { MINUTE, binanceFake, eventuallyGapFree, feederEnv, lastStored } from './helpers.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: InfluxServer;
let fake: BinanceFake;
let proxy: WsProxy;
let feeder: RunningService;

before(async () => {
  influx = await startInflux();
  // the exchange closes connections at 15 s (Binance: 24 h), the feeder must roll before, at 10 s
  fake = await binanceFake(SYMBOLS, { pingIntervalMs: 1000, maxConnectionAgeMs: 15_000 });
  proxy = await new WsProxy(fake.wsUrl).listen();
  // connections roll every 10 s (the schema's minimum) instead of after 23.5 h
  feeder = await startService('market-feeder', await feederEnv(influx, fake, SYMBOLS, { BINANCE_WS_URL: proxy.url, BINANCE_MAX_CONNECTION_AGE_MS: '10000' }));
  await waitFor(async () => (await lastStored(influx, 'BTC/USDT')) > 0 && proxy.open() > 0, 30_000, 'first candles stored');
});

after(async () => {
  await feeder?.kill();
  await proxy?.close();
  await fake?.close();
  await influx?.stop();
});

async function caughtUp(): Promise<number> {
  const target = fake.lastClosedOpenTime() + 2 * MINUTE;
  for (const s of SYMBOLS) await waitFor(async () => (await lastStored(influx, s)) >= target, 30_000, `${s} caught up`);
  return target;
}

const FRAMES = ['trade', 'aggTrade', 'bookTicker', '24hrTicker', '24hrMiniTicker', 'kline_1m'].map((n) => fixtureJson<{ stream: string; data: Record<string, unknown> }>(`binance/ws_combined_${n}.json`));
const wrongType = fc.oneof(fc.constant(null), fc.boolean(), fc.constant('not-a-number'), fc.constant(''), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}), fc.constant('NaN'), fc.constant('Infinity'));

// The fields parseFrame reads per event (symbol excluded, so the frame still reaches a watched stream).
const READ: Record<string, string[]> = {
  trade: ['T', 't', 'p'],
  aggTrade: ['T', 'f', 'l', 'p'],
  '24hrTicker': ['E', 'c', 'h', 'l', 'q', 'P', 'b', 'a'],
  '24hrMiniTicker': ['E', 'o', 'c', 'h', 'l', 'q'],
  kline: ['E', 'k'],
  book: ['u', 'b', 'a'],
  k: ['t', 'T', 'o', 'h', 'l', 'c', 'v', 'q', 'n', 'x', 'i'],
};

/** A real frame with one field the mapper reads replaced by a value of the wrong type: always invalid. */
const mutatedFrame = fc.tuple(fc.constantFrom(...FRAMES), fc.nat(), wrongType).map(([f, i, v]) => {
  const copy = structuredClone(f);
  const d = copy.data;
  const inK = d.e === 'kline' && i % 2 === 1;
  const target = inK ? (d.k as Record<string, unknown>) : d;
  const keys = READ[inK ? 'k' : typeof d.e === 'string' ? d.e : 'book']!;
  const key = keys[i % keys.length]!;
  // x must be a boolean and i a string: give those a value that is wrong for them
  target[key] = key === 'x' ? 'true' : key === 'i' ? 7 : v;
  return JSON.stringify(copy);
});
const truncatedFrame = fc.tuple(fc.constantFrom(...FRAMES), fc.nat()).map(([f, n]) => {
  const s = JSON.stringify(f);
  return s.slice(0, 1 + (n % (s.length - 1)));
});
// random JSON without the two control shapes the client legitimately accepts ({result,id} and {error})
const randomJson = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)).filter((s) => !/"result"|"error"/.test(s) && s !== undefined);

test('fuzzed frames into the live streams: no crash, every rejection counted, stored candles unchanged', async () => {
  const m0 = await feeder.metrics();
  const parse0 = metricValue(m0, 'feeder_parse_errors_total', { source: 'binance_ws' });
  const reconnects0 = metricValue(m0, 'feeder_reconnects_total', { source: 'binance_ws' });
  const frames = fc.sample(fc.oneof(mutatedFrame, truncatedFrame, randomJson), { numRuns: 300, seed: 42 });
  let sent = 0;
  for (const [i, f] of frames.entries()) {
    await waitFor(() => proxy.open() > 0, 15_000, 'a connection to inject into');
    sent += proxy.inject(f);
    if (i % 20 === 0) await sleep(20);
  }
  // oversized messages: 4 MB of JSON that is not an event, and a 4 MB truncated frame
  sent += proxy.inject(JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'x', pad: 'x'.repeat(4 << 20) } }));
  sent += proxy.inject(`{"stream":"btcusdt@trade","data":{"e":"trade","p":"${'9'.repeat(4 << 20)}`);
  await waitFor(async () => metricValue(await feeder.metrics(), 'feeder_parse_errors_total', { source: 'binance_ws' }) >= parse0 + sent, 15_000, `${sent} rejections counted`);

  // invalid UTF-8 in a text frame is a protocol error: the client must fail that connection (1007) and reconnect
  const bad = proxy.inject(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]));
  assert.ok(bad > 0);
  await waitFor(async () => metricValue(await feeder.metrics(), 'feeder_reconnects_total', { source: 'binance_ws' }) > reconnects0, 15_000, 'reconnect after invalid UTF-8');

  const target = await caughtUp();
  assert.equal(feeder.proc.child.exitCode, null, 'the feeder is still running');
  const m = await feeder.metrics();
  // exactly: no valid-looking frame slipped through as data, none was counted twice
  assert.equal(metricValue(m, 'feeder_parse_errors_total', { source: 'binance_ws' }) - parse0, sent, 'rejected frames counted');
  await eventuallyGapFree(influx, fake, SYMBOLS, target);
});

test('connection roll-over at a shortened maximum age, a fault every 5 s (drop, stall, serverShutdown), then a 20 s reconnect storm: gap-free, attempts within limits', async () => {
  const from = fake.lastClosedOpenTime();
  const t0 = Date.now();
  // undisturbed for 22 s: the client rolls at 10 s and 20 s, before the exchange would cut at 15 s
  await sleep(22_000);
  const faults = [() => fake.dropAll(), () => fake.stallAll(), () => fake.serverShutdown(500)];
  for (let i = 0; i < 6; i++) {
    await sleep(5000);
    faults[i % faults.length]!();
  }
  // storm: every upgrade refused for 20 s while the exchange keeps closing candles
  const stormStart = Date.now();
  proxy.refuse(503);
  await sleep(20_000);
  proxy.allow();
  const stormEnd = Date.now();
  const target = await caughtUp();
  assert.ok(target - from >= 100 * MINUTE, `${(target - from) / MINUTE} simulated minutes covered`);
  await eventuallyGapFree(influx, fake, SYMBOLS, target);

  const inStorm = proxy.attempts.filter((t) => t >= stormStart && t <= stormEnd).length;
  const per5min = proxy.maxAttemptsWithin(5 * MINUTE, t0);
  const per10s = proxy.maxAttemptsWithin(10_000, stormStart, stormEnd);
  // the fake also enforces 300 / 5 min: nothing was refused for that reason
  assert.ok(inStorm >= 2, `retried during the storm (${inStorm} attempts)`);
  // backoff: on average below Binance's sustained 1 attempt/s (300 / 5 min) even while every attempt fails
  assert.ok(inStorm <= 20 && per10s <= 12, `backoff: ${inStorm} attempts in 20 s, at most ${per10s} in any 10 s`);
  assert.ok(per5min < 300, `${per5min} attempts in the busiest 5 minutes (Binance allows 300)`);
  const rolls = feeder.logs().filter((l) => l.msg === 'binance connection rolling over to a new socket' && l.reason === 'max_age').length;
  assert.ok(rolls >= 2, `connections rolled by the client on age: ${rolls}`);
  const cut = fake.connections.filter((c) => c.closeReason === 'max_age').length;
  assert.equal(cut, 0, 'no connection reached the exchange\'s maximum age');
  console.log(JSON.stringify({ scenario: 'binance-faults', simulatedMinutes: (target - from) / MINUTE, attemptsTotal: proxy.attempts.length, attemptsInStorm: inStorm, maxAttemptsPer10sInStorm: per10s, maxAttemptsPer5min: per5min, maxAgeRolls: rolls }));
});
