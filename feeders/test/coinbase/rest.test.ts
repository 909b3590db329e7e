// The REST candles client on its own: pacing under the public limit, 429 retried, 404 thrown.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Backoff, HttpStatusError, createLogger } from '@mt/common';
import { CoinbaseFake } from '@mt/testing';
import { CoinbaseRest } from '../../src/market/coinbase/rest.js';
import { parseCandleRow } from '../../src/market/coinbase/mappers.js';
import { createSourceMetrics } from '../../src/common/metrics.js';

const fakes: CoinbaseFake[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

function client(fake: CoinbaseFake, extra: Partial<ConstructorParameters<typeof CoinbaseRest>[0]> = {}) {
  return new CoinbaseRest({ baseUrl: fake.restUrl, log: createLogger('rest-test', 'silent'), metrics: createSourceMetrics(new Registry()), ...extra });
}

test('requests are spaced minIntervalMs apart; a 429 (recorded body) is retried after a backoff', async () => {
  const fake = await new CoinbaseFake({ autoStart: false, products: ['BTC-USD'] }).listen();
  fakes.push(fake);
  const rest = client(fake, { minIntervalMs: 150, backoff: new Backoff({ initialMs: 100, maxMs: 200 }) });
  const from = fake.historyStart();
  const ac = new AbortController();
  await rest.candles('BTC-USD', from, from + 299 * 60_000, ac.signal);
  fake.failRest(2);
  const rows = await rest.candles('BTC-USD', from, from + 9 * 60_000, ac.signal);
  const reqs = fake.http.requestsTo(/\/candles$/);
  assert.equal(reqs.length, 4, 'one, then two 429s, then the answer');
  // sends are spaced 150 ms; arrival times jitter (the first one also opens the connection), so the span
  // of the last three is checked
  const span = reqs[3]!.at - reqs[1]!.at;
  assert.ok(span >= 2 * 150 - 30, `3 requests over ${span} ms`);
  assert.deepEqual(reqs[1]!.query.get('granularity'), '60');
  assert.deepEqual([reqs[1]!.query.get('start'), reqs[1]!.query.get('end')], [String(from / 1000), String(from / 1000 + 540)]);
  const times = rows.map((r) => parseCandleRow(r).openTime);
  assert.ok(times.every((t) => t >= from && t <= from + 9 * 60_000));
  assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first, as the venue answers');
});

test('an unknown product (404 NotFound) is thrown, not retried', async () => {
  const fake = await new CoinbaseFake({ autoStart: false, products: ['BTC-USD'] }).listen();
  fakes.push(fake);
  await assert.rejects(client(fake).candles('NOPE-USD', 0, 60_000, new AbortController().signal), (err: unknown) => err instanceof HttpStatusError && err.status === 404 && err.body.includes('NotFound'));
  assert.equal(fake.http.requestsTo(/\/candles$/).length, 1);
});
