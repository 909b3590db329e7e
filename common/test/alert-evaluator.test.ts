// The rule evaluator the feeder runs live and the API's backtest replays (common/src/alerts/evaluate.ts):
// every condition, hysteresis, trigger modes, cooldown, mute and expiry, on hand-computed sequences.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MARKET_STATE_TTL_MS, RuleEvaluator, barPath, marketOpen, matchesKeyword, newsAssetsOf, type AlertRule, type BarIndicators } from '../src/index.js';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0); // a Wednesday
const S = 1000;
const M = 60_000;

function rule(over: Partial<AlertRule> = {}): AlertRule {
  return { id: 'r', symbol: 'BTC/USDT', condition: 'crosses_above', threshold: 100, window_seconds: null, cooldown_seconds: 0, severity: 'warning', ...over };
}

function evaluator(...rules: AlertRule[]): RuleEvaluator {
  const ev = new RuleEvaluator();
  ev.setRules(rules, T0);
  return ev;
}

/** Prices one second apart; the indexes that fired. */
function ticks(ev: RuleEvaluator, prices: number[], start = T0, step = S): number[] {
  const out: number[] = [];
  prices.forEach((p, i) => {
    if (ev.onTick('BTC/USDT', start + i * step, p).length) out.push(i);
  });
  return out;
}

/** Closed bars of `tf` (one every `ms`), each with its indicators; the indexes that fired. */
function bars(ev: RuleEvaluator, tf: string, ms: number, list: { close?: number; volume?: number; ind?: BarIndicators }[]): number[] {
  const out: number[] = [];
  list.forEach((b, i) => {
    const fs = ev.onBar('BTC/USDT', tf, { openTime: T0 + i * ms, close: b.close ?? 100, volume: b.volume ?? 1 }, b.ind ?? {});
    if (fs.length) {
      assert.equal(fs[0]!.ts, T0 + (i + 1) * ms, 'fires at the candle close');
      out.push(i);
    }
  });
  return out;
}

const FLAP = [99, 100.5, 99.5, 100.2, 99.8, 100.4, 98.9, 100.1];

describe('crossings, hysteresis and noise control', () => {
  test('without hysteresis every cross fires (old behaviour); the first evaluation only records', () => {
    assert.deepEqual(ticks(evaluator(rule()), FLAP), [1, 3, 5, 7]);
    assert.deepEqual(ticks(evaluator(rule({ condition: 'above' })), FLAP), [1, 3, 5, 7]);
    assert.deepEqual(ticks(evaluator(rule()), [101, 102, 99, 101]), [3], 'starts above: no firing until it crossed');
  });

  test('hysteresis: flapping inside the band fires once; leaving the band re-arms', () => {
    // 1 % of 100: re-armed only at ≤ 99
    assert.deepEqual(ticks(evaluator(rule({ hysteresis_pct: 1 })), FLAP), [1, 7]);
    // crosses_below mirrors it: re-armed only at ≥ 101
    assert.deepEqual(ticks(evaluator(rule({ condition: 'crosses_below', hysteresis_pct: 1 })), [101, 99.5, 100.5, 99.9, 101.2, 99.7]), [1, 5]);
  });

  test('trigger once fires one time only; once_per_bar at most once per bar of its timeframe', () => {
    assert.deepEqual(ticks(evaluator(rule({ trigger: 'once' })), FLAP), [1]);
    // crossings every 10 s: bars of 1 minute hold several
    const prices = Array.from({ length: 24 }, (_, i) => (i % 2 ? 101 : 99));
    const perBar = ticks(evaluator(rule({ trigger: 'once_per_bar', timeframe: '1m' })), prices, T0, 5 * S);
    assert.deepEqual(perBar, [1, 13], 'one per minute: 5 s steps, 12 per bar');
  });

  test('trigger once: a stored fired_at keeps it from firing (restart); clearing it re-arms; an unstored firing stays fired', () => {
    const once = rule({ trigger: 'once' });
    const fired = { ...once, fired_at: new Date(T0 - M).toISOString() };
    // a restart: a fresh evaluator loads the rule as stored fired
    assert.deepEqual(ticks(evaluator(fired), FLAP), [], 'stored as fired: never again');
    const ev = evaluator(once);
    assert.deepEqual(ticks(ev, FLAP), [1]);
    ev.setRules([once], T0); // the reload arrives before the feeder stored fired_at
    assert.deepEqual(ticks(ev, FLAP, T0 + M), [], 'fired, not stored yet: still fired');
    ev.setRules([fired], T0); // the feeder's own write, seen
    ev.setRules([once], T0); // PATCH fired_at: null
    assert.deepEqual(ticks(ev, FLAP, T0 + 2 * M), [1], 're-armed: the next crossing fires');
    // fired_at on a rule that is not (or no longer) once changes nothing
    assert.deepEqual(ticks(evaluator({ ...fired, trigger: 'every_time' }), FLAP).length > 1, true);
  });

  test('a tick evaluates only the level rules whose levels it passed: the same firings as evaluating every rule', () => {
    // 40 level rules (above/below/crosses_* with and without hysteresis, cooldowns, once, once_per_bar) and
    // pct_change on one symbol; a random walk across their levels. `all` reloads its rules before every
    // tick, which makes it evaluate every rule (a reload's first tick does), keeping their state.
    const rules: AlertRule[] = [];
    const conds = ['above', 'below', 'crosses_above', 'crosses_below'] as const;
    for (let i = 0; i < 40; i++) {
      rules.push(
        rule({
          id: `l${i}`,
          condition: conds[i % 4]!,
          threshold: 95 + (i % 10),
          hysteresis_pct: i % 3 === 0 ? 0.5 : 0,
          cooldown_seconds: i % 5 === 0 ? 30 : 0,
          trigger: i % 7 === 0 ? 'once' : i % 7 === 1 ? 'once_per_bar' : 'every_time',
        }),
      );
    }
    rules.push(rule({ id: 'pct', condition: 'pct_change', threshold: 1, window_seconds: 60 }));
    const indexed = evaluator(...rules);
    const all = evaluator(...rules);
    let seed = 11;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    let price = 100;
    const a: string[] = [];
    const b: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      price = Math.min(Math.max(price + (rnd() - 0.5) * 1.2, 90), 110);
      if (i % 50 === 0) price = Math.round(price); // land exactly on levels now and then
      const ts = T0 + i * 200;
      for (const f of indexed.onTick('BTC/USDT', ts, price)) a.push(`${f.rule.id}@${i}`);
      all.setRules(rules, T0);
      for (const f of all.onTick('BTC/USDT', ts, price)) b.push(`${f.rule.id}@${i}`);
    }
    assert.ok(b.length > 500, `the walk fired rules (${b.length})`);
    assert.deepEqual(a.sort(), b.sort());
  });

  test('a tick inside the quiet band is not evaluated: the same firings, values and references as evaluating every rule', () => {
    // Dense ticks as a live feed has them (several per window sample; every third one up to 60 ms ahead, as a
    // book quote stamped with our receive time is; pauses longer than the windows) on level rules and
    // pct_change rules with three windows, hysteresis, cooldowns and once_per_bar. `all` reloads before
    // every tick, which makes it evaluate every rule, keeping their state.
    const rules: AlertRule[] = [];
    const conds = ['above', 'below', 'crosses_above', 'crosses_below'] as const;
    for (let i = 0; i < 12; i++) rules.push(rule({ id: `l${i}`, condition: conds[i % 4]!, threshold: 99 + (i % 6) * 0.4, hysteresis_pct: i % 3 === 0 ? 0.2 : 0 }));
    const windows = [5, 30, 60];
    for (let i = 0; i < 12; i++) {
      rules.push(
        rule({
          id: `p${i}`,
          condition: 'pct_change',
          threshold: (i % 2 ? -1 : 1) * (0.2 + (i % 3) * 0.15),
          window_seconds: windows[i % 3]!,
          hysteresis_pct: i % 4 === 0 ? 30 : 0,
          cooldown_seconds: i % 5 === 0 ? 10 : 0,
          trigger: i % 6 === 1 ? 'once_per_bar' : 'every_time',
        }),
      );
    }
    const quiet = evaluator(...rules);
    const all = evaluator(...rules);
    let seed = 5;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    let price = 100;
    let t = T0;
    const a: string[] = [];
    const b: string[] = [];
    const show = (f: { rule: AlertRule; price: number; value?: number; reference?: number }, i: number) => `${f.rule.id}@${i}:${f.price}:${f.value}:${f.reference}`;
    let inside = 0;
    for (let i = 0; i < 60_000; i++) {
      price = Math.min(Math.max(price + (rnd() - 0.5) * 0.04, 97), 103);
      if (i % 500 === 0) price = Math.round(price * 5) / 5; // exactly on a level now and then
      t += i % 7000 === 6999 ? 90 * S : 20;
      const ts = i % 3 === 2 ? t + Math.floor(rnd() * 60) : t;
      const st = (quiet as unknown as { symbols: Map<string, { quietLo: number; quietHi: number }> }).symbols.get('BTC/USDT')!;
      if (price > st.quietLo && price < st.quietHi) inside++;
      for (const f of quiet.onTick('BTC/USDT', ts, price)) a.push(show(f, i));
      all.setRules(rules, T0);
      for (const f of all.onTick('BTC/USDT', ts, price)) b.push(show(f, i));
    }
    assert.ok(b.length > 1000, `the walk fired rules (${b.length})`);
    assert.ok(inside > 10_000, `the test exercises the band (${inside} ticks inside it)`);
    assert.deepEqual(a, b);
  });

  test('quiet band: a pct_change reference that is the newest sample (after a pause) is not trusted, a later tick overwrites it', () => {
    const r = rule({ id: 'p', condition: 'pct_change', threshold: 1, window_seconds: 600 });
    const quiet = evaluator(r);
    const all = evaluator(r);
    const slot = 600_000 / 2048; // the window's sample slot
    const b = Math.ceil((Math.floor((T0 + 700 * S) / slot) + 1) * slot); // in a slot, 700 s (more than the window) on
    // a quote ahead of the trade after it (the newest sample, and the trade's reference), then a trade in the
    // same slot that overwrites that sample, then a trade in the next slot measured against it
    const seq: [number, number][] = [
      [T0, 100],
      [b + 10, 102],
      [b + 5, 103.1],
      [b + 20, 103.5],
      [b + 400, 104.6],
    ];
    const fired = (ev: RuleEvaluator, reload: boolean) =>
      seq.flatMap(([ts, p]) => {
        if (reload) ev.setRules([r], T0);
        return ev.onTick('BTC/USDT', ts, p).map((f) => `${ts - T0}:${f.reference}`);
      });
    const expected = fired(all, true);
    assert.equal(expected.length, 2, `fires twice when every tick is evaluated: ${expected.join(', ')}`);
    assert.deepEqual(fired(quiet, false), expected);
  });

  test('cooldown swallows crossings; a crossing after it fires', () => {
    assert.deepEqual(ticks(evaluator(rule({ cooldown_seconds: 4 })), FLAP), [1, 5]);
  });

  test('muted_until swallows firings without starting the cooldown or using up once; expires_at ends the rule', () => {
    const muted = rule({ trigger: 'once', cooldown_seconds: 3600, muted_until: new Date(T0 + 2500).toISOString() });
    assert.deepEqual(ticks(evaluator(muted), FLAP), [3], 'the crossing at 1 s is muted; 3 s is the first delivered (once, then cooldown)');
    const expiring = rule({ expires_at: new Date(T0 + 4000).toISOString() });
    assert.deepEqual(ticks(evaluator(expiring), FLAP), [1, 3]);
  });

  test('a reload that only changes muted_until keeps the state; a changed definition starts over', () => {
    const ev = evaluator(rule({ hysteresis_pct: 1 }));
    assert.deepEqual(ticks(ev, [99, 100.5]), [1]);
    ev.setRules([rule({ hysteresis_pct: 1, muted_until: new Date(T0).toISOString() })], T0);
    assert.deepEqual(ticks(ev, [99.5, 100.5], T0 + 2 * S), [], 'still inside the band: not re-armed');
    ev.setRules([rule({ hysteresis_pct: 2 })], T0);
    assert.deepEqual(ticks(ev, [99.5, 100.5], T0 + 4 * S), [1], 'new definition: armed again by the first value below');
  });

  test('pct_change keeps its original semantics and reports the change as the value', () => {
    const ev = evaluator(rule({ condition: 'pct_change', threshold: 5, window_seconds: 10 }));
    assert.deepEqual(ticks(ev, [100, 101, 102, 106]), [3]);
    const [f] = ev.onTick('BTC/USDT', T0 + 20 * S, 100);
    assert.equal(f, undefined);
  });
});

describe('candle conditions', () => {
  test('rsi_above on its own timeframe, at the candle close; other timeframes and cold candles are ignored', () => {
    const ev = evaluator(rule({ condition: 'rsi_above', threshold: 70, timeframe: '5m' }));
    assert.deepEqual(bars(ev, '1m', M, [{ ind: { rsi_14: 10 } }, { ind: { rsi_14: 90 } }]), []);
    const rsi = [undefined, 65, 72, 75, 68, 71];
    assert.deepEqual(bars(ev, '5m', 5 * M, rsi.map((r) => ({ ind: r === undefined ? {} : { rsi_14: r } }))), [2, 5]);
  });

  test('rsi_below, macd crosses and bollinger breaks', () => {
    assert.deepEqual(bars(evaluator(rule({ condition: 'rsi_below', threshold: 30 })), '1m', M, [35, 28, 25, 31, 29].map((r) => ({ ind: { rsi_14: r } }))), [1, 4]);
    const macd = [-1, 0.5, 1, -0.2, 0.3].map((d) => ({ ind: { macd: 10 + d, macd_signal: 10 } }));
    assert.deepEqual(bars(evaluator(rule({ condition: 'macd_cross_up', threshold: null })), '1m', M, macd), [1, 4]);
    assert.deepEqual(bars(evaluator(rule({ condition: 'macd_cross_down', threshold: null })), '1m', M, macd), [3]);
    const bb = [99, 101, 102, 99, 103].map((close) => ({ close, ind: { bb_upper: 100.5, bb_lower: 99.5 } }));
    assert.deepEqual(bars(evaluator(rule({ condition: 'bollinger_break_up', threshold: null })), '1m', M, bb), [1, 4]);
    assert.deepEqual(bars(evaluator(rule({ condition: 'bollinger_break_down', threshold: null })), '1m', M, bb), [3]);
  });

  test('volume_spike: a closed candle ≥ k × the mean of the n before it', () => {
    const ev = evaluator(rule({ condition: 'volume_spike', threshold: null, params: { k: 3, n: 4 } }));
    // means: bar 4 → 10 (first evaluation, 11 < 30); bar 5 → 10.25 (40: 3.9×, fires); bar 6 → 17.75 (45: 2.5×);
    // bar 7 → 26.5 (100: 3.8×, fires)
    const fired: number[] = [];
    [10, 10, 10, 10, 11, 40, 45, 100].forEach((volume, i) => {
      const fs = ev.onBar('BTC/USDT', '1m', { openTime: T0 + i * M, close: 100, volume }, {});
      if (fs.length) {
        fired.push(i);
        if (i === 5) assert.ok(Math.abs(fs[0]!.value! - 40 / 10.25) < 1e-12, `ratio ${fs[0]!.value}`);
      }
    });
    assert.deepEqual(fired, [5, 7]);
  });

  test('a candle seen again (backfill re-fed after newer ones) is not evaluated twice', () => {
    const ev = evaluator(rule({ condition: 'rsi_above', threshold: 70 }));
    assert.equal(ev.onBar('BTC/USDT', '1m', { openTime: T0, close: 1, volume: 1 }, { rsi_14: 60 }).length, 0);
    assert.equal(ev.onBar('BTC/USDT', '1m', { openTime: T0 + M, close: 1, volume: 1 }, { rsi_14: 80 }).length, 1);
    assert.equal(ev.onBar('BTC/USDT', '1m', { openTime: T0 + M, close: 1, volume: 1 }, { rsi_14: 60 }).length, 0);
    assert.equal(ev.onBar('BTC/USDT', '1m', { openTime: T0, close: 1, volume: 1 }, { rsi_14: 60 }).length, 0);
  });
});

describe('market-wide, news, funding and staleness', () => {
  test('fear_greed_below: every rule, on new readings only', () => {
    const ev = evaluator(rule({ condition: 'fear_greed_below', threshold: 25 }), rule({ id: 'eth', symbol: 'ETH/USDT', condition: 'fear_greed_below', threshold: 25 }));
    ev.onTick('BTC/USDT', T0, 65000);
    assert.equal(ev.onFearGreed(T0, 30).length, 0);
    const fs = ev.onFearGreed(T0 + 86_400_000, 20);
    assert.deepEqual(fs.map((f) => [f.rule.id, f.value, f.price]), [
      ['r', 20, 65000],
      ['eth', 20, Number.NaN],
    ]);
    assert.equal(ev.onFearGreed(T0 + 86_400_000, 20).length, 0, 'the same reading polled again');
  });

  test('news_keyword: whole words, per asset, each article once; primed articles never fire', () => {
    const ev = evaluator(rule({ condition: 'news_keyword', threshold: null, params: { keyword: 'ETF' } }));
    ev.primeNews('BTC', { ts: T0, id: 'old', title: 'Bitcoin ETF inflows', sentiment: 0 });
    assert.equal(ev.onNews('BTC', { ts: T0, id: 'old', title: 'Bitcoin ETF inflows', sentiment: 0 }).length, 0);
    assert.equal(ev.onNews('ETH', { ts: T0 + S, id: 'e', title: 'Ether ETF filed', sentiment: 0 }).length, 0, 'another asset');
    assert.equal(ev.onNews('BTC', { ts: T0 + 2 * S, id: 'n1', title: 'NETFLIX and ETFs', sentiment: 0 }).length, 0, 'not a whole word');
    const [f] = ev.onNews('BTC', { ts: T0 + 3 * S, id: 'n2', title: 'SEC approves spot bitcoin etf', sentiment: 0.5 });
    assert.equal(f?.article?.id, 'n2');
    assert.equal(f?.ts, T0 + 3 * S);
    assert.equal(ev.onNews('BTC', { ts: T0 + 3 * S, id: 'n2', title: 'SEC approves spot bitcoin etf', sentiment: 0.5 }).length, 0, 'seen');
  });

  test('news_sentiment_below: the mean of the window crosses the threshold', () => {
    const ev = evaluator(rule({ condition: 'news_sentiment_below', threshold: -0.3, window_seconds: 600 }));
    const fired = [0.2, -0.4, -0.6, -0.5, 0.9, -0.9].map((sentiment, i) => ev.onNews('BTC', { ts: T0 + i * M, id: String(i), title: 't', sentiment }).length);
    // means: 0.2 (first), -0.1, -0.267, -0.325 (fires), -0.08, -0.217 … none below again
    assert.deepEqual(fired, [0, 0, 0, 1, 0, 0]);
  });

  test('funding_above on funding readings', () => {
    const ev = evaluator(rule({ symbol: 'BTC/USDT:USDT', condition: 'funding_above', threshold: 0.0005 }));
    assert.deepEqual(
      [0.0001, 0.0006, 0.0007, 0.0002, 0.0008].map((r, i) => ev.onFunding('BTC/USDT:USDT', T0 + i * 8 * 3600_000, r).length),
      [0, 1, 0, 0, 1],
    );
  });

  test('feed_stale: no tick for n seconds while the market is open; fresh again re-arms', () => {
    const ev = evaluator(rule({ condition: 'feed_stale', threshold: null, params: { seconds: 120 } }));
    ev.onTick('BTC/USDT', T0, 100, 'crypto');
    assert.equal(ev.onClock(T0 + 119 * S).length, 0);
    const [f] = ev.onClock(T0 + 121 * S);
    assert.equal(f?.value, 121);
    assert.equal(ev.onClock(T0 + 200 * S).length, 0, 'still stale: one firing');
    ev.onTick('BTC/USDT', T0 + 210 * S, 100, 'crypto');
    assert.equal(ev.onClock(T0 + 211 * S).length, 0);
    assert.equal(ev.onClock(T0 + 331 * S).length, 1);
  });

  test('feed_stale: a stock is not stale while its market is closed', () => {
    const ev = new RuleEvaluator();
    const sat = Date.UTC(2026, 10, 28, 15, 0, 0);
    ev.setRules([rule({ symbol: 'AAPL', condition: 'feed_stale', threshold: null, params: { seconds: 60 } })], sat);
    ev.onTick('AAPL', sat, 230, 'stock');
    assert.equal(ev.onClock(sat + 10 * M).length, 0, 'Saturday');
    assert.equal(ev.onClock(sat + 11 * M).length, 0);
  });

  test('feed_stale: the source\'s market state (Yahoo) beats the hours — a holiday is not an outage; stale state falls back to the hours', () => {
    // Monday 17 Feb 2025, 10:00 New York: Presidents' Day, NYSE closed, though the hours say open
    const mon = Date.UTC(2025, 1, 17, 15, 0, 0);
    assert.equal(marketOpen('stock', mon), true, 'the hours alone read a holiday as open');
    const stale = { condition: 'feed_stale' as const, threshold: null, params: { seconds: 60 } };
    const ev = new RuleEvaluator();
    ev.setRules([rule({ id: 'aapl', symbol: 'AAPL', ...stale }), rule({ id: 'msft', symbol: 'MSFT', ...stale })], mon);
    // Friday's close is the last trade of both; Yahoo reports AAPL CLOSED on every poll, MSFT nothing
    ev.onTick('AAPL', Date.UTC(2025, 1, 14, 21, 0), 244.6, 'stock');
    ev.onTick('MSFT', Date.UTC(2025, 1, 14, 21, 0), 408.4, 'stock');
    const fired: string[] = [];
    for (let t = mon; t <= mon + 30 * M; t += 15 * S) {
      ev.onMarketState('AAPL', 'CLOSED', t);
      for (const f of ev.onClock(t)) fired.push(`${f.rule.id}@${(t - mon) / S}`);
    }
    assert.deepEqual(fired, ['msft@60'], 'only the symbol without a market state fired (60 s after the rules were loaded)');
    // the reports stop (the poller died): after MARKET_STATE_TTL_MS the hours decide again, and say open
    // (an opening as far as the rule knows: stale `seconds` later)
    const back = mon + 30 * M + MARKET_STATE_TTL_MS + S;
    assert.equal(ev.onClock(back - S).length, 0, 'the last report still counts');
    assert.equal(ev.onClock(back).length, 0);
    assert.equal(ev.onClock(back + 59 * S).length, 0);
    assert.deepEqual(ev.onClock(back + 60 * S).map((f) => f.rule.id), ['aapl']);
  });

  test('feed_stale: counted from the market\'s open, not from the last close — no alarm at the opening bell', () => {
    // Tuesday 18 Feb 2025; the last tick is Friday's close; the market opens at 09:30 New York = 14:30 UTC
    const pre = Date.UTC(2025, 1, 18, 14, 0, 0);
    const open = Date.UTC(2025, 1, 18, 14, 30, 0);
    const ev = new RuleEvaluator();
    ev.setRules([rule({ symbol: 'AAPL', condition: 'feed_stale', threshold: null, params: { seconds: 120 } })], pre);
    ev.onTick('AAPL', Date.UTC(2025, 1, 14, 21, 0), 244.6, 'stock');
    for (let t = pre; t < open; t += M) assert.equal(ev.onClock(t).length, 0, 'closed');
    assert.equal(ev.onClock(open).length, 0, 'the bell: no tick yet, not stale');
    assert.equal(ev.onClock(open + 119 * S).length, 0);
    assert.deepEqual(ev.onClock(open + 120 * S).map((f) => f.value), [120], 'no tick for 120 s after the open: stale');
    // with Yahoo's state: the open is when REGULAR is first reported
    const ev2 = new RuleEvaluator();
    ev2.setRules([rule({ symbol: 'AAPL', condition: 'feed_stale', threshold: null, params: { seconds: 120 } })], pre);
    ev2.onTick('AAPL', Date.UTC(2025, 1, 14, 21, 0), 244.6, 'stock');
    ev2.onMarketState('AAPL', 'PRE', open - S);
    assert.equal(ev2.onClock(open - S).length, 0);
    ev2.onMarketState('AAPL', 'REGULAR', open + 5 * S);
    assert.equal(ev2.onClock(open + 5 * S).length, 0);
    assert.equal(ev2.onClock(open + 124 * S).length, 0);
    assert.equal(ev2.onClock(open + 125 * S).length, 1);
  });

  test('market hours: New York time, with daylight saving', () => {
    assert.equal(marketOpen('crypto', Date.UTC(2026, 10, 28, 3, 0)), true);
    // winter (EST, UTC-5): 09:30 NY = 14:30 UTC
    assert.equal(marketOpen('stock', Date.UTC(2026, 10, 25, 14, 29)), false);
    assert.equal(marketOpen('stock', Date.UTC(2026, 10, 25, 14, 30)), true);
    assert.equal(marketOpen('index', Date.UTC(2026, 10, 25, 20, 59)), true);
    assert.equal(marketOpen('index', Date.UTC(2026, 10, 25, 21, 0)), false);
    // summer (EDT, UTC-4): 09:30 NY = 13:30 UTC
    assert.equal(marketOpen('stock', Date.UTC(2026, 6, 15, 13, 30)), true);
    assert.equal(marketOpen('stock', Date.UTC(2026, 10, 28, 15, 0)), false, 'Saturday');
    // forex: Sunday 17:00 NY to Friday 17:00 NY
    assert.equal(marketOpen('forex', Date.UTC(2026, 10, 29, 21, 59)), false, 'Sunday 16:59 NY');
    assert.equal(marketOpen('forex', Date.UTC(2026, 10, 29, 22, 0)), true, 'Sunday 17:00 NY');
    assert.equal(marketOpen('forex', Date.UTC(2026, 10, 27, 21, 59)), true, 'Friday 16:59 NY');
    assert.equal(marketOpen('forex', Date.UTC(2026, 10, 27, 22, 0)), false, 'Friday 17:00 NY');
  });

  test('helpers: keyword matching and the news assets of a symbol', () => {
    assert.equal(matchesKeyword('Spot ETF approved', 'etf'), true);
    assert.equal(matchesKeyword('ETF: approved', 'ETF'), true);
    assert.equal(matchesKeyword('ETFs approved', 'ETF'), false);
    assert.equal(matchesKeyword('Rate cut hopes', 'rate cut'), true);
    assert.deepEqual(newsAssetsOf('BTC/USDT'), ['BTC', 'BTC/USDT']);
    assert.deepEqual(newsAssetsOf('AAPL'), ['AAPL']);
  });

  test('barPath: open, extremes in the order that crosses each level least, close; never more firings than the ticks', () => {
    const up = barPath({ openTime: T0, ms: M, open: 100, high: 104, low: 98, close: 103 });
    assert.deepEqual(up.map((p) => p.price), [100, 98, 104, 103], 'a rising bar: low before high');
    assert.deepEqual(up.map((p) => p.ts - T0), [0, 20_000, 40_000, 59_999], 'inside the bar, in time order');
    const down = barPath({ openTime: T0, ms: M, open: 100, high: 104, low: 98, close: 99 });
    assert.deepEqual(down.map((p) => p.price), [100, 104, 98, 99], 'a falling bar: high before low');

    // any tick path with the same open/high/low/close fires a crosses_* rule at least as often as the bar path
    let seed = 3;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const firings = (prices: number[], condition: 'crosses_above' | 'crosses_below', threshold: number) => {
      const ev = evaluator(rule({ condition, threshold }));
      ev.onTick('BTC/USDT', T0 - S, 100); // the first evaluation only records: start every path from 100
      return prices.filter((p, i) => ev.onTick('BTC/USDT', T0 + i, p).length).length;
    };
    let compared = 0;
    for (let k = 0; k < 300; k++) {
      const walk = [100];
      for (let i = 0; i < 30; i++) walk.push(walk[walk.length - 1]! + (rnd() - 0.5) * 4);
      const bar = { openTime: T0, ms: M, open: walk[0]!, high: Math.max(...walk), low: Math.min(...walk), close: walk[walk.length - 1]! };
      const path = barPath(bar).map((p) => p.price);
      for (const threshold of [bar.low + 0.01, (bar.open + bar.close) / 2, bar.high - 0.01, 99, 101]) {
        for (const c of ['crosses_above', 'crosses_below'] as const) {
          const real = firings(walk, c, threshold);
          const replayed = firings(path, c, threshold);
          assert.ok(replayed <= real, `${c} ${threshold} on ${JSON.stringify(bar)}: bar path ${replayed} > ticks ${real}`);
          // a level inside the bar that open → close passes through is crossed by both
          if ((c === 'crosses_above' && bar.open < threshold && bar.close > threshold) || (c === 'crosses_below' && bar.open > threshold && bar.close < threshold)) {
            assert.ok(replayed >= 1);
            compared++;
          }
        }
      }
    }
    assert.ok(compared > 50, 'the random bars crossed levels');
  });
});
