// `node common/dist/bin/grafana-live-token.js` — the compose `grafana-live-token` one-shot, after Grafana
// is healthy: the Live push token for the market feeder (docs/GRAFANA_LIVE.md "The service-account token").
// With GRAFANA_LIVE_TOKEN_RECHECK_MS > 0 it keeps running: the Kubernetes sidecar beside each feeder pod.
import { z } from 'zod';
import { commonEnv, loadConfig } from '../config.js';
import { ensureLiveToken, liveTokenEnv, watchLiveToken } from '../grafana-live-token.js';
import { createLogger } from '../logger.js';

const env = loadConfig(
  z.object({ ...commonEnv, ...liveTokenEnv }),
);
const log = createLogger('grafana-live-token', env.LOG_LEVEL);
const options = {
  grafanaUrl: env.GRAFANA_URL,
  adminUser: env.GRAFANA_ADMIN_USER,
  adminPassword: env.GRAFANA_ADMIN_PASSWORD,
  tokenPath: env.GRAFANA_LIVE_TOKEN_PATH,
  stream: env.GRAFANA_LIVE_STREAM,
  accountName: env.GRAFANA_LIVE_ACCOUNT,
  waitMs: env.GRAFANA_WAIT_MS,
  log,
};
if (env.GRAFANA_LIVE_TOKEN_RECHECK_MS > 0) {
  // the Kubernetes sidecar: runs beside the feeder for the pod's life, SIGTERM ends it
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  await watchLiveToken(options, env.GRAFANA_LIVE_TOKEN_RECHECK_MS, stop.signal);
  process.exit(0);
}
try {
  await ensureLiveToken(options);
} catch (err) {
  log.error({ err: String(err) }, 'Grafana Live token not made: Live stays off until this succeeds');
  process.exit(1);
}
