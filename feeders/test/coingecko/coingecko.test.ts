// CoinGecko: mapper on the recorded bodies, source against the local CoinGecko (CoinGeckoFake).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { HttpStatusError, ParseError, type WatchItem } from '@mt/common';
import { CoinGeckoFake, coingeckoRateLimit, fixtureJson, waitFor } from '@mt/testing';
import { parseMarkets } from '../../src/market/coingecko/mapper.js';
import { CoinGeckoSource } from '../../src/market/coingecko/index.js';
import { harness } from '../polled/harness.js';

test('mapper: recorded /coins/markets bodies → caps by uppercase base', () => {
  const { coins, malformed } = parseMarkets(fixtureJson('coingecko/coins_markets_vs_usd_2023-01-08_first10.json'));
  assert.equal(malformed, 0);
  assert.equal(coins.length, 10);
  assert.deepEqual(coins[0], { id: 'bitcoin', base: 'BTC', marketCap: 326407877229, rank: 1, ts: Date.parse('2023-01-08T16:49:40.132Z') });
  assert.deepEqual(parseMarkets(fixtureJson('coingecko/coins_markets_docs_example.json')).coins[0]!.marketCap, 1381651251183);
  assert.deepEqual(parseMarkets([{ id: 'x', symbol: 'x', market_cap: null }, { name: 'no id' }]), {
    coins: [{ id: 'x', base: 'X', marketCap: undefined, rank: undefined, ts: undefined }],
    malformed: 1,
  });
  // the rate-limit envelope (also seen with HTTP 200) is an HTTP error, not data
  assert.throws(() => parseMarkets(fixtureJson('coingecko/error_429_rate_limit.json')), (e: HttpStatusError) => e.status === 429 && e.retryable);
  assert.throws(() => parseMarkets({ coins: [] }), ParseError);
});

const WATCH: WatchItem[] = [
  { symbol: 'BTC/USDT', asset_type: 'crypto', exchange: 'binance' },
  { symbol: 'BTC/USDC', asset_type: 'crypto', exchange: 'binance' },
  { symbol: 'ETH/USDT', asset_type: 'crypto', exchange: 'binance' },
  { symbol: 'DOGE/USDT', asset_type: 'crypto', exchange: 'binance' },
  { symbol: 'AAPL', asset_type: 'stock', exchange: 'yahoo' },
];

let fake: CoinGeckoFake;
let h: ReturnType<typeof harness>;
let src: CoinGeckoSource;
const make = (o: Partial<ConstructorParameters<typeof CoinGeckoSource>[0]> = {}) =>
  new CoinGeckoSource({ baseUrl: `${fake.url}/api/v3`, intervalMs: 60_000, log: h.log, metrics: h.metrics, out: h.out, ...o });

beforeEach(async () => {
  fake = await new CoinGeckoFake().listen();
  h = harness();
  src = make();
  src.setWatch(WATCH);
});
afterEach(async () => {
  await src.stop();
  await fake.close();
});

test('one request by coin id; every crypto symbol with the base gets the cap; demo key header sent', async () => {
  src = make({ apiKey: 'CG-demo-key' });
  src.setWatch(WATCH);
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  const [req, ...more] = fake.requestsTo('/api/v3/coins/markets');
  assert.equal(more.length, 0);
  assert.equal(req!.query.get('vs_currency'), 'usd');
  assert.equal(req!.query.get('ids'), 'bitcoin,ethereum,dogecoin');
  assert.equal(req!.headers['x-cg-demo-api-key'], 'CG-demo-key');
  assert.deepEqual(
    [...h.caps].sort(),
    [
      ['BTC/USDC', 326407877229],
      ['BTC/USDT', 326407877229],
      ['DOGE/USDT', 9910379850],
      ['ETH/USDT', 152631477365],
    ],
  );
  assert.equal(await h.metric('feeder_messages_total', { source: 'coingecko' }), 3);
});

test('a base missing from the id table is looked up by ticker and joined through `symbol`', async () => {
  src = make({ ids: { BTC: 'bitcoin' } });
  src.setWatch(WATCH);
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  const reqs = fake.requestsTo('/api/v3/coins/markets');
  assert.deepEqual(
    reqs.map((r) => [r.query.get('ids'), r.query.get('symbols')]),
    [
      ['bitcoin', null],
      [null, 'eth,doge'],
    ],
  );
  assert.deepEqual(new Map(h.caps).get('ETH/USDT'), 152631477365);
  assert.deepEqual(new Map(h.caps).get('DOGE/USDT'), 9910379850);
});

test('429 with Retry-After: counted, and the next request waits at least that long', async () => {
  src = make({ intervalMs: 100 });
  src.setWatch(WATCH);
  fake.fail(coingeckoRateLimit(1), { path: '/api/v3/coins/markets' });
  src.start();
  // caps arrive only from the poll after the 429
  await waitFor(() => h.caps.length > 0, 5_000, 'caps after the 429', 20);
  await src.stop();
  const [first, second] = fake.requestsTo('/api/v3/coins/markets');
  assert.ok(second, 'polled again after the 429');
  assert.ok(second.at - first!.at >= 1_000 - 5, `retried after ${second.at - first!.at} ms, Retry-After was 1 s`);
  assert.equal(await h.metric('feeder_source_errors_total', { source: 'coingecko', kind: 'http_429' }), 1);
  assert.equal(await h.metric('feeder_reconnects_total', { source: 'coingecko' }), 1);
  assert.equal(new Map(h.caps).get('BTC/USDT'), 326407877229, 'caps after recovery');
});

test('malformed body: ParseError counted, survived', async () => {
  fake.fail({ kind: 'malformed' });
  assert.equal((await src.poller.pollOnce()).ok, false);
  assert.equal(await h.metric('feeder_parse_errors_total', { source: 'coingecko', reason: 'invalid_json' }), 1);
  assert.equal(h.caps.length, 0);
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(h.caps.length, 4);
});

test('no crypto in the watch set: no request at all', async () => {
  src.setWatch(WATCH.filter((w) => w.asset_type !== 'crypto'));
  assert.deepEqual(await src.poller.pollOnce(), { ok: true });
  assert.equal(fake.requests.length, 0);
});
