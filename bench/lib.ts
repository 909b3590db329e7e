// Shared by the bench scripts: statistics, the machine description every result carries, result files.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnTracked, tmpDir, waitHttp } from '@mt/testing';

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

// the one sleep of the project (common/src/backoff.ts), re-exported for the scripts
import { sleep } from '@mt/common';
export { sleep };

/** RSS of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

/**
 * Bundle a service's TypeScript sources (workspace packages included, npm packages left as imports)
 * into one ESM file, so it runs on plain `node` like `npm run <service>` would, without tsx's loader
 * (whose extra thread and transform cache would count in the memory figures).
 */
export async function bundleService(entry: string, root = ROOT): Promise<string> {
  const { build } = await import('esbuild');
  // another checkout's code (a peer) bundles to a file of its own; npm packages still load from ours
  const tag = root === ROOT ? '' : `-peer-${path.basename(root)}`;
  const outfile = path.join(ROOT, 'node_modules', '.cache', 'mt-bench', `${path.basename(path.dirname(entry))}-${path.basename(entry, '.ts')}${tag}.mjs`);
  await build({
    entryPoints: [path.join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    logLevel: 'warning',
    // a bundled CommonJS dependency may still call require()
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [
      {
        name: 'npm-external',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@mt/') ? undefined : { path: a.path, external: true }));
        },
      },
    ],
  });
  return outfile;
}

export interface BundledService {
  url: string;
  pid: number;
  /** Its working directory (a temp dir), e.g. where --cpu-prof writes. */
  dir: string;
  logFile: string;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Run a bundle from bundleService() on plain node with `env` (METRICS_PORT chosen here); waits for /healthz. */
export async function startBundled(file: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<BundledService> {
  const port = await freePort();
  const dir = tmpDir('bench-svc');
  const logFile = path.join(dir, 'service.log');
  const proc = spawnTracked(process.execPath, [...nodeArgs, file], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', METRICS_PORT: String(port), ...env },
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/healthz`, 30_000, [200, 503]);
  return { url, pid: proc.child.pid!, dir, logFile, metrics: async () => (await fetch(`${url}/metrics`)).text(), stop: () => proc.stop() };
}

/** CPU seconds (user+sys) of a process, from /proc. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** What a client reports at the ends of a measured window: frames received so far, and counters to diff. */
export type WindowSample = { frames: number; extra: Record<string, number> };

/** A measured window (measureWindow): rates per second of wall time, counters as differences. */
export interface WindowResult {
  framesPerSec: number;
  /** the client's CPU-seconds per second */
  clientCpu: number;
  /** this process's (the servers') CPU-seconds per second */
  serverCpu: number;
  /** wall-clock ms at the window's ends */
  from: number;
  to: number;
  extra: Record<string, number>;
}

/**
 * One measured window of `ms` on a client process `pid`: its frames per second and CPU share (from /proc),
 * this process's CPU share (the servers it runs) and the counters' differences over the window.
 */
export async function measureWindow(pid: number, ms: number, sample: () => Promise<WindowSample>): Promise<WindowResult> {
  const a = await sample();
  const ca = cpuSeconds(pid);
  const sa = process.cpuUsage();
  const t0 = performance.now();
  const from = Date.now();
  await sleep(ms);
  const b = await sample();
  const secs = (performance.now() - t0) / 1000;
  const cb = cpuSeconds(pid);
  const sb = process.cpuUsage(sa);
  const extra: Record<string, number> = {};
  for (const k of Object.keys(b.extra)) extra[k] = (b.extra[k] ?? 0) - (a.extra[k] ?? 0);
  return { framesPerSec: (b.frames - a.frames) / secs, clientCpu: (cb - ca) / secs, serverCpu: (sb.user + sb.system) / 1e6 / secs, from, to: Date.now(), extra };
}

/**
 * For `ms`: poll InfluxDB (1.x at `url`) every `pollMs` for market_data points of the last 5 s and return,
 * per new point, (end of the first query that returned it) − (its timestamp, the newest trade merged into
 * it = the frame's send time in the replay): frame → queryable, an upper bound by up to one poll.
 */
export async function influxPointLatencies(url: string, ms: number, pollMs: number, symbols?: string[]): Promise<number[]> {
  const seen = new Set<string>();
  const lat: number[] = [];
  const start = Date.now();
  let first = true;
  // only these symbols' series (a sample): InfluxDB reads those alone, the rest of the machine is left to what is measured
  const only = symbols?.length ? ` AND (${symbols.map((x) => `"symbol" = '${x.replace(/'/g, "\\'")}'`).join(' OR ')})` : '';
  while (Date.now() - start < ms) {
    const t = Date.now();
    const res = await fetch(`${url}/query?${new URLSearchParams({ db: 'markets', epoch: 'ms', q: `SELECT "price" FROM "market_data" WHERE time > now() - 5s${only} GROUP BY "symbol"` })}`);
    const body = (await res.json()) as { results: { series?: { tags: { symbol: string }; values: [number, number][] }[] }[] };
    const at = Date.now();
    for (const s of body.results[0]?.series ?? []) {
      for (const [time] of s.values) {
        const key = `${s.tags.symbol}@${time}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // points already there at the first poll, or from before the window, have no known first-seen time
        if (!first && time >= start) lat.push(at - time);
      }
    }
    first = false;
    await sleep(Math.max(0, pollMs - (Date.now() - t)));
  }
  return lat;
}

export interface ForkedClient {
  pid: number;
  /** The client's counters (frames received, …) now. */
  sample(): Promise<{ frames: number } & Record<string, number>>;
  stop(): Promise<void>;
}

/** A bench client of bench/clients/ (`floor`: bare ws + JSON.parse; `peer`: ccxt pro) on `n` symbols of the replay server. */
export function forkClient(client: 'floor' | 'peer', wsUrl: string, n: number): ForkedClient {
  const child: ChildProcess = fork(path.join(BENCH_DIR, 'clients', client === 'floor' ? 'floor.ts' : 'ccxt.ts'), [wsUrl, String(n)], {
    execArgv: ['--conditions=source', '--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
    sample: () =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${client} did not answer`)), 10_000);
        child.once('message', (m: { frames: number; at: number } & Record<string, number>) => {
          clearTimeout(t);
          const { at: _at, ...counters } = m;
          resolve(counters);
        });
        child.send('sample');
      }),
  };
}

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Where a profiled function lives: our feeder bundle, an npm package, node internals, or a file. */
export function profileWhere(url: string): string {
  if (url.includes('mt-bench')) return 'ours (feeder bundle)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node';
  return url ? path.basename(url) : '(native/GC/idle)';
}

const frameKey = (f: ProfileNode['callFrame']) => `${f.functionName || '(anonymous)'} [${profileWhere(f.url)}:${f.lineNumber + 1}]`;

/** Self time by function and by package, `weight(node)` per node (samples, or µs), idle left out. */
export function selfTimes(nodes: ProfileNode[], weight: (n: ProfileNode) => number): { byFn: Map<string, number>; byPkg: Map<string, number>; total: number } {
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let total = 0;
  for (const n of nodes) {
    const w = weight(n);
    if (!w || n.callFrame.functionName === '(idle)') continue;
    const key = frameKey(n.callFrame);
    const pkg = profileWhere(n.callFrame.url);
    byFn.set(key, (byFn.get(key) ?? 0) + w);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + w);
    total += w;
  }
  return { byFn, byPkg, total };
}

/**
 * The `.cpuprofile` that `--cpu-prof` wrote in `dir`, as lines: self time by package (node internals,
 * ws, prom-client, our bundle, ...), then the `top` functions by self time. `skipFirstMs` leaves out the
 * samples of the process's first milliseconds (start-up, warm-up).
 */
export function profileSummary(dir: string, top: number, skipFirstMs = 0): string[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const hits = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i]!;
    if (t >= skipFirstMs * 1000) hits.set(prof.samples[i]!, (hits.get(prof.samples[i]!) ?? 0) + 1);
  }
  const total = [...hits.values()].reduce((a, h) => a + h, 0);
  const busy = total - prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((a, n) => a + (hits.get(n.id) ?? 0), 0);
  const { byFn, byPkg } = selfTimes(prof.nodes, (n) => hits.get(n.id) ?? 0);
  // inclusive time: each busy sample counted once for every distinct function on its stack
  const parent = new Map<number, ProfileNode>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const incl = new Map<string, number>();
  for (const n of prof.nodes) {
    const h = hits.get(n.id) ?? 0;
    if (!h || n.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let a: ProfileNode | undefined = n; a; a = parent.get(a.id)) {
      const key = frameKey(a.callFrame);
      if (seen.has(key) || a.callFrame.functionName === '(root)') continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + h);
    }
  }
  const pct = (h: number) => `${((h / busy) * 100).toFixed(1)} %`;
  return [
    `${busy} busy samples of ${total} (idle left out; shares below are of the busy ones)`,
    'self time by package:',
    ...[...byPkg].sort((a, b) => b[1] - a[1]).map(([k, h]) => `  ${pct(h).padStart(7)}  ${k}`),
    `top ${top} functions by self time:`,
    ...[...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, h]) => `  ${pct(h).padStart(7)}  ${k}`),
    `top ${top} functions by inclusive time (self + callees):`,
    ...[...incl]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, h]) => `  ${pct(h).padStart(7)}  ${k}`),
  ];
}
