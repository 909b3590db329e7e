// The alert-rule mix of the rule benchmarks (bench/rules.ts in one process, bench/ingest.ts in the real
// feeder): `perSymbol` rules on one symbol whose price starts at `price` — levels from 90 % to 109 % of it
// (`above`, `below`, `crosses_above` with 0.5 % hysteresis, `crosses_below` once per 5-minute bar),
// `pct_change` over 5 minutes, and candle / news rules that ticks do not touch (`rsi_above`, `news_keyword`).
import pg from 'pg';
import { CONDITION_INPUT, type AlertRule } from '@mt/common';
import { startService, waitFor, type PostgresServer } from '@mt/testing';

export function ruleMix(symbol: string, s: number, perSymbol: number, price = 100): AlertRule[] {
  const base = { symbol, window_seconds: null, cooldown_seconds: 60, severity: 'warning' as const };
  const out: AlertRule[] = [];
  for (let i = 0; i < perSymbol; i++) {
    const id = `${s}-${i}`;
    const level = price * (0.9 + 0.01 * i); // levels 90 … 109 %: a random walk from `price` crosses some of them
    switch (i % 10) {
      case 0:
      case 1:
        out.push({ ...base, id, condition: 'above', threshold: level });
        break;
      case 2:
      case 3:
        out.push({ ...base, id, condition: 'below', threshold: level });
        break;
      case 4:
      case 5:
        out.push({ ...base, id, condition: 'crosses_above', threshold: level, hysteresis_pct: 0.5 });
        break;
      case 6:
        out.push({ ...base, id, condition: 'crosses_below', threshold: level, hysteresis_pct: 0.5, trigger: 'once_per_bar', timeframe: '5m' });
        break;
      case 7:
        out.push({ ...base, id, condition: 'pct_change', threshold: i % 2 ? 2 : -2, window_seconds: 300 });
        break;
      case 8:
        out.push({ ...base, id, condition: 'rsi_above', threshold: 70, timeframe: '5m' });
        break;
      default:
        out.push({ ...base, id, condition: 'news_keyword', threshold: null, params: { keyword: 'ETF' } });
    }
  }
  return out;
}

/**
 * The mix with every rule a tick evaluates (levels, pct_change) replaced by a `news_keyword` one: the same
 * number of rules on the same symbols, so each tick still finds its symbol and records its price, but
 * evaluates nothing (what having rules costs a tick before any rule is evaluated).
 */
export function noTickMix(symbol: string, s: number, perSymbol: number, price = 100): AlertRule[] {
  return ruleMix(symbol, s, perSymbol, price).map((r) =>
    CONDITION_INPUT[r.condition] === 'tick' ? { id: r.id, symbol, window_seconds: null, cooldown_seconds: 60, severity: 'warning', condition: 'news_keyword', threshold: null, params: { keyword: 'ETF' } } : r,
  );
}

/**
 * A database `name` on `postgres`, migrated by the watchlist API, holding `count` rules of the mix spread
 * evenly over `symbols` (levels around `priceOf(symbol)`; `mix`: another mix), owned by the API's admin. Returns its URL.
 */
export async function ruleMixDatabase(
  postgres: PostgresServer,
  name: string,
  influxUrl: string,
  symbols: string[],
  count: number,
  priceOf: (symbol: string) => number,
  mix: typeof ruleMix = ruleMix,
): Promise<string> {
  const url = await postgres.createDatabase(name);
  const api = await startService('watchlist-api', { DATABASE_URL: url, API_TOKEN: 'bench-token-0123456789abcdef', INFLUX_URL: influxUrl, INFLUX_API: 'v1' }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 'API migrated');
  await api.stop();
  const per = Math.ceil(count / symbols.length);
  const rules = symbols.flatMap((s, i) => mix(s, i, per, priceOf(s))).slice(0, count);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const col = <K extends keyof (typeof rules)[number]>(k: K) => rules.map((r) => r[k] ?? null);
    await db.query(
      // owned by the admin the API's migrations create (migration 003)
      `INSERT INTO alert_rules (owner_id, symbol, condition, threshold, window_seconds, cooldown_seconds, severity, timeframe, params, trigger, hysteresis_pct)
       SELECT (SELECT id FROM users WHERE role = 'admin' ORDER BY created_at LIMIT 1), * FROM unnest($1::text[], $2::text[], $3::float8[], $4::int[], $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::float8[])`,
      [
        col('symbol'),
        col('condition'),
        col('threshold'),
        col('window_seconds'),
        col('cooldown_seconds'),
        col('severity'),
        col('timeframe'),
        rules.map((r) => JSON.stringify(r.params ?? {})),
        rules.map((r) => r.trigger ?? 'every_time'),
        rules.map((r) => r.hysteresis_pct ?? 0),
      ],
    );
  } finally {
    await db.end();
  }
  return url;
}
