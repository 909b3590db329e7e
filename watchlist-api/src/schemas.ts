// Request/response schemas: one definition drives validation, the handler types and the OpenAPI document.
import { z } from 'zod';
import { ASSET_TYPES, DEFAULT_EXCHANGE, normalizeSymbol, SymbolError } from '@mt/common';

export const AssetType = z.enum(ASSET_TYPES);
const EXCHANGES = [...new Set(Object.values(DEFAULT_EXCHANGE))] as [string, ...string[]];

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

/** `{ symbol, asset_type, exchange? }` → normalised symbol, exchange derived (and checked when given). */
export const ItemInput = z
  .strictObject({
    symbol: z.string().min(1).max(32).describe('e.g. BTC/USDT, btcusdt, AAPL, ^GSPC, EUR/USD or EURUSD=X'),
    asset_type: AssetType,
    exchange: z.enum(EXCHANGES).optional().describe('Derived from asset_type when omitted'),
  })
  .transform((v, ctx) => {
    const exchange = DEFAULT_EXCHANGE[v.asset_type];
    if (v.exchange !== undefined && v.exchange !== exchange) {
      ctx.addIssue({ code: 'custom', path: ['exchange'], message: `${v.asset_type} symbols are collected from ${exchange}` });
      return z.NEVER;
    }
    try {
      return { symbol: normalizeSymbol(v.symbol, v.asset_type), asset_type: v.asset_type, exchange };
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
});
export const WatchlistPatch = z
  .strictObject({ name: name.optional(), description: description.optional() })
  .refine((v) => v.name !== undefined || v.description !== undefined, { message: 'nothing to change: give name and/or description' });

export const Watchlist = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  items: z.array(Item),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Watchlist = z.infer<typeof Watchlist>;

export const CONDITIONS = ['above', 'below', 'pct_change'] as const;
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
  .pipe(z.string().regex(/^[A-Z0-9^][A-Z0-9./^-]*$/, 'symbol like BTC/USDT, AAPL, ^GSPC or EUR/USD'))
  .describe('Symbol as stored by the feeders: BTC/USDT, AAPL, ^GSPC, EUR/USD');
const threshold = z.number().finite().describe('Price for above/below, percent for pct_change');
const windowSeconds = z.number().int().min(10).max(7 * 86_400).nullable().describe('Look-back for pct_change, seconds (required for pct_change)');
const cooldownSeconds = z.number().int().min(0).max(7 * 86_400).describe('Minimum seconds between two firings (default 300)');
const severity = z.enum(SEVERITIES).describe('Default warning');

const ruleFields = {
  symbol: ruleSymbol,
  condition: z.enum(CONDITIONS),
  threshold,
  window_seconds: windowSeconds.optional(),
  cooldown_seconds: cooldownSeconds.optional(),
  severity: severity.optional(),
};

interface RuleShape {
  condition?: (typeof CONDITIONS)[number];
  threshold?: number;
  window_seconds?: number | null;
}
/** Cross-field rules, applied to a created rule and to a patched rule merged with its stored state. */
export function ruleIssues(r: Required<RuleShape>): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  if (r.condition === 'pct_change') {
    if (r.window_seconds === null) issues.push({ path: 'window_seconds', message: 'required when condition is pct_change' });
    if (r.threshold === 0) issues.push({ path: 'threshold', message: 'a pct_change threshold must not be 0' });
  } else if (r.threshold <= 0) {
    issues.push({ path: 'threshold', message: `a price threshold for "${r.condition}" must be > 0` });
  }
  return issues;
}

export const AlertRuleCreate = z.strictObject(ruleFields).superRefine((v, ctx) => {
  for (const i of ruleIssues({ condition: v.condition, threshold: v.threshold, window_seconds: v.window_seconds ?? null })) {
    ctx.addIssue({ code: 'custom', path: [i.path], message: i.message });
  }
});
export const AlertRulePatch = z
  .strictObject({
    symbol: ruleSymbol.optional(),
    condition: z.enum(CONDITIONS).optional(),
    threshold: threshold.optional(),
    window_seconds: windowSeconds.optional(),
    cooldown_seconds: cooldownSeconds.optional(),
    severity: severity.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });
export type AlertRuleCreate = z.output<typeof AlertRuleCreate>;
export type AlertRulePatch = z.output<typeof AlertRulePatch>;

export const AlertRule = z.object({
  id: z.uuid(),
  symbol: z.string(),
  condition: z.enum(CONDITIONS),
  threshold: z.number(),
  window_seconds: z.number().int().nullable(),
  cooldown_seconds: z.number().int(),
  severity: z.enum(SEVERITIES),
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
