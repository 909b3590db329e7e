// Articles and stories → points in database `news` (contract: docs/INFLUXDB.md "news", docs/SENTIMENT.md):
//   news_articles      one point per article (one outlet's copy); its assets as a field
//   news_stories       one point per story (articles of several outlets grouped), rewritten as it grows
//   news_story_assets  one point per story and asset it names (`none` when it names none)
import { Point } from '@influxdata/influxdb-client';
import { storySentiment, type Story } from './stories.js';
import type { Article } from './types.js';

export const NEWS_MEASUREMENT = 'news_articles';
export const STORIES_MEASUREMENT = 'news_stories';
export const STORY_ASSETS_MEASUREMENT = 'news_story_assets';

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

/** `BTC,ETH`, or `none`: dashboards filter with `"assets" =~ /(^|,)BTC(,|$)/`. */
export const assetList = (assets: Iterable<string>): string => [...assets].join(',') || 'none';

export function articlePoint(a: ScoredArticle): Point {
  const p = new Point(NEWS_MEASUREMENT)
    .tag('source', a.source)
    .tag('category', a.category)
    .tag('lang', a.lang)
    .stringField('title', a.title)
    .stringField('url', a.url)
    .stringField('id', a.id)
    .stringField('story', a.story)
    .stringField('assets', assetList(a.assets))
    .timestamp(pointTime(a));
  if (a.sentiment !== undefined) p.floatField('sentiment_score', a.sentiment);
  return p;
}

/** The story point and one point per asset; same tags and time on every rewrite, so each is overwritten. */
export function storyPoints(s: Story, rank: number): Point[] {
  const sentiment = storySentiment(s);
  const fields = (p: Point) => {
    p.stringField('story', s.id)
      .stringField('title', s.title)
      .stringField('url', s.url)
      .stringField('sources', [...s.sources].join(','))
      .stringField('publishers', [...s.publishers].join(', '))
      .intField('outlets', s.publishers.size)
      .intField('articles', s.articles)
      .stringField('assets', assetList(s.assets))
      .floatField('rank', rank)
      .timestamp(s.time);
    if (sentiment !== undefined) p.floatField('sentiment_score', sentiment);
    return p;
  };
  const story = fields(new Point(STORIES_MEASUREMENT).tag('category', s.category).tag('lang', s.lang));
  const assets = s.assets.size ? [...s.assets] : ['none'];
  return [story, ...assets.map((asset) => fields(new Point(STORY_ASSETS_MEASUREMENT).tag('related_asset', asset)))];
}
