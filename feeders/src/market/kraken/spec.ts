// Kraken spot websocket v2 as a venue spec for the generic streaming layer (docs/STREAMING.md): streams
// are `channel|SYMBOL[|depth|generation]` (`ohlc|BTC/USD`, `ticker|BTC/USD`, `book|BTC/USD|100|0`), each
// subscribed by its own `{"method":"subscribe","params":{…}}` (one channel per message), paced at 10/s
// (Kraken limits the message rate per connection without publishing a number; docs/SOURCES.md "Kraken").
// The generation of a book stream changes to resubscribe that book alone after a checksum mismatch.
import type { FrameRole, VenueStreamSpec } from '../stream/spec.js';
import { parseFrame, type KrakenEvent } from './mappers.js';

export const KRAKEN_BOOK_DEPTHS = [10, 25, 100, 500, 1000] as const;

export interface KrakenSpecOptions {
  baseUrl: string;
  staleMs: number;
  maxAgeMs: number;
  streamsFor(wireSymbol: string): string[];
}

export interface KrakenStream {
  channel: 'ohlc' | 'ticker' | 'book';
  symbol: string;
  depth?: number;
}

export function streamName(s: KrakenStream, generation = 0): string {
  return s.channel === 'book' ? `book|${s.symbol}|${s.depth ?? 10}|${generation}` : `${s.channel}|${s.symbol}`;
}

export function parseStreamName(name: string): KrakenStream {
  const [channel, symbol = '', depth] = name.split('|');
  if (channel !== 'ohlc' && channel !== 'ticker' && channel !== 'book') throw new Error(`not a Kraken stream: ${name}`);
  return channel === 'book' ? { channel, symbol, depth: Number(depth) } : { channel, symbol };
}

/** One message for streams of one channel (and depth): the layer sends one stream per message. */
function control(method: 'subscribe' | 'unsubscribe') {
  return (streams: readonly string[], id: number): string => {
    const parsed = streams.map(parseStreamName);
    const first = parsed[0]!;
    if (parsed.some((p) => p.channel !== first.channel || p.depth !== first.depth)) throw new Error('one Kraken message carries one channel');
    const params: Record<string, unknown> = { channel: first.channel, symbol: parsed.map((p) => p.symbol) };
    if (first.channel === 'ohlc') params.interval = 1;
    if (first.channel === 'book') params.depth = first.depth;
    return JSON.stringify({ method, params, req_id: id });
  };
}

export function krakenRole(ev: KrakenEvent): FrameRole {
  switch (ev.kind) {
    case 'ohlc':
    case 'ticker':
    case 'book':
      return 'data';
    case 'heartbeat':
      return 'heartbeat';
    case 'ack':
      return ev.success ? 'ack' : 'error';
    default:
      return 'info';
  }
}

export function krakenSpec(o: KrakenSpecOptions): VenueStreamSpec<KrakenEvent> {
  return {
    exchange: 'kraken',
    source: 'kraken_ws',
    limits: {
      // no documented cap per connection; kept moderate so one reconnect resubscribes in seconds
      maxStreamsPerConnection: 300,
      streamsPerMessage: 1,
      controlIntervalMs: 100,
      maxAgeMs: o.maxAgeMs,
      staleMs: o.staleMs,
      // no published connection-rate number: a conservative budget, with the layer's backoff
      connects: { max: 60, windowMs: 60_000 },
      backoff: { initialMs: 500, maxMs: 30_000 },
    },
    streamsFor: o.streamsFor,
    url: () => o.baseUrl,
    urlStreams: 0,
    subscribe: control('subscribe'),
    unsubscribe: control('unsubscribe'),
    parse: parseFrame,
    role: krakenRole,
  };
}
