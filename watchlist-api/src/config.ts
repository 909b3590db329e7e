// The API's whole configuration, from the environment (names are a contract: .env.example, docs/API.md).
import { z } from 'zod';
import { commonEnv, influxEnv, int, optionalString, url } from '@mt/common';

// The API only reads InfluxDB (alert history, backtests): the connection settings, not the sink's buffer
const { INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG, INFLUX_API } = influxEnv;

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

export const configSchema = z
  .object({
    ...commonEnv,
    NODE_ENV: z.preprocess(emptyToUndefined, z.string().default('production')),
    PORT: int(8000, 0, 65535),
    HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
    DATABASE_URL: url('postgres://terminal@postgres:5432/terminal'),
    /** The database password when it is not in DATABASE_URL (compose: PGPASSWORD_FILE); any characters. */
    PGPASSWORD: optionalString,
    // Outside tests a missing token is a start-up error (refine below), never an open API.
    API_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
    /** The built-in admin's user name (API_TOKEN's identity): the Grafana admin's login, so both are one user. */
    API_ADMIN_USER: z.preprocess(
      emptyToUndefined,
      z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_", "-", 1-63 characters').default('admin'),
    ),
    MAX_LAYOUTS_PER_USER: int(100, 1),
    DB_POOL_MAX: int(10, 1, 100),
    /** Per-query bound, so a stalled database turns into a 503 instead of a hung request. */
    DB_QUERY_TIMEOUT_MS: int(5_000, 100),
    MAX_WATCHLISTS: int(100, 1),
    MAX_ITEMS_PER_WATCHLIST: int(200, 1),
    MAX_ALERT_RULES: int(500, 1),
    BODY_LIMIT_BYTES: int(65_536, 1024),
    INFLUX_URL,
    INFLUX_TOKEN,
    INFLUX_ORG,
    INFLUX_API,
  })
  .refine((c) => c.API_TOKEN !== undefined || c.NODE_ENV === 'test', { path: ['API_TOKEN'], message: 'required (bearer token for /api/*)' })
  .transform((c) => ({ ...c, API_TOKEN: c.API_TOKEN ?? 'test-token-not-for-production' }));

export type Config = z.infer<typeof configSchema>;
