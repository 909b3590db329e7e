// The polled market sources (Yahoo, CoinGecko, Fear & Greed): one MarketComponent each, each on its own
// Poller, so a source that fails keeps failing alone (its failures in feeder_* metrics under its name).
import { isLeadShard } from '@mt/common';
import type { MarketComponent, MarketContext } from './context.js';
import { YahooSource } from './yahoo/index.js';
import { CoinGeckoSource } from './coingecko/index.js';
import { FearGreedSource } from './feargreed/index.js';

export function createPolledSources(ctx: MarketContext): MarketComponent[] {
  const { cfg, log, sourceMetrics: metrics } = ctx;
  // Yahoo and CoinGecko poll the symbols of this shard's watch set (CoinGecko's market cap joins onto the
  // crypto symbol this shard streams); the Fear & Greed index belongs to no symbol: shard 0 polls it.
  return [
    new YahooSource({
      baseUrl: cfg.YAHOO_URL,
      cookieUrl: cfg.YAHOO_COOKIE_URL,
      intervalMs: cfg.YAHOO_POLL_MS,
      candleIntervals: cfg.YAHOO_CANDLE_INTERVALS,
      log,
      metrics,
      out: ctx.out,
    }),
    new CoinGeckoSource({ baseUrl: cfg.COINGECKO_URL, apiKey: cfg.COINGECKO_API_KEY, intervalMs: cfg.COINGECKO_POLL_MS, log, metrics, out: ctx.out }),
    ...(isLeadShard(ctx.shard) ? [new FearGreedSource({ url: cfg.FEAR_GREED_URL, intervalMs: cfg.FEAR_GREED_POLL_MS, log, metrics, sink: ctx.sink })] : []),
  ];
}
