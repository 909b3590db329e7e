// Rendezvous sharding of the watch set (docs/DEPLOYMENT.md, "Sharded market feeders"): each item has
// exactly one owner, the split is even, and going from n to n+1 replicas moves ≈ 1/(n+1) of the items,
// all of them to the new replica. Bounds are binomial: with rendezvous hashing an item moves from 3 to 4
// replicas iff replica 3 outbids the other three, probability exactly 1/4 for a uniform hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShardSpec, resolveShard, shardItems, shardOf, isLeadShard } from '../src/watchset/shard.js';
import type { WatchItem } from '../src/watchset/types.js';

// many symbols, named the way the exchange names them (several venues, several quote currencies)
const ITEMS: WatchItem[] = [];
for (let i = 0; i < 4000; i++) {
  const base = `C${i.toString(36).toUpperCase()}`;
  ITEMS.push({ exchange: 'binance', symbol: `${base}/USDT`, asset_type: 'crypto' });
  ITEMS.push({ exchange: 'kraken', symbol: `${base}/USD`, asset_type: 'crypto' });
}
for (let i = 0; i < 2000; i++) ITEMS.push({ exchange: 'yahoo', symbol: `S${i}`, asset_type: 'stock' });
const N = ITEMS.length;
const key = (i: WatchItem) => `${i.exchange}:${i.symbol}`;

/** |x − n·p| within 4.5 standard deviations of Binomial(n, p): fails by chance about once in 150 000 runs of a random hash (and this hash is fixed). */
function assertBinomial(x: number, n: number, p: number, what: string): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(x - n * p) <= 4.5 * sigma, `${what}: ${x} of ${n}, expected ${Math.round(n * p)} ± ${Math.round(4.5 * sigma)}`);
}

test('INDEX/COUNT is parsed 0-based; bad specs are refused with the reason', () => {
  assert.deepEqual(parseShardSpec('2/3'), { index: 2, count: 3 });
  assert.deepEqual(parseShardSpec(' 0 / 1 '), { index: 0, count: 1 });
  assert.throws(() => parseShardSpec('3/3'), /INDEX must be below COUNT/);
  assert.throws(() => parseShardSpec('1/0'), /at least 1/);
  assert.throws(() => parseShardSpec('1-3'), /must be INDEX\/COUNT/);
  assert.throws(() => parseShardSpec('-1/3'), /must be INDEX\/COUNT/);
});

test('the shard comes from FEEDER_SHARD, or from FEEDER_SHARDS and a StatefulSet hostname', () => {
  assert.equal(resolveShard({}), undefined);
  assert.deepEqual(resolveShard({ FEEDER_SHARD: '1/4' }), { index: 1, count: 4 });
  assert.deepEqual(resolveShard({ FEEDER_SHARDS: 3 }, 'market-feeder-2'), { index: 2, count: 3 });
  assert.deepEqual(resolveShard({ FEEDER_SHARD: '0/3', FEEDER_SHARDS: 3 }, 'market-feeder-2'), { index: 0, count: 3 }, 'FEEDER_SHARD wins');
  assert.throws(() => resolveShard({ FEEDER_SHARDS: 3 }, 'market-feeder-3'), /ordinal 3, not below FEEDER_SHARDS=3/);
  assert.throws(() => resolveShard({ FEEDER_SHARDS: 3 }, 'feeder'), /needs FEEDER_SHARD, or a StatefulSet hostname/);
  assert.throws(() => resolveShard({ FEEDER_SHARDS: 3 }), /needs FEEDER_SHARD/);
  assert.throws(() => resolveShard({ FEEDER_SHARD: '1/4', FEEDER_SHARDS: 3 }), /disagree/);
});

test('every item is collected by exactly one shard, and the shards get even shares', () => {
  for (const count of [1, 2, 3, 4, 7]) {
    const owners = new Map<string, number[]>();
    for (let index = 0; index < count; index++) {
      const mine = shardItems(ITEMS, { index, count });
      if (count > 1) assertBinomial(mine.length, N, 1 / count, `shard ${index}/${count}`);
      for (const i of mine) owners.set(key(i), [...(owners.get(key(i)) ?? []), index]);
    }
    assert.equal(owners.size, N, `${count} shards cover every item`);
    assert.ok([...owners.values()].every((o) => o.length === 1), `${count} shards: no item twice`);
  }
  assert.equal(shardItems(ITEMS, undefined), ITEMS, 'unsharded: everything');
});

test('3 → 4 replicas moves ≈ 1/4 of the items, every one of them to the new replica; 4 → 3 moves only its items back', () => {
  const moved = ITEMS.filter((i) => shardOf(key(i), 3) !== shardOf(key(i), 4));
  assertBinomial(moved.length, N, 1 / 4, 'moved from 3 to 4 shards');
  assert.ok(moved.every((i) => shardOf(key(i), 4) === 3), 'a moved item goes to the new shard, never between old ones');
  // the reverse: only the items of the removed replica move, each back to its old owner
  const removed = ITEMS.filter((i) => shardOf(key(i), 4) === 3);
  assert.deepEqual(removed, moved);
  // and from 1 to 2 and from 7 to 8, the same rule: 1/(n+1)
  for (const n of [1, 7]) assertBinomial(ITEMS.filter((i) => shardOf(key(i), n) !== shardOf(key(i), n + 1)).length, N, 1 / (n + 1), `moved from ${n} to ${n + 1}`);
});

test('the owner depends on exchange and symbol: the same symbol on two venues is two independent items', () => {
  const same = ITEMS.filter((i) => i.exchange === 'binance').filter((i) => {
    const kraken = `kraken:${i.symbol.replace('/USDT', '/USD')}`;
    return shardOf(key(i), 3) === shardOf(kraken, 3);
  }).length;
  assertBinomial(same, N * 0.4, 1 / 3, 'binance and kraken twins on the same shard');
});

test('global sources (Fear & Greed) run on shard 0, or on the only feeder', () => {
  assert.equal(isLeadShard(undefined), true);
  assert.equal(isLeadShard({ index: 0, count: 3 }), true);
  assert.equal(isLeadShard({ index: 2, count: 3 }), false);
});
