// Price crossing → Telegram request through Alertmanager (target p99 < 3 s).
// Real path: the replay server sends the crossing frame → market feeder (rules from the watchlist API's
// PostgreSQL) → POST /api/v2/alerts to a real Alertmanager with the committed config (PriceAlert route,
// group_wait 0) → the local Telegram Bot API. Measured: send time of the first frame at the new price →
// arrival of the sendMessage request. Each sample is a new rule on its own symbol (one alert group each).
//
//   npm run bench -- alert     (or: node --conditions=source --import tsx bench/alert.ts --runs 3 --rules 20)
import { parseArgs } from 'node:util';
import { waitFor } from '@mt/testing';
import { machine, percentile, saveResult, sleep, spread } from './lib.js';
import { benchSymbols } from './replay.js';
import { startStack } from './stack.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    rules: { type: 'string', default: '20' },
    rate: { type: 'string', default: '2000' },
  },
});
const RUNS = Number(values.runs);
const RULES = Number(values.rules);
const info = machine();
const stack = await startStack({ replay: { rate: Number(values.rate), burstEveryMs: 5000, burstMs: 200, burstFactor: 10 }, alerts: true, feederEnv: { BACKFILL_HOURS: '0', ALERT_DIGEST_AFTER: '1000' } });
// ^ every sample is one crossing measured on its own: no digest (bursts are measured by the digest e2e test)
const telegram = stack.telegram!;
const all = benchSymbols(RUNS * RULES);

interface Sample {
  run: number;
  symbol: string;
  ms: number;
}
const samples: Sample[] = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const symbols = all.slice((run - 1) * RULES, run * RULES);
    await stack.call('POST', '/api/watchlists', { name: `alerts${run}`, items: symbols.map((symbol) => ({ symbol, asset_type: 'crypto' })) });
    await waitFor(() => stack.replay.stats().streams >= 4 * RULES * run, 60_000, 'symbols subscribed');
    // every symbol trades around 100 (a 0.1 % walk per frame stays far from 110) before its rule exists
    await Promise.all(symbols.map((s) => stack.replay.setPrice(s, 100)));
    for (const symbol of symbols) await stack.call('POST', '/api/alert-rules', { symbol, condition: 'above', threshold: 110, cooldown_seconds: 3600, severity: 'warning' });
    await waitFor(() => stack.feeder.logs().some((l) => l.msg === 'watch set' && l.rules === RULES * run), 10_000, 'rules loaded by the feeder');
    await sleep(2000); // the first evaluation of a rule only records its state
    for (const symbol of symbols) {
      const crossedAt = await stack.replay.setPrice(symbol, 112);
      const msg = await waitFor(() => telegram.messages.find((m) => m.text.includes(`${symbol} above`)), 30_000, `Telegram message for ${symbol}`, 5);
      samples.push({ run, symbol, ms: msg.at - crossedAt });
      await sleep(300);
    }
    const rs = samples.filter((s) => s.run === run).map((s) => s.ms);
    process.stdout.write(`run ${run}: ${rs.length} alerts, p50 ${percentile(rs, 50)} ms, p99 ${percentile(rs, 99)} ms, max ${Math.max(...rs)} ms\n`);
  }
} finally {
  await stack.close();
}
const runsIdx = [...Array(RUNS).keys()].map((i) => i + 1);
const per = (run: number, p: number) => percentile(samples.filter((s) => s.run === run).map((s) => s.ms), p);
const allMs = samples.map((s) => s.ms);
const table = [
  '| samples | p50 ms (per run) | p99 ms (per run) | all samples p50 / p99 / max ms |',
  '|---|---|---|---|',
  `| ${samples.length} (${RUNS} runs × ${RULES}) | ${spread(runsIdx.map((r) => per(r, 50)))} | ${spread(runsIdx.map((r) => per(r, 99)))} | ${percentile(allMs, 50)} / ${percentile(allMs, 99)} / ${Math.max(...allMs)} |`,
].join('\n');
process.stdout.write(`\n${table}\n`);
saveResult('alert', { machine: info, samples, table });
process.exit(0);
