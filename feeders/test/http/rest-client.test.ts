// The one HTTP helper (docs/SOURCES.md, "One HTTP helper") on its own, against the Binance fake's klines
// route (recorded payloads): what each failure does — retried after the server's Retry-After, thrown at
// once, retried after a timeout — and how it is counted in the feeder_* metrics every source shares.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { HttpStatusError, ParseError, createLogger } from '@mt/common';
import { BinanceFake } from '@mt/testing';
import { RestClient, RetryPolicy, httpGet } from '../../src/common/http/index.js';
import { createSourceMetrics } from '../../src/common/metrics.js';

const fakes: BinanceFake[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

const KLINES = '/api/v3/klines';

async function setup(extra: Partial<ConstructorParameters<typeof RestClient>[0]> = {}) {
  const fake = await new BinanceFake({ autoStart: false, historyMinutes: 5 }).listen();
  fakes.push(fake);
  const registry = new Registry();
  const client = new RestClient({
    baseUrl: fake.restUrl,
    source: 'test_rest',
    log: createLogger('http-test', 'silent'),
    metrics: createSourceMetrics(registry),
    // waits this short leave only the server's Retry-After to measure
    retry: new RetryPolicy({ initialMs: 1, maxMs: 5 }),
    ...extra,
  });
  const from = fake.historyStart();
  const path = `${KLINES}?${new URLSearchParams({ symbol: 'BTCUSDT', interval: '1m', startTime: String(from), endTime: String(from + 60_000), limit: '1000' })}`;
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
  };
  return { fake, client, path, metric };
}

test('a 503 with Retry-After is retried no sooner than the server asked; the answer is the venue rows; counted once as http_5xx', async () => {
  const { fake, client, path, metric } = await setup();
  fake.http.fail({ kind: 'status', status: 503, retryAfter: 1 }, { path: KLINES });
  const rows = (await client.getJson(path, new AbortController().signal)) as unknown[];
  assert.equal(rows.length, 2, 'two 1 m klines from startTime to endTime');
  const [a, b] = fake.http.requestsTo(KLINES);
  assert.ok(b!.at - a!.at >= 990, `retried after ${b!.at - a!.at} ms, Retry-After was 1 s`);
  assert.equal(await metric('feeder_source_errors_total', { source: 'test_rest', kind: 'http_5xx' }), 1);
  assert.equal(await metric('feeder_reconnects_total', { source: 'test_rest' }), 1);
  assert.equal(await metric('feeder_messages_total', { source: 'test_rest' }), 1);
  assert.equal(await metric('feeder_source_up', { source: 'test_rest' }), 1);
});

test('451 (restricted location) and 400 are thrown at once, never retried', async () => {
  const { fake, client, path, metric } = await setup();
  for (const status of [451, 400]) {
    fake.http.fail({ kind: 'status', status }, { path: KLINES });
    await assert.rejects(client.getJson(path, new AbortController().signal), (err: unknown) => err instanceof HttpStatusError && err.status === status && !err.retryable);
    assert.equal(await metric('feeder_source_errors_total', { source: 'test_rest', kind: `http_${status}` }), 1);
  }
  assert.equal(fake.http.requestsTo(KLINES).length, 2, 'one request per call');
  assert.equal(await metric('feeder_source_up', { source: 'test_rest' }), 0);
});

test('an answer slower than the timeout is counted as kind=timeout and asked again', async () => {
  const { fake, client, path, metric } = await setup({ timeoutMs: 300 });
  fake.http.fail({ kind: 'stall', ms: 3000 }, { path: KLINES });
  const rows = (await client.getJson(path, new AbortController().signal)) as unknown[];
  assert.equal(rows.length, 2);
  assert.equal(await metric('feeder_source_errors_total', { source: 'test_rest', kind: 'timeout' }), 1);
  assert.equal(fake.http.requestsTo(KLINES).length, 2);
});

test('a body that is not JSON is a ParseError: counted as bad input, not retried', async () => {
  const { fake, client, path, metric } = await setup();
  fake.http.fail({ kind: 'malformed' }, { path: KLINES });
  await assert.rejects(client.getJson(path, new AbortController().signal), (err: unknown) => err instanceof ParseError && err.reason === 'invalid_json');
  assert.equal(await metric('feeder_parse_errors_total', { source: 'test_rest', reason: 'invalid_json' }), 1);
  assert.equal(await metric('feeder_source_errors_total', { source: 'test_rest', kind: 'parse' }), 1);
  assert.equal(fake.http.requestsTo(KLINES).length, 1);
});

test('requests of concurrent callers are spaced minIntervalMs apart', async () => {
  const tries: number[] = [];
  // each try's start, taken after the spacing: the server's receive times would add network jitter
  const { fake, client, path } = await setup({ minIntervalMs: 400, beforeTry: async () => void tries.push(Date.now()) });
  const signal = new AbortController().signal;
  await Promise.all([client.getJson(path, signal), client.getJson(path, signal), client.getJson(path, signal)]);
  assert.equal(fake.http.requestsTo(KLINES).length, 3);
  assert.equal(tries.length, 3);
  assert.ok(tries[1]! - tries[0]! >= 399 && tries[2]! - tries[1]! >= 399, `gaps ${tries[1]! - tries[0]!} and ${tries[2]! - tries[1]!} ms`);
});

test('a body over the cap is refused (ParseError too_large), not buffered whole', async () => {
  const { fake, path } = await setup();
  await assert.rejects(
    httpGet(`${fake.restUrl}${path}`, { signal: new AbortController().signal, maxBodyBytes: 100, source: 'test_rest' }),
    (err: unknown) => err instanceof ParseError && err.reason === 'too_large',
  );
});

test('a credential in the URL path (ExchangeRate-API’s key) never appears in an error message', async () => {
  // a port nothing listens on: the refused connection's TransportError names the path it asked for
  const server = (await import('node:net')).createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  const key = 'k3y/with space';
  const err = await httpGet(`http://127.0.0.1:${port}/v6/${encodeURIComponent(key)}/latest/USD`, { signal: AbortSignal.timeout(5000), source: 'exchangerate', secret: key }).then(
    () => assert.fail('a refused connection resolved'),
    (e: Error) => e,
  );
  assert.match(err.message, /^exchangerate: GET \/v6\/<key>\/latest\/USD: /);
  assert.ok(!err.message.includes(encodeURIComponent(key)) && !err.message.includes(key), err.message);
});
