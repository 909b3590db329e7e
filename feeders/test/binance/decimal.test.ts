// The mappers' fast decimal parser must give exactly what Number() gives, for every string: edge cases
// at the 2^53 and 10^22 limits, everything it hands back to Number(), and many random Binance-style decimals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimal } from '../../src/market/binance/mappers.js';

function same(s: string): void {
  assert.ok(Object.is(decimal(s), Number(s)), `${JSON.stringify(s)}: ${decimal(s)} vs Number ${Number(s)}`);
}

test('decimal() = Number() on edge cases', () => {
  for (const s of [
    '0.35210000',
    '9318.48000000',
    '455442476.18534620', // mantissa above 2^53
    '-0.693',
    '-0',
    '0',
    '0.00000000',
    '007.50',
    '1.',
    '.5',
    '-',
    '',
    ' ',
    ' 1',
    '1 ',
    '+1',
    '1e5',
    '1E-7',
    '0x10',
    'Infinity',
    'NaN',
    '1.2.3',
    '12a',
    '9007199254740991',
    '9007199254740992',
    '9007199254740993',
    '900719925474099.3',
    '900719925474099.1',
    '90071992547409.93', // mantissa 2^53 + 1: rounds to 2^53 while accumulating
    '9007199254.740993',
    '900719.9254740993',
    '0.1234567890123456789012', // 22 decimals
    '0.12345678901234567890123', // 23 decimals
    '1.0000000000000000000001',
  ])
    same(s);
});

test('decimal() = Number() on random decimals of every length', () => {
  // deterministic PRNG (mulberry32), so a failure is reproducible
  let seed = 42;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  for (let i = 0; i < 200_000; i++) {
    const int = digits(1 + Math.floor(rnd() * 12));
    const frac = digits(Math.floor(rnd() * 18));
    same(`${rnd() < 0.3 ? '-' : ''}${int}${frac || rnd() < 0.5 ? `.${frac}` : ''}`);
  }
});
