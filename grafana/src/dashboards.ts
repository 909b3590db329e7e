// Every dashboard, by file name under grafana/dashboards/.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { marketsOverview } from './dashboards/markets-overview.js';
import { assetDetail } from './dashboards/asset-detail.js';
import { news } from './dashboards/news.js';
import { infrastructure } from './dashboards/infrastructure.js';
import { alerts } from './dashboards/alerts.js';
import { derivatives } from './dashboards/derivatives.js';
import { crossVenue } from './dashboards/cross-venue.js';

export const DASHBOARDS: Record<string, () => Dashboard> = {
  'markets-overview': marketsOverview,
  'asset-detail': assetDetail,
  news,
  infrastructure,
  alerts,
  derivatives,
  'cross-venue': crossVenue,
};

/** The committed file's exact text: stable key order from the builders, 2-space indent, newline. */
export function render(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
