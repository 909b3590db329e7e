// Binance spot's combined-stream websocket as a venue spec for the generic streaming layer
// (docs/STREAMING.md): the first 100 streams in the URL, the rest SUBSCRIBEd 200 per message, control
// messages ≤ 4 per second (limit 5/s incoming, pongs included), 1024 streams per connection, rolled before
// Binance's 24 h cut, 300 connection attempts per 5 minutes per IP.
import { parseFrame, type BinanceEvent } from './mappers.js';
import type { FrameRole, VenueStreamSpec } from '../stream/spec.js';

/** Min gap between our control messages: ≤ 4 per second, leaving one for a pong (limit: 5/s). */
export const CONTROL_INTERVAL_MS = 300;
export const STREAMS_PER_CONNECTION = 1024;

export interface BinanceSpecOptions {
  baseUrl: string;
  staleMs: number;
  maxAgeMs: number;
  streamsFor(symbol: string): string[];
  exchange?: string;
  source?: string;
  /** Gap between our control messages (spot: CONTROL_INTERVAL_MS; USDⓈ-M futures allow 10/s). */
  controlIntervalMs?: number;
}

/** Spot's and USDⓈ-M futures' frames alike: control answers, serverShutdown, and events. */
export function binanceRole(ev: { kind: string }): FrameRole {
  switch (ev.kind) {
    case 'result':
      return 'ack';
    case 'error':
      return 'error';
    case 'shutdown':
      return 'shutdown';
    default:
      return 'data';
  }
}

const control = (method: string) => (params: readonly string[], id: number) => JSON.stringify({ method, params, id });

export function binanceSpotSpec(o: BinanceSpecOptions): VenueStreamSpec<BinanceEvent> {
  return binanceSpec(o, parseFrame);
}

/** A Binance market-stream websocket (spot's protocol, also USDⓈ-M futures' fstream) with the API's frame parser. */
export function binanceSpec<E extends { kind: string }>(o: BinanceSpecOptions, parse: (text: string) => E): VenueStreamSpec<E> {
  const base = o.baseUrl.replace(/\/+$/, '');
  return {
    exchange: o.exchange ?? 'binance',
    source: o.source ?? 'binance_ws',
    limits: {
      maxStreamsPerConnection: STREAMS_PER_CONNECTION,
      // a 1024-stream URL would exceed header limits: 100 in the URL, the rest by SUBSCRIBE
      streamsPerMessage: 200,
      controlIntervalMs: o.controlIntervalMs ?? CONTROL_INTERVAL_MS,
      maxAgeMs: o.maxAgeMs,
      staleMs: o.staleMs,
      connects: { max: 300, windowMs: 5 * 60_000 },
      backoff: { initialMs: 500, maxMs: 30_000 },
    },
    streamsFor: o.streamsFor,
    url: (initial) => `${base}/stream?streams=${initial.join('/')}`,
    urlStreams: 100,
    subscribe: control('SUBSCRIBE'),
    unsubscribe: control('UNSUBSCRIBE'),
    parse,
    role: binanceRole,
  };
}
