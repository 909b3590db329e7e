// Grafana Live failing under the market feeder, as a real process with a real InfluxDB 1.x, the local
// Binance server (a simulated 1-minute candle every 200 ms) and the Grafana Live push fake
// (testing/src/fakes/grafana-live.ts, Grafana 12.3's push endpoint) — docs/GRAFANA_LIVE.md:
// 1. Grafana down for 60 s (connection refused) → ingest unaffected (candles gap-free, no point dropped,
//    market_data keeps arriving), the Live queue stays bounded (one line per series),
//    refusals counted; pushes resume within the 10 s backoff cap once Grafana is back;
// 2. Grafana slow (every answer after 5 s) for 20 s → timeouts counted, one request at a time, ingest
//    unaffected, Live resumes when Grafana is fast again;
// 3. the token refused (401: rotated in Grafana) → counted and retried; the new token written to
//    GRAFANA_LIVE_TOKEN_FILE is picked up without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { GrafanaLiveFake, metricValue, startInflux, startService, tmpDir, waitFor, type BinanceFake, type InfluxServer, type RunningService } from '@mt/testing';
import { MINUTE, binanceFake, eventuallyGapFree, feederEnv, lastStored } from './helpers.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'BNB/USDT', 'SOL/USDT'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: InfluxServer;
let fake: BinanceFake;
let grafana: GrafanaLiveFake;
let feeder: RunningService;
let tokenFile: string;

before(async () => {
  influx = await startInflux();
  fake = await binanceFake(SYMBOLS, { candleMs: 200, historyMinutes: 60 });
  grafana = await new GrafanaLiveFake({ tokens: ['glsa_first'] }).listen();
  tokenFile = path.join(tmpDir('live-token'), 'grafana_live_token');
  writeFileSync(tokenFile, 'glsa_first\n');
  feeder = await startService('market-feeder', await feederEnv(influx, fake, SYMBOLS, { GRAFANA_LIVE_URL: grafana.url, GRAFANA_LIVE_TOKEN_FILE: tokenFile, GRAFANA_LIVE_MAX_HZ: '4' }));
  for (const s of SYMBOLS) await waitFor(async () => (await lastStored(influx, s)) > fake.historyStart(), 30_000, `${s} stored`);
});

after(async () => {
  await feeder?.kill();
  await grafana?.close();
  await fake?.close();
  await influx?.stop();
});

const metric = async (name: string, labels: Record<string, string> = {}) => metricValue(await feeder.metrics(), name, labels);

/** market_data points stored per symbol since `since` (ms). */
async function tickPointsSince(since: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const res = await influx.query(`SELECT count("price") FROM "market_data" WHERE time >= ${since}ms GROUP BY "symbol"`, 'markets');
  for (const s of res.results[0]?.series ?? []) out.set(String((s.tags as Record<string, string>).symbol), Number(s.values[0]![1]));
  return out;
}

async function pushesResume(since: number, within: number): Promise<void> {
  await waitFor(async () => grafana.pushes.some((p) => p.at > since), within, 'pushes resumed');
}

/** Watch the Live queue for `ms`: its highest value. */
async function maxQueued(ms: number): Promise<number> {
  let max = 0;
  for (const end = Date.now() + ms; Date.now() < end; ) {
    max = Math.max(max, await metric('grafana_live_queue_lines'));
    await sleep(1000);
  }
  return max;
}

test('Live works: every symbol streams on stream/markets/ticker (price, bid/ask, 24 h change on one line); closed candles (every 200 ms here) are not pushed', async () => {
  await waitFor(async () => new Set(grafana.on('stream/markets/ticker').flatMap((p) => p.frame.fields[0]!.values)).size >= SYMBOLS.length, 30_000, 'every symbol on ticker');
  await waitFor(async () => grafana.on('stream/markets/ticker').some((p) => p.frame.fields.some((f) => f.name === 'bid' && f.values.some((v) => typeof v === 'number'))), 30_000, 'bid/ask on the ticker line');
  assert.deepEqual([...new Set(grafana.publications.map((p) => p.channel))], ['stream/markets/ticker'], 'one channel: no book, no candles');
  assert.equal(grafana.schemaChanges.size, 0, 'stable schemas: no panel reset');
  assert.equal(await metric('grafana_live_up'), 1);
});

test('Grafana down for 60 s: ingest unaffected, Live queue bounded, refusals counted, pushes resume', async () => {
  const from = fake.lastClosedOpenTime();
  const t0 = Date.now();
  const refused0 = await metric('grafana_live_requests_total', { status: 'transport' });
  const port = await grafana.stop();
  const max = await maxQueued(60_000);
  const downFor = Date.now() - t0;
  const stored = await tickPointsSince(t0);
  const restartedAt = Date.now();
  await grafana.listen(port);
  await pushesResume(restartedAt, 15_000);
  // 60 s at a simulated minute per 200 ms: ~300 candles per symbol closed while Grafana was away
  const target = fake.lastClosedOpenTime();
  await eventuallyGapFree(influx, fake, SYMBOLS, target);
  assert.ok(target - from >= 250 * MINUTE, `${(target - from) / MINUTE} candles during the outage`);
  assert.equal(await metric('influx_points_dropped_total'), 0, 'InfluxDB lost nothing');
  for (const s of SYMBOLS) assert.ok((stored.get(s) ?? 0) >= 40, `${s}: ${stored.get(s)} market_data points stored while Grafana was down ${downFor} ms`);
  assert.ok((await metric('grafana_live_requests_total', { status: 'transport' })) > refused0, 'refusals counted');
  // one line per symbol
  assert.ok(max <= SYMBOLS.length, `Live queue at most ${max} lines`);
  console.log(JSON.stringify({ scenario: 'grafana-down-60s', downMs: downFor, maxQueuedLines: max, dropped: await metric('grafana_live_dropped_total') }));
});

test('Grafana slow (answers after 5 s) for 20 s: timeouts counted, ingest unaffected, Live resumes', async () => {
  const t0 = Date.now();
  const timeouts0 = await metric('grafana_live_requests_total', { status: 'timeout' });
  const requests0 = grafana.requests.length;
  grafana.fail({ kind: 'stall', ms: 5000 }, { times: 1_000_000 });
  const max = await maxQueued(20_000);
  // counted at the end of the slow window: once answers are fast again, pushes resume at their normal pace
  const requestsWhileSlow = grafana.requests.length - requests0;
  grafana.clearFaults();
  const stored = await tickPointsSince(t0);
  const fastAgain = Date.now();
  await sleep(6000); // the stalled requests finish
  await pushesResume(fastAgain + 5000, 20_000);
  assert.ok((await metric('grafana_live_requests_total', { status: 'timeout' })) > timeouts0, 'timeouts counted');
  // one request at a time with a 3 s timeout and backoff between: at most ~7 requests in 20 s
  assert.ok(requestsWhileSlow <= 12, `${requestsWhileSlow} requests while slow`);
  for (const s of SYMBOLS) assert.ok((stored.get(s) ?? 0) >= 15, `${s}: ${stored.get(s)} market_data points while Grafana was slow`);
  assert.ok(max <= SYMBOLS.length, `Live queue at most ${max} lines`);
  await eventuallyGapFree(influx, fake, SYMBOLS, fake.lastClosedOpenTime());
  assert.equal(await metric('influx_points_dropped_total'), 0);
});

test('token refused (401) after a rotation in Grafana: counted, retried, and the new token file is picked up without a restart', async () => {
  const refused0 = await metric('grafana_live_requests_total', { status: '401' });
  grafana.setTokens(['glsa_rotated']);
  await waitFor(async () => (await metric('grafana_live_requests_total', { status: '401' })) > refused0, 15_000, '401 counted');
  assert.equal(await metric('grafana_live_up'), 0);
  const t0 = Date.now();
  await sleep(5000);
  writeFileSync(tokenFile, 'glsa_rotated\n');
  await waitFor(async () => grafana.requests.some((r) => r.at > t0 && r.headers.authorization === 'Bearer glsa_rotated'), 20_000, 'new token used');
  await pushesResume(Date.now(), 15_000);
  assert.equal(await metric('grafana_live_up'), 1);
  assert.equal(feeder.proc.child.exitCode, null, 'the feeder kept running');
  await eventuallyGapFree(influx, fake, SYMBOLS, fake.lastClosedOpenTime());
  assert.equal(await metric('influx_points_dropped_total'), 0);
});
