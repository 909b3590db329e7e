// Pure mappers: raw payload item → Article or a counted rejection. No I/O, no clock (receivedAt is passed).
import { isObject } from '@mt/common';
import { articleId, canonicalUrl } from './canonical.js';
import { parseFeedDate } from './dates.js';
import { cleanText } from './text.js';
import type { Article, MapResult, RejectReason } from './types.js';

/** Publication dates further than this in the future are treated as wrong (time-zone bugs) → receive time. */
const MAX_FUTURE_MS = 3600_000;
/** A headline longer than this is garbage or a body pasted into the title; InfluxDB 2.x caps strings at 64 KiB. */
export const MAX_TITLE_CHARS = 500;

export interface MapOptions {
  receivedAt: number;
  /** Items published before receivedAt - maxAgeMs are rejected (`too_old`): outside the bucket's retention. */
  maxAgeMs: number;
}

function reject(reason: RejectReason, detail?: string): MapResult {
  return { ok: false, reason, detail };
}

/** Shared tail of every mapper: validate, canonicalise, pick the timestamp. */
function build(
  p: { source: string; category: string; rawTitle: unknown; rawUrl: unknown; rawDate: unknown; base?: string; assetHints?: string[]; language?: string },
  o: MapOptions,
): MapResult {
  let title = cleanText(typeof p.rawTitle === 'string' ? p.rawTitle : undefined);
  if (!title) return reject('missing_title');
  if (title.length > MAX_TITLE_CHARS) title = `${title.slice(0, MAX_TITLE_CHARS - 1)}…`;
  if (typeof p.rawUrl !== 'string' || !p.rawUrl.trim()) return reject('missing_url');
  const url = canonicalUrl(p.rawUrl, p.base);
  if (!url) return reject('bad_url', p.rawUrl.slice(0, 200));
  let publishedAt = typeof p.rawDate === 'string' ? parseFeedDate(p.rawDate, p.language) : NaN;
  // Documented fallback (docs/SENTIMENT.md "Timestamps"): no usable date → the time we first saw the item.
  const dateFallback = !Number.isFinite(publishedAt) || publishedAt > o.receivedAt + MAX_FUTURE_MS;
  if (dateFallback) publishedAt = o.receivedAt;
  if (publishedAt < o.receivedAt - o.maxAgeMs) return reject('too_old', new Date(publishedAt).toISOString());
  const article: Article = {
    source: p.source,
    category: p.category,
    title,
    url,
    id: articleId(url),
    publishedAt,
    receivedAt: o.receivedAt,
    dateFallback,
    assetHints: p.assetHints ?? [],
  };
  return { ok: true, article };
}


// ---- CryptoPanic posts API (`results[]`: title, url, published_at, currencies[].code; v2 may add original_url) ----

export function mapCryptoPanicPost(raw: unknown, o: MapOptions): MapResult {
  if (!isObject(raw)) return reject('not_an_object');
  // v1 `currencies`; some v2 plans call the same list `instruments`
  const currencies = [raw.currencies, raw.instruments].flatMap((l) => (Array.isArray(l) ? l : []));
  const assetHints = [...new Set(currencies.map((c) => (isObject(c) && typeof c.code === 'string' ? c.code.toUpperCase() : '')).filter(Boolean))];
  // The original article's URL makes the same story from an RSS feed dedupe against this one; lower plans
  // give the cryptopanic.com page, and where even that is withheld it is rebuilt from id and slug
  // (`https://cryptopanic.com/news/<id>/<slug>`, the shape of every recorded `url`).
  const permalink = (typeof raw.id === 'number' || typeof raw.id === 'string') && typeof raw.slug === 'string' ? `https://cryptopanic.com/news/${raw.id}/${raw.slug}` : undefined;
  const rawUrl = typeof raw.original_url === 'string' && raw.original_url ? raw.original_url : typeof raw.url === 'string' && raw.url ? raw.url : permalink;
  return build({ source: 'cryptopanic', category: 'crypto', rawTitle: raw.title, rawUrl, rawDate: raw.published_at ?? raw.created_at, assetHints }, o);
}

/** The posts envelope; throws on a body that is not one (the poll then counts as failed). */
export function cryptoPanicResults(body: unknown): unknown[] {
  if (isObject(body) && Array.isArray(body.results)) return body.results;
  throw new TypeError('CryptoPanic body has no results array');
}

// ---- NewsAPI (`articles[]`: title, url, publishedAt, source.name) ----

export function mapNewsApiArticle(raw: unknown, category: string, o: MapOptions): MapResult {
  if (!isObject(raw)) return reject('not_an_object');
  let title = typeof raw.title === 'string' ? raw.title : undefined;
  // NewsAPI appends " - <source name>" to top-headlines titles; the source is not part of the headline.
  const sourceName = isObject(raw.source) && typeof raw.source.name === 'string' ? raw.source.name : undefined;
  if (title && sourceName && title.endsWith(` - ${sourceName}`)) title = title.slice(0, -(sourceName.length + 3));
  // Removed articles come back as title "[Removed]" and url https://removed.com.
  if (title === '[Removed]') return reject('missing_title', 'removed');
  return build({ source: 'newsapi', category, rawTitle: title, rawUrl: raw.url, rawDate: raw.publishedAt }, o);
}

export function newsApiArticles(body: unknown): unknown[] {
  if (isObject(body) && Array.isArray(body.articles)) return body.articles;
  throw new TypeError('NewsAPI body has no articles array');
}

// ---- RSS 0.9x/1.0/2.0 / Atom items as rss-parser returns them, JSON Feed items as sources/rss.ts maps them ----

export interface FeedItem {
  title?: unknown;
  link?: unknown;
  guid?: unknown;
  id?: unknown;
  isoDate?: string;
  /** RSS `pubDate` as written; Atom `published`/`updated` as ISO (rss-parser). */
  pubDate?: string;
  /** RSS 1.0 / Dublin Core `dc:date`. */
  date?: string;
  /** FeedBurner's `feedburner:origLink`: the publisher's URL behind a feedproxy redirect link. */
  origLink?: unknown;
  /** The feed's `<language>` (reads local numeric dates day- or month-first). */
  feedLanguage?: string;
}

/** `source` is `rss:<host of the feed URL>`. */
export function rssSourceName(feedUrl: string): string {
  try {
    return `rss:${new URL(feedUrl).hostname.toLowerCase()}`;
  } catch {
    return 'rss:invalid';
  }
}

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  // xml2js gives `{ _: text, $: attrs }` for elements with attributes (`<title type="html">`)
  if (isObject(v) && typeof v._ === 'string') return v._;
  return undefined;
}

export function mapFeedItem(raw: FeedItem, feedUrl: string, o: MapOptions): MapResult {
  // An RSS <guid isPermaLink="true"> (the default) is the article URL when <link> is missing.
  const guid = textOf(raw.guid);
  // FeedBurner's origLink is the article itself; `link` is a feedproxy redirect that differs per feed copy
  const rawUrl = textOf(raw.origLink) ?? textOf(raw.link) ?? (guid && /^https?:\/\//i.test(guid) ? guid : undefined);
  // the date as written (rss-parser's isoDate read local formats month-first in the machine's zone)
  const rawDate = raw.pubDate ?? raw.date ?? raw.isoDate;
  return build({ source: rssSourceName(feedUrl), category: 'news', rawTitle: textOf(raw.title), rawUrl, rawDate, base: feedUrl, language: raw.feedLanguage }, o);
}
