// Where the market feeder spends its CPU under a flood (explains the ingest figures): the bundled
// feeder runs with --cpu-prof at --symbols symbols for --seconds, then the functions with the most
// self time are listed, grouped by package (node internals, ws, prom-client, our code, ...).
//
//   node --conditions=source --import tsx bench/profile.ts --symbols 50 --seconds 15
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startInflux, waitFor } from '@mt/testing';
import { bundleService, saveResult, sleep, startBundled } from './lib.js';
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

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const file = readdirSync(feeder.dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no .cpuprofile written');
const prof = JSON.parse(readFileSync(path.join(feeder.dir, file), 'utf8')) as { nodes: Node[] };
const total = prof.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
const where = (url: string) => {
  if (url.includes('mt-bench')) return 'ours (feeder bundle)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node';
  return url ? path.basename(url) : '(native/GC/idle)';
};
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const n of prof.nodes) {
  const h = n.hitCount ?? 0;
  if (!h) continue;
  const pkg = n.callFrame.functionName === '(idle)' ? '(idle)' : where(n.callFrame.url);
  const key = `${n.callFrame.functionName || '(anonymous)'} [${pkg}:${n.callFrame.lineNumber + 1}]`;
  byFn.set(key, (byFn.get(key) ?? 0) + h);
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + h);
}
const pct = (h: number) => `${((h / total) * 100).toFixed(1)} %`;
const lines = ['self time by package:', ...[...byPkg].sort((a, b) => b[1] - a[1]).map(([k, h]) => `  ${pct(h).padStart(7)}  ${k}`), `top ${values.top} functions by self time:`];
lines.push(...[...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)).map(([k, h]) => `  ${pct(h).padStart(7)}  ${k}`));
process.stdout.write(`${lines.join('\n')}\n`);
saveResult(`profile-${N}`, { symbols: N, seconds: Number(values.seconds), lines });
process.exit(0);
