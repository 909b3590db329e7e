// The enabled news sources as Poller specs.
import type { Logger } from '@mt/common';
import type { NewsConfig } from '../config.js';
import { rssSourceName } from '../mappers.js';
import type { SourceBatch } from '../types.js';
import { cryptoPanicFetcher } from './cryptopanic.js';
import { newsApiFetcher } from './newsapi.js';
import { rssFetcher } from './rss.js';

export interface SourceSpec {
  name: string;
  intervalMs: number;
  fetch: (signal: AbortSignal) => Promise<SourceBatch>;
}

/** The enabled sources; a news API without its key is skipped with one log line (DESIGN.md). */
export function sourceSpecs(cfg: NewsConfig, log: Logger): SourceSpec[] {
  const maxAgeMs = cfg.NEWS_MAX_AGE_HOURS * 3600_000;
  const specs: SourceSpec[] = [];
  if (cfg.CRYPTOPANIC_TOKEN) {
    specs.push({
      name: 'cryptopanic',
      intervalMs: cfg.CRYPTOPANIC_POLL_MS,
      fetch: cryptoPanicFetcher({ baseUrl: cfg.CRYPTOPANIC_URL, token: cfg.CRYPTOPANIC_TOKEN, filter: cfg.CRYPTOPANIC_FILTER, maxAgeMs }),
    });
  } else log.info({ source: 'cryptopanic' }, 'CRYPTOPANIC_TOKEN not set: CryptoPanic skipped');
  if (cfg.NEWSAPI_KEY) {
    specs.push({
      name: 'newsapi',
      intervalMs: cfg.NEWSAPI_POLL_MS,
      fetch: newsApiFetcher({
        baseUrl: cfg.NEWSAPI_URL,
        key: cfg.NEWSAPI_KEY,
        categories: cfg.NEWSAPI_CATEGORIES,
        query: cfg.NEWSAPI_QUERY || undefined,
        language: cfg.NEWSAPI_LANGUAGE,
        maxAgeMs,
      }),
    });
  } else log.info({ source: 'newsapi' }, 'NEWSAPI_KEY not set: NewsAPI skipped');
  const seen = new Set<string>();
  for (const feedUrl of cfg.RSS_FEEDS) {
    try {
      new URL(feedUrl);
    } catch {
      log.error({ feedUrl }, 'RSS_FEEDS entry is not a URL: skipped');
      continue;
    }
    // Two feeds on one host share the `rss:<host>` label; the poller needs a unique name for its logs.
    let name = rssSourceName(feedUrl);
    for (let i = 2; seen.has(name); i++) name = `${rssSourceName(feedUrl)}#${i}`;
    seen.add(name);
    specs.push({ name, intervalMs: cfg.RSS_POLL_MS, fetch: rssFetcher({ feedUrl, maxAgeMs }) });
  }
  return specs;
}

