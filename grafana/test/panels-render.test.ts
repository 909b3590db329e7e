// What a trader reads on the dashboards, computed with Grafana 12.3.0's own frontend code: every panel
// below runs its interpolated queries on a real InfluxDB 1.6, the answers become data frames as
// Grafana's InfluxQL backend makes them, then the panel's transformations, field config, overrides and
// display processors from @grafana/data 12.3.0 (grafana-frontend.ts) produce the strings asserted here.
// A panel change that breaks what is shown (a lost column, a wrong precision, a link to nowhere) fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InfluxServer } from '@mt/testing';
import { startInflux } from '@mt/testing';
import { bootstrapInflux, createLogger } from '@mt/common';
import { apply } from '@mt/influxdb-tasks';
import type { Field } from '@grafana/data';
import { committedDashboards, type DashboardJson } from './helpers.js';
import { HOUR, MIN, startDashboardInflux, tags, write } from './dashboard-influx.js';
import { panelByTitle, queryFrames, resolve, rowOf, runPanel, runTable } from './panel-data.js';
import { annotationEvents, candlestickFields, cellLinks, gd, show } from './grafana-frontend.js';

const SEC = 1000;
const log = createLogger('grafana-test', 'silent');
const line = (m: string, t: Record<string, string>, fields: Record<string, number | string>, ts: number) =>
  `${m}${tags(t)} ${Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? `"${v}"` : v}`)
    .join(',')} ${ts}`;
const md = (symbol: string, exchange: string, asset_type: string, fields: Record<string, number | string>, ts: number) =>
  line('market_data', { exchange, symbol, asset_type }, fields, ts);

/**
 * The latest quotes, at known values and times (`end` − 5 s), over the six hours of generated data.
 * BTC's full quote (Binance ticker) is followed by a trade tick (price only) and its market cap by a
 * later CoinGecko-joined point: the table must keep the quote's own fields together.
 */
function quoteLines(end: number): string[] {
  const t = end - 5 * SEC;
  return [
    md('BTC/USDT', 'binance', 'crypto', { price: 101573.52, bid: 101573.5, ask: 101573.53, change_pct_24h: 2.51, change_pct_1h: 0.4237, volume_24h: 3.21e10, high_24h: 102000.1, low_24h: 99000.2, market_session: 1 }, t),
    md('BTC/USDT', 'binance', 'crypto', { price: 101580.01, market_session: 1 }, t + 2 * SEC),
    md('BTC/USDT', 'binance', 'crypto', { price: 101573.52, market_cap: 1.93e12, market_session: 1 }, t - 20 * SEC),
    md('EUR/USD', 'yahoo', 'forex', { price: 1.08423, bid: 1.08421, ask: 1.08425, change_pct_24h: -0.12, change_pct_1h: -0.031, high_24h: 1.08601, low_24h: 1.08202, market_state: 'REGULAR', market_session: 1 }, t),
    md('USD/JPY', 'yahoo', 'forex', { price: 154.237, bid: 154.235, ask: 154.239, change_pct_24h: 0.31, change_pct_1h: 0.05, market_state: 'REGULAR', market_session: 1 }, t),
    md('AAPL', 'yahoo', 'stock', { price: 228.5, change_pct_24h: 1.27, change_pct_1h: -0.6, volume_24h: 40896227, market_cap: 3.47e12, market_state: 'REGULAR', market_session: 1 }, t),
    md('^GSPC', 'yahoo', 'index', { price: 5012.3, change_pct_24h: 0.85, change_pct_1h: 0, market_state: 'CLOSED', market_session: 0 }, t),
    md('SHIB/USDT', 'binance', 'crypto', { price: 0.00001234, bid: 0.00001233, ask: 0.00001235, change_pct_24h: -3.4, change_pct_1h: 1.2, market_session: 1 }, t),
    // a feed that died ten minutes ago
    md('DEAD/USDT', 'binance', 'crypto', { price: 12.5, bid: 12.49, ask: 12.51, change_pct_24h: 0.5, volume_24h: 1000, market_session: 1 }, end - 10 * MIN),
    // a Yahoo feed dead for 40 minutes while the market is open, and a market in after-hours
    md('MSFT', 'yahoo', 'stock', { price: 415.2, change_pct_24h: 0.4, volume_24h: 1e6, market_cap: 3.09e12, market_state: 'REGULAR', market_session: 1 }, end - 40 * MIN),
    // Yahoo refusing GBP/USD for 30 h: its last full quote, then ExchangeRate-API's daily rate (docs/SOURCES.md),
    // tagged source=exchangerate, stamped at the provider's update 3 h ago, its 24 h change from the daily bars,
    // Yahoo's last market state carried on (as the feeder core writes it)
    md('GBP/USD', 'yahoo', 'forex', { price: 1.27001, bid: 1.27, ask: 1.27002, change_pct_24h: 0.1, change_pct_1h: 0.01, market_state: 'REGULAR', market_session: 1 }, end - 30 * HOUR),
    line('market_data', { exchange: 'yahoo', symbol: 'GBP/USD', asset_type: 'forex', source: 'exchangerate' }, { price: 1 / 0.7228, change_pct_24h: 0.25, market_state: 'REGULAR', market_session: 1 }, end - 3 * HOUR),
    md('NVDA', 'yahoo', 'stock', { price: 135.07, change_pct_24h: -1.5, volume_24h: 2e6, market_cap: 3.31e12, market_state: 'POST', market_session: 3 }, t),
  ];
}

describe('dashboards as a trader reads them (Grafana 12.3.0 frontend code on real InfluxDB answers)', () => {
  let influx: InfluxServer;
  const end = Date.now();
  const range = { fromMs: end - 6 * HOUR, toMs: end };
  let ds: Record<string, DashboardJson>;

  before(async () => {
    influx = await startDashboardInflux(end);
    await write(influx, 'markets', 'raw', quoteLines(end));
    ds = committedDashboards();
  });
  after(async () => influx?.stop());

  describe('markets overview', () => {
    it('Crypto: a consistent quote row at 2 decimals, market cap $1.93T, age, OPEN; a dead feed is STALE', async () => {
      const d = ds['markets-overview']!;
      const t = await runTable(influx, panelByTitle(d, 'Crypto'), await resolve(influx, d, range), range);
      assert.deepEqual(t.columns, ['Symbol', 'Venue', 'Last', 'Bid', 'Ask', '1h %', '24h %', 'Volume 24h', 'Mkt cap', 'Age', 'State']);
      // the ticker's own price, not the later trade tick's 101580.01: one point, one moment
      assert.deepEqual(rowOf(t, 'Symbol', 'BTC/USDT'), {
        Symbol: 'BTC/USDT', Venue: 'binance',
        Last: '101573.52',
        Bid: '101573.50',
        Ask: '101573.53',
        '1h %': '0.42%',
        '24h %': '2.51%',
        'Volume 24h': '32.10 Bil',
        'Mkt cap': '$1.93T',
        Age: '5 s',
        State: 'OPEN',
      });
      const dead = rowOf(t, 'Symbol', 'DEAD/USDT');
      assert.equal(dead.State, 'STALE');
      assert.equal(dead.Age, '10 mins');
      const c = t.columns.indexOf('State');
      const deadRow = t.rows.findIndex((r) => r[0] === 'DEAD/USDT');
      assert.equal(t.colors[deadRow]![c], '#FF3B3B', 'STALE is drawn red');
      assert.equal(t.colors[deadRow]![t.columns.indexOf('Age')], '#FF3B3B');
      assert.ok(!t.rows.some((r) => r[0] === 'SHIB/USDT'), 'sub-dollar coins have their own table');
      // sorted by 24 h % descending
      const pct = t.rows.map((r) => parseFloat(r[t.columns.indexOf('24h %')]!));
      assert.deepEqual(pct, [...pct].sort((a, b) => b - a));
      // click-through to asset detail, time range kept
      assert.deepEqual(cellLinks(t.frame, 'Symbol', t.rows.findIndex((r) => r[0] === 'BTC/USDT')), [
        { title: 'Asset detail', href: `/d/asset-detail/asset-detail?var-symbol=BTC%2FUSDT&var-exchange=binance&from=${range.fromMs}&to=${range.toMs}` },
      ]);
    });

    it('Crypto under 1 USD: significant digits', async () => {
      const d = ds['markets-overview']!;
      const t = await runTable(influx, panelByTitle(d, 'Crypto under 1 USD'), await resolve(influx, d, range), range);
      assert.deepEqual(t.rows.map((r) => r.slice(0, 5)), [['SHIB/USDT', 'binance', '0.0000123', '1.20%', '-3.40%']]);
    });

    it('FX at 5 decimals (bid ≠ ask on screen), JPY pairs at 3, market state', async () => {
      const d = ds['markets-overview']!;
      const vars = await resolve(influx, d, range);
      const fx = await runTable(influx, panelByTitle(d, 'FX cross rates'), vars, range);
      assert.deepEqual(fx.columns, ['Symbol', 'Last', 'Bid', 'Ask', '1h %', '24h %', 'Age', 'State']);
      assert.deepEqual(rowOf(fx, 'Symbol', 'EUR/USD'), { Symbol: 'EUR/USD', Last: '1.08423', Bid: '1.08421', Ask: '1.08425', '1h %': '-0.03%', '24h %': '-0.12%', Age: '5 s', State: 'OPEN' });
      assert.ok(!fx.rows.some((r) => r[0] === 'USD/JPY'));
      // a fallback-sourced quote: one row for the symbol, the newest full quote (the fallback's), its true age
      assert.deepEqual(
        fx.rows.filter((r) => r[0] === 'GBP/USD').map((r) => Object.fromEntries(fx.columns.map((c, i) => [c, r[i]]))),
        [{ Symbol: 'GBP/USD', Last: '1.38351', Bid: '', Ask: '', '1h %': '', '24h %': '0.25%', Age: '3 hours', State: 'STALE' }],
      );
      const jpy = await runTable(influx, panelByTitle(d, 'FX — JPY pairs'), vars, range);
      assert.deepEqual(rowOf(jpy, 'Symbol', 'USD/JPY'), { Symbol: 'USD/JPY', Last: '154.237', Bid: '154.235', Ask: '154.239', '1h %': '0.05%', '24h %': '0.31%', Age: '5 s', State: 'OPEN' });
      assert.equal(cellLinks(fx.frame, 'Symbol', 0)[0]!.href.split('?')[0], '/d/asset-detail/asset-detail');
    });

    it('Stocks at 2 decimals with market cap; World indices with net and % change, CLOSED', async () => {
      const d = ds['markets-overview']!;
      const vars = await resolve(influx, d, range);
      const st = await runTable(influx, panelByTitle(d, 'Stocks'), vars, range);
      assert.deepEqual(rowOf(st, 'Symbol', 'AAPL'), { Symbol: 'AAPL', Last: '228.50', '1h %': '-0.60%', '24h %': '1.27%', 'Volume 24h': '40.90 Mil', 'Mkt cap': '$3.47T', Age: '5 s', State: 'OPEN' });
      assert.equal(rowOf(st, 'Symbol', 'NVDA').State, 'POST');
      // market open, no quote for 40 minutes: the feed is dead, not the market
      const msft = rowOf(st, 'Symbol', 'MSFT');
      assert.deepEqual([msft.Age, msft.State], ['40 mins', 'STALE']);
      const col = st.columns.indexOf('State');
      assert.equal(st.colors[st.rows.findIndex((r) => r[0] === 'MSFT')]![col], '#FF3B3B');
      const wei = await runTable(influx, panelByTitle(d, 'World indices'), vars, range);
      assert.deepEqual(wei.columns, ['Symbol', 'Last', 'Net chg', '1h %', '24h %', 'Age', 'State']);
      // previous close 5012.3 / 1.0085 = 4970.05: net +42.2452
      assert.deepEqual(rowOf(wei, 'Symbol', '^GSPC'), { Symbol: '^GSPC', Last: '5012.30', 'Net chg': '42.25', '1h %': '0.00%', '24h %': '0.85%', Age: '5 s', State: 'CLOSED' });
      assert.match(cellLinks(wei.frame, 'Symbol', 0)[0]!.href, /^\/d\/asset-detail\/asset-detail\?var-symbol=%5EGSPC&var-exchange=yahoo&from=/);
    });

    it('MOST: gainers only up, losers only down, most active by volume; each row links to asset detail', async () => {
      const d = ds['markets-overview']!;
      const vars = await resolve(influx, d, range);
      const up = await runTable(influx, panelByTitle(d, 'Top gainers (24 h)'), vars, range);
      const down = await runTable(influx, panelByTitle(d, 'Top losers (24 h)'), vars, range);
      const active = await runTable(influx, panelByTitle(d, 'Most active (24 h volume)'), vars, range);
      assert.ok(up.rows.length > 0 && down.rows.length > 0);
      for (const r of up.rows) assert.ok(!r[2]!.startsWith('-') && r[2] !== '0.00%', `gainer ${r}`);
      for (const r of down.rows) assert.ok(r[2]!.startsWith('-'), `loser ${r}`);
      assert.ok(up.rows.length <= 5 && down.rows.length <= 5);
      assert.deepEqual(active.columns, ['Symbol', 'Venue', '24h %', 'Volume 24h (USD)']);
      assert.deepEqual(active.rows[0], ['BTC/USDT', 'binance', '2.51%', '$32.10B']);
      assert.match(cellLinks(active.frame, 'Symbol', 0)[0]!.href, /^\/d\/asset-detail\/asset-detail\?var-symbol=BTC%2FUSDT&var-exchange=binance&from=/);
      for (const t of [up, down]) assert.match(cellLinks(t.frame, 'Symbol', 0)[0]!.href, /^\/d\/asset-detail\/asset-detail\?var-symbol=[^&]+&var-exchange=(binance|yahoo)&from=/);
    });

    it('TOP: one row per story (a story about two assets lists both), best ranked first, sentiment coloured', async () => {
      const d = ds['markets-overview']!;
      const t = await runTable(influx, panelByTitle(d, 'Top stories'), await resolve(influx, d, range), range);
      assert.deepEqual(t.columns, ['Time', 'title', 'sentiment', 'assets', 'sources', 'outlets']);
      assert.equal(t.rows.length, 15);
      assert.equal(new Set(t.rows.map((r) => r[1])).size, t.rows.length, 'each story once');
      // seeded rank = 1000 + (37 k mod 60): the best are k = 47 (59), 34 (58), 21 (57) — not the newest
      assert.deepEqual(t.rows.slice(0, 3).map((r) => r[1]), ['Headline 47 about "markets"', 'Headline 34 about "markets"', 'Headline 21 about "markets"']);
      assert.equal(rowOf(t, 'title', 'Headline 34 about "markets"').assets, 'BTC,ETH');
      assert.equal(t.rows[0]![0], new Date(end - 47 * 13 * MIN).toISOString().replace('T', ' ').slice(0, 19));
      const s = t.columns.indexOf('sentiment');
      const positive = t.rows.findIndex((r) => parseFloat(r[s]!) >= 0.2);
      const negative = t.rows.findIndex((r) => parseFloat(r[s]!) <= -0.2);
      assert.equal(t.colors[positive]![s], '#00D26A');
      assert.equal(t.colors[negative]![s], '#FF3B3B');
      assert.deepEqual(cellLinks(t.frame, 'title', 0), [{ title: 'Open article', href: 'https://example.org/a0000002f' }]);
    });

    it('Fear & Greed gauge and the crypto heat map', async () => {
      const d = ds['markets-overview']!;
      const vars = await resolve(influx, d, range);
      const fg = (await runPanel(influx, panelByTitle(d, 'Fear & Greed'), vars, range)).frames;
      const v = fg[0]!.fields[1]!;
      assert.equal(show(v, v.values.filter((x) => x !== null).at(-1)), '40'); // the newest reading
      assert.deepEqual([v.config.min, v.config.max], [0, 100]);
      const heat = (await runPanel(influx, panelByTitle(d, 'Crypto heat map (24 h %)'), vars, range)).frames;
      const btc = heat.find((f) => gd.getFieldDisplayName(f.fields[1]!, f, heat) === 'BTC/USDT · binance')!.fields[1]!;
      const last = btc.values.at(-1);
      assert.equal(show(btc, last), '2.51%');
      assert.equal(btc.display!(last).color, '#56A64B', '+2 … +5 %: green');
      assert.equal(btc.display!(-6).color, '#8B0000', 'below −5 %: deep red');
      assert.ok(heat.every((f) => !/AAPL|EUR|\^GSPC/.test(gd.getFieldDisplayName(f.fields[1]!, f, heat))), 'crypto only');
    });

    it('the overview has a chart of the watch set over the range', async () => {
      const d = ds['markets-overview']!;
      const { frames } = await runPanel(influx, panelByTitle(d, '24 h % change — watch set'), await resolve(influx, d, range), range);
      const names = frames.map((f) => gd.getFieldDisplayName(f.fields[1]!, f, frames));
      for (const s of ['BTC/USDT · binance', 'EUR/USD · yahoo', 'AAPL · yahoo', '^GSPC · yahoo']) assert.ok(names.includes(s), `${s} in ${names}`);
      const btc = frames.find((f) => gd.getFieldDisplayName(f.fields[1]!, f, frames) === 'BTC/USDT · binance')!;
      assert.ok(btc.length > 100, `a point per interval: ${btc.length}`);
      assert.equal(show(btc.fields[1]!, 2.5123), '2.51%');
    });
  });

  describe('watch set size', () => {
    it('one symbol: every column, one row (no time-series fold)', async () => {
      const d = ds['markets-overview']!;
      const t = await runTable(influx, panelByTitle(d, 'Crypto'), await resolve(influx, d, range, { symbol: 'BTC/USDT' }), range);
      assert.deepEqual(t.columns, ['Symbol', 'Venue', 'Last', 'Bid', 'Ask', '1h %', '24h %', 'Volume 24h', 'Mkt cap', 'Age', 'State']);
      assert.deepEqual(t.rows, [['BTC/USDT', 'binance', '101573.52', '101573.50', '101573.53', '0.42%', '2.51%', '32.10 Bil', '$1.93T', '5 s', 'OPEN']]);
    });

    it('five and fifty symbols: every column, a full row each', async () => {
      const big = await startInflux({ cqRunInterval: '1h' });
      try {
        await bootstrapInflux({ url: big.url, token: '', org: '', api: 'v1' }, log);
        await apply({ url: big.url, token: '', org: '', api: 'v1' }, log);
        const syms = Array.from({ length: 50 }, (_, i) => `C${String(i).padStart(2, '0')}/USDT`);
        await write(
          big,
          'markets',
          'raw',
          syms.flatMap((s, i) => [
            md(s, 'binance', 'crypto', { price: 10 + i + 0.125, bid: 10 + i, ask: 10 + i + 0.25, change_pct_24h: i - 25, change_pct_1h: (i - 25) / 10, volume_24h: 1e6 * (i + 1), market_cap: 1e9 * (i + 1), market_session: 1 }, end - 3 * SEC),
          ]),
        );
        const d = ds['markets-overview']!;
        const panel = panelByTitle(d, 'Crypto');
        for (const n of [5, 50]) {
          const t = await runTable(big, panel, await resolve(big, d, range, { symbol: syms.slice(0, n) }), range);
          assert.equal(t.columns.length, 11, `${n}: ${t.columns}`);
          assert.equal(t.rows.length, n);
          for (const r of t.rows) assert.ok(r.every((cell) => cell !== ''), `${n}: full row ${r}`);
          assert.deepEqual(rowOf(t, 'Symbol', 'C03/USDT'), { Symbol: 'C03/USDT', Venue: 'binance', Last: '13.13', Bid: '13.00', Ask: '13.25', '1h %': '-2.20%', '24h %': '-22.00%', 'Volume 24h': '4.00 Mil', 'Mkt cap': '$4.00B', Age: '3 s', State: 'OPEN' });
        }
      } finally {
        await big.stop();
      }
    });
  });

  describe('asset detail', () => {
    const stat = async (symbol: string) => {
      const d = ds['asset-detail']!;
      const { frames } = await runPanel(influx, panelByTitle(d, '$symbol'), await resolve(influx, d, range, { symbol, base: '' }), range);
      const f = frames[0]!;
      const re = /^(Last|Bid|Ask|24h|Age|Market).*$/; // the panel's reduceOptions.fields
      return Object.fromEntries(
        f.fields.filter((x) => re.test(x.name)).map((x: Field) => [gd.getFieldDisplayName(x, f), show(x, x.values.filter((v) => v !== null).at(-1) ?? null)]),
      );
    };

    it('quote at the instrument precision, with age and market state: EUR/USD 1.08423, BTC 101573.52, AAPL 228.50, ^GSPC CLOSED', async () => {
      assert.deepEqual(await stat('EUR/USD'), {
        '24h %': '-0.12%',
        Last: '1.08423',
        Bid: '1.08421',
        Ask: '1.08425',
        '24h high': '1.08601',
        '24h low': '1.08202',
        '24h volume': '—', // currencies have none
        Market: 'OPEN',
        Age: '5 s',
      });
      const btc = await stat('BTC/USDT');
      assert.equal(btc.Last, '101573.52');
      assert.equal(btc['24h high'], '102000.10');
      assert.equal(btc.Market, 'OPEN');
      assert.equal((await stat('^GSPC')).Market, 'CLOSED');
      assert.equal((await stat('AAPL')).Last, '228.50');
      assert.deepEqual([(await stat('USD/JPY')).Last, (await stat('USD/JPY')).Bid], ['154.237', '154.235']);
    });

    it('a crypto price under 1 shows its significant digits (SHIB 0.0000123, as the overview), quote and live last; the others keep their class', async () => {
      const shib = await stat('SHIB/USDT');
      assert.deepEqual([shib.Last, shib.Bid, shib.Ask], ['0.0000123', '0.0000123', '0.0000124']);
      assert.equal(shib['24h %'], '-3.40%', 'the % change keeps 2 decimals');
      assert.equal(shib.Market, 'OPEN');
      const d = ds['asset-detail']!;
      const live = async (symbol: string) => {
        const { frames } = await runPanel(influx, panelByTitle(d, '$symbol last (live)'), await resolve(influx, d, range, { symbol, base: '' }), range);
        const f = frames[0]!;
        const price = f.fields.find((x) => /^Last/.test(x.name))!; // the panel's reduceOptions.fields
        return [f.fields.find((x) => x.name === 'symbol')!.values.at(-1), show(price, price.values.at(-1) ?? null)];
      };
      assert.deepEqual(await live('SHIB/USDT'), ['SHIB/USDT', '0.0000123']);
      assert.deepEqual(await live('BTC/USDT'), ['BTC/USDT', '101580.01']);
      assert.deepEqual(await live('EUR/USD'), ['EUR/USD', '1.08423']);
      assert.deepEqual(await live('USD/JPY'), ['USD/JPY', '154.237']);
      assert.deepEqual(await live('AAPL'), ['AAPL', '228.50']);
      assert.deepEqual(await live('^GSPC'), ['^GSPC', '5012.30']);
    });

    it("a stock's candles and indicators, the MACD histogram coloured by sign", async () => {
      const d = ds['asset-detail']!;
      const vars = await resolve(influx, d, range, { symbol: 'AAPL', base: '' });
      const candles = await runPanel(influx, panelByTitle(d, '$symbol — $tf candles'), vars, range);
      const byName = new Map(candles.frames.map((f) => [gd.getFieldDisplayName(f.fields[1]!, f, candles.frames), f]));
      for (const n of ['open', 'high', 'low', 'close', 'volume', 'SMA 20', 'EMA 50', 'BB upper']) assert.ok(byName.get(n)?.length, `${n} in ${[...byName.keys()]}`);
      const bb = byName.get('BB upper')!.fields[1]!;
      assert.equal(bb.config.custom?.lineStyle?.fill, 'dash', 'Bollinger bands dashed');
      const macd = await runPanel(influx, panelByTitle(d, 'MACD (12, 26, 9) — $tf'), vars, range);
      const hist = macd.frames.find((f) => gd.getFieldDisplayName(f.fields[1]!, f) === 'histogram')!.fields[1]!;
      assert.equal(hist.config.custom?.gradientMode, 'scheme', 'bars take their colour per value');
      assert.equal(hist.display!(-0.4).color, '#FF3B3B');
      assert.equal(hist.display!(0.4).color, '#00D26A');
    });

    it('candles at the instrument precision: close and SMA 20 as the quote (EUR/USD 5 decimals, USD/JPY 3, AAPL and BTC 2, SHIB significant digits), OHLCV still mapped', async () => {
      const d = ds['asset-detail']!;
      const panel = panelByTitle(d, '$symbol — $tf candles');
      const candles = async (symbol: string) => {
        const { frames } = await runPanel(influx, panel, await resolve(influx, d, range, { symbol, base: '' }), range);
        const c = candlestickFields(panel, frames);
        // the query's own fields under the field map's names, none made up (a close from the next open)
        assert.deepEqual(c.names, { open: 'open', high: 'high', low: 'low', close: 'close', volume: 'volume' }, symbol);
        assert.equal(c.autoOpenClose, false, symbol);
        for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) assert.match(c.fields[k]!.name, new RegExp(`^${k}\\b`), `${symbol} ${k}: ${c.fields[k]!.name}`);
        const last = (f: Field) => f.values.filter((v) => v !== null).at(-1) as number;
        const text = (name: string) => {
          const f = c.frame.fields.find((x) => gd.getFieldDisplayName(x, c.frame) === name)!;
          return [show(f, last(f)), last(f)] as const;
        };
        // the tooltip's close and the legend's SMA 20 as the panel prints them, and the stored values
        return { close: text('close'), sma: text('SMA 20'), volume: c.fields.volume!.config.decimals };
      };
      const fixed = (v: number, n: number) => [v.toFixed(n), v] as const;
      // the last 1-minute close of the seeded data (dashboard-influx.ts marketLines: the same every run)
      const closes = { 'EUR/USD': '1.08066', 'USD/JPY': '152.968', AAPL: '201.82', '^GSPC': '5044.16', 'BTC/USDT': '59542.08' };
      for (const [symbol, decimals] of [['EUR/USD', 5], ['USD/JPY', 3], ['AAPL', 2], ['^GSPC', 2], ['BTC/USDT', 2]] as const) {
        const c = await candles(symbol);
        assert.equal(c.close[0], closes[symbol], `${symbol} close`);
        assert.deepEqual(c.close, fixed(c.close[1], decimals), `${symbol} close`);
        assert.deepEqual(c.sma, fixed(c.sma[1], decimals), `${symbol} SMA 20`);
        assert.equal(c.volume, undefined, `${symbol}: volume keeps Grafana's own`);
      }
      // a coin under 1: significant digits, not 0.00
      const shib = await candles('SHIB/USDT');
      assert.equal(shib.close[0], '0.0000122');
      assert.match(shib.sma[0], /^0\.0000\d{3}$/);
    });

    it('top news about the asset: each story once, best ranked first; RSI 30/70 lines', async () => {
      const d = ds['asset-detail']!;
      const vars = await resolve(influx, d, range, { symbol: 'BTC/USDT', base: 'BTC' });
      const t = await runTable(influx, panelByTitle(d, 'Top news — $symbol'), vars, range);
      assert.deepEqual(t.columns, ['Time', 'title', 'sentiment', 'sources']);
      assert.equal(new Set(t.rows.map((r) => r[1])).size, t.rows.length, 'each story once');
      assert.ok(t.rows.some((r) => r[1] === 'Headline 4 about "markets"'), 'a story about BTC and ETH is listed (once)');
      assert.ok(!t.rows.some((r) => r[1] === 'Headline 1 about "markets"'), 'not the ETH-only ones');
      const rsi = (await runPanel(influx, panelByTitle(d, 'RSI 14 ($tf)'), vars, range)).frames[0]!.fields[1]!;
      assert.deepEqual(rsi.config.thresholds?.steps.slice(1).map((x) => x.value), [30, 70]);
      assert.equal(rsi.config.custom?.thresholdsStyle?.mode, 'dashed');
      assert.deepEqual([rsi.config.min, rsi.config.max], [0, 100]);
    });

    it('fired price alerts and headlines are chart annotations (time, text, tags as Grafana maps them)', async () => {
      const d = ds['asset-detail']!;
      const vars = await resolve(influx, d, range, { symbol: 'BTC/USDT', base: 'BTC' });
      const list = (d as unknown as { annotations: { list: { name: string; datasource: { uid: string }; target: { query: string; refId: string; resultFormat: string } }[] } }).annotations.list;
      const run = async (name: string) => {
        const a = list.find((x) => x.name === name)!;
        return annotationEvents(await queryFrames(influx, { type: 'annotation', title: name, datasource: a.datasource as never, targets: [a.target] }, vars, range));
      };
      const alerts = (await run('Price alerts')).sort((x, y) => x.time - y.time);
      assert.deepEqual(alerts, [
        { time: end - 2 * HOUR, text: 'BTC/USDT above 60500', tags: ['above'] },
        { time: end - 30 * MIN, text: 'BTC/USDT MACD crossed up', tags: ['macd_cross_up'] },
      ]);
      const news = await run('News');
      const first = news.find((e) => e.text === 'Headline 0 about "markets"');
      assert.deepEqual(first, { time: end, text: 'Headline 0 about "markets"', tags: ['BTC'] });
      assert.deepEqual(news.find((e) => e.text === 'Headline 4 about "markets"')!.tags, ['BTC', 'ETH']);
      assert.ok(news.every((e) => e.tags.includes('BTC')), 'only stories about BTC');
    });
  });

  it('a closed market is CLOSED however old its quote; after-hours POST', async () => {
    const d = ds['markets-overview']!;
    const later = { fromMs: range.fromMs, toMs: end + 3 * 86400_000 }; // three days on, nothing new
    const wei = await runTable(influx, panelByTitle(d, 'World indices'), await resolve(influx, d, later), later);
    assert.deepEqual([rowOf(wei, 'Symbol', '^GSPC').Age, rowOf(wei, 'Symbol', '^GSPC').State], ['3 days', 'CLOSED']);
    const crypto = await runTable(influx, panelByTitle(d, 'Crypto'), await resolve(influx, d, later), later);
    assert.ok(crypto.rows.every((r) => r[crypto.columns.indexOf('State')] === 'STALE'), 'crypto never closes: three days without a quote is a dead feed');
  });

  it('ALRT: the price alerts that fired — when, symbol, rule, level, price, severity — newest first', async () => {
    const d = ds.alerts!;
    const t = await runTable(influx, panelByTitle(d, 'Price alerts fired'), await resolve(influx, d, range), range);
    assert.deepEqual(t.columns, ['Fired', 'Symbol', 'Rule', 'Level', 'Price', 'Severity', 'Message', 'Rule id']);
    const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
    assert.deepEqual(t.rows, [
      [iso(end - 30 * MIN), 'BTC/USDT', 'macd_cross_up', '—', '60100', 'INFO', 'BTC/USDT MACD crossed up', 'r-macd'],
      [iso(end - HOUR), 'AAPL', 'below', '199', '198.75', 'CRITICAL', 'AAPL below 199', 'r-below'],
      [iso(end - 2 * HOUR), 'BTC/USDT', 'above', '60500', '60512.5', 'WARNING', 'BTC/USDT above 60500', 'r-above'],
    ]);
    assert.equal(t.colors[1]![5], '#FF3B3B', 'critical in red');
    assert.match(cellLinks(t.frame, 'Symbol', 1)[0]!.href, /var-symbol=AAPL&/);
  });
});

describe('links', () => {
  const ds = committedDashboards();
  it('dashboard links carry no placement (Grafana 12.3 shows only those in the top bar)', () => {
    for (const d of Object.values(ds)) {
      assert.ok(d.links?.length, `${d.uid} has links`);
      for (const l of d.links!) assert.equal(l.placement, undefined, `${d.uid}: ${JSON.stringify(l)}`);
      assert.ok(d.links!.some((l) => l.type === 'dashboards' && l.tags?.includes('market-terminal')));
      for (const other of Object.values(ds)) assert.ok((other as unknown as { tags: string[] }).tags.includes('market-terminal'), `${other.uid} is listed by the links`);
    }
  });

  it("every data link's target dashboard and variables exist", () => {
    let n = 0;
    for (const d of Object.values(ds))
      for (const p of d.panels as unknown as { title: string; fieldConfig?: { defaults?: { links?: { url: string }[] }; overrides?: { properties: { id: string; value: { url: string }[] }[] }[] } }[]) {
        const links = [
          ...(p.fieldConfig?.defaults?.links ?? []),
          ...(p.fieldConfig?.overrides ?? []).flatMap((o) => o.properties.filter((x) => x.id === 'links').flatMap((x) => x.value)),
        ];
        for (const l of links) {
          if (/^https?:|^\$\{__data/.test(l.url)) continue; // article links: the stored URL
          n++;
          const m = /^\/d\/([\w-]+)\/[\w-]+\?(.*)$/.exec(l.url);
          assert.ok(m, `${d.uid}/${p.title}: ${l.url}`);
          const target = ds[m[1]!];
          assert.ok(target, `${d.uid}/${p.title}: dashboard ${m[1]} exists`);
          for (const v of [...m[2]!.matchAll(/var-(\w+)=/g)].map((x) => x[1]!))
            assert.ok(target.templating.list?.some((x) => x.name === v), `${d.uid}/${p.title}: $${v} exists on ${m[1]}`);
        }
      }
    assert.ok(n >= 10, `${n} links checked`);
  });

  it('hidden variables are not synced to the URL', () => {
    for (const d of Object.values(ds))
      for (const v of (d.templating.list ?? []) as { name: string; hide?: number; skipUrlSync?: boolean }[])
        if (v.hide === 2) assert.equal(v.skipUrlSync, true, `${d.uid} $${v.name}`);
  });
});
