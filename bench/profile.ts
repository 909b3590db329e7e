// Where the market feeder spends its CPU under a flood (explains the ingest figures): the bundled
// feeder runs with --cpu-prof at --symbols symbols for --seconds, then the functions with the most
// self time are listed, grouped by package (node internals, ws, prom-client, our code, ...).
//
//   node --conditions=source --import tsx bench/profile.ts --symbols 50 --seconds 15
import { parseArgs } from 'node:util';
import { startInflux, waitFor } from '@mt/testing';
import { bundleService, profileSummary, saveResult, sleep, startBundled } from './lib.js';
import { ReplayServer, replayFeederEnv } from './replay.js';

const { values } = parseArgs({ options: { symbols: { type: 'string', default: '50' }, seconds: { type: 'string', default: '15' }, top: { type: 'string', default: '25' } } });
const N = Number(values.symbols);
const replay = await new ReplayServer({ rate: 0 }).listen();
const influx = await startInflux();
const feeder = await startBundled(
  await bundleService('feeders/src/market/main.ts'),
  await replayFeederEnv(replay, influx.url, N),
  ['--cpu-prof'],
);
try {
  await waitFor(() => replay.stats().streams >= 4 * N, 60_000, 'subscribed');
  await sleep(Number(values.seconds) * 1000);
} finally {
  await feeder.stop();
  await replay.close();
  await influx.stop();
}

const lines = profileSummary(feeder.dir, Number(values.top));
process.stdout.write(`${lines.join('\n')}\n`);
saveResult(`profile-${N}`, { symbols: N, seconds: Number(values.seconds), lines });
process.exit(0);
