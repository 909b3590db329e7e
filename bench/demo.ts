// Demo mode (`npm run demo`): the feeders run against local servers that speak each source's protocol,
// so the dashboards fill without internet or API keys. Binance = the replay server (live frames for
// DEMO_SYMBOLS symbols, bursts included, 1 m candles on the real clock, REST history for the backfill);
// Yahoo, CoinGecko, alternative.me, CryptoPanic, NewsAPI and RSS = the fakes in @mt/testing serving the
// recorded payloads, their times moved to now (bench/demo-sources.ts; news the same way). InfluxDB: INFLUX_URL (+ INFLUX_API/TOKEN/ORG) from the
// environment, or a private influxd 1.x started here. DATABASE_URL set = watchlists drive the feeders too.
import { parseArgs } from 'node:util';
import {
  CryptoPanicFake,
  NewsApiFake,
  RssFake,
  fixtureFeed,
  freePort,
  metricValue,
  replayFeed,
  startInflux,
  startService,
  type RunningService,
} from '@mt/testing';
import { ReplayServer, watchSymbols } from './replay.js';
import { DEMO_YAHOO_WATCH, startDemoPolledSources } from './demo-sources.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: process.env.DEMO_SYMBOLS ?? '20' },
    rate: { type: 'string', default: process.env.DEMO_RATE ?? '400' },
    minutes: { type: 'string', default: '0' },
    'no-news': { type: 'boolean', default: false },
  },
});
const say = (msg: string) => process.stdout.write(`[demo] ${msg}\n`);

const now = Date.now();
const replay = await new ReplayServer({ rate: Number(values.rate), burstEveryMs: 30_000, burstMs: 1000, burstFactor: 5 }).listen();
const polled = await startDemoPolledSources(now);

let influxEnv: Record<string, string>;
let stopInflux = async () => {};
if (process.env.INFLUX_URL) {
  influxEnv = Object.fromEntries(['INFLUX_URL', 'INFLUX_API', 'INFLUX_TOKEN', 'INFLUX_ORG'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  say(`InfluxDB: ${process.env.INFLUX_URL} (from the environment)`);
} else {
  const influx = await startInflux();
  stopInflux = () => influx.stop();
  influxEnv = { INFLUX_URL: influx.url, INFLUX_API: 'v1' };
  say(`InfluxDB: started influxd 1.x at ${influx.url} (data in ${influx.dir}, removed on exit)`);
}
const dead = `http://127.0.0.1:${await freePort()}`;
const common = {
  ...influxEnv,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  NODE_ENV: 'production',
  DATABASE_URL: process.env.DATABASE_URL ?? '',
  WATCH_SYMBOLS: `${watchSymbols(Number(values.symbols))},${DEMO_YAHOO_WATCH}`,
};
const services: RunningService[] = [];
const market = await startService('market-feeder', {
  ...common,
  BINANCE_WS_URL: replay.wsUrl,
  BINANCE_REST_URL: replay.restUrl,
  BACKFILL_HOURS: '6',
  ...polled.env,
  ALERTMANAGER_URL: process.env.ALERTMANAGER_URL ?? dead,
});
services.push(market);
say(`market feeder: metrics ${market.url}/metrics, log ${market.logFile}`);

const closers: (() => Promise<unknown>)[] = [];
if (!values['no-news']) {
  const cp = await new CryptoPanicFake({ token: 'demo', replayAt: now - 3600_000 }).listen();
  const na = await new NewsApiFake({ key: 'demo', replayAt: now - 2 * 3600_000 }).listen();
  const rss = await new RssFake()
    .set('/guardian.xml', { body: Buffer.from(replayFeed(fixtureFeed('guardian_rss2.xml'), now - 1800_000)), contentType: 'application/rss+xml; charset=UTF-8' })
    .set('/heise.xml', { body: Buffer.from(replayFeed(fixtureFeed('heise_developer_atom.xml'), now - 5400_000)), contentType: 'application/atom+xml; charset=UTF-8' })
    .listen();
  closers.push(
    () => cp.close(),
    () => na.close(),
    () => rss.close(),
  );
  const news = await startService('news-feeder', {
    ...common,
    CRYPTOPANIC_URL: `${cp.url}/api/developer/v2`,
    CRYPTOPANIC_TOKEN: 'demo',
    NEWSAPI_URL: na.url,
    NEWSAPI_KEY: 'demo',
    RSS_FEEDS: `${rss.feedUrl('/guardian.xml')},${rss.feedUrl('/heise.xml')}`,
  });
  services.push(news);
  say(`news feeder: metrics ${news.url}/metrics, log ${news.logFile}`);
}
say(`replay server: ${replay.wsUrl} (${values.rate} frames/s, ×5 bursts every 30 s), ${values.symbols} symbols. Ctrl-C stops everything.`);

const report = setInterval(() => {
  void Promise.all(services.map((s) => s.metrics())).then(([m, n]) => {
    const pts = (x: string) => metricValue(m!, 'market_points_total', { measurement: x });
    const news = n === undefined ? '' : `; news stored ${metricValue(n, 'news_items_total', { outcome: 'stored' })}`;
    say(
      `binance frames ${metricValue(m!, 'feeder_messages_total', { source: 'binance_ws' })}; points market_data ${pts('market_data')}, candles ${pts('candles')}, indicators ${pts('indicators')}; written to InfluxDB ${metricValue(m!, 'influx_points_written_total')}${news}`,
    );
  }, () => {});
}, 15_000);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(report);
  await Promise.allSettled(services.map((s) => s.stop()));
  await Promise.allSettled([replay.close(), polled.close(), ...closers.map((c) => c())]);
  await stopInflux();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (Number(values.minutes) > 0) setTimeout(() => void stop(), Number(values.minutes) * 60_000);
