// The demo's stand-ins for the internet: Binance = the replay server (live frames for `symbols` symbols, bursts
// included, 1 m candles on the real clock, REST history for the backfill); Yahoo, CoinGecko, alternative.me,
// CryptoPanic, NewsAPI and RSS = the protocol-true fakes of @mt/testing serving the recorded payloads with their
// times moved to now (docs/BENCHMARKS.md, "Demo": without that the 2021–2025 stamps are older than `markets/raw`
// keeps (7 d) and InfluxDB drops them, leaving World indices, FX cross rates and Fear & Greed empty). Two users:
//   - `npm run demo` (bench/demo.ts): loopback, free ports, the feeders started next to it;
//   - the compose `demo` profile: `docker compose --profile demo up -d` runs this file as the `demo-sources`
//     service on every interface and DEMO_PORTS; the feeders switch to it (docker-compose.yml, x-demo-switch)
//     with the DEMO_* variables that `demoFeederEnv('demo-sources', DEMO_PORTS)` yields (scripts/test checks).
//
//   node --conditions=source --import tsx bench/demo-sources.ts [--host 0.0.0.0] [--rate 400]
// (The replay server streams whatever symbols a client subscribes to; WATCH_SYMBOLS picks them.)
import { parseArgs } from 'node:util';
import { AlternativeMeFake, CoinGeckoFake, CryptoPanicFake, NewsApiFake, RssFake, YahooFake, fixtureFeed, replayFeed } from '@mt/testing';
import { ReplayServer, watchSymbols } from './replay.js';

/** Yahoo symbols the demo watches: a stock with quotes, a stock with recorded 1-minute bars, FX, an index. */
export const DEMO_YAHOO_WATCH = 'AAPL:stock,AMZN:stock,EUR/USD:forex,^SP500TR:index';

/** Fixed ports of the compose service (nothing publishes them: they live on the private network only). */
export const DEMO_PORTS = { binance: 9101, yahoo: 9102, coingecko: 9103, fearGreed: 9104, cryptopanic: 9105, newsapi: 9106, rss: 9107 } as const;
export type DemoPorts = { [K in keyof typeof DEMO_PORTS]: number };

export interface DemoOptions {
  /** Interface to listen on (compose: 0.0.0.0). */
  host?: string;
  /** Fixed ports (compose) or 0s for free ones. */
  ports?: DemoPorts;
  /** Replay frames per second (×5 bursts of 1 s every 30 s). */
  rate?: number;
  news?: boolean;
}

export const DEMO_NEWS_TOKEN = 'demo';
const RSS_FEEDS = { guardian: '/guardian.xml', heise: '/heise.xml' };

/** What the feeders need to read the demo sources at `host` (a name or address they reach) on `ports`. */
export function demoFeederEnv(host: string, ports: DemoPorts, symbols = 20): { market: Record<string, string>; news: Record<string, string> } {
  const http = (port: number) => `http://${host}:${port}`;
  const watch = `${watchSymbols(symbols)},${DEMO_YAHOO_WATCH}`;
  return {
    market: {
      BINANCE_WS_URL: `ws://${host}:${ports.binance}`,
      BINANCE_REST_URL: http(ports.binance),
      BACKFILL_HOURS: '6',
      YAHOO_URL: http(ports.yahoo),
      YAHOO_COOKIE_URL: `${http(ports.yahoo)}/`,
      COINGECKO_URL: `${http(ports.coingecko)}/api/v3`,
      FEAR_GREED_URL: `${http(ports.fearGreed)}/fng/`,
      WATCH_SYMBOLS: watch,
    },
    news: {
      // news items are tagged with the watched assets too
      WATCH_SYMBOLS: watch,
      CRYPTOPANIC_URL: `${http(ports.cryptopanic)}/api/developer/v2`,
      CRYPTOPANIC_TOKEN: DEMO_NEWS_TOKEN,
      NEWSAPI_URL: http(ports.newsapi),
      NEWSAPI_KEY: DEMO_NEWS_TOKEN,
      RSS_FEEDS: Object.values(RSS_FEEDS)
        .map((p) => `${http(ports.rss)}${p}`)
        .join(','),
    },
  };
}

export interface DemoPolledSources {
  yahoo: YahooFake;
  coingecko: CoinGeckoFake;
  fng: AlternativeMeFake;
  /** The market feeder's variables pointing at them (on loopback). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The polled sources alone (Yahoo, CoinGecko, alternative.me), replayed to `now`. */
export async function startDemoPolledSources(now: number, o: { host?: string; ports?: Pick<DemoPorts, 'yahoo' | 'coingecko' | 'fearGreed'> } = {}): Promise<DemoPolledSources> {
  const [yahoo, coingecko, fng] = await Promise.all([
    new YahooFake({ replayAt: now }).listen(o.ports?.yahoo ?? 0, o.host),
    new CoinGeckoFake('/api/v3', { replayAt: now }).listen(o.ports?.coingecko ?? 0, o.host),
    new AlternativeMeFake({ replayAt: now }).listen(o.ports?.fearGreed ?? 0, o.host),
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

export interface DemoSources {
  replay: ReplayServer;
  ports: DemoPorts;
  close(): Promise<void>;
}

export async function startDemoSources(o: DemoOptions = {}): Promise<DemoSources> {
  const host = o.host ?? '127.0.0.1';
  const want = o.ports ?? { binance: 0, yahoo: 0, coingecko: 0, fearGreed: 0, cryptopanic: 0, newsapi: 0, rss: 0 };
  const now = Date.now();
  const replay = await new ReplayServer({ rate: o.rate ?? 400, burstEveryMs: 30_000, burstMs: 1000, burstFactor: 5 }).listen(want.binance, host);
  const polled = await startDemoPolledSources(now, { host, ports: want });
  const closers: (() => Promise<unknown>)[] = [() => replay.close(), () => polled.close()];
  const ports: DemoPorts = { binance: replay.port, yahoo: polled.yahoo.port, coingecko: polled.coingecko.port, fearGreed: polled.fng.port, cryptopanic: 0, newsapi: 0, rss: 0 };
  if (o.news ?? true) {
    const cp = await new CryptoPanicFake({ token: DEMO_NEWS_TOKEN, replayAt: now - 3600_000 }).listen(want.cryptopanic, host);
    const na = await new NewsApiFake({ key: DEMO_NEWS_TOKEN, replayAt: now - 2 * 3600_000 }).listen(want.newsapi, host);
    const rss = await new RssFake()
      .set(RSS_FEEDS.guardian, { body: Buffer.from(replayFeed(fixtureFeed('guardian_rss2.xml'), now - 1800_000)), contentType: 'application/rss+xml; charset=UTF-8' })
      .set(RSS_FEEDS.heise, { body: Buffer.from(replayFeed(fixtureFeed('heise_developer_atom.xml'), now - 5400_000)), contentType: 'application/atom+xml; charset=UTF-8' })
      .listen(want.rss, host);
    closers.push(() => cp.close(), () => na.close(), () => rss.close());
    Object.assign(ports, { cryptopanic: cp.port, newsapi: na.port, rss: rss.port });
  }
  return { replay, ports, close: async () => void (await Promise.allSettled(closers.map((c) => c()))) };
}

// -------------------------------------------------------------------- the compose service

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '0.0.0.0' },
      rate: { type: 'string', default: process.env.DEMO_RATE ?? '400' },
    },
  });
  const demo = await startDemoSources({ host: values.host, ports: DEMO_PORTS, rate: Number(values.rate) });
  const say = (msg: string, extra: object = {}) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...extra })}\n`);
  say('demo sources listening', { host: values.host, ports: demo.ports, rate: Number(values.rate) });
  const t = setInterval(() => say('replay', demo.replay.stats() as object), 60_000);
  const stop = () => {
    clearInterval(t);
    void demo.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
