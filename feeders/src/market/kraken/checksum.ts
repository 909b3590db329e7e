// Kraken's book checksum (websocket v2; docs/ORDER_BOOKS.md "Kraken"): CRC32 of the top 10 asks (low to
// high) then the top 10 bids (high to low), each level as price then qty with the decimal point and the
// leading zeros removed. The digits are the wire's (kept by the mapper in Level.text as "price qty",
// turned into the checksum's spelling once per level by toChecksumLevels); when the pair's precision is
// known, missing trailing zeros are restored first (a re-encoded 0.566 of a
// 4-decimal pair is 0.5660 on the wire), so the same code verifies docs examples and live frames.
import { crc32 } from 'node:zlib';
import type { ChecksumFn, Level } from '../book/index.js';

export const CHECKSUM_LEVELS = 10;

export interface Precision {
  price: number;
  qty: number;
}

/** `1.5e-7` → `0.00000015`: the exact digits of a decimal literal, without floating point. */
export function plainDecimal(s: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)$/.exec(s);
  if (!m) return s;
  const digits = `${m[2]}${m[3] ?? ''}`;
  const point = m[2]!.length + Number(m[4]);
  if (point <= 0) return `${m[1]}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${m[1]}${digits}${'0'.repeat(point - digits.length)}`;
  return `${m[1]}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** One number as the checksum spells it: decimals padded to `decimals`, point and leading zeros removed. */
export function checksumDigits(s: string, decimals?: number): string {
  // plainDecimal's regex only when there is an exponent: wire numbers almost never have one
  let v = s.indexOf('e') < 0 && s.indexOf('E') < 0 ? s : plainDecimal(s);
  const dot = v.indexOf('.');
  if (decimals !== undefined && decimals > 0) {
    const have = dot < 0 ? 0 : v.length - dot - 1;
    if (have < decimals) v = (dot < 0 ? `${v}.` : v) + '0'.repeat(decimals - have);
  }
  if (dot >= 0 || v.indexOf('.') >= 0) v = v.replace('.', '');
  let i = 0;
  while (i < v.length && v.charCodeAt(i) === 48) i++; // leading '0's
  return i === 0 ? v : v.slice(i);
}

/**
 * The wire digits of levels from the mapper (`text` = "price qty") → the checksum's spelling of each level
 * (`text` = price digits + qty digits), once per level when it arrives rather than on every checksum.
 * Levels without text keep none (their numbers are used).
 */
export function toChecksumLevels(levels: Level[], p?: Precision): Level[] {
  for (const l of levels) {
    if (l.text === undefined) continue;
    const sp = l.text.indexOf(' ');
    if (sp >= 0) l.text = checksumDigits(l.text.slice(0, sp), p?.price) + checksumDigits(l.text.slice(sp + 1), p?.qty);
  }
  return levels;
}

function fragment(l: Level): string {
  return l.text ?? checksumDigits(String(l.price)) + checksumDigits(String(l.qty));
}

/** The string Kraken hashes, from levels in the checksum's spelling (exported for tests and logging a mismatch). */
export function checksumInput(bids: readonly Level[], asks: readonly Level[]): string {
  let s = '';
  for (let i = 0; i < asks.length && i < CHECKSUM_LEVELS; i++) s += fragment(asks[i]!);
  for (let i = 0; i < bids.length && i < CHECKSUM_LEVELS; i++) s += fragment(bids[i]!);
  return s;
}

/** The OrderBook checksum hook for Kraken books (levels converted with toChecksumLevels). */
export function krakenChecksum(): ChecksumFn {
  return (bids, asks) => crc32(checksumInput(bids, asks)) >>> 0;
}
