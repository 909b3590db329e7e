// `node influxdb-tasks/dist/install.js` (the compose one-shot) or `npm run -w @mt/influxdb-tasks apply`:
// installs the downsampling (2.x tasks or 1.x CQs) and rp_config, retrying while InfluxDB is starting.
import { z } from 'zod';
import { Backoff, commonEnv, createLogger, influxEnv, isRetryable, loadConfig, sleep } from '@mt/common';
import { apply } from './apply.js';

const ATTEMPTS = 30;
const cfg = loadConfig(z.object({ ...influxEnv, ...commonEnv }));
const log = createLogger('influxdb-tasks', cfg.LOG_LEVEL);
const backoff = new Backoff({ initialMs: 1000, maxMs: 10_000 });
for (;;) {
  try {
    await apply({ url: cfg.INFLUX_URL, token: cfg.INFLUX_TOKEN, org: cfg.INFLUX_ORG, api: cfg.INFLUX_API }, log);
    break;
  } catch (err) {
    if (!isRetryable(err) || backoff.attempts + 1 >= ATTEMPTS) {
      log.error({ err }, 'installing downsampling failed');
      process.exit(1);
    }
    const wait = backoff.next();
    log.warn({ err, waitMs: wait }, 'InfluxDB not ready, retrying');
    await sleep(wait);
  }
}
