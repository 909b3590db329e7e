// Test doubles for the market core: a sink that keeps the line protocol it was given, and a line parser.
import type { InfluxSink } from '@mt/common';
import type { Point } from '@influxdata/influxdb-client';
import type { Candle, MarketTick } from '../../src/market/types.js';

export interface Line {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string>;
  ts: number;
}

/** Minimal line-protocol reader for the points our builders make (no spaces or commas in values). */
export function parseLine(line: string): Line {
  const [head, fieldPart, ts] = line.split(' ') as [string, string, string];
  const [measurement, ...tagPairs] = head.split(',');
  const kv = (s: string) => {
    const i = s.indexOf('=');
    return [s.slice(0, i), s.slice(i + 1)] as const;
  };
  return {
    measurement: measurement!,
    tags: Object.fromEntries(tagPairs.map(kv)),
    fields: Object.fromEntries(fieldPart.split(',').map(kv)),
    // the client's default precision is ns
    ts: Number(BigInt(ts) / 1_000_000n),
  };
}

export class MemorySink implements InfluxSink {
  readonly lines: Line[] = [];
  readonly buckets: string[] = [];
  write(bucket: string, points: Point | Point[]): void {
    for (const p of Array.isArray(points) ? points : [points]) {
      const lp = p.toLineProtocol();
      if (!lp) throw new Error('point without fields');
      this.lines.push(parseLine(lp));
      this.buckets.push(bucket);
    }
  }
  of(measurement: string): Line[] {
    return this.lines.filter((l) => l.measurement === measurement);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  pending(): Record<string, number> {
    return {};
  }
}

export function tick(over: Partial<MarketTick> & { ts: number }): MarketTick {
  return { exchange: 'binance', symbol: 'BTC/USDT', assetType: 'crypto', receivedAt: over.ts, price: 100, ...over };
}

export function candle(openTime: number, over: Partial<Candle> = {}): Candle {
  return {
    exchange: 'binance',
    symbol: 'BTC/USDT',
    assetType: 'crypto',
    interval: '1m',
    openTime,
    closeTime: openTime + 59_999,
    open: 100,
    high: 110,
    low: 90,
    close: 100 + (openTime / 60_000) % 7,
    volume: 12.5,
    quoteVolume: 1250,
    trades: 42,
    closed: true,
    receivedAt: openTime + 60_000,
    ...over,
  };
}
