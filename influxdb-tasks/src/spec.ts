// The one downsampling spec (raw → 5m → 1h) that both the InfluxDB 2.x Flux tasks and the 1.x continuous
// queries are generated from, so the two deployments store exactly the same fields.
export type AggFn = 'first' | 'last' | 'min' | 'max' | 'sum' | 'mean';

export interface FieldRule {
  /** Field written into the downsampled retention policy. */
  out: string;
  fn: AggFn;
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

export const DATABASE = 'markets';

const last = (...names: string[]): FieldRule[] => names.map((out) => ({ out, fn: 'last' }));

export const MEASUREMENTS: MeasurementSpec[] = [
  {
    measurement: 'candles',
    backfilled: true,
    fields: [
      { out: 'open', fn: 'first' },
      { out: 'high', fn: 'max' },
      { out: 'low', fn: 'min' },
      { out: 'close', fn: 'last' },
      { out: 'volume', fn: 'sum' },
      { out: 'quote_volume', fn: 'sum' },
      { out: 'trades', fn: 'sum' },
    ],
  },
  {
    measurement: 'market_data',
    fields: [
      // `price` stays "the price at the end of the window" so panels read the same field in every rp;
      // `price_mean` is the mean of raw ticks (5m) and the time-weighted mean of the 5m means (1h).
      { out: 'price', fn: 'last' },
      { out: 'price_mean', fn: 'mean', from: 'price' },
      ...last('bid', 'ask', 'volume_24h', 'change_pct_24h', 'high_24h', 'low_24h', 'market_cap'),
    ],
  },
  {
    measurement: 'indicators',
    backfilled: true,
    fields: last('sma_20', 'ema_50', 'rsi_14', 'macd', 'macd_signal', 'macd_hist', 'bb_upper', 'bb_middle', 'bb_lower'),
  },
  { measurement: 'fear_greed', fields: last('value', 'classification') },
];

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
