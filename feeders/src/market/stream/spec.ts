// What a venue gives the generic streaming layer (docs/STREAMING.md, "Adding a venue"): its URL, how it
// subscribes, its limits, how to tell control frames from data, and a pure parser. Everything else —
// reconnects, silence detection, the overlapping roll, pacing, resubscription, the pool — is the layer's.

/**
 * What one parsed frame is to the transport. `data` and `heartbeat` prove the socket is delivering (a new
 * socket takes over from the one it replaces on its first such frame); `ack` and `info` are ignored;
 * `error` is counted (`feeder_source_errors_total{kind="request_error"}`) and logged; `shutdown` (the
 * venue announces it will close this socket) rolls over to a new socket, overlapping.
 */
export type FrameRole = 'data' | 'heartbeat' | 'ack' | 'info' | 'error' | 'shutdown';

export interface StreamLimits {
  /** Streams one connection may carry (Binance spot: 1024). */
  maxStreamsPerConnection: number;
  /** Streams per subscribe/unsubscribe message (batching). */
  streamsPerMessage: number;
  /** Minimum gap between two of our control messages on one socket (Binance: 5 incoming/s → 300 ms). */
  controlIntervalMs: number;
  /** Roll (overlapping) to a new socket after this long: before the venue's own connection age limit. */
  maxAgeMs: number;
  /** A socket that delivered no frame for this long is dropped and reconnected. */
  staleMs: number;
  /** Connection attempts allowed per window, over all of the venue's connections (Binance: 300 / 5 min). */
  connects: { max: number; windowMs: number };
  /** Backoff between reconnect attempts (full jitter). Default 500 ms … 30 s. */
  backoff?: { initialMs: number; maxMs: number };
}

export interface VenueStreamSpec<E> {
  /** Exchange name (`binance`, `coinbase`, …): the `exchange` label of the stream gauges. */
  exchange: string;
  /** Source name in feeder_* metrics and logs (`binance_ws`). */
  source: string;
  limits: StreamLimits;
  /** The streams (opaque strings the venue's builders understand) one symbol needs; the pool keeps them on one connection. */
  streamsFor(symbol: string): string[];
  /**
   * The websocket URL of a new socket. `initial` holds the first `urlStreams` of the streams the socket
   * will carry (empty when the venue takes none in the URL); the rest are subscribed once it is open.
   * `attempt` counts the connection attempts since the last success (to alternate between URLs).
   */
  url(initial: readonly string[], attempt: number): string;
  /** How many streams go in the URL (0: all are subscribed by message). */
  urlStreams: number;
  /** One subscribe message for ≤ streamsPerMessage streams; `id` increments per socket. */
  subscribe(streams: readonly string[], id: number): string;
  unsubscribe(streams: readonly string[], id: number): string;
  /** Messages sent first on every new socket (before any subscription), paced like the others. */
  onOpen?(): string[];
  /** An application-level ping the venue needs (websocket pings are answered by the transport itself). */
  keepalive?: { intervalMs: number; message(id: number): string };
  /** Pure: one text frame → one event; throws ParseError (reason `invalid_json`, `invalid_field`, `unknown_event`). */
  parse(text: string): E;
  /** What the parsed frame is to the transport. */
  role(ev: E): FrameRole;
}
