// The storage schema of database `news` (docs/INFLUXDB.md "Layout of database news", docs/SENTIMENT.md):
//   news_articles      one point per article (one outlet's copy); its assets as a field
//   news_stories       one point per story (articles of several outlets grouped), rewritten as it grows
//   news_story_assets  one point per story and asset it names (`none` when it names none)
import { Point } from '@influxdata/influxdb-client';
import { influxQLIdent, influxQLString } from '../influx/query.js';
import type { MeasurementDef } from './markets.js';

export const NEWS_DB = 'news';
export const NEWS_RP = 'raw';

const STORY_FIELDS = {
  story: { type: 'string' },
  title: { type: 'string' },
  url: { type: 'string' },
  sources: { type: 'string' },
  publishers: { type: 'string' },
  outlets: { type: 'int' },
  articles: { type: 'int' },
  assets: { type: 'string' },
  rank: { type: 'float' },
  sentiment_score: { type: 'float' },
} as const;

export const NEWS = {
  news_articles: {
    name: 'news_articles',
    tags: ['source', 'category', 'lang'],
    fields: {
      title: { type: 'string' },
      url: { type: 'string' },
      id: { type: 'string' },
      story: { type: 'string' },
      assets: { type: 'string' },
      sentiment_score: { type: 'float' },
    },
  },
  news_stories: { name: 'news_stories', tags: ['category', 'lang'], fields: STORY_FIELDS },
  news_story_assets: { name: 'news_story_assets', tags: ['related_asset'], fields: STORY_FIELDS },
} as const satisfies Record<string, MeasurementDef>;

export type NewsMeasurement = keyof typeof NEWS;

/** `"raw"."measurement"`. */
export function newsFrom(m: NewsMeasurement): string {
  return `${influxQLIdent(NEWS_RP)}.${influxQLIdent(NEWS[m].name)}`;
}

/** `BTC,ETH`, or `none`: dashboards filter with `"assets" =~ /(^|,)BTC(,|$)/`. */
export const assetList = (assets: Iterable<string>): string => [...assets].join(',') || 'none';

export interface ArticleRow {
  source: string;
  category: string;
  lang: string;
  title: string;
  url: string;
  id: string;
  story: string;
  assets: Iterable<string>;
  /** Undefined when the headline is in a language the scorer cannot read. */
  sentiment?: number;
  /** Point time (docs/SENTIMENT.md "Point identity"). */
  time: number;
}

export function articlePoint(a: ArticleRow): Point {
  const p = new Point(NEWS.news_articles.name)
    .tag('source', a.source)
    .tag('category', a.category)
    .tag('lang', a.lang)
    .stringField('title', a.title)
    .stringField('url', a.url)
    .stringField('id', a.id)
    .stringField('story', a.story)
    .stringField('assets', assetList(a.assets))
    .timestamp(a.time);
  if (a.sentiment !== undefined) p.floatField('sentiment_score', a.sentiment);
  return p;
}

export interface StoryRow {
  id: string;
  category: string;
  lang: string;
  title: string;
  url: string;
  sources: Iterable<string>;
  publishers: Iterable<string>;
  articles: number;
  assets: Iterable<string>;
  /** Mean of its scored articles; undefined when none was scored. */
  sentiment?: number;
  /** Its first article's point time: a rewrite lands on the same point. */
  time: number;
}

/** The story point and one point per asset; same tags and time on every rewrite, so each is overwritten. */
export function storyPoints(s: StoryRow, rank: number): Point[] {
  const publishers = [...s.publishers];
  const assets = [...s.assets];
  const fields = (p: Point) => {
    p.stringField('story', s.id)
      .stringField('title', s.title)
      .stringField('url', s.url)
      .stringField('sources', [...s.sources].join(','))
      .stringField('publishers', publishers.join(', '))
      .intField('outlets', publishers.length)
      .intField('articles', s.articles)
      .stringField('assets', assetList(assets))
      .floatField('rank', rank)
      .timestamp(s.time);
    if (s.sentiment !== undefined) p.floatField('sentiment_score', s.sentiment);
    return p;
  };
  const story = fields(new Point(NEWS.news_stories.name).tag('category', s.category).tag('lang', s.lang));
  return [story, ...(assets.length ? assets : ['none']).map((asset) => fields(new Point(NEWS.news_story_assets.name).tag('related_asset', asset)))];
}

/**
 * Stories per asset (each story once however many outlets carry it): what alert rules and their backtest
 * read. `time` is an InfluxQL time condition (`time > now() - 24h`, `time >= …ms AND …`); with a `limit`,
 * the newest that many, else all in time order.
 */
export function storyAssetsQuery(assets: readonly string[], time: string, limit?: number): string {
  const anyAsset = assets.map((a) => `"related_asset" = ${influxQLString(a)}`).join(' OR ');
  return (
    `SELECT "title", "url", "sentiment_score", "story", "related_asset" FROM ${newsFrom('news_story_assets')} WHERE ${time} AND (${anyAsset})` +
    (limit ? ` ORDER BY time DESC LIMIT ${limit}` : '')
  );
}
