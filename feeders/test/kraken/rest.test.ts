// The Kraken REST client on the fake: errors arrive with HTTP 200 and decide the retry by their name.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { KrakenFake } from '@mt/testing';
import { createLogger, isRetryable } from '@mt/common';
import { createSourceMetrics } from '../../src/common/metrics.js';
import { KrakenApiError, KrakenRest, NotCommittedError } from '../../src/market/kraken/rest.js';

const fakes: KrakenFake[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

async function setup() {
  const fake = await new KrakenFake({ autoStart: false, symbols: ['BTC/USD'] }).listen();
  fakes.push(fake);
  const registry = new Registry();
  const rest = new KrakenRest({ baseUrl: fake.restUrl, log: createLogger('kraken-rest-test', 'silent'), metrics: createSourceMetrics(registry), minIntervalMs: 0 });
  const count = async (name: string) => ((await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values ?? []).reduce((s, v) => s + v.value, 0);
  return { fake, rest, count };
}

test('OHLC by the altname: committed rows as the exchange has them, `last` = the newest committed minute', async () => {
  const { fake, rest } = await setup();
  for (let i = 0; i < 4; i++) fake.advance(); // one minute over, the next one started
  const page = await rest.ohlc('XBTUSD', fake.o.startTime - 10 * 60_000, AbortSignal.timeout(5000));
  assert.equal(page.last, fake.o.startTime);
  assert.deepEqual(
    page.rows.map((r) => [r.openTime, r.open, r.close, r.volume, r.trades]),
    fake.closedCandles('BTC/USD', fake.o.startTime - 9 * 60_000).map((c) => [c.openTime, c.open, c.close, c.volume, c.trades]),
  );
  assert.equal(fake.http.requestsTo('/0/public/OHLC')[0]!.query.get('interval'), '1');
  // asking past `last` is not committed yet: retryable
  await assert.rejects(rest.klines('XBTUSD', fake.o.startTime, fake.o.startTime + 60_000 + 59_999, AbortSignal.timeout(5000)), NotCommittedError);
});

test('EService:Unavailable and EAPI:Rate limit exceeded (HTTP 200) are retried; EQuery:Unknown asset pair is not', async () => {
  const { fake, rest, count } = await setup();
  fake.failRest('EService:Unavailable', 1);
  fake.failRest('EAPI:Rate limit exceeded', 1);
  const page = await rest.ohlc('XBTUSD', 0, AbortSignal.timeout(10_000));
  assert.ok(page.rows.length > 100);
  assert.equal(fake.http.requestsTo('/0/public/OHLC').length, 3);
  assert.equal(await count('feeder_source_errors_total'), 2);
  const err = await rest.ohlc('NOPEUSD', 0, AbortSignal.timeout(5000)).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof KrakenApiError);
  assert.deepEqual(err.errors, ['EQuery:Unknown asset pair']);
  assert.equal(isRetryable(err), false);
  assert.equal(fake.http.requestsTo('/0/public/OHLC').length, 4, 'asked once');
});
