// The demo's polled sources (Yahoo, CoinGecko, alternative.me): the local fakes serving the recorded
// payloads with their times moved to `now` (docs/BENCHMARKS.md, "Demo"), as the news fakes replay news.
// Without that the 2021–2025 stamps are older than `markets/raw` keeps (7 d) and InfluxDB drops them,
// leaving World indices, FX cross rates and Fear & Greed empty.
import { AlternativeMeFake, CoinGeckoFake, YahooFake } from '@mt/testing';

/** Yahoo symbols the demo watches: a stock with quotes, a stock with recorded 1-minute bars, FX, an index. */
export const DEMO_YAHOO_WATCH = 'AAPL:stock,AMZN:stock,EUR/USD:forex,^SP500TR:index';

export interface DemoPolledSources {
  yahoo: YahooFake;
  coingecko: CoinGeckoFake;
  fng: AlternativeMeFake;
  /** The market feeder's variables pointing at them. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startDemoPolledSources(now: number): Promise<DemoPolledSources> {
  const [yahoo, coingecko, fng] = await Promise.all([
    new YahooFake({ replayAt: now }).listen(),
    new CoinGeckoFake('/api/v3', { replayAt: now }).listen(),
    new AlternativeMeFake({ replayAt: now }).listen(),
  ]);
  return {
    yahoo,
    coingecko,
    fng,
    env: {
      YAHOO_URL: yahoo.url,
      YAHOO_COOKIE_URL: `${yahoo.url}/`,
      COINGECKO_URL: `${coingecko.url}/api/v3`,
      FEAR_GREED_URL: fng.fngUrl,
    },
    close: async () => {
      await Promise.allSettled([yahoo.close(), coingecko.close(), fng.close()]);
    },
  };
}
