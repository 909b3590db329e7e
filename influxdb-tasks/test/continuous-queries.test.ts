// The 1.x continuous queries on a real InfluxDB: installed idempotently, and the installed CQ text, run
// over closed windows, yields exactly the aggregates computed here independently from the raw points.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapInflux, createLogger } from '@mt/common';
import { startInflux, type InfluxServer } from '@mt/testing';
import { apply, continuousQueries, cqStatementFor, CQ_PREFIX, RP_BY_RANGE, RP_VARIABLE_QUERY, TF_VARIABLE_QUERY } from '../src/index.js';

const log = createLogger('influxdb-tasks-test', 'silent');
const MIN = 60_000;
const HOUR = 60 * MIN;

type Fields = Record<string, number | string>;
interface Raw {
  measurement: string;
  tags: Record<string, string>;
  fields: Fields;
  t: number;
}

// Deterministic pseudo-random values on a 1/4 grid: sums of such floats are exact, so equality is exact.
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const q4 = (x: number) => Math.round(x * 4) / 4 + 0; // + 0: no -0, which a round trip turns into 0

function seedRaw(base: number): Raw[] {
  const out: Raw[] = [];
  const crypto = { exchange: 'binance', symbol: 'BTC/USDT', asset_type: 'crypto' };
  const stock = { exchange: 'yahoo', symbol: 'AAPL', asset_type: 'stock' };
  for (const tags of [crypto, stock]) {
    let px = tags === crypto ? 60000 : 200;
    // two full hours plus some minutes of the third (an open window that must not be rolled up)
    for (let m = 0; m < 130; m++) {
      const t = base + m * MIN;
      const open = q4(px);
      const close = q4(px + (rnd() - 0.5) * 20);
      const high = Math.max(open, close) + q4(rnd() * 5);
      const low = Math.min(open, close) - q4(rnd() * 5);
      px = close;
      out.push({
        measurement: 'candles',
        tags: { ...tags, interval: '1m' },
        fields: { open, high, low, close, volume: q4(rnd() * 100), quote_volume: q4(rnd() * 1e6), trades: Math.floor(rnd() * 500) },
        t,
      });
      out.push({
        measurement: 'indicators',
        tags: { ...tags, interval: '1m' },
        fields: { sma_20: q4(px - 1), ema_50: q4(px + 1), rsi_14: q4(rnd() * 100), macd: q4(rnd() - 0.5), macd_signal: 0.25, macd_hist: -0.5, bb_upper: px + 10, bb_middle: px, bb_lower: px - 10 },
        t,
      });
      // ticks every 13 s; only the crypto source gives bid/ask/market_cap
      for (let s = 0; s < 60; s += 13) {
        const price = q4(px + (rnd() - 0.5) * 4);
        const fields: Fields = { price, change_pct_24h: q4(rnd() * 10 - 5), volume_24h: q4(rnd() * 1e5) };
        if (tags === crypto) Object.assign(fields, { bid: price - 0.25, ask: price + 0.25, market_cap: q4(rnd() * 1e12) });
        out.push({ measurement: 'market_data', tags, fields, t: t + s * 1000 });
      }
    }
  }
  // the venue measurements (issue 16): a spot book with depth, one with top of book only, and a perpetual's
  // funding, open interest and liquidations (both sides in every 5-minute window)
  const book = { exchange: 'binance', symbol: 'BTC/USDT', asset_type: 'crypto' };
  const topOnly = { exchange: 'coinbase', symbol: 'BTC/USD', asset_type: 'crypto' };
  const perp = { exchange: 'binance-futures', symbol: 'BTC/USDT:USDT', asset_type: 'crypto' };
  for (let m = 0; m < 130; m++) {
    const t = base + m * MIN;
    for (let s = 0; s < 60; s += 20) {
      const bid = q4(60000 + rnd() * 100);
      const top = { best_bid: bid, best_ask: bid + 0.5, spread_bps: q4(rnd() * 3) };
      out.push({ measurement: 'order_book', tags: book, fields: { ...top, bid_depth_1pct: q4(rnd() * 1e6), ask_depth_1pct: q4(rnd() * 1e6), imbalance: q4(rnd() * 2 - 1) }, t: t + s * 1000 });
      out.push({ measurement: 'order_book', tags: topOnly, fields: top, t: t + s * 1000 + 7 });
    }
    for (let s = 0; s < 60; s += 30) {
      const mark = q4(60000 + rnd() * 100);
      out.push({ measurement: 'funding', tags: perp, fields: { mark_price: mark, index_price: mark - 1, funding_rate: q4(rnd()) / 1024, next_funding_time: base + 8 * HOUR, funding_interval_hours: m < 65 ? 8 : 4 }, t: t + s * 1000 });
    }
    out.push({ measurement: 'open_interest', tags: perp, fields: { open_interest: q4(rnd() * 1e5), open_interest_value: q4(rnd() * 1e9) }, t });
    const price = q4(60000 + rnd() * 100);
    const quantity = q4(rnd() * 4);
    out.push({ measurement: 'liquidations', tags: { ...perp, side: m % 2 ? 'buy' : 'sell' }, fields: { price, quantity, value: q4(price * quantity) }, t: t + 17_000 });
  }
  for (let m = 0; m < 130; m += 10) {
    const value = Math.floor(rnd() * 100);
    out.push({ measurement: 'fear_greed', tags: {}, fields: { value, classification: value < 50 ? 'Fear' : 'Greed' }, t: base + m * MIN });
  }
  return out;
}

const INT_FIELDS = new Set(['candles.trades', 'fear_greed.value']);
function line(p: Raw): string {
  const tags = Object.entries(p.tags).map(([k, v]) => `,${k}=${v.replace(/([ ,=])/g, '\\$1')}`).join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : INT_FIELDS.has(`${p.measurement}.${k}`) ? `${v}i` : v}`)
    .join(',');
  return `${p.measurement}${tags} ${fields} ${p.t}`;
}

// ---- the independent model of the rollups (written from the issue's rules, not from the spec) ----
type Agg = (vals: (number | string)[]) => number | string;
const first: Agg = (v) => v[0]!;
const last: Agg = (v) => v[v.length - 1]!;
const sum: Agg = (v) => (v as number[]).reduce((a, b) => a + b, 0);
const max: Agg = (v) => Math.max(...(v as number[]));
const min: Agg = (v) => Math.min(...(v as number[]));
const mean: Agg = (v) => (sum(v) as number) / v.length;
const count: Agg = (v) => v.length;
const lastOf = (...f: string[]) => Object.fromEntries(f.map((x) => [x, [x, last] as const]));
const meanOf = (...f: string[]) => Object.fromEntries(f.map((x) => [x, [x, mean] as const]));
/**
 * output field → [input field, aggregate of the raw → 5m step, aggregate of the 5m → 1h step (default the
 * same)]: levels last, flows summed, noisy gauges averaged with the worst kept (docs/INFLUXDB.md).
 */
const RULES: Record<string, Record<string, readonly [string, Agg, Agg?]>> = {
  candles: { open: ['open', first], high: ['high', max], low: ['low', min], close: ['close', last], volume: ['volume', sum], quote_volume: ['quote_volume', sum], trades: ['trades', sum] },
  market_data: { price: ['price', last], price_mean: ['price', mean], ...lastOf('bid', 'ask', 'volume_24h', 'change_pct_24h', 'high_24h', 'low_24h', 'market_cap') },
  indicators: lastOf('sma_20', 'ema_50', 'rsi_14', 'macd', 'macd_signal', 'macd_hist', 'bb_upper', 'bb_middle', 'bb_lower'),
  fear_greed: lastOf('value', 'classification'),
  order_book: { ...lastOf('best_bid', 'best_ask'), ...meanOf('spread_bps', 'bid_depth_1pct', 'ask_depth_1pct', 'imbalance'), spread_bps_max: ['spread_bps', max] },
  funding: lastOf('mark_price', 'index_price', 'funding_rate', 'next_funding_time', 'funding_interval_hours'),
  open_interest: lastOf('open_interest', 'open_interest_value'),
  liquidations: { price: ['price', last], quantity: ['quantity', sum], value: ['value', sum], count: ['value', count, sum] },
};

const sortedJson = (tags: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b))));

/** key `measurement|tags|windowStart` → fields; `src` field names per step, windows in [from, to). */
function rollup(points: Raw[], every: number, from: number, to: number, inputOf: (out: string, rawIn: string) => string, later = false): Map<string, Fields> {
  const groups = new Map<string, Raw[]>();
  for (const p of [...points].sort((a, b) => a.t - b.t)) {
    if (p.t < from || p.t >= to) continue;
    const w = Math.floor(p.t / every) * every;
    const key = `${p.measurement}|${sortedJson(p.tags)}|${w}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const out = new Map<string, Fields>();
  for (const [key, pts] of groups) {
    const measurement = key.split('|')[0]!;
    const fields: Fields = {};
    for (const [outName, [rawIn, agg, laterAgg]] of Object.entries(RULES[measurement]!)) {
      const vals = pts.map((p) => p.fields[inputOf(outName, rawIn)]).filter((v) => v !== undefined);
      if (vals.length) fields[outName] = (later ? (laterAgg ?? agg) : agg)(vals);
    }
    out.set(key, fields);
  }
  return out;
}

async function readBack(influx: InfluxServer, rp: string): Promise<Map<string, Fields>> {
  const out = new Map<string, Fields>();
  for (const m of Object.keys(RULES)) {
    const res = await influx.query(`SELECT * FROM "${rp}"."${m}" GROUP BY *`, 'markets');
    for (const s of res.results[0]?.series ?? []) {
      for (const row of s.values) {
        const fields: Fields = {};
        s.columns.forEach((c, i) => {
          if (c !== 'time' && row[i] !== null) fields[c] = row[i] as number | string;
        });
        out.set(`${m}|${sortedJson(s.tags ?? {})}|${row[0]}`, fields);
      }
    }
  }
  return out;
}

describe('continuous queries on a real InfluxDB 1.x', () => {
  let influx: InfluxServer;
  const cfg = () => ({ url: influx.url, token: '', org: '', api: 'v1' as const });

  before(async () => {
    influx = await startInflux({ cqRunInterval: '1h' }); // the test runs the CQ text itself, for chosen windows
    await bootstrapInflux({ url: influx.url, token: '', org: '', api: 'v1' }, log); // the contract's databases and retention policies
  });
  after(async () => influx?.stop());

  it('installs every CQ idempotently and drops stale ones of ours', async () => {
    await influx.query(`CREATE CONTINUOUS QUERY "${CQ_PREFIX}gone_5m" ON "markets" BEGIN SELECT last("price") INTO "5m"."gone" FROM "raw"."market_data" GROUP BY time(5m) END`);
    const first = await apply(cfg(), log);
    assert.equal(first.created.length, 16, '8 measurements × 2 stages');
    assert.deepEqual(first.deleted, [`${CQ_PREFIX}gone_5m`]);
    const second = await apply(cfg(), log);
    assert.equal(second.created.length, 0);
    assert.deepEqual(second.updated.sort(), continuousQueries().map((c) => c.name).sort());
    const shown = await influx.query('SHOW CONTINUOUS QUERIES');
    const names = (shown.results[0]!.series ?? []).filter((s) => s.name === 'markets').flatMap((s) => s.values.map((v) => v[0]));
    assert.deepEqual(names.sort(), continuousQueries().map((c) => c.name).sort());
    // rp_config rewritten, not duplicated
    const rc = await influx.query('SELECT "rp" FROM "1h"."rp_config"', 'markets');
    assert.deepEqual(rc.results[0]!.series![0]!.values.map((v) => v[1]).sort(), RP_BY_RANGE.map((r) => r.rp).sort());
  });

  it('the $rp / $tf variable queries pick the finest row that holds the range start, for any range', async () => {
    const now = Date.now();
    const DAY = 86400_000;
    // [length, age of the range's end, policy, timeframe]: length picks the resolution, the start's age the retention
    for (const [rangeMs, endAgeMs, rp, tf] of [
      [HOUR, 0, 'raw', '1m'],
      [2 * DAY, 0, 'raw', '1m'],
      [HOUR, 3 * DAY, 'raw', '1m'],
      [HOUR, 21 * DAY, '5m', '5m'], // raw keeps 7 d: a short window three weeks back reads 5m
      [DAY, 6.5 * DAY, '5m', '5m'], // starts 7.5 d ago: just beyond raw
      [7 * DAY, 0, '5m', '5m'],
      [30 * DAY, -DAY, '5m', '5m'], // ends in the future (now+1d): starts 29 d ago
      [30 * DAY, 0, '1h', '1h'], // starts a hair over 30 d ago by the time InfluxDB runs it
      [HOUR, 60 * DAY, '1h', '1h'],
      [60 * DAY, 0, '1h', '1h'],
      [365 * DAY, 0, '1h', '1d'],
      [HOUR, 400 * DAY, '1h', '1d'], // older than 1h's retention: still a row, never an empty $rp
      [5 * 365 * DAY, 0, '1h', '1d'],
    ] as const) {
      const to = now - endAgeMs;
      const sub = (q: string) => q.replaceAll('${__to}', String(to)).replaceAll('${__from}', String(to - rangeMs));
      const got = [];
      for (const q of [RP_VARIABLE_QUERY, TF_VARIABLE_QUERY]) {
        const res = await influx.query(sub(q), 'markets');
        assert.equal(res.results[0]!.error, undefined, sub(q));
        got.push(...res.results[0]!.series![0]!.values.map((v) => v[1]));
      }
      assert.deepEqual(got, [rp, tf], `range ${rangeMs / HOUR} h ending ${endAgeMs / HOUR} h ago`);
    }
  });

  it('rolls raw → 5m → 1h exactly like the independent computation', async () => {
    const base = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
    const raw = seedRaw(base);
    const res = await fetch(`${influx.url}/write?db=markets&rp=raw&precision=ms`, { method: 'POST', body: raw.map(line).join('\n') });
    assert.equal(res.status, 204, await res.text());

    // closed windows only: the two full hours
    const from = base;
    const to = base + 2 * HOUR;
    const cqs = continuousQueries();
    for (const target of ['5m', '1h']) {
      for (const cq of cqs.filter((c) => c.name.endsWith(`_${target}`))) {
        const r = await influx.query(cqStatementFor(cq.create, from, to), 'markets');
        assert.equal(r.results[0]!.error, undefined, cq.name);
      }
    }

    const want5m = rollup(raw, 5 * MIN, from, to, (_out, rawIn) => rawIn);
    const got5m = await readBack(influx, '5m');
    assert.equal(got5m.size, want5m.size);
    // 24 windows × (2 symbols × 3 measurements + 2 books + funding + open interest + 2 liquidation sides) + fear_greed
    assert.equal(want5m.size, 24 * 12 + 12);
    assert.deepEqual(Object.fromEntries(got5m), Object.fromEntries(want5m));

    // 1h from the independent 5m model: first/last/min/max/sum are the raw hour's; price_mean is the
    // mean of the 5-minute means
    const as5mPoints: Raw[] = [...want5m].map(([key, fields]) => {
      const [measurement, tags, t] = key.split('|');
      return { measurement: measurement!, tags: JSON.parse(tags!) as Record<string, string>, fields, t: Number(t) };
    });
    const want1h = rollup(as5mPoints, HOUR, from, to, (out) => out, true);
    const wantFromRaw = rollup(raw, HOUR, from, to, (_out, rawIn) => rawIn);
    const means = (m: string) => new Set(Object.entries(RULES[m]!).filter(([, [, agg]]) => agg === mean).map(([out]) => out));
    const without = (fields: Fields, drop: Set<string>) => Object.fromEntries(Object.entries(fields).filter(([k]) => !drop.has(k)));
    for (const [key, fields] of want1h) {
      const drop = means(key.split('|')[0]!);
      assert.deepEqual(without(fields, drop), without(wantFromRaw.get(key)!, drop), 'cascade equals rolling raw directly for first/last/min/max/sum/count');
    }
    const got1h = await readBack(influx, '1h');
    assert.equal(want1h.size, 2 * 12 + 2);
    assert.deepEqual(Object.fromEntries([...got1h].filter(([k]) => !k.startsWith('rp_config'))), Object.fromEntries(want1h));

    // field types survive (trades and fear & greed value stay integers)
    for (const rp of ['5m', '1h']) {
      const fk = await influx.query(`SHOW FIELD KEYS ON "markets" FROM "${rp}"."candles"`);
      assert.deepEqual(Object.fromEntries(fk.results[0]!.series![0]!.values as [string, string][]).trades, 'integer');
      const fg = await influx.query(`SHOW FIELD KEYS ON "markets" FROM "${rp}"."fear_greed"`);
      assert.deepEqual(Object.fromEntries(fg.results[0]!.series![0]!.values as [string, string][]), { classification: 'string', value: 'integer' });
      const lq = await influx.query(`SHOW FIELD KEYS ON "markets" FROM "${rp}"."liquidations"`);
      assert.deepEqual(Object.fromEntries(lq.results[0]!.series![0]!.values as [string, string][]), { count: 'integer', price: 'float', quantity: 'float', value: 'float' });
    }
  });
});
