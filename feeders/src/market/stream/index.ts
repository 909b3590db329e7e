export { ConnectBudget, StreamConnection, type SocketLink, type ConnectionEvents } from './connection.js';
export { StreamPool } from './pool.js';
export { VenueStream, streamMetrics, type StreamMetrics, type VenueStreamOptions } from './venue-stream.js';
export { MarketSourceRegistry } from './registry.js';
export type { FrameRole, StreamLimits, VenueStreamSpec } from './spec.js';
export { streamSource, type StreamSourceParts } from './source.js';
