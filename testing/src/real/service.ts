// Runs one of our own services (market feeder, news feeder, watchlist API) as a real child process from
// its TypeScript sources, the way `npm run <service>` runs it, so tests can SIGTERM/SIGKILL and restart it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, readyUnlessExited, spawnTracked, tmpDir, waitHttp, type Tracked } from './proc.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const SERVICE_ENTRY = {
  'market-feeder': 'feeders/src/market/main.ts',
  'news-feeder': 'feeders/src/news/main.ts',
  'watchlist-api': 'watchlist-api/src/server.ts',
} as const;
export type ServiceName = keyof typeof SERVICE_ENTRY;

export interface RunningService {
  name: ServiceName;
  /** Port of /metrics and /healthz (METRICS_PORT for feeders, PORT for the API). */
  port: number;
  url: string;
  logFile: string;
  proc: Tracked;
  /** Start again (same env, same port) after stop()/kill(). */
  restart(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL now. */
  kill(): Promise<void>;
  /** Raw Prometheus text from /metrics. */
  metrics(): Promise<string>;
  /** The JSON log lines written so far. */
  logs(): Record<string, unknown>[];
}

/**
 * Start a service with `env` (merged over a minimal environment; no `.env` is read because cwd is a temp dir).
 * Waits until /healthz answers (any status unless `waitHealthy`).
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  /** root: another checkout of this repository to run the service from (a bench's before/after peer). */
  opts: { waitHealthy?: boolean; timeoutMs?: number; root?: string } = {},
): Promise<RunningService> {
  const port = await freePort();
  const dir = tmpDir(name);
  const logFile = path.join(dir, `${name}.log`);
  const portVar = name === 'watchlist-api' ? 'PORT' : 'METRICS_PORT';
  const fullEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    [portVar]: String(port),
    ...env,
  };
  const url = `http://127.0.0.1:${Number(fullEnv[portVar])}`;
  let proc!: Tracked;
  const launch = async () => {
    // tsx by absolute URL: a bare `tsx` would be resolved from cwd, the temp dir, where it is not installed
    proc = spawnTracked(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), path.join(opts.root ?? ROOT, SERVICE_ENTRY[name])], {
      cwd: dir,
      env: fullEnv,
      logFile,
    });
    svc.proc = proc;
    await readyUnlessExited(proc, waitHttp(`${url}/healthz`, opts.timeoutMs ?? 30_000, opts.waitHealthy ? [200] : [200, 503]), name, logFile);
  };
  const svc: RunningService = {
    name,
    port: Number(fullEnv[portVar]),
    url,
    logFile,
    proc,
    restart: launch,
    async stop() {
      await proc.stop();
      return proc.exited;
    },
    kill: () => proc.kill(),
    async metrics() {
      const res = await fetch(`${url}/metrics`);
      return res.text();
    },
    logs() {
      return readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
  await launch();
  return svc;
}

/** Sum of a metric's samples in Prometheus text whose labels include every pair in `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const lbl = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => lbl.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/**
 * The market feeder's polled sources and Alertmanager pointed at a closed port, for runs where the local
 * Binance server is the only live source: they fail alone, as they would when unreachable. Spread it
 * first into a feeder's environment; keys after it override (a fake CoinGecko, a real Alertmanager).
 */
export async function unreachablePolledSources(): Promise<Record<string, string>> {
  const dead = `http://127.0.0.1:${await freePort()}`;
  return { YAHOO_URL: dead, YAHOO_COOKIE_URL: dead, COINGECKO_URL: dead, FEAR_GREED_URL: dead, ALERTMANAGER_URL: dead };
}
