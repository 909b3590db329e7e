// The one downsampling spec (raw → 5m → 1h) that both the InfluxDB 2.x Flux tasks and the 1.x continuous
// queries are generated from, so the two deployments store exactly the same fields. The measurements and
// each field's aggregate come from the storage schema (common/src/schema/markets.ts; docs/INFLUXDB.md
// "Downsampling of each field"): every measurement with a rolled-up field is downsampled.
import { MARKETS, MARKETS_DB, type MeasurementDef, type RollupFn } from '@mt/common';

export type AggFn = RollupFn;

export interface FieldRule {
  /** Field written into the downsampled retention policy. */
  out: string;
  /** Aggregate over the raw points of a window (first stage). */
  fn: AggFn;
  /** Aggregate in the later stages, when it differs (a count is summed). */
  then?: AggFn;
  /** Field read from `raw` (defaults to `out`); later stages read `out` again. */
  from?: string;
}

export interface MeasurementSpec {
  measurement: string;
  fields: FieldRule[];
  /** Raw points may arrive hours late (the market feeder backfills candles after an outage). */
  backfilled?: boolean;
}

export interface Stage {
  /** Source and target retention policy (1.x) = bucket suffix (2.x `db/rp`). */
  source: string;
  target: string;
  /** Window length (InfluxQL/Flux duration literal). */
  every: string;
  /** How far back each run recomputes, so windows that got late points are rewritten. */
  lookback: string;
  /** The same for backfilled measurements: low volume (one point per minute and symbol), so cheap. */
  backfillLookback: string;
}

export const DATABASE = MARKETS_DB;

export const MEASUREMENTS: MeasurementSpec[] = Object.values(MARKETS as Record<string, MeasurementDef>).flatMap((m) => {
  const fields = Object.entries(m.fields).flatMap(([name, def]) =>
    (def.rollup ?? []).map((r): FieldRule => {
      const out = r.out ?? name;
      return { out, fn: r.fn, ...(r.then ? { then: r.then } : {}), ...(out === name ? {} : { from: name }) };
    }),
  );
  return fields.length ? [{ measurement: m.name, fields, ...(m.backfilled ? { backfilled: true } : {}) }] : [];
});

export const STAGES: Stage[] = [
  { source: 'raw', target: '5m', every: '5m', lookback: '10m', backfillLookback: '6h' },
  { source: '5m', target: '1h', every: '1h', lookback: '2h', backfillLookback: '7h' },
];

export function lookbackOf(m: MeasurementSpec, stage: Stage): string {
  return m.backfilled ? stage.backfillLookback : stage.lookback;
}

/** Source field of a rule in a stage: raw field names in the first stage, the rule's own output after. */
export function sourceField(rule: FieldRule, stage: Stage): string {
  return stage.source === STAGES[0]!.source ? (rule.from ?? rule.out) : rule.out;
}

/** Aggregate of a rule in a stage: `fn` over raw points, `then` (default `fn`) over a rollup's rows. */
export function stageFn(rule: FieldRule, stage: Stage): AggFn {
  return stage.source === STAGES[0]!.source ? rule.fn : (rule.then ?? rule.fn);
}

/**
 * Which retention policy a dashboard reads for a time range (`rp_config` points, see grafana/ and
 * docs/DASHBOARDS.md): the finest row whose policy still holds the range's START (`maxAgeS`: within its
 * retention) and whose resolution suits the range's length (`maxRangeS`): raw for ≤ 2 days (≤ 2880
 * one-minute candles) starting within 7 d, 5m for ≤ 30 days starting within 30 d, 1h for ≤ 90 days
 * starting within 365 d, else 1h with daily bars (the fallback: any length, any age).
 * `interval`: the candle timeframe the asset-detail chart shows for that range, stored in that policy by
 * the market feeder (docs/INFLUXDB.md, "Timeframes"); the 1h policy holds both 1-hour and daily bars.
 */
export const RP_BY_RANGE: { rp: string; interval: string; maxRangeS: number; maxAgeS: number }[] = [
  { rp: 'raw', interval: '1m', maxRangeS: 2 * 86400, maxAgeS: 7 * 86400 },
  { rp: '5m', interval: '5m', maxRangeS: 30 * 86400, maxAgeS: 30 * 86400 },
  { rp: '1h', interval: '1h', maxRangeS: 90 * 86400, maxAgeS: 365 * 86400 },
  // bounds far beyond any range a dashboard offers (100 years): always matches, so `$rp` is never empty
  { rp: '1h', interval: '1d', maxRangeS: 100 * 365 * 86400, maxAgeS: 100 * 365 * 86400 },
];

/** Retention policy that holds the `rp_config` points: the longest one, so they outlive the others. */
export const RP_CONFIG = { measurement: 'rp_config', rp: '1h' } as const;
