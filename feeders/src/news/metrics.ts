// News-specific metrics (docs/METRICS.md "News feeder"); per-source poll health is in ../common/metrics.ts.
import { Counter, Gauge, type Registry } from 'prom-client';

export function createNewsMetrics(registry: Registry) {
  return {
    items: new Counter({
      name: 'news_items_total',
      help: 'Items by outcome: stored, duplicate, rejected',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'news_rejected_total',
      help: 'Rejected items by reason',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    dateFallback: new Counter({
      name: 'news_date_fallback_total',
      help: 'Stored items without a usable publication date (timestamped with the receive time)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    notModified: new Counter({
      name: 'news_not_modified_total',
      help: 'Polls answered 304 Not Modified (conditional requests)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    unscored: new Counter({
      name: 'news_unscored_total',
      help: 'Stored articles without a sentiment score: their language (lang) is one the scorer cannot read',
      labelNames: ['lang'] as const,
      registers: [registry],
    }),
    storyJoins: new Counter({
      name: 'news_story_joins_total',
      help: 'Stored articles that joined the story of another article (same or near-identical headline) instead of opening one',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    stories: new Gauge({ name: 'news_stories_open', help: 'Stories held in memory that new articles can still join', registers: [registry] }),
    knownIds: new Gauge({ name: 'news_known_ids', help: 'Article ids held for deduplication', registers: [registry] }),
  };
}

export type NewsMetrics = ReturnType<typeof createNewsMetrics>;
