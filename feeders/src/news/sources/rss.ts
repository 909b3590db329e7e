// Feed transport: conditional GET of one feed URL, charset detection (encoding.ts), then RSS 0.9x/1.0 (RDF)/
// 2.0 and Atom through rss-parser, JSON Feed 1.x directly. One Poller per feed, so one broken feed backs off
// alone. What real feeds get wrong and how each is read: docs/SENTIMENT.md "Feeds in the wild".
import Parser from 'rss-parser';
import { isObject, ParseError } from '@mt/common';
import { ConditionalGet } from '../http.js';
import { decodeFeed } from '../encoding.js';
import { mapFeedItem, rssSourceName, type FeedItem, type MapOptions } from '../mappers.js';
import type { SourceBatch } from '../types.js';

export interface RssOptions {
  feedUrl: string;
  maxAgeMs: number;
  now?: () => number;
}

const parser = new Parser({
  // `<rss>` without a `version` attribute (feed readers read it as RSS 2.0; rss-parser refuses it otherwise)
  defaultRSS: 2,
  customFields: { item: [['feedburner:origLink', 'origLink']] },
});

/** Decode and parse a feed body; throws ParseError('malformed_feed') when it is no feed we can read. */
export async function parseFeed(body: Buffer, contentType: string | undefined): Promise<FeedItem[]> {
  const { text } = decodeFeed(body, contentType);
  // Whitespace or a stray BOM before `<?xml` makes sax reject the whole document.
  const trimmed = text.replace(/^[\s\uFEFF]+/, '');
  if (trimmed.startsWith('{')) return parseJsonFeed(trimmed);
  const xml = dropUnparseableAtomDates(trimmed);
  try {
    const feed = await parser.parseString(xml);
    const language = typeof feed.language === 'string' ? feed.language : undefined;
    return (feed.items as FeedItem[]).map((i) => (language ? { ...i, feedLanguage: language } : i));
  } catch (err) {
    throw new ParseError(`feed is not RSS/Atom: ${(err as Error).message}`, 'malformed_feed', xml.slice(0, 200));
  }
}


/**
 * JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1): `items[]` with `title`, `url` (the item's page;
 * `external_url` is the page it links to), `id`, `date_published` / `date_modified`, feed `language` (1.1).
 */
export function parseJsonFeed(text: string): FeedItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`feed is not JSON Feed: ${(err as Error).message}`, 'malformed_feed', text.slice(0, 200));
  }
  if (!isObject(doc) || typeof doc.version !== 'string' || !doc.version.startsWith('https://jsonfeed.org/version/') || !Array.isArray(doc.items)) {
    throw new ParseError('feed is not JSON Feed: no jsonfeed.org version or no items array', 'malformed_feed', text.slice(0, 200));
  }
  const feedLanguage = typeof doc.language === 'string' ? doc.language : undefined;
  return doc.items.map((it): FeedItem => {
    if (!isObject(it)) return {};
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return { title: str(it.title), link: str(it.url) ?? str(it.external_url), guid: str(it.id), pubDate: str(it.date_published) ?? str(it.date_modified), feedLanguage };
  });
}

/**
 * rss-parser calls `new Date(published).toISOString()` on Atom entries, which throws on an unparseable date
 * and loses the WHOLE feed for one bad entry. Such elements are dropped instead; the entry then gets the
 * documented date fallback (receive time). RSS `pubDate` is parsed leniently by rss-parser already.
 */
export function dropUnparseableAtomDates(xml: string): string {
  return xml.replace(/<(published|updated)(\s[^>]*)?>([^<]*)<\/\1>/g, (el, _tag: string, _attrs: string, value: string) =>
    Number.isFinite(Date.parse(value.trim())) ? el : '',
  );
}

export function rssFetcher(o: RssOptions): (signal: AbortSignal) => Promise<SourceBatch> {
  const source = rssSourceName(o.feedUrl);
  const http = new ConditionalGet(source);
  return async (signal) => {
    const res = await http.get(o.feedUrl, signal, {
      accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.8, application/json;q=0.8, */*;q=0.1',
    });
    if (res.status === 'not_modified') return { source, results: [], notModified: true };
    const items = await parseFeed(res.body, res.contentType);
    res.commit();
    const opts: MapOptions = { receivedAt: (o.now ?? Date.now)(), maxAgeMs: o.maxAgeMs };
    return { source, results: items.map((i) => mapFeedItem(i, o.feedUrl, opts)) };
  };
}
