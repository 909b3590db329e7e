// Article → `news_articles` points, exactly the contract in ../shared/DESIGN.md (database `news`).
import { Point } from '@influxdata/influxdb-client';
import type { Article } from './types.js';

export const NEWS_MEASUREMENT = 'news_articles';

export interface ScoredArticle extends Article {
  sentiment: number;
  /** Assets mentioned; empty → one point with related_asset=none. */
  assets: string[];
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

export function articlePoints(a: ScoredArticle): Point[] {
  const assets = a.assets.length ? a.assets : ['none'];
  const ts = pointTime(a);
  return assets.map((asset) =>
    new Point(NEWS_MEASUREMENT)
      .tag('source', a.source)
      .tag('category', a.category)
      .tag('related_asset', asset)
      .stringField('title', a.title)
      .stringField('url', a.url)
      .floatField('sentiment_score', a.sentiment)
      .stringField('id', a.id)
      .timestamp(ts),
  );
}
