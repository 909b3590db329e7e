// The polled market sources (Yahoo with its fallbacks Alpha Vantage and ExchangeRate-API, CoinGecko, Fear & Greed): one MarketComponent each, each on its own
// Poller, so a source that fails keeps failing alone (its failures in feeder_* metrics under its name).
import { isLeadShard } from '@mt/common';
import type { MarketComponent, MarketContext } from './context.js';
import { YahooSource } from './yahoo/index.js';
import { CoinGeckoSource } from './coingecko/index.js';
import { FearGreedSource } from './feargreed/index.js';
import { PrimaryHealth } from './fallback/primary.js';
import { AlphaVantageSource } from './alphavantage/index.js';
import { ExchangeRateSource } from './exchangerate/index.js';

/** How often a fallback looks whether it has a symbol to serve and a request it may make. */
const FALLBACK_CHECK_MS = 60_000;

export function createPolledSources(ctx: MarketContext): MarketComponent[] {
  const { cfg, log, sourceMetrics: metrics } = ctx;
  // Yahoo and CoinGecko poll the symbols of this shard's watch set (CoinGecko's market cap joins onto the
  // crypto symbol this shard streams); the Fear & Greed index belongs to no symbol: shard 0 polls it.
  // Yahoo tells which of its symbols it fails; the fallbacks (each only with its key) serve those
  const primary = new PrimaryHealth(log.child({ component: 'fallback' }));
  const fallbacks: MarketComponent[] = [];
  // one key, several shards: each spends its share of the day's allowance
  const avDailyLimit = Math.max(1, Math.floor(cfg.ALPHAVANTAGE_DAILY_LIMIT / (ctx.shard?.count ?? 1)));
  if (cfg.ALPHAVANTAGE_KEY)
    fallbacks.push(
      new AlphaVantageSource({ baseUrl: cfg.ALPHAVANTAGE_URL, apiKey: cfg.ALPHAVANTAGE_KEY, dailyLimit: avDailyLimit, primary, intervalMs: FALLBACK_CHECK_MS, log, metrics, out: ctx.out }),
    );
  else log.info('ALPHAVANTAGE_KEY not set: no Alpha Vantage fallback for stocks and indices');
  if (cfg.EXCHANGERATE_KEY) fallbacks.push(new ExchangeRateSource({ baseUrl: cfg.EXCHANGERATE_URL, apiKey: cfg.EXCHANGERATE_KEY, primary, intervalMs: FALLBACK_CHECK_MS, log, metrics, out: ctx.out }));
  else log.info('EXCHANGERATE_KEY not set: no ExchangeRate-API fallback for forex');
  return [
    new YahooSource({
      primary,
      baseUrl: cfg.YAHOO_URL,
      cookieUrl: cfg.YAHOO_COOKIE_URL,
      intervalMs: cfg.YAHOO_POLL_MS,
      candleIntervals: cfg.YAHOO_CANDLE_INTERVALS,
      log,
      metrics,
      out: ctx.out,
    }),
    new CoinGeckoSource({ baseUrl: cfg.COINGECKO_URL, apiKey: cfg.COINGECKO_API_KEY, intervalMs: cfg.COINGECKO_POLL_MS, log, metrics, out: ctx.out }),
    ...fallbacks,
    ...(isLeadShard(ctx.shard) ? [new FearGreedSource({ url: cfg.FEAR_GREED_URL, intervalMs: cfg.FEAR_GREED_POLL_MS, log, metrics, sink: ctx.sink })] : []),
  ];
}
