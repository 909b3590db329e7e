// Request/response schemas: one definition drives validation, the handler types and the OpenAPI document.
import { z } from 'zod';
import {
  ALERT_CONDITIONS,
  ALERT_TIMEFRAMES,
  ALERT_TRIGGERS,
  ASSET_TYPES,
  CONDITION_INPUT,
  DEFAULT_EXCHANGE,
  EXCHANGES,
  exchangeIssue,
  normalizeSymbol,
  SymbolError,
  THRESHOLD_DIRECTION,
  type AlertCondition,
} from '@mt/common';

export const AssetType = z.enum(ASSET_TYPES);

// PostgreSQL text cannot hold U+0000: refuse it here (400) rather than let the insert fail (500)
const noNul = (s: string) => !s.includes('\u0000');
const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
const name = z.string().trim().min(1).max(100).refine(noNul, NUL_MESSAGE).describe('Display name, 1-100 characters');
const description = z.string().max(1000).refine(noNul, NUL_MESSAGE).nullable().describe('Free text, at most 1000 characters');

export const IdParams = z.strictObject({ id: z.uuid() });
export const ItemParams = z.strictObject({ id: z.uuid(), itemId: z.uuid() });

export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Page size (1-100)'),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0).describe('Rows to skip'),
});

/**
 * `{ symbol, asset_type, exchange? }` → symbol normalised for its venue; the venue defaults per asset type
 * (crypto: binance) and must serve the asset type (docs/API.md "Venues and symbols").
 */
export const ItemInput = z
  .strictObject({
    symbol: z.string().min(1).max(32).describe('e.g. BTC/USDT, btcusdt, BTC-USD (coinbase), XBT/USD (kraken), BTCUSDT or BTC/USDT:USDT (binance-futures), AAPL, ^GSPC, EUR/USD or EURUSD=X'),
    asset_type: AssetType,
    exchange: z.enum(EXCHANGES).optional().describe('Venue: binance (crypto default), binance-futures, coinbase, kraken; yahoo for stock, index, forex'),
  })
  .transform((v, ctx) => {
    const exchange = v.exchange ?? DEFAULT_EXCHANGE[v.asset_type];
    const why = exchangeIssue(exchange, v.asset_type);
    if (why) {
      ctx.addIssue({ code: 'custom', path: ['exchange'], message: why });
      return z.NEVER;
    }
    try {
      return { symbol: normalizeSymbol(v.symbol, v.asset_type, exchange), asset_type: v.asset_type, exchange };
    } catch (err) {
      if (!(err instanceof SymbolError)) throw err;
      ctx.addIssue({ code: 'custom', path: ['symbol'], message: err.message });
      return z.NEVER;
    }
  });
export type ItemInput = z.output<typeof ItemInput>;

export const Item = z.object({
  id: z.uuid(),
  symbol: z.string(),
  asset_type: AssetType,
  exchange: z.string(),
  created_at: z.string(),
});
export type Item = z.infer<typeof Item>;

export const WatchlistCreate = z.strictObject({
  name,
  description: description.optional(),
  items: z.array(ItemInput).max(200).optional().describe('Initial items (the per-watchlist limit applies)'),
  shared: z.boolean().optional().describe('Readable by every user (only the owner changes it); default false'),
});
export const WatchlistPatch = z
  .strictObject({ name: name.optional(), description: description.optional(), shared: z.boolean().optional() })
  .refine((v) => v.name !== undefined || v.description !== undefined || v.shared !== undefined, { message: 'nothing to change: give name, description and/or shared' });

export const Watchlist = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  owner: z.string().describe('Owner’s user name'),
  shared: z.boolean(),
  items: z.array(Item),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Watchlist = z.infer<typeof Watchlist>;

export const CONDITIONS = ALERT_CONDITIONS;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;

// A rule names a symbol as the feeders store it. A rule has no asset_type, so the two unambiguous foreign
// spellings are mapped: Yahoo forex `EURUSD=X` → `EUR/USD`, and a Binance pair written without its slash
// (`btcusdt`, 6+ characters ending in a quote asset: no stock or index ticker looks like that) → `BTC/USDT`.
function ruleSymbolOf(s: string): string {
  if (/^[A-Z]{6}=X$/.test(s)) return normalizeSymbol(s, 'forex');
  if (/^[A-Z0-9]{6,20}$/.test(s)) {
    try {
      return normalizeSymbol(s, 'crypto');
    } catch {
      return s; // not a pair: a plain ticker
    }
  }
  return s;
}
const ruleSymbol = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .transform((s) => ruleSymbolOf(s.toUpperCase()))
  .pipe(z.string().regex(/^[A-Z0-9^][A-Z0-9./^:-]*$/, 'symbol like BTC/USDT, AAPL, ^GSPC, EUR/USD or BTC/USDT:USDT'))
  .describe('Symbol as stored by the feeders: BTC/USDT, AAPL, ^GSPC, EUR/USD (perpetuals BTC/USDT:USDT)');
const threshold = z
  .number()
  .finite()
  .nullable()
  .describe('Price for above/below/crosses_*, percent for pct_change, 0-100 for rsi_* and fear_greed_*, -1..1 for news_sentiment_*, a rate (0.0001 = 0.01 %) for funding_*; null for conditions without one');
const windowSeconds = z.number().int().min(10).max(7 * 86_400).nullable().describe('Look-back, seconds: required for pct_change; news_sentiment_* (default 3600); the change shown in messages (default 300)');
const cooldownSeconds = z.number().int().min(0).max(7 * 86_400).describe('Minimum seconds between two firings (default 300)');
const severity = z.enum(SEVERITIES).describe('Default warning');
const timeframe = z.enum(ALERT_TIMEFRAMES).nullable().describe('Candle size of rsi_*, macd_*, bollinger_*, volume_spike and of trigger once_per_bar (default 1m)');
const params = z
  .strictObject({
    period: z.number().int().min(2).max(100).optional().describe('rsi_*: RSI period (14)'),
    k: z.number().finite().min(1).max(1000).optional().describe('volume_spike: multiple of the mean volume (default 3)'),
    n: z.number().int().min(2).max(500).optional().describe('volume_spike: candles in the mean (default 20)'),
    keyword: z.string().trim().min(1).max(64).refine(noNul, NUL_MESSAGE).optional().describe('news_keyword: word or phrase, case-insensitive, whole words'),
    seconds: z.number().int().min(5).max(7 * 86_400).optional().describe('feed_stale: seconds without a tick while the market is open (default 120)'),
  })
  .describe('Condition parameters: { "period": 14 }, { "k": 3, "n": 20 }, { "keyword": "ETF" }, { "seconds": 120 }');
const trigger = z.enum(ALERT_TRIGGERS).describe('once: one firing ever; every_time (default): every crossing; once_per_bar: at most one per bar of timeframe');
const hysteresisPct = z.number().finite().min(0).max(50).describe('Re-arm only when the value is this many percent of the threshold back on the other side (default 0)');
const instant = z.iso.datetime({ offset: true }).nullable();

const ruleFields = {
  symbol: ruleSymbol,
  condition: z.enum(CONDITIONS),
  threshold: threshold.optional(),
  window_seconds: windowSeconds.optional(),
  cooldown_seconds: cooldownSeconds.optional(),
  severity: severity.optional(),
  timeframe: timeframe.optional(),
  params: params.optional(),
  trigger: trigger.optional(),
  hysteresis_pct: hysteresisPct.optional(),
  expires_at: instant.optional().describe('ISO 8601: the rule never fires from then on (null: never expires)'),
  muted_until: instant.optional().describe('ISO 8601: firings before then are swallowed (null: not muted)'),
  shared: z.boolean().optional().describe('Readable by every user (only the owner changes it); default false'),
};

/** The fields the cross-field rules look at, as stored (defaults applied). */
export interface RuleShape {
  condition: AlertCondition;
  threshold: number | null;
  window_seconds: number | null;
  timeframe: string | null;
  params: Record<string, unknown>;
  trigger: string;
  hysteresis_pct: number;
}

/** Which params each condition takes. */
const PARAMS_OF: Partial<Record<AlertCondition, readonly string[]>> = {
  rsi_above: ['period'],
  rsi_below: ['period'],
  volume_spike: ['k', 'n'],
  news_keyword: ['keyword'],
  feed_stale: ['seconds'],
};
/** Threshold range per condition family: [min, max, inclusive?]. */
function thresholdIssue(c: AlertCondition, t: number): string | undefined {
  if (c === 'above' || c === 'below' || c === 'crosses_above' || c === 'crosses_below') return t > 0 ? undefined : `a price threshold for "${c}" must be > 0`;
  if (c === 'pct_change') return t !== 0 ? undefined : 'a pct_change threshold must not be 0';
  if (c.startsWith('rsi_') || c.startsWith('fear_greed_')) return t > 0 && t < 100 ? undefined : `"${c}" compares with a value between 0 and 100 (exclusive)`;
  if (c.startsWith('news_sentiment_')) return t > -1 && t < 1 ? undefined : `"${c}" compares with a sentiment between -1 and 1 (exclusive)`;
  if (c.startsWith('funding_')) return Math.abs(t) < 1 ? undefined : `"${c}" compares with a funding rate as a fraction (0.0001 = 0.01 %), |rate| < 1`;
  return undefined;
}

/** Cross-field rules, applied to a created rule and to a patched rule merged with its stored state. */
export function ruleIssues(r: RuleShape): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const c = r.condition;
  const input = CONDITION_INPUT[c];
  const usesThreshold = THRESHOLD_DIRECTION[c] !== undefined || c === 'pct_change';
  if (usesThreshold) {
    if (r.threshold === null) issues.push({ path: 'threshold', message: `required when condition is ${c}` });
    else {
      const why = thresholdIssue(c, r.threshold);
      if (why) issues.push({ path: 'threshold', message: why });
    }
  } else if (r.threshold !== null) {
    issues.push({ path: 'threshold', message: `"${c}" has no threshold: leave it out (or null)` });
  }
  if (c === 'pct_change' && r.window_seconds === null) issues.push({ path: 'window_seconds', message: 'required when condition is pct_change' });
  const allowed = PARAMS_OF[c] ?? [];
  for (const k of Object.keys(r.params)) {
    if (!allowed.includes(k)) issues.push({ path: `params.${k}`, message: allowed.length ? `"${c}" takes params ${allowed.join(', ')}` : `"${c}" takes no params` });
  }
  if (c === 'news_keyword' && typeof r.params.keyword !== 'string') issues.push({ path: 'params.keyword', message: 'required when condition is news_keyword' });
  if ((c === 'rsi_above' || c === 'rsi_below') && r.params.period !== undefined && r.params.period !== 14) {
    issues.push({ path: 'params.period', message: 'only 14: RSI(14) is the one computed on every candle (docs/ALERTING.md)' });
  }
  if (r.timeframe !== null && input !== 'bar' && r.trigger !== 'once_per_bar') {
    issues.push({ path: 'timeframe', message: `"${c}" is not evaluated on candles: timeframe applies to candle conditions and to trigger once_per_bar` });
  }
  if (r.hysteresis_pct > 0 && !usesThreshold) issues.push({ path: 'hysteresis_pct', message: `"${c}" has no threshold to put a hysteresis band around` });
  return issues;
}

/** The stored shape of a create body: defaults applied. */
export function ruleShapeOf(v: AlertRuleCreate | (Partial<RuleShape> & { condition: AlertCondition })): RuleShape {
  return {
    condition: v.condition,
    threshold: v.threshold ?? null,
    window_seconds: v.window_seconds ?? null,
    timeframe: v.timeframe ?? null,
    params: (v.params ?? {}) as Record<string, unknown>,
    trigger: v.trigger ?? 'every_time',
    hysteresis_pct: v.hysteresis_pct ?? 0,
  };
}

const ruleRefinement = (v: z.output<z.ZodObject<typeof ruleFields>>, ctx: z.RefinementCtx) => {
  for (const i of ruleIssues(ruleShapeOf(v))) ctx.addIssue({ code: 'custom', path: i.path.split('.'), message: i.message });
};

export const AlertRuleCreate = z.strictObject(ruleFields).superRefine((v, ctx) => {
  ruleRefinement(v, ctx);
  if (v.expires_at && Date.parse(v.expires_at) <= Date.now()) ctx.addIssue({ code: 'custom', path: ['expires_at'], message: 'must be in the future' });
});
export const AlertRulePatch = z
  .strictObject({
    symbol: ruleSymbol.optional(),
    condition: z.enum(CONDITIONS).optional(),
    threshold: threshold.optional(),
    window_seconds: windowSeconds.optional(),
    cooldown_seconds: cooldownSeconds.optional(),
    severity: severity.optional(),
    timeframe: timeframe.optional(),
    params: params.optional(),
    trigger: trigger.optional(),
    hysteresis_pct: hysteresisPct.optional(),
    expires_at: ruleFields.expires_at,
    muted_until: ruleFields.muted_until,
    fired_at: z.null().optional().describe('null re-arms a `trigger: once` rule that fired (fired_at is set by the feeder, never by a client)'),
    shared: ruleFields.shared,
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });
export type AlertRuleCreate = z.output<typeof AlertRuleCreate>;
export type AlertRulePatch = z.output<typeof AlertRulePatch>;

export const AlertRule = z.object({
  id: z.uuid(),
  symbol: z.string(),
  condition: z.enum(CONDITIONS),
  threshold: z.number().nullable(),
  window_seconds: z.number().int().nullable(),
  cooldown_seconds: z.number().int(),
  severity: z.enum(SEVERITIES),
  timeframe: z.enum(ALERT_TIMEFRAMES).nullable(),
  params: z.record(z.string(), z.unknown()),
  trigger: z.enum(ALERT_TRIGGERS),
  hysteresis_pct: z.number(),
  expires_at: z.string().nullable(),
  muted_until: z.string().nullable(),
  fired_at: z.string().nullable().describe('trigger once: when the rule fired (it will not fire again until PATCHed with fired_at null); null otherwise'),
  owner: z.string().describe('Owner’s user name'),
  shared: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AlertRule = z.infer<typeof AlertRule>;

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

/** RFC 9457 problem details; `errors` lists the failing fields of a validation problem. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ in: z.string(), field: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid request: `errors` lists the failing fields',
  401: 'Missing or wrong bearer token',
  403: 'Not allowed for this user: a viewer writing, a change to another user’s shared item, a non-admin on /api/accounts',
  404: 'No such resource',
  409: 'Conflict: the item is already in the watchlist',
  422: 'A limit would be exceeded',
  502: 'InfluxDB refused the query',
  503: 'PostgreSQL (or, for alert events and backtests, InfluxDB) unavailable; retry after Retry-After seconds',
};
/** OpenAPI responses for the given error statuses, served as application/problem+json. */
export function problems(...statuses: (keyof typeof PROBLEM_TEXT)[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: PROBLEM_TEXT[s]!, content: { 'application/problem+json': { schema: Problem } } }]),
  );
}

export const AlertEventQuery = z.strictObject({
  symbol: ruleSymbol.optional().describe('Only this symbol (as stored: BTC/USDT, AAPL, ^GSPC, EUR/USD)'),
  since: z.iso.datetime({ offset: true }).optional().describe('ISO 8601; default: 7 days ago (the raw retention)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('At most this many, newest first (1-1000)'),
});

export const AlertEvent = z.object({
  time: z.string().describe('When the rule fired (exchange time of the tick, candle or article), ISO 8601'),
  symbol: z.string(),
  rule_id: z.string(),
  severity: z.string(),
  condition: z.string(),
  threshold: z.number().nullable(),
  price: z.number().nullable().describe('Last price of the symbol when it fired'),
  value: z.number().nullable().describe('The measured value that fired (RSI, % change, volume ratio, sentiment, …), when not the price'),
  message: z.string(),
});
export type AlertEvent = z.infer<typeof AlertEvent>;

export const BacktestRequest = z
  .strictObject({
    rule: AlertRuleCreate.optional().describe('A draft rule (the body of POST /api/alert-rules)'),
    rule_id: z.uuid().optional().describe('Or a stored rule'),
    days: z.number().int().min(1).max(365).default(30).describe('How far back to replay (default 30)'),
    to: z.iso.datetime({ offset: true }).optional().describe('End of the replayed range, ISO 8601 (default now)'),
  })
  .superRefine((v, ctx) => {
    if ((v.rule === undefined) === (v.rule_id === undefined)) ctx.addIssue({ code: 'custom', path: [v.rule ? 'rule_id' : 'rule'], message: 'give exactly one of rule and rule_id' });
  });

export const BacktestResponse = z.object({
  fires: z.array(
    z.object({
      time: z.string().describe('When the rule would have fired, ISO 8601 (with `bar`: the open time of that bar)'),
      price: z.number().nullable(),
      value: z.number().nullable().describe('The measured value (RSI, % change, …; the price for price rules)'),
      bar: z
        .enum(['1m', '5m'])
        .optional()
        .describe('Price rules replayed from stored candles: the firing happened within this bar starting at `time` (exact to the bar, not to the second)'),
    }),
  ),
  from: z.string(),
  to: z.string(),
  replayed: z.object({ ticks: z.number().int(), bars: z.number().int(), articles: z.number().int(), readings: z.number().int() }).describe('What was replayed'),
});
