#!/usr/bin/env node
// Runs every test file (`<workspace>/test/**/*.test.ts`, `scripts/test/*.test.ts`) with node's own
// test runner, TypeScript through tsx, workspace packages resolved to their sources (`source` condition).
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const skip = new Set(['node_modules', 'dist', 'fixtures', '.git']);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const roots = ['common', 'testing', 'feeders', 'watchlist-api', 'grafana', 'influxdb-tasks', 'nginx', 'prometheus', 'alertmanager', 'scripts', 'bench', 'reliability']
  .map((d) => path.join(root, d, 'test'))
  .filter((d) => {
    try {
      return statSync(d).isDirectory();
    } catch {
      return false;
    }
  });
const filters = process.argv.slice(2);
let files = roots.flatMap((d) => walk(d, [])).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
console.log(`running ${files.length} test files`);
const res = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    // a hung test fails (and names itself) instead of eating CI's time; the longest scenario needs ~1 min
    `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? 300_000}`,
    // a file whose tests all finished exits even if a client socket of some server lingers
    '--test-force-exit',
    ...files.map((f) => path.relative(root, f)),
  ],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(res.status ?? 1);
