// The price-alert sessions' shared start-up: the watchlist API (migrated) and the market feeder entry
// point on one database and one InfluxDB, the feeder streaming BTC/USDT from the local Binance server with
// every polled source unreachable and its alerts posted to `alertmanagerUrl`.
import assert from 'node:assert/strict';
import { startService, unreachablePolledSources, waitFor, type BinanceFake, type InfluxServer, type RunningService } from '@mt/testing';

export interface AlertSession {
  api: RunningService;
  feeder: RunningService;
}

export async function startAlertSession(o: {
  databaseUrl: string;
  apiToken: string;
  influx: InfluxServer;
  binance: BinanceFake;
  alertmanagerUrl: string;
  /** More (or overriding) market-feeder settings, e.g. BACKFILL_HOURS. */
  feederEnv?: Record<string, string>;
}): Promise<AlertSession> {
  const api = await startService('watchlist-api', { DATABASE_URL: o.databaseUrl, API_TOKEN: o.apiToken, INFLUX_URL: o.influx.url, INFLUX_API: 'v1' }, { waitHealthy: true });
  await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 20_000, 'API migrated');
  const feeder = await startService('market-feeder', {
    DATABASE_URL: o.databaseUrl,
    WATCH_SYMBOLS: 'BTC/USDT:crypto',
    INFLUX_URL: o.influx.url,
    INFLUX_API: 'v1',
    BINANCE_WS_URL: o.binance.wsUrl,
    BINANCE_REST_URL: o.binance.restUrl,
    ...(await unreachablePolledSources()),
    ALERTMANAGER_URL: o.alertmanagerUrl,
    ...o.feederEnv,
  });
  return { api, feeder };
}

/**
 * JSON calls to the watchlist API with the owner's token: the answer's body parsed, a non-2xx answer an
 * assertion failure carrying its text. `baseUrl` is read at each call (the API starts in a `before`).
 */
export function apiCaller(baseUrl: () => string, token: string) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${baseUrl()}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}
