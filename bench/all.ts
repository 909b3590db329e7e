// `npm run bench [-- name ...]`: runs the benchmarks one after another (each prints its table and keeps
// raw data in bench/results/). Names: ingest, shards, latency, live, watch, alert, rules, backtest, rss, api, news, sentiment, venues, venue-ingest. Default: all.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BENCH_DIR } from './lib.js';

const ALL = ['ingest', 'shards', 'latency', 'live', 'watch', 'alert', 'rules', 'backtest', 'api', 'rss', 'news', 'sentiment', 'venues', 'venue-ingest'];
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of names.length ? names : ALL) {
  if (!ALL.includes(name)) throw new Error(`unknown benchmark ${name}; one of ${ALL.join(', ')}`);
  process.stdout.write(`\n=== ${name}\n`);
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), path.join(BENCH_DIR, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
