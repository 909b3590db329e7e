// The one shape every news source is normalised to before sentiment, tagging, dedupe and storage.

export type NewsSourceKind = 'cryptopanic' | 'newsapi' | 'rss';

/** A cleaned article, as produced by a pure mapper (before sentiment and asset tagging). */
export interface Article {
  /** `source` tag: `cryptopanic`, `newsapi`, or `rss:<host>` (the feed's host). */
  source: string;
  /** `category` tag: `crypto` for CryptoPanic, the NewsAPI category or `general`, `news` for feeds. */
  category: string;
  /** Plain text: HTML removed, entities decoded, whitespace collapsed. */
  title: string;
  /** Canonical absolute URL (see canonical.ts). */
  url: string;
  /** Stable hash of `url`. */
  id: string;
  /** Publication time, epoch ms (the source's time; see `dateFallback`). */
  publishedAt: number;
  /** When we received it, epoch ms. */
  receivedAt: number;
  /** True when the item had no usable date and `publishedAt` is the receive time. */
  dateFallback: boolean;
  /** Asset hints the source itself gives (CryptoPanic `currencies[].code`), upper-case. */
  assetHints: string[];
}

/** Why an item was not turned into an article (the `reason` label of news_rejected_total). */
export type RejectReason = 'missing_title' | 'missing_url' | 'bad_url' | 'too_old' | 'not_an_object';

export type MapResult = { ok: true; article: Article } | { ok: false; reason: RejectReason; detail?: string };

/** One poll's outcome from a source, after mapping. */
export interface SourceBatch {
  source: string;
  results: MapResult[];
  /** The server answered 304 to our conditional request (nothing new). */
  notModified?: boolean;
}
