// One zod schema per service, validated once at start-up. A bad variable stops the process with one
// line naming it, before anything connects anywhere.
import { z } from 'zod';
import { config as loadDotenv } from 'dotenv';
import { parseWatchSymbols } from './watchset/index.js';
import { parseShardSpec } from './watchset/shard.js';
import { placeholderIssues, readSecretFiles } from './secrets.js';

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parse `env` with `schema`; throws ConfigError whose message names every failing variable. Secret
 * variables may come from `<NAME>_FILE`, and a committed placeholder is refused (secrets.ts).
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  // a service that declares `X_FILE` itself reads that file its own way (e.g. again after a rotation)
  const files = readSecretFiles(env, undefined, new Set(schemaKeys(schema).filter((k) => k.endsWith('_FILE'))));
  const refused = [...files.issues, ...placeholderIssues(files.env)];
  if (refused.length) throw new ConfigError(refused);
  const res = schema.safeParse(files.env);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new ConfigError(issues);
}

/** The variable names of an object schema, through refine/transform/pipe wrappers. */
export function schemaKeys(schema: z.ZodType): string[] {
  let s = schema as unknown as { shape?: Record<string, unknown>; def?: { in?: unknown; schema?: unknown } };
  while (!s.shape && (s.def?.in || s.def?.schema)) s = (s.def.in ?? s.def.schema) as typeof s;
  return s.shape ? Object.keys(s.shape) : [];
}

/** For `main` files: read `.env` (never overriding the real environment), parse, or exit 1 with one line. */
export function loadConfig<S extends z.ZodType>(schema: S): z.infer<S> {
  loadDotenv({ quiet: true });
  try {
    return parseConfig(schema, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`config error: ${err.issues.join('; ')}\n`);
      process.exit(1);
    }
    throw err;
  }
}

// ---- reusable pieces of the schemas (variable names are a contract: .env.example lists every one) ----

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
/** An optional string variable where an empty value means "not set". */
export const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
export const url = (def: string) => z.preprocess(emptyToUndefined, z.url().default(def));
export const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(def));
export const num = (def: number, min = 0) => z.preprocess(emptyToUndefined, z.coerce.number().min(min).default(def));
export const bool = (def: boolean) =>
  z.preprocess(emptyToUndefined, z.enum(['true', 'false', '1', '0']).default(def ? 'true' : 'false')).transform((v) => v === 'true' || v === '1');
/** Comma-separated list; blanks dropped. */
export const csv = (def: string[]) => z.preprocess(emptyToUndefined, z.string().optional()).transform((v) => (v === undefined ? def : splitList(v)));

/** The elements of a comma-separated list, trimmed, blanks dropped. */
export function splitList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * One URL or a comma-separated list of them (the Alertmanager peers of an HA cluster), kept as the string
 * it was given — `splitList` it where it is used — with every element checked to be a URL.
 */
export const urlList = (def: string) =>
  z.preprocess(emptyToUndefined, z.string().default(def)).superRefine((v, ctx) => {
    const bad = splitList(v).filter((u) => !URL.canParse(u));
    if (bad.length || !splitList(v).length) ctx.addIssue({ code: 'custom', message: `not a URL or a comma-separated list of URLs: ${bad.join(', ') || '(empty)'}` });
  });

export const logLevel = z.preprocess(emptyToUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'));

export const influxEnv = {
  INFLUX_URL: url('http://influxdb:8086'),
  /** 2.x: an API token (compose: the bootstrap's scoped token from a file); 1.x with auth: `user:password`; 1.x without: empty. */
  INFLUX_TOKEN: z.preprocess(emptyToUndefined, z.string().default('')),
  INFLUX_ORG: z.preprocess(emptyToUndefined, z.string().default('market-terminal')),
  INFLUX_API: z.preprocess(emptyToUndefined, z.enum(['v1', 'v2']).default('v2')),
  /** Points queued (over all buckets of the process) while InfluxDB is unreachable, plus at most one batch being written (docs/INFLUXDB.md "Failure handling"); beyond it the oldest are dropped and counted. */
  INFLUX_MAX_BUFFER_POINTS: int(200_000, 10_000),
};

export const commonEnv = {
  LOG_LEVEL: logLevel,
};

/** What a feeder watches: the watchlists in PostgreSQL (empty DATABASE_URL = none) plus fixed items. */
export const watchEnv = {
  DATABASE_URL: z.preprocess((v) => v ?? 'postgres://terminal@postgres:5432/terminal', z.string()),
  /** The database password when it is not in DATABASE_URL (compose: PGPASSWORD_FILE); any characters. */
  PGPASSWORD: optionalString,
  /** Fixed extra watch items, `[exchange:]SYMBOL:asset_type` comma-separated (e.g. `BTC/USDT:crypto,kraken:BTC/USD:crypto,AAPL:stock`). */
  WATCH_SYMBOLS: optionalString.superRefine((v, ctx) => {
    try {
      parseWatchSymbols(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
};

/**
 * Sharded feeders (docs/DEPLOYMENT.md): `FEEDER_SHARD=i/N` (0-based), or `FEEDER_SHARDS=N` with the index
 * from a StatefulSet pod's hostname (`market-feeder-2`; resolveShard). Unset: one feeder collects everything.
 */
export const shardEnv = {
  FEEDER_SHARD: optionalString.superRefine((v, ctx) => {
    if (v === undefined) return;
    try {
      parseShardSpec(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  FEEDER_SHARDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(1024).optional()),
};
