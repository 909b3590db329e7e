// The InfluxDB contract (docs/INFLUXDB.md): buckets named `db/rp`, so InfluxDB 2.x buckets equal the
// 1.x database/retention-policy pairs and every read can be InfluxQL on 1.x, 2.x (DBRP) and 3.x.
import type { Point } from '@influxdata/influxdb-client';

export const BUCKETS = {
  marketsRaw: 'markets/raw',
  markets5m: 'markets/5m',
  markets1h: 'markets/1h',
  newsRaw: 'news/raw',
} as const;

/** Retention per bucket (InfluxQL duration literal and seconds). */
export const RETENTION: Record<string, { duration: string; seconds: number; default?: boolean }> = {
  'markets/raw': { duration: '7d', seconds: 7 * 86400, default: true },
  'markets/5m': { duration: '30d', seconds: 30 * 86400 },
  'markets/1h': { duration: '365d', seconds: 365 * 86400 },
  'news/raw': { duration: '90d', seconds: 90 * 86400, default: true },
  // infrastructure series kept for two weeks (docs/INFLUXDB.md)
  'infra/raw': { duration: '15d', seconds: 15 * 86400, default: true },
  // the user's own series, never expired (docs/INFLUXDB.md "Your own series"); seconds 0 = infinite
  'custom/raw': { duration: 'INF', seconds: 0, default: true },
};

/** The buckets the services write and read (feeders, API); `infra` and `custom` are not theirs. */
export const DATA_BUCKETS = ['markets/raw', 'markets/5m', 'markets/1h', 'news/raw'] as const;

export interface InfluxConfig {
  url: string;
  token: string;
  org: string;
  api: 'v1' | 'v2';
}

/** Non-blocking, buffered writer. Feeders call write() on the hot path; it never throws. */
export interface InfluxSink {
  /** Queue points for bucket `db/rp`. When the bounded buffer is full the oldest are dropped and counted. */
  write(bucket: string, points: Point | Point[]): void;
  /** Resolves when everything queued so far has been written or given up on (and counted). */
  flush(): Promise<void>;
  /** flush(), then release timers and sockets. */
  close(): Promise<void>;
  /** Points queued and not yet acknowledged, per bucket. */
  pending(): Record<string, number>;
}

export interface InfluxQLSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Read side: InfluxQL only (1.x `/query`, 2.x DBRP `/query` with a token). Times as epoch ms. */
export interface InfluxQLClient {
  query(db: string, q: string): Promise<InfluxQLSeries[]>;
}
