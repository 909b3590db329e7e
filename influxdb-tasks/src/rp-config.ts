// `rp_config` points: the table the dashboards' hidden `$rp` variable queries to pick the retention
// policy for the selected time range (docs/DASHBOARDS.md). Written by the installer next to the tasks.
import { RP_BY_RANGE, RP_CONFIG } from './spec.js';

/**
 * Anchor of the points' timestamps: each row's point sits at ANCHOR + its maxAgeS, so a time condition
 * (the only place InfluxQL knows `now()`) can compare the range's age with the policy's retention.
 * 2100-01-01: in the future, so no retention policy ever drops the points.
 */
export const RP_CONFIG_ANCHOR_MS = Date.UTC(2100, 0, 1);
/** Deletes of old copies must reach past every point (2.x deletes take a stop time). */
export const RP_CONFIG_DELETE_STOP = new Date(RP_CONFIG_ANCHOR_MS + 200 * 365 * 86400_000).toISOString();

/** Line protocol, one point per row (tagged), timestamps in the order finest → coarsest (+ i ms: never equal). */
export function rpConfigLines(): string {
  return RP_BY_RANGE.map(
    (r, i) =>
      `${RP_CONFIG.measurement},policy=${r.rp},tf=${r.interval} rp="${r.rp}",interval="${r.interval}",max_range_s=${r.maxRangeS}i,max_age_s=${r.maxAgeS}i ` +
      `${RP_CONFIG_ANCHOR_MS + r.maxAgeS * 1000 + i}`,
  ).join('\n');
}

/**
 * The `$rp` variable query. Grafana replaces `${__from}`/`${__to}` (epoch ms) before sending it.
 * `time >= now() + ANCHOR - from` ⇔ the policy's retention (maxAgeS) reaches back to the range's start;
 * `max_range_s >= length` ⇔ its resolution suits the length; of the policies left, the first in time
 * (finest) is taken. A 1-hour window from three weeks ago reads 5m, not raw (which no longer holds it).
 */
export const RP_VARIABLE_QUERY =
  `SELECT "rp" FROM "${RP_CONFIG.rp}"."${RP_CONFIG.measurement}" ` +
  `WHERE time >= now() + ${RP_CONFIG_ANCHOR_MS}ms - \${__from}ms AND "max_range_s" >= (\${__to} - \${__from}) / 1000 LIMIT 1`;

/** The `$tf` variable query: the same row as `$rp`, its candle timeframe (docs/INFLUXDB.md, "Timeframes"). */
export const TF_VARIABLE_QUERY = RP_VARIABLE_QUERY.replace('SELECT "rp"', 'SELECT "interval"');
