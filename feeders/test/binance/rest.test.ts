// The REST klines client on its own: weight budget from X-MBX-USED-WEIGHT-1M, non-retryable errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { HttpStatusError, createLogger } from '@mt/common';
import { BinanceFake } from '@mt/testing';
import { BinanceRest } from '../../src/market/binance/rest.js';
import { createSourceMetrics } from '../../src/common/metrics.js';

const fakes: BinanceFake[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

function client(fake: BinanceFake, extra: Partial<ConstructorParameters<typeof BinanceRest>[0]> = {}) {
  return new BinanceRest({ baseUrl: fake.restUrl, log: createLogger('rest-test', 'silent'), metrics: createSourceMetrics(new Registry()), ...extra });
}

test('at the weight budget the client waits for the next weight minute instead of running into a 429', async () => {
  const fake = await new BinanceFake({ autoStart: false, historyMinutes: 5 }).listen();
  fakes.push(fake);
  // Each klines call weighs 2; with a budget of 2 the second call must wait for the minute to roll over,
  // which this clock puts 400 ms away.
  const rest = client(fake, { weightBudget: 2, now: () => 60_000 * 1000 - 400 });
  const ac = new AbortController();
  const from = fake.historyStart();
  await rest.klines('BTCUSDT', from, from + 60_000, ac.signal);
  assert.equal(rest.usedWeight, 2);
  await rest.klines('BTCUSDT', from, from + 60_000, ac.signal);
  const [a, b] = fake.http.requestsTo('/api/v3/klines');
  assert.ok(b!.at - a!.at >= 600, `second request after ${b!.at - a!.at} ms`);
});

test('a non-retryable answer (invalid symbol) is thrown, not retried', async () => {
  const fake = await new BinanceFake({ autoStart: false, symbols: ['BTCUSDT'] }).listen();
  fakes.push(fake);
  const rest = client(fake);
  await assert.rejects(rest.klines('NOPEUSDT', 0, 60_000, new AbortController().signal), (err: unknown) => err instanceof HttpStatusError && err.status === 400 && err.body.includes('-1121'));
  assert.equal(fake.http.requestsTo('/api/v3/klines').length, 1);
});
