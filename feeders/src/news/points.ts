// Articles and stories → points in database `news`: the layout and the builders are the storage-schema
// module's (common/src/schema/news.ts, docs/INFLUXDB.md "Layout of database news"); here only what the
// news feeder adds: the point time of an article and a story's sentiment.
import type { Point } from '@influxdata/influxdb-client';
import { articlePoint as articleRowPoint, storyPoints as storyRowPoints } from '@mt/common';
import { storySentiment, type Story } from './stories.js';
import type { Article } from './types.js';

export { assetList } from '@mt/common';

export interface ScoredArticle extends Article {
  /** Undefined when the headline is in a language the scorer cannot read. */
  sentiment?: number;
  lang: string;
  /** Assets mentioned; empty → `none`. */
  assets: string[];
  /** Id of the story it belongs to (its own id when it opened the story). */
  story: string;
}

/**
 * Point time = publication time truncated to the second, plus an id-derived 0–999 ms offset. InfluxDB
 * identifies a point by measurement + tag set + timestamp: the same article re-polled from the same source
 * lands on the same point (an overwrite, never a second row), while two different articles published in
 * the same second by the same source (common: feeds give second precision) do not overwrite each other.
 */
export function pointTime(a: Pick<Article, 'publishedAt' | 'id'>): number {
  return Math.floor(a.publishedAt / 1000) * 1000 + (parseInt(a.id.slice(0, 8), 16) % 1000);
}

export function articlePoint(a: ScoredArticle): Point {
  return articleRowPoint({ ...a, time: pointTime(a) });
}

/** The story point and one point per asset; same tags and time on every rewrite, so each is overwritten. */
export function storyPoints(s: Story, rank: number): Point[] {
  const sentiment = storySentiment(s);
  return storyRowPoints(sentiment === undefined ? s : { ...s, sentiment }, rank);
}
