// Shared by the bench scripts: statistics, the machine description every result carries, result files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, '..');

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

/** "median (min–max, n runs)" */
export function spread(xs: number[], digits = 0): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))}, ${xs.length} runs)`;
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'n/a';
  }
}

export function machine(): Record<string, string | number> {
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    influxd: tryRun('influxd', ['version']),
    postgres: tryRun('/usr/lib/postgresql/15/bin/postgres', ['--version']),
    alertmanager: tryRun('prometheus-alertmanager', ['--version']).split('\n')[0] ?? 'n/a',
    loadavg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    at: new Date().toISOString(),
  };
}

/** Print a result and keep its raw data in bench/results/<name>.raw.json (git-ignored). */
export function saveResult(name: string, result: unknown): void {
  const dir = path.join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.raw.json`), JSON.stringify(result, null, 2));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** RSS of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return NaN;
  }
}
