// `node common/dist/bin/grafana-live-token.js` — the compose `grafana-live-token` one-shot, after Grafana
// is healthy: the Live push token for the market feeder (docs/GRAFANA_LIVE.md "The service-account token").
import { z } from 'zod';
import { commonEnv, int, loadConfig, url } from '../config.js';
import { ensureLiveToken } from '../grafana-live-token.js';
import { createLogger } from '../logger.js';

const env = loadConfig(
  z.object({
    ...commonEnv,
    GRAFANA_URL: url('http://localhost:3000'),
    GRAFANA_ADMIN_USER: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('admin')),
    /** compose: GRAFANA_ADMIN_PASSWORD_FILE, the secret Grafana itself reads. */
    GRAFANA_ADMIN_PASSWORD: z.string().min(1, 'the Grafana admin password is needed to make the Live token'),
    GRAFANA_LIVE_TOKEN_PATH: z.string().min(1),
    GRAFANA_LIVE_STREAM: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('markets')),
    /** How long to wait for Grafana before giving up. */
    GRAFANA_WAIT_MS: int(120_000, 0),
  }),
);
const log = createLogger('grafana-live-token', env.LOG_LEVEL);
try {
  await ensureLiveToken({
    grafanaUrl: env.GRAFANA_URL,
    adminUser: env.GRAFANA_ADMIN_USER,
    adminPassword: env.GRAFANA_ADMIN_PASSWORD,
    tokenPath: env.GRAFANA_LIVE_TOKEN_PATH,
    stream: env.GRAFANA_LIVE_STREAM,
    waitMs: env.GRAFANA_WAIT_MS,
    log,
  });
} catch (err) {
  log.error({ err: String(err) }, 'Grafana Live token not made: Live stays off until this succeeds');
  process.exit(1);
}
