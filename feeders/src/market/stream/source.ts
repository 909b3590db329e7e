// The lifecycle every streaming venue source shares (docs/STREAMING.md, "Sources"): the watch set is kept
// from the start, applied at start() and on every change while started; the stream starts after the
// first apply, the venue's other parts (backfill, REST filler, books, pollers) stop with it; /healthz
// shows the stream's sockets and streams beside the venue's own fields.
import type { WatchItem } from '@mt/common';
import type { MarketComponent } from '../context.js';

export interface StreamSourceParts {
  name: string;
  stream: { start(): void; stop(): void; openSockets(): number; streamCount(): number };
  /** Follow `items` (the whole watch set; the venue picks its own): at start and on every change while started. */
  apply(items: WatchItem[]): void;
  /** After the stream started (e.g. an open-interest poller). */
  onStart?(): void;
  /** After the stream stopped: the venue's backfill, filler, books, pollers. */
  onStop(): void;
  /** The venue's own /healthz fields besides `connections` and `streams`. */
  health(): Record<string, unknown>;
}

export function streamSource(p: StreamSourceParts): MarketComponent {
  let watch: WatchItem[] = [];
  let started = false;
  return {
    name: p.name,
    setWatch(items) {
      watch = items;
      if (started) p.apply(items);
    },
    start() {
      started = true;
      p.apply(watch);
      p.stream.start();
      p.onStart?.();
    },
    async stop() {
      started = false;
      p.stream.stop();
      p.onStop();
    },
    health() {
      return { connections: p.stream.openSockets(), streams: p.stream.streamCount(), ...p.health() };
    },
  };
}
