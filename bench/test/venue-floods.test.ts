// The venue flood servers (bench/venue-floods.ts) send the recorded frame shapes, and what must stay
// consistent over a flood does: Kraken checksums (the fake's own CRC32) over more than one whole cycle,
// Binance USDⓈ-M `pu` chains with a REST snapshot that fits them, Coinbase trade ids (correctness only;
// their speed is what bench/venue-ingest.ts measures).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { KrakenFake, fixtureJson, waitFor } from '@mt/testing';
import { CoinbaseFlood, KrakenFlood, futuresFlood } from '../venue-floods.js';

/** Keys in order and the JSON type of every value, recursively (arrays by their first element). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return ['array', v.length ? shape(v[0]) : 'empty'];
  if (v === null || typeof v !== 'object') return typeof v;
  return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]);
}

/** Every key of `ours` is in `recorded`, in the same order, with the same value type (the fakes leave some recorded keys out). */
function sameShape(ours: unknown, recorded: unknown, what: string): void {
  // arrays by their first elements (an empty one on either side says nothing about its elements)
  if (Array.isArray(ours) && Array.isArray(recorded)) return ours.length && recorded.length ? sameShape(ours[0], recorded[0], `${what}[0]`) : undefined;
  const o = shape(ours);
  const r = shape(recorded);
  if (!Array.isArray(o) || !Array.isArray(r) || o[0] === 'array') return assert.deepEqual(o, r, what);
  let j = 0;
  for (const [k, t] of o as [string, unknown][]) {
    while (j < r.length && (r[j] as [string])[0] !== k) j++;
    assert.ok(j < r.length, `${what}: key ${k} not in the recorded frame (or out of order)`);
    sameShape((ours as Record<string, unknown>)[k], (recorded as Record<string, unknown>)[k], `${what}.${k}`);
    void t;
    j++;
  }
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

function client(url: string): { ws: WebSocket; msgs: Record<string, unknown>[]; open: Promise<unknown> } {
  const ws = new WebSocket(url);
  const msgs: Record<string, unknown>[] = [];
  ws.on('message', (d) => msgs.push(JSON.parse(String(d)) as Record<string, unknown>));
  return { ws, msgs, open: new Promise((r) => ws.once('open', r)) };
}

test('Kraken: recorded shapes; every book update checksum (KrakenFake.checksum) matches the book kept from the snapshot, over more than one cycle', async () => {
  const f = await KrakenFlood.start(['BTC/USD']);
  closers.push(() => f.close());
  const { ws, msgs, open } = client(f.wsUrl);
  await open;
  for (const [i, channel] of ['ohlc', 'ticker', 'book'].entries()) ws.send(JSON.stringify({ method: 'subscribe', params: { channel, symbol: ['BTC/USD'], ...(channel === 'ohlc' ? { interval: 1 } : {}), ...(channel === 'book' ? { depth: 25 } : {}) }, req_id: i }));
  const books = () => msgs.filter((m) => m.channel === 'book' && m.type === 'update').length;
  await waitFor(() => books() > 5000, 30_000, 'book updates');
  ws.terminate();
  const rec = (f: string) => fixtureJson<Record<string, unknown>>(`kraken/${f}`);
  const first = (type: string, channel: string) => msgs.find((m) => m.channel === channel && m.type === type)!;
  sameShape(first('update', 'ohlc'), rec('ws_v2_ohlc_update_MATIC-USD_interval5_docs_example.json'), 'ohlc');
  sameShape(first('update', 'ticker'), rec('ws_v2_ticker_update_ALGO-USD_docs_example.json'), 'ticker');
  sameShape(first('snapshot', 'book'), rec('ws_v2_book_snapshot_MATIC-USD_docs_example.json'), 'book snapshot');
  const upd = msgs.find((m) => m.channel === 'book' && m.type === 'update' && ((m.data as { asks: unknown[] }[])[0]!.asks.length > 0))!;
  sameShape(upd, rec('ws_v2_book_update_BTC-USD_checksum_2024-05-19.json'), 'book update');
  // the client's book, from the raw wire text (Kraken's checksum is over the printed digits)
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  const dp = f.fake.pairs.get('BTC/USD')!.priceDp;
  let checked = 0;
  for (const m of msgs.filter((x) => x.channel === 'book')) {
    const d = (m.data as { bids: { price: number; qty: number }[]; asks: { price: number; qty: number }[]; checksum: number }[])[0]!;
    for (const [side, book] of [
      [d.bids, bids],
      [d.asks, asks],
    ] as const)
      for (const l of side) book.set(l.price.toFixed(dp), l.qty.toFixed(8));
    const sorted = (b: Map<string, string>, desc: boolean) => [...b].sort((x, y) => (desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0])));
    assert.equal(KrakenFake.checksum(sorted(bids, true), sorted(asks, false)), d.checksum, `update ${checked}`);
    checked++;
  }
  assert.ok(checked > 5000);
});

test('Binance USDⓈ-M: recorded shapes; each depth diff continues the last (pu = previous u) and a REST snapshot fits the chain', async () => {
  const f = await futuresFlood().listen();
  closers.push(() => f.close());
  const streams = ['aggTrade', 'kline_1m', 'bookTicker', 'markPrice@1s', 'forceOrder', 'ticker', 'depth@100ms'].map((k) => `btcusdt@${k}`);
  const { ws, msgs, open } = client(`${f.wsUrl}/stream?streams=${streams.join('/')}`);
  await open;
  await waitFor(() => msgs.length > 20_000, 30_000, 'a flood of frames');
  const snap = (await (await fetch(`${f.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`)).json()) as { lastUpdateId: number };
  // frames already in the socket buffers were made before the snapshot: wait for the chain to reach it
  await waitFor(() => msgs.some((m) => m.stream === 'btcusdt@depth@100ms' && (m.data as { u: number }).u >= snap.lastUpdateId), 30_000, 'diffs after the snapshot');
  ws.terminate();
  const byStream = new Map<string, Record<string, unknown>>();
  for (const m of msgs) if (!byStream.has(m.stream as string)) byStream.set(m.stream as string, m);
  const fixtures: Record<string, string> = {
    aggTrade: 'ws_combined_aggTrade_CTKUSDT.json',
    kline_1m: 'ws_combined_kline_1m_open_CTKUSDT.json',
    bookTicker: 'ws_combined_bookTicker_SUSHIUSDT.json',
    'markPrice@1s': 'ws_combined_markPrice_1s_BTCUSDT_gocryptotrader.json',
    forceOrder: 'ws_combined_forceOrder_BTCUSDT_gocryptotrader.json',
    ticker: 'ws_combined_24hrTicker_BTCUSDT_gocryptotrader.json',
    'depth@100ms': 'ws_combined_depthUpdate_100ms_SUSHIUSDT.json',
  };
  for (const [k, file] of Object.entries(fixtures)) sameShape(byStream.get(`btcusdt@${k}`)!.data, fixtureJson<{ data: unknown }>(`binance_futures/${file}`).data, k);
  const diffs = msgs.filter((m) => m.stream === 'btcusdt@depth@100ms').map((m) => m.data as { U: number; u: number; pu: number });
  for (let i = 1; i < diffs.length; i++) assert.equal(diffs[i]!.pu, diffs[i - 1]!.u, `diff ${i}`);
  assert.ok(diffs.some((d) => d.U <= snap.lastUpdateId && d.u >= snap.lastUpdateId), 'a diff straddles the snapshot');
  const aggs = msgs.filter((m) => m.stream === 'btcusdt@aggTrade').map((m) => (m.data as { a: number }).a);
  assert.ok(aggs.every((a, i) => i === 0 || a === aggs[i - 1]! + 1), 'aggregate trade ids consecutive');
  const marks = msgs.filter((m) => m.stream === 'btcusdt@markPrice@1s').map((m) => (m.data as { E: number }).E);
  assert.ok(marks.every((e, i) => i === 0 || e - marks[i - 1]! >= 1000), 'mark price once a second');
});

test('Coinbase: recorded shapes; subscriptions ack, level2 snapshot, last_match; trade ids consecutive', async () => {
  const f = await CoinbaseFlood.start(['BTC-USD']);
  closers.push(() => f.close());
  const { ws, msgs, open } = client(f.wsUrl);
  await open;
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['matches', 'ticker', 'heartbeat', 'level2_batch'].map((name) => ({ name, product_ids: ['BTC-USD'] })) }));
  await waitFor(() => msgs.length > 20_000, 30_000, 'a flood of frames');
  ws.terminate();
  assert.equal(msgs[0]!.type, 'subscriptions');
  const first = (t: string) => msgs.find((m) => m.type === t)!;
  const rec = (file: string) => fixtureJson<Record<string, unknown>>(`coinbase/${file}`);
  sameShape(first('subscriptions'), rec('ws_feed_subscriptions_level2_ticker_matches_2021-04-17.json'), 'subscriptions');
  sameShape(first('snapshot'), rec('ws_feed_snapshot_level2_BAND-GBP_2021-04-17.json'), 'snapshot');
  sameShape(first('last_match'), rec('ws_feed_last_match_BAND-GBP_2021-04-17.json'), 'last_match');
  sameShape(first('match'), rec('ws_feed_match_BTC-USD_2022-01-07.json'), 'match');
  sameShape(first('ticker'), rec('ws_feed_ticker_BAND-GBP_2021-04-17.json'), 'ticker');
  sameShape(first('heartbeat'), rec('docs_ws_feed_heartbeat.json'), 'heartbeat');
  sameShape(first('l2update'), rec('ws_feed_l2update_DASH-BTC_remove_level_2021-04-17.json'), 'l2update');
  const ids = msgs.filter((m) => m.type === 'match' || m.type === 'last_match').map((m) => m.trade_id as number);
  assert.ok(ids.length > 1000 && ids.every((id, i) => i === 0 || id === ids[i - 1]! + 1), 'trade ids consecutive from last_match on');
});
