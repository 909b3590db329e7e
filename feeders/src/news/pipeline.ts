// Every mapped item ends here: rejected (counted by reason), duplicate (id already stored, by any source,
// in this process or — via loadKnownIds — before a restart), or scored, tagged and written.
import type { Logger } from 'pino';
import { BUCKETS, type InfluxQLClient, type InfluxSink } from '@mt/common';
import type { SourceMetrics } from '../common/metrics.js';
import type { NewsMetrics } from './metrics.js';
import { articlePoints, NEWS_MEASUREMENT } from './points.js';
import { scoreHeadline } from './sentiment.js';
import type { AssetTagger } from './tagger.js';
import type { SourceBatch } from './types.js';

/** Ids seen within the retention window of the dedupe memory, with their publication time for pruning. */
export class KnownIds {
  private ids = new Map<string, number>();
  constructor(private readonly maxAgeMs: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string, publishedAt: number): void {
    this.ids.set(id, publishedAt);
  }
  get size(): number {
    return this.ids.size;
  }
  /** Forget ids older than the window: items that old are rejected as `too_old` before dedupe anyway. */
  prune(now = Date.now()): void {
    for (const [id, t] of this.ids) if (t < now - this.maxAgeMs) this.ids.delete(id);
  }
}

export interface PipelineDeps {
  sink: InfluxSink;
  tagger: AssetTagger;
  known: KnownIds;
  metrics: NewsMetrics;
  sourceMetrics: SourceMetrics;
  log: Logger;
}

export interface IngestCounts {
  stored: number;
  duplicate: number;
  rejected: number;
  points: number;
}

export function ingest(batch: SourceBatch, d: PipelineDeps): IngestCounts {
  const c: IngestCounts = { stored: 0, duplicate: 0, rejected: 0, points: 0 };
  const source = batch.source;
  if (batch.notModified) d.metrics.notModified.inc({ source });
  d.sourceMetrics.messages.inc({ source }, batch.results.length);
  for (const r of batch.results) {
    if (!r.ok) {
      c.rejected++;
      d.metrics.items.inc({ source, outcome: 'rejected' });
      d.metrics.rejected.inc({ source, reason: r.reason });
      d.log.debug({ source, reason: r.reason, detail: r.detail }, 'item rejected');
      continue;
    }
    const a = r.article;
    if (d.known.has(a.id)) {
      c.duplicate++;
      d.metrics.items.inc({ source, outcome: 'duplicate' });
      continue;
    }
    const points = articlePoints({ ...a, sentiment: scoreHeadline(a.title).score, assets: d.tagger.tag(a.title, a.assetHints) });
    d.sink.write(BUCKETS.newsRaw, points);
    d.known.add(a.id, a.publishedAt);
    c.stored++;
    c.points += points.length;
    d.metrics.items.inc({ source, outcome: 'stored' });
    if (a.dateFallback) d.metrics.dateFallback.inc({ source });
  }
  d.metrics.knownIds.set(d.known.size);
  if (c.stored || c.rejected) d.log.info({ source, ...c }, 'news batch');
  return c;
}

/**
 * Restart-safe dedupe: the ids stored in the last `maxAgeMs` (by publication time) are read back with
 * InfluxQL before any source is polled.
 */
export async function loadKnownIds(ql: InfluxQLClient, known: KnownIds, maxAgeMs: number): Promise<number> {
  const [db, rp] = BUCKETS.newsRaw.split('/') as [string, string];
  const series = await ql.query(db, `SELECT "id" FROM "${rp}"."${NEWS_MEASUREMENT}" WHERE time > now() - ${Math.ceil(maxAgeMs / 1000)}s`);
  let n = 0;
  for (const s of series) {
    const ti = s.columns.indexOf('time');
    const ii = s.columns.indexOf('id');
    for (const row of s.values) {
      const id = row[ii];
      if (typeof id === 'string' && !known.has(id)) {
        known.add(id, Number(row[ti]));
        n++;
      }
    }
  }
  return n;
}
