// A real Prometheus (Debian's `prometheus`, 2.42) on loopback with its own TSDB dir. Its config is the
// repository's prometheus/prometheus.yml and rules/*.yml with the scrape targets replaced by loopback
// ones and intervals and `for:` durations shortened for tests.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { freePort, readyUnlessExited, spawnTracked, tmpDir, waitHttp, which, type Tracked } from './proc.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PROMETHEUS_DIR = path.join(REPO, 'prometheus');

export interface PrometheusTestConfig {
  /** job name → loopback targets; jobs of the committed config not listed here are dropped. */
  targets: Record<string, string[]>;
  /** Alertmanager host:port. */
  alertmanager?: string;
  /** scrape and evaluation interval (default 1s). */
  interval?: string;
  /** every rule's `for:` becomes this (default 2s); rules without one stay without. */
  ruleFor?: string;
}

interface PromConfig {
  global: Record<string, unknown>;
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: { job_name: string; scrape_interval?: string; static_configs: { targets: string[] }[] }[];
}

/** Write the test render of the committed config and rules into `dir`; returns the config path. */
export function renderPrometheusConfig(o: PrometheusTestConfig, dir = tmpDir('prom-config')): string {
  const interval = o.interval ?? '1s';
  const cfg = parse(readFileSync(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as PromConfig;
  cfg.global = { ...cfg.global, scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval };
  cfg.scrape_configs = cfg.scrape_configs
    .filter((s) => o.targets[s.job_name])
    .map((s) => {
      const { scrape_interval: _drop, ...rest } = s;
      return { ...rest, static_configs: [{ targets: o.targets[s.job_name]! }] };
    });
  cfg.alerting = { alertmanagers: o.alertmanager ? [{ static_configs: [{ targets: [o.alertmanager] }] }] : [] };
  mkdirSync(path.join(dir, 'rules'), { recursive: true });
  for (const f of readdirSync(path.join(PROMETHEUS_DIR, 'rules')).filter((n) => n.endsWith('.yml'))) {
    const rules = parse(readFileSync(path.join(PROMETHEUS_DIR, 'rules', f), 'utf8')) as { groups: { interval?: string; rules: { for?: string }[] }[] };
    for (const g of rules.groups) for (const r of g.rules) if (r.for) r.for = o.ruleFor ?? '2s';
    writeFileSync(path.join(dir, 'rules', f), stringify(rules));
  }
  const file = path.join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(cfg));
  return file;
}

export interface PrometheusServer {
  url: string;
  port: number;
  dir: string;
  proc: Tracked;
  stop(): Promise<void>;
  /** Instant query (GET /api/v1/query). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Alerts in pending/firing state (GET /api/v1/alerts). */
  alerts(): Promise<{ labels: Record<string, string>; annotations: Record<string, string>; state: string }[]>;
}

export async function startPrometheus(configFile: string): Promise<PrometheusServer> {
  const bin = which('prometheus');
  const dir = tmpDir('prometheus');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnTracked(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      // re-send firing alerts every second (default 1 m): alerts that fire before the Alertmanager is
      // discovered are dropped once and would otherwise wait a minute
      '--rules.alert.resend-delay=1s',
      '--log.level=warn',
    ],
    { logFile: path.join(dir, 'prometheus.log') },
  );
  await readyUnlessExited(proc, waitHttp(`${url}/-/ready`, 30_000), 'prometheus', path.join(dir, 'prometheus.log'));
  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${url}${p}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${p}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    port,
    dir,
    proc,
    stop: () => proc.stop(),
    async query(expr) {
      return (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
    },
    async alerts() {
      return (await api<{ alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts;
    },
  };
}
