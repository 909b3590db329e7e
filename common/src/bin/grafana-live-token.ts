// `node common/dist/bin/grafana-live-token.js` — the compose `grafana-live-token` one-shot, after Grafana
// is healthy: the Live push token for the market feeder (docs/GRAFANA_LIVE.md "The service-account token").
import { z } from 'zod';
import { commonEnv, loadConfig } from '../config.js';
import { ensureLiveToken, liveTokenEnv } from '../grafana-live-token.js';
import { createLogger } from '../logger.js';

const env = loadConfig(
  z.object({ ...commonEnv, ...liveTokenEnv }),
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
