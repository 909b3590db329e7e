// Panels streamed by Grafana Live (docs/GRAFANA_LIVE.md): their Live queries name channels the market
// feeder pushes to, and what it pushes — the feeder's own Live sink through the Grafana Live push fake
// (Grafana 12.3's converter and managed stream, testing/src/fakes/grafana-live.ts), framed as the
// browser's StreamingDataFrame holds it in labels mode — becomes what the panel shows, through the
// panel's transformations and field config from @grafana/data 12.3.0, on top of the stored quotes from
// a real InfluxDB. With Live off the same panel shows the stored quotes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { DataFrame } from '@grafana/data';
import { GrafanaLiveFake, panelSeries, waitFor, type InfluxServer, type Publication } from '@mt/testing';
import { GrafanaLiveSink, LIVE_MEASUREMENTS } from '../../feeders/src/market/live/index.js';
import { marketSchema } from '../../feeders/src/market/config.js';
import { committedDashboards, type DashboardJson } from './helpers.js';
import { HOUR, startDashboardInflux, tags, write } from './dashboard-influx.js';
import { panelByTitle, queryFrames, resolve, rowOf, runPanel, runTable } from './panel-data.js';
import { gd, show, transform, withFieldConfig, type PanelJson } from './grafana-frontend.js';

const STREAM = marketSchema.shape.GRAFANA_LIVE_STREAM.parse(undefined);
const liveTargets = (d: DashboardJson) => d.panels.flatMap((p) => (p.targets ?? []).filter((t) => (t.datasource ?? p.datasource)?.uid === 'grafana').map((t) => ({ panel: p, target: t as typeof t & { channel?: string; queryType?: string } })));

describe('Live queries name channels the feeder pushes to', () => {
  const ds = committedDashboards();
  it('every `-- Grafana --` target is a measurements query on stream/<GRAFANA_LIVE_STREAM>/<a measurement the feeder pushes>, in a Mixed panel that also reads InfluxDB', () => {
    const all = Object.values(ds).flatMap(liveTargets);
    assert.ok(all.length >= 1, 'at least one Live panel');
    let takenFields = 0;
    for (const { panel, target } of all) {
      assert.equal(target.queryType, 'measurements', panel.title);
      const m = /^stream\/([^/]+)\/([^/]+)$/.exec(target.channel ?? '');
      assert.ok(m, `${panel.title}: channel ${target.channel}`);
      assert.equal(m[1], STREAM);
      assert.ok(Object.keys(LIVE_MEASUREMENTS).includes(m[2]!), `${panel.title}: ${m[2]} is pushed`);
      assert.equal(panel.datasource?.uid, '-- Mixed --', `${panel.title}: Mixed, so InfluxDB stays behind it`);
      assert.ok((panel.targets ?? []).some((t) => t.datasource?.uid === 'influxdb-markets'), `${panel.title}: an InfluxDB query as history`);
      // the fields a quote table takes from its channels (quotes.ts liveQuote) are ones pushed there
      const pushed = new Set<string>(liveTargets({ panels: [panel] } as DashboardJson).flatMap(({ target: t }) => [...LIVE_MEASUREMENTS[t.channel!.split('/')[2] as keyof typeof LIVE_MEASUREMENTS]]));
      const taken = ((panel as PanelJson).transformations ?? []).flatMap((t) => {
        const o = t.options as { reduce?: { include?: string[] } };
        return t.id === 'calculateField' && (t as { filter?: { options?: string } }).filter?.options === '/^$/' ? (o.reduce?.include ?? []) : [];
      });
      for (const f of taken) assert.ok(pushed.has(f), `${panel.title}: takes ${f} from Live, pushed: ${[...pushed]}`);
      takenFields += taken.length;
    }
    assert.ok(takenFields >= 6 * 3, 'every quote table takes price, change and time from Live');
    const streamed = (d: string) => new Set(liveTargets(ds[d]!).map(({ panel, target }) => `${panel.title} ← ${target.channel}`));
    assert.deepEqual(
      streamed('markets-overview'),
      new Set([
        'Ticker tape (live) ← stream/markets/ticker',
        ...['Crypto', 'Crypto under 1 USD', 'Stocks', 'World indices', 'FX cross rates', 'FX — JPY pairs'].map((t) => `${t} ← stream/markets/ticker`),
      ]),
      'the overview streams the tape and every watch-set table (bid/ask too, on the same ticker line)',
    );
    assert.deepEqual(
      streamed('asset-detail'),
      new Set(['$symbol last (live) ← stream/markets/ticker', '$symbol ← stream/markets/ticker']),
      'asset detail streams its last price and its quote',
    );
  });
});

/** The frame a subscribed panel holds (StreamingDataFrame, labels mode): time, then each label set's fields. */
function streamingFrame(pubs: Publication[], refId: string): DataFrame {
  const series = [...panelSeries(pubs).values()];
  const times = [...new Set(series.flatMap((s) => s.fields.get('time') as number[]))].sort((a, b) => a - b);
  const fields: { name: string; type: string; values: unknown[]; labels?: Record<string, string> }[] = [{ name: 'time', type: 'time', values: times }];
  for (const s of series) {
    const t = s.fields.get('time') as number[];
    for (const [name, vals] of s.fields) {
      if (name === 'time') continue;
      fields.push({ name, type: 'number', labels: s.labels, values: times.map((x) => (t.lastIndexOf(x) >= 0 ? vals[t.lastIndexOf(x)] : undefined)) });
    }
  }
  return gd.toDataFrame({ name: pubs[0]?.frame.name, refId, fields: fields as never });
}

describe('Ticker tape (live): pushed ticks over stored quotes', () => {
  let influx: InfluxServer;
  let grafana: GrafanaLiveFake;
  const end = Date.now();
  const range = { fromMs: end - 6 * HOUR, toMs: end };
  before(async () => {
    influx = await startDashboardInflux(end);
    // stored quotes a minute old: BTC (which Live will move) and SOL (which Live does not send)
    const md = (symbol: string, price: number, chg: number) => `market_data${tags({ exchange: 'binance', symbol, asset_type: 'crypto' })} price=${price},change_pct_24h=${chg} ${end - 60_000}`;
    await write(influx, 'markets', 'raw', [md('BTC/USDT', 100000.5, 1.5), md('SOL/USDT', 150.25, -2)]);
    grafana = await new GrafanaLiveFake({ tokens: ['t'] }).listen();
  });
  after(async () => {
    await grafana?.close();
    await influx?.stop();
  });

  let livePubs: Publication[] = [];
  it('shows the live price where Live delivers, the stored one where it does not, and the stored ones with Live off', async () => {
    const d = committedDashboards()['markets-overview']!;
    const panel = panelByTitle(d, 'Ticker tape (live)');
    const sink = new GrafanaLiveSink({ url: grafana.url, token: () => 't', log: pino({ level: 'silent' }), registry: new Registry() });
    const t0 = Date.now();
    sink.tick({ exchange: 'binance', symbol: 'BTC/USDT', assetType: 'crypto', ts: t0, receivedAt: t0, price: 101234.56, changePct24h: 2.25 });
    await waitFor(async () => grafana.on(`stream/${STREAM}/ticker`).length > 0, 5000, 'pushed');
    await sink.close();
    livePubs = grafana.on(`stream/${STREAM}/ticker`);
    const vars = await resolve(influx, d, range, { symbol: ['BTC/USDT', 'SOL/USDT'] });
    const stored = await queryFrames(influx, panel, vars, range);
    assert.equal(stored.length, 2, 'stored quotes answered (a series per symbol)');
    const ctx = { vars: {}, fromMs: range.fromMs, toMs: range.toMs };
    const shown = async (frames: DataFrame[]) => {
      const [f] = withFieldConfig(panel, await transform(panel, frames, ctx), ctx);
      const sym = f!.fields.find((x) => x.name === 'symbol')!;
      const price = f!.fields.find((x) => x.name.startsWith('Last'))!;
      return Object.fromEntries(sym.values.map((s, i) => [s, show(price, price.values[i])]));
    };
    assert.deepEqual(await shown([...stored, streamingFrame(grafana.on(`stream/${STREAM}/ticker`), 'B')]), { 'BTC/USDT': '101234.56', 'SOL/USDT': '150.25' });
    // the live frame may reach the panel before the stored answer: same result
    assert.deepEqual(await shown([streamingFrame(grafana.on(`stream/${STREAM}/ticker`), 'B'), ...stored]), { 'BTC/USDT': '101234.56', 'SOL/USDT': '150.25' });
    assert.deepEqual(await shown(stored), { 'BTC/USDT': '100000.50', 'SOL/USDT': '150.25' }, 'Live off: the stored quotes');
  });

  it('asset detail: `$symbol last (live)` shows that symbol only, live when Live delivers it, else stored', async () => {
    const d = committedDashboards()['asset-detail']!;
    const panel = panelByTitle(d, '$symbol last (live)');
    const run = async (symbol: string, withLive: boolean) => {
      const vars = await resolve(influx, d, range, { symbol, base: '' });
      const ctx = { vars: Object.fromEntries([...vars].map(([k, v]) => [k, v.values[0] ?? ''])), fromMs: range.fromMs, toMs: range.toMs };
      const frames = [...(await queryFrames(influx, panel, vars, range)), ...(withLive ? [streamingFrame(livePubs, 'B')] : [])];
      const [f] = withFieldConfig(panel, await transform(panel, frames, ctx), ctx);
      const sym = f!.fields.find((x) => x.name === 'symbol')!;
      const price = f!.fields.find((x) => x.name.startsWith('Last'))!;
      return Object.fromEntries(sym.values.map((s, i) => [s, show(price, price.values[i])]));
    };
    assert.deepEqual(await run('BTC/USDT', true), { 'BTC/USDT': '101234.56' });
    // ETH: not pushed in this test; the seeded stored quote shows, BTC's live row is filtered out
    const res = await influx.query(`SELECT last("price") FROM "raw"."market_data" WHERE "symbol" = 'ETH/USDT'`, 'markets');
    const eth = Number(res.results[0]!.series![0]!.values[0]![1]);
    assert.deepEqual(await run('ETH/USDT', true), { 'ETH/USDT': eth.toFixed(2) }, 'Live carries other symbols: filtered out');
    assert.deepEqual(await run('BTC/USDT', false), { 'BTC/USDT': '100000.50' }, 'Live off');
  });
});

describe('Quote tables (live): the pushed ticker line (price, bid, ask, 24 h change, time) over the stored rows, Age and State of the quote shown', () => {
  let influx: InfluxServer;
  let grafana: GrafanaLiveFake;
  const end = Date.now();
  const range = { fromMs: end - 6 * HOUR, toMs: end };
  before(async () => {
    influx = await startDashboardInflux(end);
    // stored full quotes 90 s old, of symbols the seeded history does not have: crypto is STALE by then (60 s), Yahoo FX is not (15 min)
    const md = (symbol: string, asset_type: string, exchange: string, f: string) => `market_data${tags({ exchange, symbol, asset_type })} ${f},market_session=1 ${end - 90_000}`;
    await write(influx, 'markets', 'raw', [
      md('AVAX/USDT', 'crypto', 'binance', 'price=100000.5,bid=100000.4,ask=100000.6,change_pct_24h=1.5,change_pct_1h=0.4,volume_24h=3e10,market_cap=1.9e12'),
      md('SOL/USDT', 'crypto', 'binance', 'price=150.25,bid=150.2,ask=150.3,change_pct_24h=-2,change_pct_1h=-0.3,volume_24h=1e9,market_cap=7e10'),
      md('GBP/USD', 'forex', 'yahoo', 'price=1.08423,bid=1.08421,ask=1.08425,change_pct_24h=-0.12,change_pct_1h=0.01'),
      // a candle each, so that asset detail offers the symbols ($symbol comes from candles)
      ...[['AVAX/USDT', 'crypto', 'binance'], ['SOL/USDT', 'crypto', 'binance'], ['GBP/USD', 'forex', 'yahoo']].map(
        ([symbol, asset_type, exchange]) => `candles${tags({ exchange: exchange!, symbol: symbol!, asset_type: asset_type!, interval: '1m' })} open=1,high=1,low=1,close=1,volume=1 ${end - 120_000}`,
      ),
    ]);
    grafana = await new GrafanaLiveFake({ tokens: ['t'] }).listen();
    // what the feeder pushes: AVAX 2 s and GBP/USD 3 s before the dashboard's "to"; SOL not at all
    const sink = new GrafanaLiveSink({ url: grafana.url, token: () => 't', log: pino({ level: 'silent' }), registry: new Registry() });
    sink.tick({ exchange: 'binance', symbol: 'AVAX/USDT', assetType: 'crypto', ts: end - 2000, receivedAt: end, price: 101234.56, changePct24h: 2.25, bid: 101234.5, ask: 101234.6 });
    sink.tick({ exchange: 'yahoo', symbol: 'GBP/USD', assetType: 'forex', ts: end - 3000, receivedAt: end, price: 1.08501, changePct24h: -0.05, bid: 1.085, ask: 1.08502 });
    await waitFor(async () => grafana.on(`stream/${STREAM}/ticker`).length > 0, 5000, 'pushed');
    await sink.close();
  });
  after(async () => {
    await grafana?.close();
    await influx?.stop();
  });

  const live = () => [streamingFrame(grafana.on(`stream/${STREAM}/ticker`), 'L')];
  const table = async (title: string, frames: DataFrame[], liveFirst = false) => {
    const d = committedDashboards()['markets-overview']!;
    const vars = await resolve(influx, d, range, { symbol: ['AVAX/USDT', 'SOL/USDT'] });
    return runTable(influx, panelByTitle(d, title), vars, range, frames, liveFirst);
  };

  it('Crypto: the live Last/Bid/Ask/24h % win, Age 2 s and OPEN; a symbol Live did not send keeps its stored row; other classes stay out', async () => {
    const off = await table('Crypto', []);
    assert.deepEqual(off.columns, ['Symbol', 'Venue', 'Last', 'Bid', 'Ask', '1h %', '24h %', 'Volume 24h', 'Mkt cap', 'Age', 'State']);
    assert.deepEqual(rowOf(off, 'Symbol', 'AVAX/USDT'), {
      Symbol: 'AVAX/USDT', Venue: 'binance', Last: '100000.50', Bid: '100000.40', Ask: '100000.60', '1h %': '0.40%', '24h %': '1.50%', 'Volume 24h': '30.00 Bil', 'Mkt cap': '$1.90T', Age: rowOf(off, 'Symbol', 'AVAX/USDT').Age, State: 'STALE',
    }, 'Live off: the stored row, 90 s old');
    for (const liveFirst of [false, true]) {
      const on = await table('Crypto', live(), liveFirst);
      assert.deepEqual(on.columns, off.columns);
      assert.deepEqual(rowOf(on, 'Symbol', 'AVAX/USDT'), {
        Symbol: 'AVAX/USDT', Venue: 'binance', Last: '101234.56', Bid: '101234.50', Ask: '101234.60', '1h %': '0.40%', '24h %': '2.25%', 'Volume 24h': '30.00 Bil', 'Mkt cap': '$1.90T', Age: '2 s', State: 'OPEN',
      }, `live ${liveFirst ? 'before' : 'after'} the stored answer`);
      assert.deepEqual(rowOf(on, 'Symbol', 'SOL/USDT'), rowOf(off, 'Symbol', 'SOL/USDT'), 'not pushed: the stored row, STALE');
      assert.deepEqual(on.rows.map((r) => r[0]), ['AVAX/USDT', 'SOL/USDT'], 'GBP/USD pushed on the same channel stays out; sorted by the live 24h %');
    }
  });

  it('FX: the live quote at 5 decimals, Age 3 s; the Crypto under 1 USD table stays empty though Live carries AVAX', async () => {
    const off = await table('FX cross rates', []);
    assert.deepEqual(rowOf(off, 'Symbol', 'GBP/USD').Last, '1.08423');
    const on = await table('FX cross rates', live());
    assert.deepEqual(rowOf(on, 'Symbol', 'GBP/USD'), { Symbol: 'GBP/USD', Last: '1.08501', Bid: '1.08500', Ask: '1.08502', '1h %': '0.01%', '24h %': '-0.05%', Age: '3 s', State: 'OPEN' });
    assert.deepEqual((await table('Crypto under 1 USD', [streamingFrame(grafana.on(`stream/${STREAM}/ticker`), 'L')])).rows, []);
  });

  it('asset detail: the `$symbol` quote (Last, Bid, Ask, 24h %, Age, Market) live where pushed, stored otherwise and with Live off', async () => {
    const d = committedDashboards()['asset-detail']!;
    const stat = async (symbol: string, frames: DataFrame[]) => {
      const { frames: out } = await runPanel(influx, panelByTitle(d, '$symbol'), await resolve(influx, d, range, { symbol, base: '' }), range, frames);
      const f = out[0]!;
      const re = /^(Last|Bid|Ask|24h|Age|Market).*$/; // the panel's reduceOptions.fields
      return Object.fromEntries(f.fields.filter((x) => re.test(x.name)).map((x) => [gd.getFieldDisplayName(x, f), show(x, x.values.filter((v) => v != null).at(-1) ?? null)]));
    };
    const off = await stat('AVAX/USDT', []);
    assert.deepEqual([off.Last, off.Bid, off.Ask, off['24h %'], off.Market], ['100000.50', '100000.40', '100000.60', '1.50%', 'STALE'], 'Live off: the stored quote, 90 s old');
    const on = await stat('AVAX/USDT', live());
    assert.deepEqual(on, { ...off, Last: '101234.56', Bid: '101234.50', Ask: '101234.60', '24h %': '2.25%', Age: '2 s', Market: 'OPEN' });
    const fx = await stat('GBP/USD', live());
    assert.deepEqual([fx.Last, fx.Bid, fx.Ask, fx.Age, fx.Market], ['1.08501', '1.08500', '1.08502', '3 s', 'OPEN'], 'at the class precision');
    assert.deepEqual(await stat('SOL/USDT', live()), await stat('SOL/USDT', []), 'not pushed: the stored quote');
  });
});

describe('Venues on one Live channel: BTC/USD ticks from kraken and coinbase each reach their own venue', () => {
  let influx: InfluxServer;
  let grafana: GrafanaLiveFake;
  const end = Date.now();
  const range = { fromMs: end - 6 * HOUR, toMs: end };
  before(async () => {
    // stored (dashboard-influx.ts venueLines): BTC/USD on coinbase 60 000.00 and kraken 60 030.00, 5 s old
    influx = await startDashboardInflux(end, undefined, { venues: true });
    grafana = await new GrafanaLiveFake({ tokens: ['t'] }).listen();
    const sink = new GrafanaLiveSink({ url: grafana.url, token: () => 't', log: pino({ level: 'silent' }), registry: new Registry() });
    const tick = (exchange: string, price: number, changePct24h: number, ago: number) =>
      sink.tick({ exchange, symbol: 'BTC/USD', assetType: 'crypto', ts: end - ago, receivedAt: end, price, changePct24h, bid: price - 0.5, ask: price + 0.5 });
    tick('kraken', 60111.11, 2.5, 2000);
    tick('coinbase', 60222.22, 1.25, 1000); // newer, so a symbol-only match would show it everywhere
    await waitFor(async () => grafana.on(`stream/${STREAM}/ticker`).length > 0, 5000, 'pushed');
    await sink.close();
  });
  after(async () => {
    await grafana?.close();
    await influx?.stop();
  });
  const live = (refId: string) => [streamingFrame(grafana.on(`stream/${STREAM}/ticker`), refId)];

  it('asset detail, kraken selected: the live last price and the quote are kraken\'s, not coinbase\'s; coinbase selected: coinbase\'s', async () => {
    const d = committedDashboards()['asset-detail']!;
    for (const [exchange, last, bid, chg, age] of [['kraken', '60111.11', '60110.61', '2.50%', '2 s'], ['coinbase', '60222.22', '60221.72', '1.25%', '1 s']] as const) {
      const vars = await resolve(influx, d, range, { symbol: 'BTC/USD', exchange, base: '' });
      const ctx = { vars: Object.fromEntries([...vars].map(([k, v]) => [k, v.values[0] ?? ''])), fromMs: range.fromMs, toMs: range.toMs };
      const panel = panelByTitle(d, '$symbol last (live)');
      const shown = async (frames: DataFrame[]) => {
        const [f] = withFieldConfig(panel, await transform(panel, frames, ctx), ctx);
        const price = f!.fields.find((x) => x.name.startsWith('Last'))!;
        return f!.fields.find((x) => x.name === 'symbol')!.values.map((s, i) => `${s} ${show(price, price.values[i])}`);
      };
      const stored = await queryFrames(influx, panel, vars, range);
      assert.deepEqual(await shown([...stored, ...live('B')]), [`BTC/USD ${last}`], `${exchange}: live`);
      assert.deepEqual(await shown([...live('B'), ...stored]), [`BTC/USD ${last}`], `${exchange}: live first`);
      assert.deepEqual(await shown(stored), [`BTC/USD ${exchange === 'kraken' ? '60030.00' : '60000.00'}`], `${exchange}: Live off, the venue's stored quote`);
      const { frames: out } = await runPanel(influx, panelByTitle(d, '$symbol'), vars, range, live('L'));
      const q = Object.fromEntries(out[0]!.fields.filter((x) => /^(Last|Bid|24h %|Age)/.test(x.name)).map((x) => [gd.getFieldDisplayName(x, out[0]!), show(x, x.values.filter((v) => v != null).at(-1) ?? null)]));
      assert.deepEqual(q, { Last: last, Bid: bid, '24h %': chg, Age: age }, `${exchange}: the quote`);
    }
  });

  it('overview Crypto: one row per venue of BTC/USD, each with its own live quote; Live off, each its stored one', async () => {
    const d = committedDashboards()['markets-overview']!;
    const vars = await resolve(influx, d, range, { symbol: ['BTC/USD', 'BTC/USDT'] });
    const panel = panelByTitle(d, 'Crypto');
    const cells = (t: { columns: string[]; rows: string[][] }) => t.rows.map((r) => ['Symbol', 'Venue', 'Last', '24h %', 'State'].map((c) => r[t.columns.indexOf(c)]));
    const off = await runTable(influx, panel, vars, range);
    assert.deepEqual(
      cells(off).filter((r) => r[0] === 'BTC/USD').sort((a, b) => a[1]!.localeCompare(b[1]!)),
      [['BTC/USD', 'coinbase', '60000.00', '1.50%', 'OPEN'], ['BTC/USD', 'kraken', '60030.00', '1.50%', 'OPEN']],
      'Live off: two rows, never one mixing venues',
    );
    for (const liveFirst of [false, true]) {
      const on = await runTable(influx, panel, vars, range, live('L'), liveFirst);
      assert.deepEqual(
        cells(on).filter((r) => r[0] === 'BTC/USD'),
        [['BTC/USD', 'kraken', '60111.11', '2.50%', 'OPEN'], ['BTC/USD', 'coinbase', '60222.22', '1.25%', 'OPEN']],
        `live ${liveFirst ? 'before' : 'after'} the stored answer: each venue its own tick, sorted by the live 24h %`,
      );
      assert.equal(cells(on).filter((r) => r[0] === 'BTC/USDT').length, 1, 'binance BTC/USDT keeps its one row');
    }
  });
});
