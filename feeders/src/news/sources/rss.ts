// RSS 2.0 / Atom transport: conditional GET of one feed URL, charset detection (encoding.ts), rss-parser.
// One Poller per feed, so one broken feed backs off alone.
import Parser from 'rss-parser';
import { ParseError } from '@mt/common';
import { ConditionalGet } from '../http.js';
import { decodeFeed } from '../encoding.js';
import { mapFeedItem, rssSourceName, type FeedItem, type MapOptions } from '../mappers.js';
import type { SourceBatch } from '../types.js';

export interface RssOptions {
  feedUrl: string;
  maxAgeMs: number;
  now?: () => number;
}

const parser = new Parser();

/** Decode and parse a feed body; throws ParseError('malformed_feed') when it is not RSS/Atom. */
export async function parseFeed(body: Buffer, contentType: string | undefined): Promise<FeedItem[]> {
  const { text } = decodeFeed(body, contentType);
  // Whitespace or a stray BOM before `<?xml` makes sax reject the whole document.
  const xml = dropUnparseableAtomDates(text.replace(/^[\s\uFEFF]+/, ''));
  try {
    const feed = await parser.parseString(xml);
    return feed.items as FeedItem[];
  } catch (err) {
    throw new ParseError(`feed is not RSS/Atom: ${(err as Error).message}`, 'malformed_feed', xml.slice(0, 200));
  }
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
      accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1',
    });
    if (res.status === 'not_modified') return { source, results: [], notModified: true };
    const items = await parseFeed(res.body, res.contentType);
    res.commit();
    const opts: MapOptions = { receivedAt: (o.now ?? Date.now)(), maxAgeMs: o.maxAgeMs };
    return { source, results: items.map((i) => mapFeedItem(i, o.feedUrl, opts)) };
  };
}
