// `rp_config` points: the table the dashboards' hidden `$rp` variable queries to pick the retention
// policy for the selected time range (docs/DASHBOARDS.md). Written by the installer next to the tasks.
import { RP_BY_RANGE, RP_CONFIG } from './spec.js';

/** Line protocol, one point per range row (tagged, so points written at the same instant stay distinct). */
export function rpConfigLines(nowMs: number): string {
  return RP_BY_RANGE.map(
    (r) => `${RP_CONFIG.measurement},policy=${r.rp},tf=${r.interval} rp="${r.rp}",interval="${r.interval}",min_range_s=${r.minRangeS}i,max_range_s=${r.maxRangeS}i ${nowMs}`,
  ).join('\n');
}

/**
 * The `$rp` variable query. Grafana replaces `${__from}`/`${__to}` (epoch ms) before sending it; InfluxQL
 * folds the arithmetic, so exactly one policy matches any range.
 */
export const RP_VARIABLE_QUERY =
  `SELECT "rp" FROM "${RP_CONFIG.rp}"."${RP_CONFIG.measurement}" ` +
  'WHERE "min_range_s" < (${__to} - ${__from}) / 1000 AND "max_range_s" >= (${__to} - ${__from}) / 1000';

/** The `$tf` variable query: the same row as `$rp`, its candle timeframe (docs/INFLUXDB.md, "Timeframes"). */
export const TF_VARIABLE_QUERY = RP_VARIABLE_QUERY.replace('SELECT "rp"', 'SELECT "interval"');
