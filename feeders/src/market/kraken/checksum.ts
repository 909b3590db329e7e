// Kraken's book checksum (websocket v2; docs/ORDER_BOOKS.md "Kraken"): CRC32 of the top 10 asks (low to
// high) then the top 10 bids (high to low), each level as price then qty with the decimal point and the
// leading zeros removed. The digits are the wire's (kept by the mapper in Level.text as "price qty"); when
// the pair's precision is known, missing trailing zeros are restored first (a re-encoded 0.566 of a
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
  let v = plainDecimal(s);
  if (decimals !== undefined && decimals > 0) {
    const dot = v.indexOf('.');
    const have = dot < 0 ? 0 : v.length - dot - 1;
    if (have < decimals) v = (dot < 0 ? `${v}.` : v) + '0'.repeat(decimals - have);
  }
  return v.replace('.', '').replace(/^0+/, '');
}

function levelString(l: Level, p?: Precision): string {
  const text = l.text ?? `${l.price} ${l.qty}`;
  const sp = text.indexOf(' ');
  return checksumDigits(text.slice(0, sp), p?.price) + checksumDigits(text.slice(sp + 1), p?.qty);
}

/** The string Kraken hashes (exported for tests and for logging a mismatch). */
export function checksumInput(bids: readonly Level[], asks: readonly Level[], p?: Precision): string {
  let s = '';
  for (let i = 0; i < asks.length && i < CHECKSUM_LEVELS; i++) s += levelString(asks[i]!, p);
  for (let i = 0; i < bids.length && i < CHECKSUM_LEVELS; i++) s += levelString(bids[i]!, p);
  return s;
}

/** The OrderBook checksum hook for a Kraken pair (precision optional, see above). */
export function krakenChecksum(p?: Precision): ChecksumFn {
  return (bids, asks) => crc32(checksumInput(bids, asks, p)) >>> 0;
}
