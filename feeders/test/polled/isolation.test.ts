// createPolledSources as the feeder core uses it: three components on their own pollers against the
// three local fakes. Yahoo is made to fail on every request; CoinGecko and Fear & Greed carry on, and
// Yahoo's failures show in its own feeder_* series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlternativeMeFake, CoinGeckoFake, YahooFake, waitFor } from '@mt/testing';
import type { InfluxQLClient, WatchItem } from '@mt/common';
import { marketSchema } from '../../src/market/config.js';
import { createPolledSources } from '../../src/market/polled.js';
import { harness } from './harness.js';

const WATCH: WatchItem[] = [
  { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' },
  { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' },
];

test('one source failing does not stop the others', async () => {
  const [yahoo, cg, alt] = await Promise.all([new YahooFake().listen(), new CoinGeckoFake().listen(), new AlternativeMeFake().listen()]);
  const h = harness();
  const cfg = marketSchema.parse({
    YAHOO_URL: yahoo.url,
    YAHOO_COOKIE_URL: `${yahoo.url}/`,
    YAHOO_POLL_MS: '1000',
    COINGECKO_URL: `${cg.url}/api/v3`,
    COINGECKO_POLL_MS: '1000',
    FEAR_GREED_URL: alt.fngUrl,
    FEAR_GREED_POLL_MS: '1000',
  });
  const influxql: InfluxQLClient = { query: async () => [] };
  const sources = createPolledSources({ cfg, log: h.log, registry: h.registry, sink: h.sink, influxql, sourceMetrics: h.metrics, out: h.out });
  assert.deepEqual(
    sources.map((s) => s.name),
    ['yahoo', 'coingecko', 'fear_greed'],
  );
  yahoo.fail({ kind: 'status', status: 500 }, { times: 1_000 });
  try {
    for (const s of sources) s.setWatch(WATCH);
    for (const s of sources) await s.start();
    // two rounds of the healthy sources while Yahoo keeps failing
    await waitFor(
      async () => h.caps.length >= 2 && h.points.length >= 2 && (await h.metric('feeder_source_errors_total', { source: 'yahoo', kind: 'http_5xx' })) >= 2,
      10_000,
      'two polls each',
      20,
    );
  } finally {
    await Promise.all(sources.map((s) => s.stop()));
    await Promise.all([yahoo.close(), cg.close(), alt.close()]);
  }
  assert.equal(h.ticks.length, 0);
  assert.ok((await h.metric('feeder_source_errors_total', { source: 'yahoo', kind: 'http_5xx' })) >= 2);
  assert.equal(await h.metric('feeder_source_up', { source: 'yahoo' }), 0);
  for (const source of ['coingecko', 'fear_greed']) {
    assert.equal(await h.metric('feeder_source_up', { source }), 1, `${source} up`);
    assert.equal(await h.metric('feeder_source_errors_total', { source, kind: 'http_5xx' }), 0);
  }
  assert.ok(h.caps.length >= 2 && h.caps.every(([s, c]) => s === 'BTC/USDT' && c === 326407877229));
  assert.ok(h.points.length >= 2 && h.points.every((p) => p.bucket === 'markets/raw' && p.line.startsWith('fear_greed ')));
  const health = sources[0]!.health!();
  assert.ok((health.consecutiveFailures as number) >= 2);
});
