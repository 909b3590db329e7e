// Binance USDⓈ-M futures L2 books (docs/ORDER_BOOKS.md, "Binance USDⓈ-M futures"): the diff stream
// `<symbol>@depth@100ms` and GET /fapi/v1/depth, kept by the spot DiffBook (binance/depth.ts) under the
// futures rules of "How to manage a local order book correctly" (USDⓈ-M): drop an event whose `u` is
// below the snapshot's lastUpdateId; the first one applied has U ≤ lastUpdateId AND u ≥ lastUpdateId;
// each later event's `pu` equals the previous event's `u`. Unlike spot, U is not the previous u + 1:
// update ids are shared across the venue's symbols, so a symbol's consecutive events skip ids
// (testing/fixtures/binance_futures/ws_combined_depthUpdate_100ms_SUSHIUSDT_sequence_15frames.txt).
import { venueDepthBook, type DepthDiff, type DiffBook, type SequenceRules, type VenueDepthBookOptions } from '../binance/depth.js';

export const FUTURES_RULES: SequenceRules = {
  held: (d, snapId) => d.lastUpdateId < snapId,
  first: (d, snapId) => d.firstUpdateId <= snapId && d.lastUpdateId >= snapId,
  // a diff without `pu` (spot's shape) cannot prove it continues: a gap
  continues: (prevLast, d: DepthDiff) => d.prevLastUpdateId === prevLast,
};

/** Levels per side of the snapshot (weight 20, testing/fixtures/LIMITS.md "Binance USDⓈ-M futures"). */
export const FUTURES_SNAPSHOT_LIMIT = 1000;

/** The diff stream of a DEPTH_BOOKS perpetual (`btcusdt`). */
export const futuresDepthStream = (sym: string) => `${sym}@depth@100ms`;

/** One DEPTH_BOOKS perpetual's book: the spot wiring with the futures sequence rules. */
export function futuresDepthBook(o: Omit<VenueDepthBookOptions, 'rules'>): DiffBook {
  return venueDepthBook({ ...o, rules: FUTURES_RULES });
}
