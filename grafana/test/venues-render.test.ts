// The issue-16 venue panels as a trader reads them (Grafana 12.3.0 frontend code on real InfluxDB
// answers, as panels-render.test.ts): the venue choice on asset detail, the order-book depth stat, the
// derivatives dashboard and the cross-venue view, over points built by the market feeder's own point
// builders (dashboard-influx.ts venueLines).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InfluxServer } from '@mt/testing';
import type { DataFrame } from '@grafana/data';
import { fundingPoint, marketDataPoint } from '@mt/feeders/market/points';
import { committedDashboards, type DashboardJson } from './helpers.js';
import { HOUR, startDashboardInflux, write } from './dashboard-influx.js';
import { panelByTitle, resolve, rowOf, runPanel, runTable } from './panel-data.js';
import type { RenderedTable } from './grafana-frontend.js';
import { cellLinks, gd, show, statValues } from './grafana-frontend.js';

/** A stat panel as shown: each field's display name → its last non-null value's text and colour. */
function stat(frames: DataFrame[]): Record<string, { text: string; color: string | undefined }> {
  const out: Record<string, { text: string; color: string | undefined }> = {};
  for (const f of frames)
    for (const field of f.fields) {
      if (field.type === 'time') continue;
      const v = field.values.filter((x) => x !== null && x !== undefined).at(-1);
      if (v === undefined) continue;
      out[gd.getFieldDisplayName(field, f, frames)] = { text: show(field, v), color: field.display!(v).color };
    }
  return out;
}
const texts = (s: ReturnType<typeof stat>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.text]));

describe('venue panels as a trader reads them (Grafana 12.3.0 frontend code on real InfluxDB answers)', () => {
  let influx: InfluxServer;
  const end = Date.now();
  const range = { fromMs: end - 6 * HOUR, toMs: end };
  let ds: Record<string, DashboardJson>;

  before(async () => {
    influx = await startDashboardInflux(end, undefined, { venues: true });
    // binance's BTC/USDT spot at the perpetual's last mark time: the basis's reference
    const spot = marketDataPoint({ exchange: 'binance', symbol: 'BTC/USDT', assetType: 'crypto', price: 60000, ts: end - 5_000, receivedAt: end - 5_000 });
    // a perpetual on a 4 h funding schedule (Binance lists LPTUSDT so in GET /fapi/v1/fundingInfo)
    const lpt = fundingPoint({ exchange: 'binance-futures', symbol: 'LPT/USDT:USDT', assetType: 'crypto', ts: end - 5_000, receivedAt: end - 5_000, markPrice: 4.512, indexPrice: 4.51, fundingRate: 0.0001, nextFundingTime: Date.UTC(2026, 10, 26, 4), fundingIntervalHours: 4 });
    await write(influx, 'markets', 'raw', [spot.toLineProtocol()!, lpt.toLineProtocol()!], 'ns');
    ds = committedDashboards();
  });
  after(async () => influx?.stop());

  describe('asset detail: venue choice and order book', () => {
    it('BTC/USD offers coinbase and kraken; an old link (no venue) opens the first; kraken shows its own quote', async () => {
      const d = ds['asset-detail']!;
      const old = await resolve(influx, d, range, { symbol: 'BTC/USD' });
      assert.deepEqual(old.get('exchange')!.def.query, 'SHOW TAG VALUES FROM "raw"."market_data" WITH KEY = "exchange" WHERE "symbol" = \'$symbol\'');
      assert.deepEqual(old.get('exchange')!.values, ['coinbase']);
      const coinbase = texts(stat((await runPanel(influx, panelByTitle(d, '$symbol'), old, range)).frames));
      assert.equal(coinbase.Last, '60000.00');
      const kraken = await resolve(influx, d, range, { symbol: 'BTC/USD', exchange: 'kraken' });
      const q = texts(stat((await runPanel(influx, panelByTitle(d, '$symbol'), kraken, range)).frames));
      assert.equal(q.Last, '60030.00', 'the same pair on another venue is another series');
      const book = stat((await runPanel(influx, panelByTitle(d, 'Order book — $symbol on $exchange'), kraken, range)).frames);
      assert.deepEqual(texts(book), { Spread: '1.2 bps', 'Bid depth 1%': '2.50 Mil', 'Ask depth 1%': '1.50 Mil', Imbalance: '0.25' });
      assert.equal(book.Imbalance!.color, '#00D26A', 'more bids than asks: green');
    });

    it('`$symbol last (live)` with Live off: the chosen venue\'s stored last, named after the symbol', async () => {
      const d = ds['asset-detail']!;
      const panel = panelByTitle(d, '$symbol last (live)');
      for (const [exchange, last] of [['kraken', '60030.00'], ['coinbase', '60000.00']] as const) {
        const { frames, ctx } = await runPanel(influx, panel, await resolve(influx, d, range, { symbol: 'BTC/USD', exchange }), range);
        assert.deepEqual(statValues(panel, frames, ctx), { 'BTC/USD': last }, exchange);
      }
    });

    it('a Yahoo symbol keeps its one venue and shows no book; binance BTC/USDT asks-heavy book is red', async () => {
      const d = ds['asset-detail']!;
      const aapl = await resolve(influx, d, range, { symbol: 'AAPL' });
      assert.deepEqual(aapl.get('exchange')!.values, ['yahoo']);
      assert.deepEqual(stat((await runPanel(influx, panelByTitle(d, 'Order book — $symbol on $exchange'), aapl, range)).frames), {});
      const btc = await resolve(influx, d, range, { symbol: 'BTC/USDT' });
      assert.deepEqual(btc.get('exchange')!.values, ['binance']);
      const book = stat((await runPanel(influx, panelByTitle(d, 'Order book — $symbol on $exchange'), btc, range)).frames);
      assert.equal(book.Imbalance!.text, '-0.40');
      assert.equal(book.Imbalance!.color, '#FF3B3B', 'more asks than bids: red');
    });
  });

  describe('markets overview with one pair on two venues (BTC/USD on coinbase and kraken)', () => {
    /** The rows of a rendered table whose Symbol is `symbol`: [Symbol, Venue, …] text, and each row's link. */
    const rowsOf = (t: RenderedTable, symbol: string) =>
      t.rows.flatMap((r, i) => (r[0] === symbol ? [{ cells: r, href: cellLinks(t.frame, 'Symbol', i)[0]!.href }] : [])).sort((a, b) => a.cells[1]!.localeCompare(b.cells[1]!));
    const link = (symbol: string, exchange: string) => `/d/asset-detail/asset-detail?var-symbol=${encodeURIComponent(symbol)}&var-exchange=${exchange}&from=${range.fromMs}&to=${range.toMs}`;

    it('Crypto quote table: a row per venue, each linking to asset detail on its own venue', async () => {
      const d = ds['markets-overview']!;
      const t = await runTable(influx, panelByTitle(d, 'Crypto'), await resolve(influx, d, range), range);
      const btc = rowsOf(t, 'BTC/USD');
      assert.deepEqual(
        btc.map((r) => r.cells.slice(0, 3)),
        [
          ['BTC/USD', 'coinbase', '60000.00'],
          ['BTC/USD', 'kraken', '60030.00'],
        ],
      );
      assert.deepEqual(btc.map((r) => r.href), [link('BTC/USD', 'coinbase'), link('BTC/USD', 'kraken')]);
    });

    it('MOST: a row per venue with a Venue column, linking with var-exchange', async () => {
      const d = ds['markets-overview']!;
      const active = await runTable(influx, panelByTitle(d, 'Most active (24 h volume)'), await resolve(influx, d, range), range);
      assert.deepEqual(active.columns, ['Symbol', 'Venue', '24h %', 'Volume 24h (USD)']);
      const btc = rowsOf(active, 'BTC/USD');
      assert.deepEqual(
        btc.map((r) => r.cells),
        [
          ['BTC/USD', 'coinbase', '1.50%', '$1.20K'],
          ['BTC/USD', 'kraken', '1.50%', '$1.20K'],
        ],
      );
      assert.deepEqual(btc.map((r) => r.href), [link('BTC/USD', 'coinbase'), link('BTC/USD', 'kraken')]);
    });

    it('heat map: a tile per venue and symbol', async () => {
      const d = ds['markets-overview']!;
      const heat = (await runPanel(influx, panelByTitle(d, 'Crypto heat map (24 h %)'), await resolve(influx, d, range), range)).frames;
      const tiles = Object.fromEntries(heat.map((f) => [gd.getFieldDisplayName(f.fields[1]!, f, heat), show(f.fields[1]!, f.fields[1]!.values.at(-1))]));
      assert.equal(tiles['BTC/USD · coinbase'], '1.50%');
      assert.equal(tiles['BTC/USD · kraken'], '1.50%');
      assert.ok(tiles['BTC/USDT · binance'], `binance's own pair: ${Object.keys(tiles)}`);
      assert.ok(!Object.keys(tiles).some((n) => n === 'BTC/USD'), 'no tile mixing the venues');
    });

    it('24 h % chart: a line per venue', async () => {
      const d = ds['markets-overview']!;
      const { frames } = await runPanel(influx, panelByTitle(d, '24 h % change — watch set'), await resolve(influx, d, range), range);
      const lines = Object.fromEntries(frames.map((f) => [gd.getFieldDisplayName(f.fields[1]!, f, frames), f]));
      for (const venue of ['coinbase', 'kraken']) {
        const f = lines[`BTC/USD · ${venue}`];
        assert.ok(f && f.length >= 50, `BTC/USD · ${venue}: ${Object.keys(lines)}`);
        assert.equal(show(f.fields[1]!, f.fields[1]!.values.at(-1)), '1.50%');
      }
    });

    it('ticker tape (Live off): a value per venue, named `<symbol> · <venue>` as the stat draws it', async () => {
      const d = ds['markets-overview']!;
      const panel = panelByTitle(d, 'Ticker tape (live)');
      const { frames, ctx } = await runPanel(influx, panel, await resolve(influx, d, range), range);
      const tape = statValues(panel, frames, ctx);
      assert.equal(tape['BTC/USD · coinbase'], '60000.00', JSON.stringify(tape));
      assert.equal(tape['BTC/USD · kraken'], '60030.00');
      assert.equal(tape['BTC/USDT · binance'], '60000.00');
    });
  });

  describe('derivatives', () => {
    it('funding 0.0100 % per interval, 10.95 % annualised, next funding time, mark and index', async () => {
      const d = ds.derivatives!;
      const vars = await resolve(influx, d, range);
      assert.deepEqual([vars.get('symbol')!.values, vars.get('exchange')!.values, vars.get('spot')!.values], [['BTC/USDT:USDT'], ['binance-futures'], ['BTC/USDT']]);
      const f = stat((await runPanel(influx, panelByTitle(d, 'Funding — $symbol ($exchange)'), vars, range)).frames);
      assert.deepEqual(texts(f), { Funding: '0.0100%', Annualised: '10.95%', 'Next funding': '2026-11-26 08:00:00', Mark: '60090.00', Index: '60080.00' });
      assert.equal(f.Funding!.color, '#00D26A', 'longs pay: green');
    });

    it('a perpetual funded every 4 h: the same 0.0100 % per interval is 21.90 % annualised (× 24/4 × 365)', async () => {
      const d = ds.derivatives!;
      const vars = await resolve(influx, d, range, { symbol: 'LPT/USDT:USDT' });
      assert.deepEqual(vars.get('exchange')!.values, ['binance-futures']);
      const f = texts(stat((await runPanel(influx, panelByTitle(d, 'Funding — $symbol ($exchange)'), vars, range)).frames));
      assert.deepEqual([f.Funding, f.Annualised, f['Next funding']], ['0.0100%', '21.90%', '2026-11-26 04:00:00']);
    });

    it('open interest, liquidations per side and the largest first, basis perp − spot in $ and bps', async () => {
      const d = ds.derivatives!;
      const vars = await resolve(influx, d, range);
      const oi = stat((await runPanel(influx, panelByTitle(d, 'Open interest'), vars, range)).frames);
      assert.equal(oi.contracts!.text, '80.06 K');
      const liq = (await runPanel(influx, panelByTitle(d, 'Liquidations per interval (quote value)'), vars, range)).frames;
      const sums = Object.fromEntries(liq.map((f) => [gd.getFieldDisplayName(f.fields[1]!, f, liq), (f.fields[1]!.values as number[]).reduce((a, b) => a + b, 0)]));
      assert.deepEqual(sums, { 'buy (shorts liquidated)': 60100 + 60120 * 0.05, 'sell (longs liquidated)': 150000 + 5995 });
      const big = await runTable(influx, panelByTitle(d, 'Largest liquidations'), vars, range);
      assert.deepEqual(big.columns, ['Time', 'side', 'price', 'quantity', 'value']);
      assert.deepEqual(big.rows.map((r) => r.slice(1)), [
        ['SELL', '60000.00', '2.500', '150.00 K'],
        ['BUY', '60100.00', '1.000', '60.10 K'],
        ['SELL', '59950.00', '0.100', '6.00 K'],
        ['BUY', '60120.00', '0.050', '3.01 K'],
      ]);
      assert.equal(big.colors[0]![1], '#FF3B3B');
      const basis = stat((await runPanel(influx, panelByTitle(d, 'Basis perp − spot ($spot on binance)'), vars, range)).frames);
      // mark 60 090 − binance spot 60 000 = 90, / 60 000 = 15 bps
      assert.deepEqual(texts(basis), { basis: '90.00', 'basis bps': '15.0 bps' });
    });
  });

  describe('derivatives over 7 days: the 5m rollups the continuous queries made ($rp = 5m)', () => {
    it('the same liquidations per side, open interest and funding as raw; the largest windows first', async () => {
      const d = ds.derivatives!;
      const week = { fromMs: end - 7 * 86400_000, toMs: end };
      const vars = await resolve(influx, d, week);
      assert.deepEqual(vars.get('rp')!.values, ['5m']);
      const liq = (await runPanel(influx, panelByTitle(d, 'Liquidations per interval (quote value)'), vars, week)).frames;
      const sums = Object.fromEntries(liq.map((f) => [gd.getFieldDisplayName(f.fields[1]!, f, liq), (f.fields[1]!.values as number[]).reduce((a, b) => a + b, 0)]));
      assert.deepEqual(sums, { 'buy (shorts liquidated)': 60100 + 60120 * 0.05, 'sell (longs liquidated)': 150000 + 5995 });
      // a window per liquidation (they are 10 minutes apart): the same four rows as raw
      const big = await runTable(influx, panelByTitle(d, 'Largest liquidations'), vars, week);
      assert.deepEqual(big.rows.map((r) => r.slice(1)), [
        ['SELL', '60000.00', '2.500', '150.00 K'],
        ['BUY', '60100.00', '1.000', '60.10 K'],
        ['SELL', '59950.00', '0.100', '6.00 K'],
        ['BUY', '60120.00', '0.050', '3.01 K'],
      ]);
      const rate = (await runPanel(influx, panelByTitle(d, 'Funding rate % per interval'), vars, week)).frames;
      assert.equal(show(rate[0]!.fields[1]!, rate[0]!.fields[1]!.values.at(-1)), '0.0100%');
      const oi = (await runPanel(influx, panelByTitle(d, 'Open interest'), vars, week)).frames;
      assert.ok(oi.length === 2 && oi.every((f) => f.length > 0), 'contracts and value from the rollup');
    });
  });

  describe('cross-venue', () => {
    it('BTC/USD per venue with its deviation from the median, dispersion 5.0 bps; USD and USDT stay apart', async () => {
      const d = ds['cross-venue']!;
      const vars = await resolve(influx, d, range, { pair: 'BTC/USD' });
      const offered = (await resolve(influx, d, range)).get('pair')!.def;
      assert.equal(offered.name, 'pair');
      const pairs = (await resolve(influx, d, range, { pair: 'BTC/USDT' })).get('pair')!.values;
      assert.deepEqual(pairs, ['BTC/USDT']);
      const t = await runTable(influx, panelByTitle(d, '$pair per venue'), vars, range);
      assert.deepEqual(t.columns, ['Venue', 'Last', 'vs median']);
      // median of 60 000 and 60 030 = 60 015: ±15 / 60 015 = ±2.5 bps
      assert.deepEqual(rowOf(t, 'Venue', 'kraken'), { Venue: 'kraken', Last: '60030.00', 'vs median': '2.5 bps' });
      assert.deepEqual(rowOf(t, 'Venue', 'coinbase'), { Venue: 'coinbase', Last: '60000.00', 'vs median': '-2.5 bps' });
      assert.equal(t.rows.length, 2, 'binance trades BTC/USDT, not BTC/USD');
      assert.equal(t.colors[t.rows.findIndex((r) => r[0] === 'coinbase')]![2], '#FF3B3B');
      const now = stat((await runPanel(influx, panelByTitle(d, 'Dispersion now'), vars, range)).frames);
      assert.deepEqual(texts(now), { Dispersion: '5.0 bps', Venues: '2' });
      assert.equal(now.Dispersion!.color, '#00D26A', 'under 10 bps: green');
      const series = (await runPanel(influx, panelByTitle(d, 'Dispersion across venues (bps)'), vars, range)).frames;
      const v = series[0]!.fields[1]!;
      assert.equal(show(v, v.values.at(-1)), '5.0 bps');
    });

    it('the pair list holds spot pairs only (perpetuals are on the derivatives dashboard)', async () => {
      const d = ds['cross-venue']!;
      const res = await influx.query(d.templating.list![0]!.query!, 'markets');
      const all = (res.results[0]!.series ?? []).flatMap((s) => s.values.map((r) => String(r[1])));
      assert.ok(all.includes('BTC/USDT:USDT'), 'stored');
      const vars = await resolve(influx, d, range, { pair: 'BTC/USD' });
      const def = vars.get('pair')!.def;
      const offered = all.filter((x) => new RegExp(def.regex!.slice(1, -1)).test(x));
      assert.ok(offered.includes('BTC/USD') && offered.includes('BTC/USDT') && !offered.includes('BTC/USDT:USDT'), `${offered}`);
    });
  });
});
