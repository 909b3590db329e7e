// Market feeder configuration: every variable, validated once (names are a contract: ../shared/DESIGN.md).
import { z } from 'zod';
import { influxEnv, commonEnv, watchEnv, url, int, num, optionalString } from '@mt/common';

export const marketSchema = z.object({
  ...commonEnv,
  ...influxEnv,
  METRICS_PORT: int(9464, 0, 65535),
  ...watchEnv,
  BINANCE_WS_URL: url('wss://stream.binance.com:9443'),
  BINANCE_REST_URL: url('https://api.binance.com'),
  /** Reconnect when a connection has delivered nothing for this long. */
  BINANCE_STALE_MS: int(30_000, 1_000),
  /** Roll a connection (overlapping) after this long; Binance closes at 24 h. */
  BINANCE_MAX_CONNECTION_AGE_MS: int(23 * 3600_000 + 30 * 60_000, 10_000),
  BACKFILL_HOURS: num(24, 0),
  YAHOO_URL: url('https://query1.finance.yahoo.com'),
  YAHOO_POLL_MS: int(15_000, 1_000),
  /** Where Yahoo hands out the session cookie that its crumb is tied to (a 404 page with Set-Cookie). */
  YAHOO_COOKIE_URL: url('https://fc.yahoo.com'),
  COINGECKO_URL: url('https://api.coingecko.com/api/v3'),
  COINGECKO_API_KEY: optionalString,
  COINGECKO_POLL_MS: int(60_000, 1_000),
  FEAR_GREED_URL: url('https://api.alternative.me/fng/'),
  FEAR_GREED_POLL_MS: int(3_600_000, 1_000),
  ALERTMANAGER_URL: url('http://alertmanager:9093'),
  /** Base URL of Grafana for links in alerts. */
  GRAFANA_URL: url('http://localhost:3000'),
});

export type MarketConfig = z.infer<typeof marketSchema>;
