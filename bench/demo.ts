// Demo mode (`npm run demo`): the feeders run against local servers that speak each source's protocol,
// so the dashboards fill without internet or API keys. Binance = the replay server (live frames for
// DEMO_SYMBOLS symbols, bursts included, 1 m candles on the real clock, REST history for the backfill);
// Yahoo, CoinGecko, alternative.me, CryptoPanic, NewsAPI and RSS = the fakes in @mt/testing serving the
// recorded payloads (news dates moved to now). InfluxDB: INFLUX_URL (+ INFLUX_API/TOKEN/ORG) from the
// environment, or a private influxd 1.x started here. DATABASE_URL set = watchlists drive the feeders too.
import { parseArgs } from 'node:util';
import { freePort, metricValue, startInflux, startService, type RunningService } from '@mt/testing';
import { demoFeederEnv, startDemoSources } from './demo-sources.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: process.env.DEMO_SYMBOLS ?? '20' },
    rate: { type: 'string', default: process.env.DEMO_RATE ?? '400' },
    minutes: { type: 'string', default: '0' },
    'no-news': { type: 'boolean', default: false },
  },
});
const say = (msg: string) => process.stdout.write(`[demo] ${msg}\n`);

const demo = await startDemoSources({ rate: Number(values.rate), news: !values['no-news'] });
const sourcesEnv = demoFeederEnv('127.0.0.1', demo.ports, Number(values.symbols));

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
};
const services: RunningService[] = [];
const market = await startService('market-feeder', {
  ...common,
  ...sourcesEnv.market,
  ALERTMANAGER_URL: process.env.ALERTMANAGER_URL ?? dead,
});
services.push(market);
say(`market feeder: metrics ${market.url}/metrics, log ${market.logFile}`);

if (!values['no-news']) {
  const news = await startService('news-feeder', { ...common, ...sourcesEnv.news });
  services.push(news);
  say(`news feeder: metrics ${news.url}/metrics, log ${news.logFile}`);
}
say(`replay server: ${demo.replay.wsUrl} (${values.rate} frames/s, ×5 bursts every 30 s), ${values.symbols} symbols. Ctrl-C stops everything.`);

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
  await demo.close();
  await stopInflux();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (Number(values.minutes) > 0) setTimeout(() => void stop(), Number(values.minutes) * 60_000);
