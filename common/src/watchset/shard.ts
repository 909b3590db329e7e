// Sharded feeders (docs/DEPLOYMENT.md, "Sharded market feeders"): N replicas split the watch set by
// rendezvous (highest-random-weight) hashing of `exchange:symbol`. Every replica computes the same owner
// for an item from the item and N alone — no coordination, no shared state — and changing N from n to
// n+1 moves only the items whose new replica outbids all the others: 1/(n+1) of them, all to the new one.
import { createHash } from 'node:crypto';
import { watchItemKey, type WatchItem } from './types.js';

/** This replica's place: `index` in 0…count-1. */
export interface Shard {
  index: number;
  count: number;
}

/** `i/N` (0-based) → Shard; throws with the reason. */
export function parseShardSpec(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new Error(`"${spec}" must be INDEX/COUNT, e.g. 0/3`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`"${spec}": COUNT must be at least 1`);
  if (index >= count) throw new Error(`"${spec}": INDEX must be below COUNT (0-based)`);
  return { index, count };
}

/**
 * The shard from the configuration: `FEEDER_SHARD=i/N`, or `FEEDER_SHARDS=N` with the index taken from a
 * StatefulSet pod's hostname (`market-feeder-2` → 2). Neither set: undefined, one feeder collects all.
 */
export function resolveShard(env: { FEEDER_SHARD?: string; FEEDER_SHARDS?: number }, hostname?: string): Shard | undefined {
  if (env.FEEDER_SHARD) {
    const s = parseShardSpec(env.FEEDER_SHARD);
    if (env.FEEDER_SHARDS !== undefined && env.FEEDER_SHARDS !== s.count) {
      throw new Error(`FEEDER_SHARD=${env.FEEDER_SHARD} and FEEDER_SHARDS=${env.FEEDER_SHARDS} disagree on the number of shards`);
    }
    return s;
  }
  if (env.FEEDER_SHARDS === undefined) return undefined;
  const m = /-(\d+)$/.exec(hostname ?? '');
  if (!m) throw new Error(`FEEDER_SHARDS=${env.FEEDER_SHARDS} needs FEEDER_SHARD, or a StatefulSet hostname ending in -<ordinal> (hostname "${hostname ?? ''}")`);
  const index = Number(m[1]);
  if (index >= env.FEEDER_SHARDS) throw new Error(`hostname ${hostname} is ordinal ${index}, not below FEEDER_SHARDS=${env.FEEDER_SHARDS}`);
  return { index, count: env.FEEDER_SHARDS };
}

/** The weight of `key` on shard `index`: 48 bits of SHA-256, so ties are practically impossible. */
export function shardWeight(key: string, index: number): number {
  return createHash('sha256').update(`${index}\u0000${key}`).digest().readUIntBE(0, 6);
}

/** The shard (0…count-1) that owns `key`: the one with the highest weight. */
export function shardOf(key: string, count: number): number {
  let best = 0;
  let bestWeight = -1;
  for (let i = 0; i < count; i++) {
    const w = shardWeight(key, i);
    if (w > bestWeight) {
      best = i;
      bestWeight = w;
    }
  }
  return best;
}

/** The items `shard` collects (all of them when unsharded). */
export function shardItems(items: WatchItem[], shard: Shard | undefined): WatchItem[] {
  if (!shard || shard.count === 1) return items;
  return items.filter((i) => shardOf(watchItemKey(i), shard.count) === shard.index);
}

/**
 * Global sources that belong to no symbol (the Fear & Greed index) run on shard 0 only, so N replicas
 * poll them once, not N times.
 */
export function isLeadShard(shard: Shard | undefined): boolean {
  return !shard || shard.index === 0;
}
