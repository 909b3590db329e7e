// Market feeder configuration: every variable, validated once (names are a contract: docs/API.md
// "Venues and symbols" and .env.example).
import { z } from 'zod';
import { urlList, influxEnv, commonEnv, watchEnv, shardEnv, resolveShard, url, int, num, optionalString, csv, parseDepthBooks } from '@mt/common';
import type { Interval } from './types.js';

export const marketSchema = z.object({
  ...commonEnv,
  ...influxEnv,
  METRICS_PORT: int(9464, 0, 65535),
  ...watchEnv,
  ...shardEnv,
  BINANCE_WS_URL: url('wss://stream.binance.com:9443'),
  BINANCE_REST_URL: url('https://api.binance.com'),
  /** Reconnect when a connection has delivered nothing for this long. */
  BINANCE_STALE_MS: int(30_000, 1_000),
  /** Roll a connection (overlapping) after this long; Binance closes at 24 h. */
  BINANCE_MAX_CONNECTION_AGE_MS: int(23 * 3600_000 + 30 * 60_000, 10_000),
  BACKFILL_HOURS: num(24, 0),
  // Further crypto venues (docs/SOURCES.md): public market data, no key.
  COINBASE_WS_URL: url('wss://ws-feed.exchange.coinbase.com'),
  COINBASE_REST_URL: url('https://api.exchange.coinbase.com'),
  KRAKEN_WS_URL: url('wss://ws.kraken.com/v2'),
  KRAKEN_REST_URL: url('https://api.kraken.com'),
  /** Reconnect when a Kraken socket delivered nothing (heartbeats count, about 1/s) for this long. */
  KRAKEN_STALE_MS: int(10_000, 1_000),
  /** Roll a Kraken connection (overlapping) after this long (Kraken publishes no age limit). */
  KRAKEN_MAX_CONNECTION_AGE_MS: int(23 * 3600_000 + 30 * 60_000, 10_000),
  /** Levels per side of a maintained Kraken book (DEPTH_BOOKS): 10, 25, 100, 500 or 1000. */
  KRAKEN_BOOK_DEPTH: int(100, 10, 1000).refine((n) => [10, 25, 100, 500, 1000].includes(n), 'one of 10, 25, 100, 500, 1000'),
  /** Gap between two Kraken REST calls (public limit about 1/s per IP, not published). */
  KRAKEN_REST_INTERVAL_MS: int(1000, 0),
  BINANCE_FUTURES_WS_URL: url('wss://fstream.binance.com'),
  BINANCE_FUTURES_REST_URL: url('https://fapi.binance.com'),
  /** Each watched perpetual's open interest is fetched once per this period (weight 1 per request). */
  BINANCE_FUTURES_OI_POLL_MS: int(60_000, 1_000),
  /**
   * Symbols that get a maintained L2 book (depth fields of `order_book`), comma-separated `exchange:SYMBOL`
   * (`binance:BTC/USDT,kraken:BTC/USD`); every other watched symbol gets top of book only. Parsed to the
   * watch-item keys (`kraken:BTC/USD`).
   */
  DEPTH_BOOKS: optionalString.transform((v, ctx) => {
    try {
      return parseDepthBooks(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  // Coinbase tuning (docs/SOURCES.md "Coinbase").
  /** Reconnect when a connection has delivered nothing for this long (heartbeats come every second per product). */
  COINBASE_STALE_MS: int(15_000, 1_000),
  /** Roll a connection (overlapping) after this long (Coinbase documents no age limit). */
  COINBASE_MAX_CONNECTION_AGE_MS: int(23 * 3600_000, 10_000),
  /** A minute taken from REST is fetched this long after it closed, so the venue's candle holds all its trades. */
  COINBASE_REST_SETTLE_MS: int(3_000, 0),
  /** Minimum spacing of REST requests (public limit: 10/s per IP, bursts 15). */
  COINBASE_REST_INTERVAL_MS: int(200, 0),
  YAHOO_URL: url('https://query1.finance.yahoo.com'),
  YAHOO_POLL_MS: int(15_000, 1_000),
  /** Where Yahoo hands out the session cookie that its crumb is tied to (a 404 page with Set-Cookie). */
  YAHOO_COOKIE_URL: url('https://fc.yahoo.com'),
  /** Timeframes of candles (and indicators) taken from Yahoo's chart; `none` for quotes only. */
  YAHOO_CANDLE_INTERVALS: csv(['1m', '5m', '1h', '1d'])
    .refine((v) => v.every((i) => i === 'none' || ['1m', '5m', '1h', '1d'].includes(i)), 'a comma-separated list of 1m, 5m, 1h, 1d (or none)')
    .transform((v) => v.filter((i): i is Interval => i !== 'none')),
  // Fallbacks while Yahoo refuses a symbol (docs/SOURCES.md, "Fallback sources"); no key = that fallback off.
  ALPHAVANTAGE_URL: url('https://www.alphavantage.co'),
  ALPHAVANTAGE_KEY: optionalString,
  /** Requests per UTC day the key allows (free key: 25); spread evenly over the day. */
  ALPHAVANTAGE_DAILY_LIMIT: int(25, 1),
  EXCHANGERATE_URL: url('https://v6.exchangerate-api.com'),
  EXCHANGERATE_KEY: optionalString,
  COINGECKO_URL: url('https://api.coingecko.com/api/v3'),
  COINGECKO_API_KEY: optionalString,
  COINGECKO_POLL_MS: int(60_000, 1_000),
  FEAR_GREED_URL: url('https://api.alternative.me/fng/'),
  FEAR_GREED_POLL_MS: int(3_600_000, 1_000),
  /** Alertmanager peers: one URL, or a comma-separated list (HA cluster); every alert goes to each. */
  ALERTMANAGER_URL: urlList('http://alertmanager:9093'),
  /** Alerts: firings within a minute sent one by one before a burst becomes one digest message. */
  ALERT_DIGEST_AFTER: int(5, 1, 1000),
  /** Alerts: how long a digest collects a burst before it is posted. */
  ALERT_DIGEST_HOLD_MS: int(10_000, 100, 600_000),
  /** Alerts: how often news, Fear & Greed and funding are read from InfluxDB for rules and headlines. */
  ALERT_CONTEXT_POLL_MS: int(15_000, 1_000),
  /** Base URL of Grafana for links in alerts, and for Grafana Live pushes unless GRAFANA_LIVE_URL is set. */
  GRAFANA_URL: url('http://localhost:3000'),
  // Grafana Live (docs/GRAFANA_LIVE.md): no token = Live off, dashboards poll InfluxDB only.
  /** `off` turns Live off whatever token is configured (the one switch; compose always sets a token file). */
  GRAFANA_LIVE: z.preprocess((v) => (v === '' || v === undefined ? 'on' : String(v).toLowerCase()), z.enum(['on', 'off'], { message: 'on or off' })),
  GRAFANA_LIVE_TOKEN: optionalString,
  /** A file holding the service-account token (read at start and again after a 401/403). */
  GRAFANA_LIVE_TOKEN_FILE: optionalString,
  /** Where the feeder reaches Grafana for pushes (compose: the internal http://grafana:3000); default GRAFANA_URL. */
  GRAFANA_LIVE_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url().optional()),
  /** Stream id: panels subscribe to `stream/<stream>/<measurement>`. */
  GRAFANA_LIVE_STREAM: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('markets')),
  /** Live updates per symbol per second (per measurement). */
  GRAFANA_LIVE_MAX_HZ: num(5, 0.1),
  /** Lines held while Grafana is slow or away; beyond it the oldest are dropped (grafana_live_dropped_total). */
  GRAFANA_LIVE_MAX_QUEUE: int(10_000, 100),
  /** Push cadence: at most one request per this many ms, carrying every symbol due (docs/GRAFANA_LIVE.md). */
  GRAFANA_LIVE_FLUSH_MS: int(50, 10),
}).superRefine((cfg, ctx) => {
  // FEEDER_SHARD and FEEDER_SHARDS must agree; an index from the hostname is checked at start (main.ts)
  if (!cfg.FEEDER_SHARD) return;
  try {
    resolveShard(cfg);
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['FEEDER_SHARD'], message: (err as Error).message });
  }
});

export type MarketConfig = z.infer<typeof marketSchema>;
