// Funding intervals (docs/SOURCES.md "Binance USDⓈ-M futures", docs/DASHBOARDS.md "Derivatives"): the futures
// source reads GET /fapi/v1/fundingInfo (the recorded list: LPTUSDT on 4 h, BTCUSDT not listed → 8 h), stores
// each funding point with its interval in a real InfluxDB, and the derivatives dashboard's committed
// annualised-funding query, run on that InfluxDB, annualises with it. A first read that fails (a body that
// is not JSON) is counted, the 8 h default is kept, and the next read applies 4 h.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BinanceFuturesFake, waitFor } from '@mt/testing';
import { createLogger } from '@mt/common';
import { createBinanceFuturesSource } from '../../src/market/binance-futures/index.js';
import { parseFundingInfo } from '../../src/market/binance-futures/mappers.js';
import { MarketCore } from '../../src/market/core.js';
import { harness } from '../binance/harness.js';
import { perps } from './harness.js';
import { venueInflux } from '../venue-influx.js';

const LPT = 'LPT/USDT:USDT';
const BTC = 'BTC/USDT:USDT';
const db = venueInflux('binance-futures-funding-interval-test');
const log = createLogger('binance-futures-funding-interval-test', 'silent');

async function rows(q: string): Promise<Record<string, unknown>[]> {
  const res = await db.influx.query(q, 'markets');
  assert.equal(res.results[0]?.error, undefined, q);
  const s = res.results[0]?.series?.[0] as { columns: string[]; values: unknown[][] } | undefined;
  return (s?.values ?? []).map((v) => Object.fromEntries(s!.columns.map((c, i) => [c, v[i]])));
}

/** The committed derivatives dashboard's funding stat query, with the variables Grafana would substitute. */
function fundingStatQuery(symbol: string): string {
  const d = JSON.parse(readFileSync(new URL('../../../grafana/dashboards/derivatives.json', import.meta.url), 'utf8')) as { panels: { title: string; targets?: { query: string }[] }[] };
  const panel = d.panels.find((p) => p.title === 'Funding — $symbol ($exchange)');
  assert.ok(panel?.targets?.[0], 'the funding stat panel is in the committed dashboard');
  return panel.targets[0].query.replaceAll('$symbol', symbol).replaceAll('$exchange', 'binance-futures');
}

test('the recorded fundingInfo bodies: adjusted symbols and their hours; bad elements left out and returned', () => {
  const read = (f: string) => JSON.parse(readFileSync(new URL(`../../../testing/fixtures/binance_futures/${f}`, import.meta.url), 'utf8')) as unknown;
  const a = parseFundingInfo(read('rest_fapi_v1_fundingInfo_2025-04-15_excerpt_asterdex_issue1.json'));
  assert.deepEqual([...a.hours], [['BLZUSDT', 4], ['GTCUSDT', 8], ['LPTUSDT', 4], ['UNFIUSDT', 4]]);
  assert.equal(a.rejected.length, 0);
  // today's shape: `updateTime`, and a disclaimer row whose updateTime is null
  const b = parseFundingInfo(read('rest_fapi_v1_fundingInfo_2026_excerpt_quoted_live.json'));
  assert.deepEqual([...b.hours], [['GTCUSDT', 8], ['LPTUSDT', 4], ['BTCUSDT', 8]]);
  const c = parseFundingInfo([{ symbol: 'LPTUSDT', fundingIntervalHours: 4 }, { symbol: 'XUSDT', fundingIntervalHours: '4' }, { symbol: 'YUSDT', fundingIntervalHours: 0 }, { fundingIntervalHours: 1 }, null]);
  assert.deepEqual([...c.hours], [['LPTUSDT', 4]]);
  assert.deepEqual(c.rejected.map((e) => e.reason), ['invalid_field', 'invalid_field', 'invalid_field', 'invalid_field']);
  assert.throws(() => parseFundingInfo({ code: -1000 }), /not an array/);
});

test('a 4 h perpetual: its funding points carry 4 once fundingInfo is read (8 kept while the read fails), and the dashboard annualises × 24/4 × 365', async () => {
  const fake = await new BinanceFuturesFake({ candleMs: 600, autoStart: false, pingIntervalMs: 1000 }).listen();
  db.fakes.push(fake);
  assert.equal(fake.fundingIntervalHours('LPTUSDT'), 4, 'the recorded body lists LPTUSDT on 4 h');
  assert.equal(fake.fundingIntervalHours('BTCUSDT'), 8, 'BTCUSDT is not listed');
  // every read gets a body that is not JSON until the test clears the fault
  fake.http.fail({ kind: 'malformed' }, { path: '/fapi/v1/fundingInfo', times: 1_000_000 });

  const core = new MarketCore({ sink: db.sink, influxql: db.influxql, indicators: { seed() {}, onClosedCandle: () => ({}), drop() {} }, log });
  const h = harness({ BINANCE_FUTURES_WS_URL: fake.wsUrl, BINANCE_FUTURES_REST_URL: fake.restUrl, BACKFILL_HOURS: '0', BINANCE_FUTURES_OI_POLL_MS: '60000' }, { influxql: db.influxql, sink: db.sink });
  h.ctx.out = core.out;
  const src = createBinanceFuturesSource(h.ctx, { fundingInfoRetryMs: 1000 });
  db.sources.push(src);
  core.setWatch(perps(LPT, BTC));
  src.setWatch(perps(LPT, BTC));
  await src.start();
  const health = () => src.health!() as { fundingIntervalsRead: number };
  await waitFor(async () => (await h.metric('feeder_parse_errors_total', { source: 'binance_futures_rest' })) >= 1, 20_000, 'the bad fundingInfo body counted');
  assert.equal(health().fundingIntervalsRead, 0);

  // while the read has failed: LPT's mark-price frames are stored with the 8 h default
  fake.resume();
  await waitFor(() => fake.sent.funding.filter((f) => f.symbol === 'LPTUSDT').length >= 12, 30_000, 'LPT mark price sent for 2+ s');
  fake.pause();
  assert.ok((await h.metric('feeder_parse_errors_total', { source: 'binance_futures_rest' })) >= 1);
  fake.http.clearFaults();
  await waitFor(() => health().fundingIntervalsRead >= 1, 20_000, 'the retried fundingInfo read applied');
  const sentBefore = fake.sent.funding.length;
  fake.resume();
  await waitFor(() => fake.sent.funding.filter((f, i) => i >= sentBefore && f.symbol === 'LPTUSDT').length >= 12, 30_000, 'LPT mark price sent for 2+ s after the read');
  fake.pause();
  await new Promise((r) => setTimeout(r, 1200)); // a held funding point reaches its one-second slot
  await core.stop();
  await db.sink.flush();

  const where = (s: string) => `WHERE "exchange"='binance-futures' AND "symbol"='${s}'`;
  const lpt = await rows(`SELECT "funding_rate","next_funding_time","funding_interval_hours" FROM "funding" ${where(LPT)}`);
  const btc = await rows(`SELECT "funding_rate","funding_interval_hours" FROM "funding" ${where(BTC)}`);
  assert.ok(lpt.length >= 4 && btc.length >= 4, `${lpt.length} LPT, ${btc.length} BTC funding rows`);
  const lptHours = lpt.map((r) => r.funding_interval_hours);
  // 8 while the read had failed, then 4 — never 8 again after the read
  assert.equal(lptHours[0], 8, `first LPT rows: ${lptHours.join(',')}`);
  assert.equal(lptHours.at(-1), 4);
  assert.deepEqual(lptHours, [...lptHours.filter((x) => x === 8), ...lptHours.filter((x) => x === 4)], `8 then 4: ${lptHours.join(',')}`);
  assert.ok(btc.every((r) => r.funding_interval_hours === 8), 'BTCUSDT is not listed: 8 h');
  // what the exchange sent on its 4 h schedule: the rate of the 4 h period and a next funding time on the 4 h grid
  for (const r of lpt.filter((x) => x.funding_interval_hours === 4)) {
    assert.equal((r.next_funding_time as number) % (4 * 3600_000), 0);
    assert.ok(fake.sent.funding.some((f) => f.symbol === 'LPTUSDT' && f.fundingRate === r.funding_rate && f.intervalHours === 4), `rate ${String(r.funding_rate)} was sent on 4 h`);
  }

  // the dashboard's stat on real InfluxDB: Annualised = rate × 100 × 24 / interval × 365
  const [stat4] = await rows(fundingStatQuery(LPT));
  const rate4 = lpt.at(-1)!.funding_rate as number;
  assert.equal(stat4!.Funding, rate4 * 100);
  assert.ok(Math.abs((stat4!.Annualised as number) - rate4 * 100 * (24 / 4) * 365) <= 1e-12 * Math.max(1, Math.abs(rate4 * 219_000)), `LPT annualised ${String(stat4!.Annualised)} = ${rate4} × 100 × 6 × 365`);
  const [stat8] = await rows(fundingStatQuery(BTC));
  const rate8 = btc.at(-1)!.funding_rate as number;
  assert.ok(Math.abs((stat8!.Annualised as number) - rate8 * 100 * 3 * 365) <= 1e-12 * Math.max(1, Math.abs(rate8 * 109_500)), `BTC annualised ${String(stat8!.Annualised)} = ${rate8} × 100 × 3 × 365`);
  assert.ok(fake.http.requests.filter((r) => r.path === '/fapi/v1/fundingInfo').length >= 2, 'read again after the failure');
});
