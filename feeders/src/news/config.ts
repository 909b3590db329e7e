// News feeder configuration: every variable, validated once (names are a contract: .env.example lists them).
import { z } from 'zod';
import { influxEnv, commonEnv, watchEnv, url, int, csv, optionalString } from '@mt/common';

export const newsSchema = z.object({
  ...commonEnv,
  ...influxEnv,
  METRICS_PORT: int(9464, 0, 65535),
  // empty DATABASE_URL: tag against the built-in asset list and WATCH_SYMBOLS only
  ...watchEnv,
  CRYPTOPANIC_URL: url('https://cryptopanic.com/api/developer/v2'),
  CRYPTOPANIC_TOKEN: optionalString,
  /** Optional CryptoPanic `filter` (rising, hot, bullish, bearish, important, …). */
  CRYPTOPANIC_FILTER: optionalString,
  CRYPTOPANIC_POLL_MS: int(300_000, 1_000),
  NEWSAPI_URL: url('https://newsapi.org'),
  NEWSAPI_KEY: optionalString,
  /** top-headlines categories, one request each per poll. */
  NEWSAPI_CATEGORIES: csv(['business']),
  /** `q` of /v2/everything; empty = do not call it. */
  NEWSAPI_QUERY: z.preprocess((v) => v ?? 'bitcoin OR ethereum OR crypto', z.string()),
  NEWSAPI_LANGUAGE: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('en')),
  /** Free developer keys get 100 requests/24 h: 2 requests every 30 min stays under it. */
  NEWSAPI_POLL_MS: int(1_800_000, 1_000),
  RSS_FEEDS: csv([
    'https://www.coindesk.com/arc/outboundfeeds/rss/',
    'https://cointelegraph.com/rss',
    'https://www.cnbc.com/id/10000664/device/rss/rss.html',
  ]),
  RSS_POLL_MS: int(180_000, 1_000),
  /** Older items are rejected (`too_old`); also the window of ids loaded back from InfluxDB at start. */
  NEWS_MAX_AGE_HOURS: int(168, 1, 90 * 24),
});

export type NewsConfig = z.infer<typeof newsSchema>;
