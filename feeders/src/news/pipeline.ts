// Every mapped item ends here: rejected (counted by reason), duplicate (id already stored, by any source,
// in this process or — via loadKnownIds — before a restart), or scored, tagged, grouped into its story
// (stories.ts) and written: one news_articles point per article, the story's points rewritten.
import type { Logger } from 'pino';
import { BUCKETS, NEWS_DB, newsFrom, type InfluxQLClient, type InfluxSink } from '@mt/common';
import type { SourceMetrics } from '../common/metrics.js';
import { detectLanguage, SCORED_LANGUAGES } from './lang.js';
import type { NewsMetrics } from './metrics.js';
import { articlePoint, pointTime, storyPoints } from './points.js';
import { scoreNewsHeadline } from './sentiment-model.js';
import { storyKey, storyRank, storySentiment, storyWords, StoryBook } from './stories.js';
import type { AssetTagger } from './tagger.js';
import type { SourceBatch } from './types.js';

/** Ids seen within the retention window of the dedupe memory, with their publication time and story. */
export class KnownIds {
  private ids = new Map<string, { t: number; story: string }>();
  constructor(private readonly maxAgeMs: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  storyOf(id: string): string | undefined {
    return this.ids.get(id)?.story;
  }
  add(id: string, publishedAt: number, story = id): void {
    this.ids.set(id, { t: publishedAt, story });
  }
  get size(): number {
    return this.ids.size;
  }
  /** Forget ids older than the window: items that old are rejected as `too_old` before dedupe anyway. */
  prune(now = Date.now()): void {
    for (const [id, { t }] of this.ids) if (t < now - this.maxAgeMs) this.ids.delete(id);
  }
}

export interface PipelineDeps {
  sink: InfluxSink;
  tagger: AssetTagger;
  known: KnownIds;
  stories: StoryBook;
  metrics: NewsMetrics;
  sourceMetrics: SourceMetrics;
  log: Logger;
}

export interface IngestCounts {
  stored: number;
  duplicate: number;
  rejected: number;
  /** Stored articles that joined an existing story. */
  joined: number;
  /** news_articles points written (story points follow in writeStories). */
  points: number;
}

export function ingest(batch: SourceBatch, d: PipelineDeps): IngestCounts {
  const c: IngestCounts = { stored: 0, duplicate: 0, rejected: 0, joined: 0, points: 0 };
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
      // the same article through another source (CryptoPanic's original_url = the feed's link): one article,
      // but its story now lists that source too
      const s = d.stories.addSource(d.known.storyOf(a.id)!, source);
      if (s) d.stories.markDirty(s);
      continue;
    }
    const lang = detectLanguage(a.title);
    const sentiment = SCORED_LANGUAGES.has(lang) ? scoreNewsHeadline(a.title).score : undefined;
    if (sentiment === undefined) d.metrics.unscored.inc({ lang });
    const assets = d.tagger.tag(a.title, a.assetHints);
    const time = pointTime(a);
    const story = d.stories.add({ id: a.id, title: a.title, url: a.url, source, category: a.category, lang, time, assets, sentiment });
    d.sink.write(BUCKETS.newsRaw, [articlePoint({ ...a, lang, sentiment, assets, story: story.id })]);
    d.stories.markDirty(story);
    d.known.add(a.id, a.publishedAt, story.id);
    c.stored++;
    c.points++;
    d.metrics.items.inc({ source, outcome: 'stored' });
    if (story.id !== a.id) {
      c.joined++;
      d.metrics.storyJoins.inc({ source });
    }
    if (a.dateFallback) d.metrics.dateFallback.inc({ source });
  }
  d.metrics.knownIds.set(d.known.size);
  d.metrics.stories.set(d.stories.size);
  if (c.stored || c.rejected) d.log.info({ source, ...c }, 'news batch');
  return c;
}

/**
 * Write the points of every story changed since the last call (main.ts: every STORY_FLUSH_MS and at
 * SIGTERM before the sink closes). A story run by 30 outlets in one burst is rewritten once, not 30 times.
 */
export function writeStories(d: Pick<PipelineDeps, 'sink' | 'stories' | 'tagger'>): number {
  let n = 0;
  for (const s of d.stories.takeDirty()) {
    const points = storyPoints(s, storyRank({ ...s, sentiment: storySentiment(s) }, (x) => d.tagger.isWatched(x)));
    d.sink.write(BUCKETS.newsRaw, points);
    n += points.length;
  }
  return n;
}

/** How often changed stories are written (their points are rewritten in place). */
export const STORY_FLUSH_MS = 1000;


function rowsOf(series: { columns: string[]; values: unknown[][] }[]): Record<string, unknown>[] {
  return series.flatMap((s) => s.values.map((row) => Object.fromEntries(s.columns.map((c, i) => [c, row[i]]))));
}

/**
 * Restart-safe dedupe: the ids stored in the last `maxAgeMs` (by publication time) are read back with
 * InfluxQL before any source is polled, with the story each belongs to.
 */
export async function loadKnownIds(ql: InfluxQLClient, known: KnownIds, maxAgeMs: number): Promise<number> {
  const series = await ql.query(NEWS_DB, `SELECT "id", "story" FROM ${newsFrom('news_articles')} WHERE time > now() - ${Math.ceil(maxAgeMs / 1000)}s`);
  let n = 0;
  for (const r of rowsOf(series)) {
    if (typeof r.id === 'string' && !known.has(r.id)) {
      known.add(r.id, Number(r.time), typeof r.story === 'string' ? r.story : r.id);
      n++;
    }
  }
  return n;
}

/** The stories still open to new articles, read back at start-up so a restart does not split them. */
export async function loadStories(ql: InfluxQLClient, book: StoryBook, windowMs: number): Promise<number> {
  const series = await ql.query(NEWS_DB, `SELECT * FROM ${newsFrom('news_stories')} WHERE time > now() - ${Math.ceil(windowMs / 1000)}s`);
  let n = 0;
  for (const r of rowsOf(series)) {
    if (typeof r.story !== 'string' || typeof r.title !== 'string') continue;
    const list = (v: unknown, sep: string) => new Set(typeof v === 'string' && v ? v.split(sep) : []);
    const assets = list(r.assets, ',');
    assets.delete('none');
    const articles = Number(r.articles) || 1;
    const sentiment = typeof r.sentiment_score === 'number' ? r.sentiment_score : undefined;
    book.restore({
      id: r.story,
      title: r.title,
      url: String(r.url ?? ''),
      category: String(r.category ?? 'news'),
      lang: String(r.lang ?? 'en'),
      time: Number(r.time),
      articles,
      sources: list(r.sources, ','),
      publishers: list(r.publishers, ', '),
      assets,
      // the mean is stored; as many scored articles as articles is the best guess for re-weighting it
      sentimentSum: sentiment === undefined ? 0 : sentiment * articles,
      sentimentN: sentiment === undefined ? 0 : articles,
      words: storyWords(r.title),
      key: storyKey(r.title),
    });
    n++;
  }
  return n;
}
