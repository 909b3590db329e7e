// Watchlist API under autocannon: requests/s and p99 latency of the list and read routes, the API
// process pinned to one core (taskset, all its threads), autocannon on the other core together with
// PostgreSQL. Data: 50 watchlists × 20 items, 100 alert rules. 10 connections, --seconds per run.
//
//   npm run bench -- api     (or: node --conditions=source --import tsx bench/api.ts --runs 3 --seconds 10)
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres, startService, waitFor } from '@mt/testing';
import { ROOT, machine, saveResult, spread } from './lib.js';
import { benchSymbols } from './replay.js';
import { TOKEN } from './stack.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
  },
});
const info = machine();
const pg = await startPostgres();
const databaseUrl = await pg.createDatabase(`bench_api_${process.pid}`);
const api = await startService('watchlist-api', { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN, LOG_LEVEL: 'warn', NODE_ENV: 'production' }, { waitHealthy: true });
await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 30_000, 'API migrated');
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const post = async (p: string, body: unknown) => {
  const res = await fetch(`${api.url}${p}`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
};
const symbols = benchSymbols(100);
let firstList = '';
let firstRule = '';
for (let i = 0; i < 50; i++) {
  const w = await post('/api/watchlists', { name: `list ${i}`, items: symbols.slice(i, i + 20).map((symbol) => ({ symbol, asset_type: 'crypto' })) });
  firstList ||= w.id;
}
for (let i = 0; i < 100; i++) {
  const r = await post('/api/alert-rules', { symbol: symbols[i], condition: 'above', threshold: 100 + i, severity: 'warning' });
  firstRule ||= r.id;
}
// the API on core 1 (every thread), this process and autocannon on core 0
execFileSync('taskset', ['-a', '-cp', '1', String(api.proc.child.pid)], { stdio: 'ignore' });

const routes = [
  { name: 'GET /api/watchlists (list, 50 per page)', path: '/api/watchlists' },
  { name: 'GET /api/watchlists/{id} (20 items)', path: `/api/watchlists/${firstList}` },
  { name: 'GET /api/alert-rules (list, 50 per page)', path: '/api/alert-rules' },
  { name: 'GET /api/alert-rules/{id}', path: `/api/alert-rules/${firstRule}` },
];

interface Run {
  route: string;
  run: number;
  rps: number;
  bytesPerResponse: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}
const runs: Run[] = [];
function autocannon(
  url: string,
): Promise<{ requests: { average: number }; throughput: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const args = ['-c', '0', path.join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'), '-j', '-c', values.connections, '-d', values.seconds, '-H', `authorization=Bearer ${TOKEN}`, url];
    const child = spawn('taskset', [args[0]!, args[1]!, process.execPath, ...args.slice(2)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as never);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
try {
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const r of routes) {
      const res = await autocannon(`${api.url}${r.path}`);
      const x = { route: r.name, run, rps: res.requests.average, bytesPerResponse: Math.round(res.throughput.average / res.requests.average), p50: res.latency.p50, p99: res.latency.p99, non2xx: res.non2xx, errors: res.errors };
      runs.push(x);
      process.stdout.write(`${JSON.stringify(x)}\n`);
    }
  }
} finally {
  await api.stop();
  await pg.stop();
}
const rows = ['| route | response size | requests/s | p50 ms | p99 ms | non-2xx / errors |', '|---|---|---|---|---|---|'];
for (const r of routes) {
  const rs = runs.filter((x) => x.route === r.name);
  rows.push(`| ${r.name} | ${(rs[0]!.bytesPerResponse / 1024).toFixed(1)} KiB | ${spread(rs.map((x) => x.rps))} | ${spread(rs.map((x) => x.p50))} | ${spread(rs.map((x) => x.p99))} | ${rs.reduce((a, x) => a + x.non2xx, 0)} / ${rs.reduce((a, x) => a + x.errors, 0)} |`);
}
const table = rows.join('\n');
process.stdout.write(`\n${table}\n`);
saveResult('api', { machine: info, connections: Number(values.connections), seconds: Number(values.seconds), runs, table });
process.exit(0);
