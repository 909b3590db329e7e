// market/utc-time.ts reads venue times without Date.parse per call: fuzzed equal to what the Kraken and
// Coinbase mappers computed before (Kraken: the RFC 3339 shape, the second by Date.parse plus the first three
// fraction digits; Coinbase: Date.parse of the whole string).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '@mt/common';
import { utcTimeMs } from '../../src/market/utc-time.js';
import { parseTime } from '../../src/market/kraken/mappers.js';
import { parseFrame } from '../../src/market/coinbase/mappers.js';

const SHAPE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;
/** The Kraken mapper's definition before utc-time.ts. */
function krakenBefore(v: string): number {
  if (!SHAPE.test(v)) return NaN;
  const frac = v.length > 20 ? v.slice(20, -1) : '';
  return Date.parse(`${v.slice(0, 19)}Z`) + Number((frac + '000').slice(0, 3));
}

function variants(n: number): string[] {
  let seed = 12345;
  const rnd = (k: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % k;
  };
  const two = (max: number) => String(rnd(max)).padStart(2, '0');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const year = ['2026', '1970', '0000', '9999', String(1900 + rnd(300))][rnd(5)]!;
    const hour = rnd(10) === 0 ? '24' : two(26);
    const sec = rnd(10) === 0 ? ['59', '60', '61', '00'][rnd(4)]! : two(62);
    const frac = ['', '.', `.${String(rnd(1e9)).padStart(rnd(10) + 1, '0').slice(0, rnd(10) + 1)}`, '.000', '.5', '.12x'][rnd(6)]!;
    const end = ['Z', 'Z', 'Z', 'z', '+00:00', ''][rnd(6)]!;
    let s = `${year}-${two(14)}-${two(33)}T${hour}:${rnd(8) === 0 ? two(62) : two(60)}:${sec}${frac}${end}`;
    if (rnd(20) === 0) {
      const at = rnd(s.length);
      s = s.slice(0, at) + ' -:T.9aZ'[rnd(8)] + s.slice(at + 1);
    }
    out.push(s);
  }
  return out;
}

test('utcTimeMs equals the Kraken mapper before it on 200 000 variants (valid, impossible and misshapen times, hour 24)', () => {
  let valid = 0;
  for (const v of variants(200_000)) {
    const want = krakenBefore(v);
    assert.ok(Object.is(utcTimeMs(v), want) || (Number.isNaN(want) && Number.isNaN(utcTimeMs(v))), v);
    if (Number.isFinite(want)) {
      valid++;
      assert.equal(parseTime(v, 't', {}), want, v);
    } else assert.throws(() => parseTime(v, 't', {}), ParseError, v);
  }
  assert.ok(valid > 20_000, `only ${valid} valid times`);
});

test('Coinbase frame times equal Date.parse of the string on the same variants (any other ISO 8601 form still read)', () => {
  for (const v of [...variants(50_000), '2022-01-07T19:54:43+01:00', '2022-01-07T19:54:43.295378+00:00', '2022-01-07', '2022-01-07T24:00:00.500Z', '2022-01-07T24:00:00Z']) {
    const frame = JSON.stringify({ type: 'heartbeat', sequence: 1, last_trade_id: 2, product_id: 'BTC-USD', time: v });
    const want = Date.parse(v);
    if (Number.isFinite(want)) {
      const ev = parseFrame(frame);
      assert.equal(ev.kind === 'heartbeat' && ev.ts, want, v);
    } else assert.throws(() => parseFrame(frame), ParseError, v);
  }
});
