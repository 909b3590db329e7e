// `node influxdb-tasks/dist/install.js` (the compose one-shot at every stack start) or
// `npm run -w @mt/influxdb-tasks apply`: makes sure the databases/buckets of the contract exist (the shared
// bootstrap, which also waits for InfluxDB to come up), then installs the downsampling and rp_config.
import { z } from 'zod';
import { bootstrapInflux, commonEnv, createLogger, influxConfigFromEnv, influxEnv, loadConfig } from '@mt/common';
import { apply } from './apply.js';

const env = loadConfig(z.object({ ...influxEnv, ...commonEnv }));
const log = createLogger('influxdb-tasks', env.LOG_LEVEL);
const cfg = influxConfigFromEnv(env);
try {
  await bootstrapInflux(cfg, log, { timeoutMs: 120_000 });
  await apply(cfg, log);
} catch (err) {
  log.error({ err }, 'installing downsampling failed');
  process.exit(1);
}
