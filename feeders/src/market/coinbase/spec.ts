// Coinbase Exchange's market-data websocket as a venue spec for the generic streaming layer
// (docs/STREAMING.md): nothing in the URL, every channel subscribed by message right after the socket
// opens (the venue disconnects a socket without a subscribe within 5 s), channels as objects with their
// own product_ids, control messages ≤ 4/s (limit: 8 requests/s per IP, bursts 20; other sockets share
// the IP). Limits: testing/fixtures/LIMITS.md "Coinbase Exchange".
import { parseFrame, type CoinbaseEvent } from './mappers.js';
import type { FrameRole, VenueStreamSpec } from '../stream/spec.js';

export const CONTROL_INTERVAL_MS = 250;
/** Coinbase documents no per-connection cap; 100 products × 3 channels keeps one socket's burst small. */
export const STREAMS_PER_CONNECTION = 300;

/** A stream is `channel:PRODUCT` (`matches:BTC-USD`). */
export function coinbaseStreams(product: string, depth = false): string[] {
  const s = [`matches:${product}`, `ticker:${product}`, `heartbeat:${product}`];
  // level2_batch: the public L2 channel (snapshot, then l2update every 50 ms)
  if (depth) s.push(`level2_batch:${product}`);
  return s;
}

export function coinbaseRole(ev: CoinbaseEvent): FrameRole {
  switch (ev.kind) {
    case 'subscriptions':
      return 'ack';
    case 'error':
      return 'error';
    case 'other':
      return 'info';
    default:
      // heartbeats too: their time is the venue clock that closes quiet minutes
      return 'data';
  }
}

/** `{"type":"subscribe","channels":[{"name":"matches","product_ids":[…]},…]}` (the documented per-channel form). */
function control(type: 'subscribe' | 'unsubscribe') {
  return (streams: readonly string[]) => {
    const byChannel = new Map<string, string[]>();
    for (const s of streams) {
      const i = s.indexOf(':');
      const name = s.slice(0, i);
      const list = byChannel.get(name) ?? [];
      list.push(s.slice(i + 1));
      byChannel.set(name, list);
    }
    return JSON.stringify({ type, channels: [...byChannel].map(([name, product_ids]) => ({ name, product_ids })) });
  };
}

export interface CoinbaseSpecOptions {
  baseUrl: string;
  staleMs: number;
  maxAgeMs: number;
  streamsFor(product: string): string[];
}

export function coinbaseSpec(o: CoinbaseSpecOptions): VenueStreamSpec<CoinbaseEvent> {
  return {
    exchange: 'coinbase',
    source: 'coinbase_ws',
    limits: {
      maxStreamsPerConnection: STREAMS_PER_CONNECTION,
      streamsPerMessage: 150,
      controlIntervalMs: CONTROL_INTERVAL_MS,
      maxAgeMs: o.maxAgeMs,
      staleMs: o.staleMs,
      // no documented connection limit: stay polite
      connects: { max: 60, windowMs: 60_000 },
      backoff: { initialMs: 500, maxMs: 30_000 },
    },
    streamsFor: o.streamsFor,
    url: () => o.baseUrl,
    urlStreams: 0,
    subscribe: control('subscribe'),
    unsubscribe: control('unsubscribe'),
    parse: parseFrame,
    role: coinbaseRole,
  };
}
