// The whole path for the watchlist and alert benchmarks, every piece a real process or server:
// PostgreSQL + watchlist API, InfluxDB 1.x, the replay server, the market feeder (watch set from the
// database) and optionally Alertmanager (the committed config) → the local Telegram Bot API.
import {
  TelegramFake,
  freePort,
  unreachablePolledSources,
  renderAlertmanagerConfig,
  startAlertmanager,
  startInflux,
  startPostgres,
  startService,
  waitFor,
  type AlertmanagerServer,
  type InfluxServer,
  type PostgresServer,
  type RunningService,
} from '@mt/testing';
import { ReplayServer, type ReplayOptions } from './replay.js';

export const TOKEN = 'bench-token-0123456789abcdef';

export interface Stack {
  pg: PostgresServer;
  influx: InfluxServer;
  replay: ReplayServer;
  api: RunningService;
  feeder: RunningService;
  am?: AlertmanagerServer;
  telegram?: TelegramFake;
  /** JSON request to the watchlist API with the bearer token; throws on a non-2xx answer. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startStack(opts: { replay: ReplayOptions; alerts?: boolean; feederEnv?: Record<string, string> }): Promise<Stack> {
  const [pg, influx, replay] = await Promise.all([startPostgres(), startInflux(), new ReplayServer(opts.replay).listen()]);
  const databaseUrl = await pg.createDatabase(`bench_${process.pid}`);
  const api = await startService('watchlist-api', { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN, LOG_LEVEL: 'warn', NODE_ENV: 'production' }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 'API migrated');
  let am: AlertmanagerServer | undefined;
  let telegram: TelegramFake | undefined;
  if (opts.alerts) {
    telegram = await new TelegramFake().listen();
    // SMTP is not part of the measured path: an unreachable smarthost only fails the e-mail receiver
    am = await startAlertmanager(
      renderAlertmanagerConfig({
        TELEGRAM_API_URL: telegram.url,
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_CHAT_ID: '-1001234567890',
        ALERT_EMAIL_TO: 'ops@example.org',
        ALERT_EMAIL_FROM: 'alertmanager@example.org',
        SMTP_SMARTHOST: `127.0.0.1:${await freePort()}`,
        SMTP_REQUIRE_TLS: 'false',
      }),
    );
  }
  const feeder = await startService('market-feeder', {
    DATABASE_URL: databaseUrl,
    INFLUX_URL: influx.url,
    INFLUX_API: 'v1',
    BINANCE_WS_URL: replay.wsUrl,
    BINANCE_REST_URL: replay.restUrl,
    ...(await unreachablePolledSources()),
    ...(am ? { ALERTMANAGER_URL: am.url } : {}),
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
    ...opts.feederEnv,
  });
  await waitFor(() => feeder.logs().some((l) => l.msg === 'watch set: listening for changes'), 30_000, 'feeder listening for watch-set changes');
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    pg,
    influx,
    replay,
    api,
    feeder,
    am,
    telegram,
    call,
    async close() {
      await Promise.allSettled([feeder.stop(), api.stop()]);
      await Promise.allSettled([replay.close(), influx.stop(), pg.stop(), am?.stop(), telegram?.close()]);
    },
  };
}
