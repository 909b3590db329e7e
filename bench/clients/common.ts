// What the bench clients share: the streams per symbol (the market feeder's: trade, kline, ticker,
// book) and the IPC protocol with bench/ingest.ts.
import { binanceStreamSymbol } from '@mt/common';

export function streamsOf(symbol: string): string[] {
  const s = binanceStreamSymbol(symbol);
  return [`${s}@trade`, `${s}@kline_1m`, `${s}@ticker`, `${s}@bookTicker`];
}

/** Answer the parent's 'sample' messages with the current counters. */
export function serveSamples(counters: () => Record<string, number>): void {
  process.on('message', (m) => {
    if (m === 'sample') process.send?.({ at: Date.now(), ...counters() });
  });
  process.on('disconnect', () => process.exit(0));
}
