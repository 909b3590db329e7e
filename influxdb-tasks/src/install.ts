// `node influxdb-tasks/dist/install.js` (the compose one-shot at every stack start) or
// `npm run -w @mt/influxdb-tasks apply`: makes sure the databases/buckets of the contract exist (the shared
// bootstrap, which also waits for InfluxDB to come up), installs the downsampling and rp_config, then the
// least-privilege credentials of the other services (each *_TOKEN_PATH set: where its token is written).
import { z } from 'zod';
import {
  bootstrapInflux,
  commonEnv,
  createLogger,
  ensureScopedCredentials,
  influxConfigFromEnv,
  influxEnv,
  loadConfig,
  optionalString,
  RETENTION,
  type ScopedCredential,
} from '@mt/common';
import { apply } from './apply.js';

const env = loadConfig(
  z.object({
    ...influxEnv,
    ...commonEnv,
    /** read+write on the contract's buckets (compose: the feeders' INFLUX_TOKEN_FILE) */
    INFLUX_FEEDERS_TOKEN_PATH: optionalString,
    /** read-only, every bucket incl. infra and custom (compose: Grafana's datasources) */
    INFLUX_GRAFANA_TOKEN_PATH: optionalString,
    /** read+write on `custom/raw` only: the user's own series (docs/INFLUXDB.md "Your own series") */
    INFLUX_CUSTOM_TOKEN_PATH: optionalString,
    /** read-only (compose: the watchlist API's INFLUX_TOKEN_FILE) */
    INFLUX_API_TOKEN_PATH: optionalString,
  }),
);
const log = createLogger('influxdb-tasks', env.LOG_LEVEL);
const cfg = influxConfigFromEnv(env);
type Wanted = Omit<ScopedCredential, 'file'> & { file: string | undefined };
const wanted: Wanted[] = [
  { name: 'feeders', access: 'write', file: env.INFLUX_FEEDERS_TOKEN_PATH },
  { name: 'grafana', access: 'read', file: env.INFLUX_GRAFANA_TOKEN_PATH, buckets: Object.keys(RETENTION) },
  { name: 'api', access: 'read', file: env.INFLUX_API_TOKEN_PATH },
  { name: 'custom', access: 'write', file: env.INFLUX_CUSTOM_TOKEN_PATH, buckets: ['custom/raw'] },
];
const creds = wanted.filter((c): c is ScopedCredential => c.file !== undefined);
try {
  await bootstrapInflux(cfg, log, { timeoutMs: 120_000 });
  await apply(cfg, log);
  if (creds.length) await ensureScopedCredentials(cfg, creds, log);
} catch (err) {
  log.error({ err }, 'installing downsampling or credentials failed');
  process.exit(1);
}
