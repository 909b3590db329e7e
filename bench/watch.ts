// Watchlist change → first point of the new symbol stored (contract: within one second).
// Real watchlist API + PostgreSQL (NOTIFY) → market feeder (LISTEN, SUBSCRIBE on the open connection)
// → replay server → InfluxDB. 50 symbols are already watched and streaming (all 4 streams each, at
// --rate frames/s with ×10 bursts); each sample POSTs one new symbol and polls InfluxDB every 10 ms
// for its first market_data point. Measured from the moment the POST is sent.
//
//   npm run bench -- watch     (or: node --conditions=source --import tsx bench/watch.ts --runs 3 --adds 30)
import { parseArgs } from 'node:util';
import { waitFor } from '@mt/testing';
import { machine, percentile, saveResult, sleep, spread } from './lib.js';
import { benchSymbols } from './replay.js';
import { startStack } from './stack.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    adds: { type: 'string', default: '30' },
    base: { type: 'string', default: '50' },
    rate: { type: 'string', default: '4000' },
  },
});
const RUNS = Number(values.runs);
const ADDS = Number(values.adds);
const BASE = Number(values.base);
const info = machine();
const stack = await startStack({ replay: { rate: Number(values.rate), burstEveryMs: 5000, burstMs: 200, burstFactor: 10 } });
const all = benchSymbols(BASE + RUNS * ADDS);

interface Sample {
  run: number;
  symbol: string;
  fromSentMs: number;
  fromCommittedMs: number;
}
const samples: Sample[] = [];
try {
  const w = await stack.call<{ id: string }>('POST', '/api/watchlists', { name: 'base', items: all.slice(0, BASE).map((symbol) => ({ symbol, asset_type: 'crypto' })) });
  await waitFor(() => stack.replay.stats().streams >= 4 * BASE, 60_000, 'base symbols subscribed');
  await sleep(5000);
  for (let run = 1; run <= RUNS; run++) {
    // one watchlist per run, so a run's additions do not make one list ever larger
    const list = run === 1 ? w : await stack.call<{ id: string }>('POST', '/api/watchlists', { name: `run${run}` });
    for (let i = 0; i < ADDS; i++) {
      const symbol = all[BASE + (run - 1) * ADDS + i]!;
      const q = `${stack.influx.url}/query?${new URLSearchParams({ db: 'markets', q: `SELECT "price" FROM "market_data" WHERE "symbol"='${symbol}' LIMIT 1` })}`;
      const sent = Date.now();
      await stack.call('POST', `/api/watchlists/${list.id}/items`, { symbol, asset_type: 'crypto' });
      const committed = Date.now();
      const found = await waitFor(
        async () => {
          const body = (await (await fetch(q)).json()) as { results: { series?: unknown[] }[] };
          return body.results[0]?.series?.length ? Date.now() : undefined;
        },
        30_000,
        `first point of ${symbol}`,
        10,
      );
      samples.push({ run, symbol, fromSentMs: found - sent, fromCommittedMs: found - committed });
      await sleep(500);
    }
    const rs = samples.filter((s) => s.run === run).map((s) => s.fromSentMs);
    process.stdout.write(`run ${run}: ${rs.length} additions, p50 ${percentile(rs, 50)} ms, p99 ${percentile(rs, 99)} ms, max ${Math.max(...rs)} ms\n`);
  }
} finally {
  await stack.close();
}
const per = (run: number, p: number) => percentile(samples.filter((s) => s.run === run).map((s) => s.fromSentMs), p);
const runsIdx = [...Array(RUNS).keys()].map((i) => i + 1);
const allMs = samples.map((s) => s.fromSentMs);
const table = [
  '| samples | p50 ms (per run) | p99 ms (per run) | all samples p50 / p99 / max ms | over 1 s |',
  '|---|---|---|---|---|',
  `| ${samples.length} (${RUNS} runs × ${ADDS}) | ${spread(runsIdx.map((r) => per(r, 50)))} | ${spread(runsIdx.map((r) => per(r, 99)))} | ${percentile(allMs, 50)} / ${percentile(allMs, 99)} / ${Math.max(...allMs)} | ${allMs.filter((x) => x > 1000).length} |`,
].join('\n');
process.stdout.write(`\n${table}\n`);
saveResult('watch', { machine: info, samples, table });
process.exit(0);
