// A real Alertmanager (Debian's `prometheus-alertmanager`, 0.25) on loopback with its own data dir, alone
// or as one peer of an HA cluster gossiping on loopback (startAlertmanagerCluster). Its config is the repository's alertmanager/alertmanager.yml.tmpl rendered by
// alertmanager/render-config.sh — the same path the container takes — pointed at local fakes, with
// group timings shortened for tests.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { freePort, readyUnlessExited, spawnTracked, tmpDir, waitHttp, which, type Tracked } from './proc.js';
import { SmtpSink } from '../fakes/smtp.js';
import { TelegramFake } from '../fakes/telegram.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ALERTMANAGER_DIR = path.join(REPO, 'alertmanager');

export interface RouteTimings {
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
}

interface Route extends RouteTimings {
  routes?: Route[];
}

/**
 * Render the committed template with `env` (TELEGRAM_*, SMTP_*, ALERT_EMAIL_*, …: docs/ALERTING.md) into
 * `dir`. `timings` replaces every group_wait/group_interval/repeat_interval that the config sets.
 */
export function renderAlertmanagerConfig(env: Record<string, string>, opts: { dir?: string; timings?: RouteTimings } = {}): string {
  const dir = opts.dir ?? tmpDir('am-config');
  const out = path.join(dir, 'alertmanager.yml');
  execFileSync('sh', [path.join(ALERTMANAGER_DIR, 'render-config.sh'), path.join(ALERTMANAGER_DIR, 'alertmanager.yml.tmpl'), out], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (opts.timings) {
    const cfg = parse(readFileSync(out, 'utf8'), { merge: true }) as { route: Route };
    const walk = (r: Route) => {
      for (const k of ['group_wait', 'group_interval', 'repeat_interval'] as const) if (r[k] !== undefined && opts.timings![k]) r[k] = opts.timings![k];
      r.routes?.forEach(walk);
    };
    walk(cfg.route);
    writeFileSync(out, stringify(cfg), { mode: 0o600 });
  }
  return out;
}

export interface AlertmanagerServer {
  url: string;
  port: number;
  dir: string;
  configFile: string;
  proc: Tracked;
  stop(): Promise<void>;
  /** Start again after stop() or a kill: same ports, same data directory (and cluster peers). */
  restart(): Promise<void>;
  /** Alerts as Alertmanager sees them (GET /api/v2/alerts), optionally filtered by matchers like `alertname="X"`. */
  alerts(...filter: string[]): Promise<GettableAlert[]>;
}

export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  receivers: { name: string }[];
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
}

export interface ClusterOptions {
  /** Gossip address of this peer (`127.0.0.1:port`). */
  listen: string;
  /** Gossip addresses of the other peers (`--cluster.peer`). */
  peers: string[];
  /**
   * `--cluster.peer-timeout`: the peer at position k of the cluster waits k × this before notifying, and
   * skips what an earlier peer has already notified (Alertmanager's default 15 s; shorter in tests).
   */
  peerTimeout?: string;
}

export async function startAlertmanager(configFile: string, opts: { cluster?: ClusterOptions } = {}): Promise<AlertmanagerServer> {
  const bin = which('prometheus-alertmanager', 'alertmanager');
  const dir = tmpDir('alertmanager');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { cluster } = opts;
  const args = [
    `--config.file=${configFile}`,
    `--storage.path=${dir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=${url}`,
    // alone: no HA gossip, which would bind a fixed port (9094) and wait for peers
    ...(cluster
      ? [
          `--cluster.listen-address=${cluster.listen}`,
          `--cluster.advertise-address=${cluster.listen}`,
          ...cluster.peers.map((p) => `--cluster.peer=${p}`),
          `--cluster.peer-timeout=${cluster.peerTimeout ?? '15s'}`,
          // loopback only: no public address to find, nothing to wait for on a slow network
          '--cluster.probe-timeout=200ms',
          '--cluster.probe-interval=500ms',
        ]
      : ['--cluster.listen-address=']),
    '--log.level=debug',
  ];
  const launch = async () => {
    const proc = spawnTracked(bin, args, { logFile: path.join(dir, 'alertmanager.log') });
    server.proc = proc;
    await readyUnlessExited(proc, waitHttp(`${url}/-/ready`, 30_000), 'alertmanager', path.join(dir, 'alertmanager.log'));
  };
  const server: AlertmanagerServer = {
    url,
    port,
    dir,
    configFile,
    proc: undefined as unknown as Tracked,
    stop: () => server.proc.stop(),
    restart: launch,
    async alerts(...filter) {
      const q = new URLSearchParams(filter.map((f): [string, string] => ['filter', f]));
      const res = await fetch(`${url}/api/v2/alerts?${q}`);
      if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status}`);
      return (await res.json()) as GettableAlert[];
    },
  };
  await launch();
  return server;
}

export interface AlertmanagerCluster {
  peers: AlertmanagerServer[];
  /** The peers' API URLs, comma-separated: the feeder's ALERTMANAGER_URL for an HA cluster. */
  urls: string;
  stop(): Promise<void>;
}

/** `n` Alertmanager peers on one config, gossiping on loopback; resolves once every one sees the whole cluster, settled. */
export async function startAlertmanagerCluster(configFile: string, n = 3, opts: { peerTimeout?: string; timeoutMs?: number } = {}): Promise<AlertmanagerCluster> {
  const gossip: string[] = [];
  for (let i = 0; i < n; i++) gossip.push(`127.0.0.1:${await freePort()}`);
  const peers = await Promise.all(
    gossip.map((listen) => startAlertmanager(configFile, { cluster: { listen, peers: gossip.filter((g) => g !== listen), peerTimeout: opts.peerTimeout } })),
  );
  const cluster: AlertmanagerCluster = {
    peers,
    urls: peers.map((p) => p.url).join(','),
    stop: async () => {
      await Promise.allSettled(peers.map((p) => p.stop()));
    },
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const states = await Promise.all(peers.map((p) => clusterStatus(p.url).catch(() => ({ status: 'down', peers: 0 }))));
    if (states.every((s) => s.peers === n && s.status === 'ready')) return cluster;
    if (Date.now() > deadline) {
      await cluster.stop();
      throw new Error(`alertmanager cluster did not form: ${states.map((s) => `${s.status} with ${s.peers} of ${n} peers`).join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An Alertmanager's view of its cluster (GET /api/v2/status): `ready` once gossip has settled, and the peers it sees, itself included. */
export async function clusterStatus(url: string): Promise<{ name: string; status: string; peers: number }> {
  const res = await fetch(`${url}/api/v2/status`);
  if (!res.ok) throw new Error(`GET /api/v2/status: ${res.status}`);
  const { cluster } = (await res.json()) as { cluster?: { name?: string; status?: string; peers?: unknown[] } };
  return { name: cluster?.name ?? '', status: cluster?.status ?? 'disabled', peers: cluster?.peers?.length ?? 0 };
}

export interface AlertDelivery {
  am: AlertmanagerServer;
  telegram: TelegramFake;
  smtp: SmtpSink;
  close(): Promise<void>;
}

/**
 * The delivery end of the alerting path: a real Alertmanager on the committed configuration, routing to
 * the local Telegram Bot API and an SMTP sink. `env` adds to or overrides the rendered settings.
 */
export async function startAlertDelivery(env: Record<string, string> = {}): Promise<AlertDelivery> {
  const [telegram, smtp] = await Promise.all([new TelegramFake().listen(), new SmtpSink().listen()]);
  const am = await startAlertmanager(deliveryConfig(telegram, smtp, env));
  return {
    am,
    telegram,
    smtp,
    close: async () => {
      await Promise.allSettled([am.stop(), telegram.close(), smtp.close()]);
    },
  };
}

export interface HaAlertDelivery {
  cluster: AlertmanagerCluster;
  telegram: TelegramFake;
  smtp: SmtpSink;
  close(): Promise<void>;
}

/** startAlertDelivery with an HA cluster of `n` real Alertmanager peers on the committed configuration. */
export async function startHaAlertDelivery(n = 3, opts: { env?: Record<string, string>; peerTimeout?: string } = {}): Promise<HaAlertDelivery> {
  const [telegram, smtp] = await Promise.all([new TelegramFake().listen(), new SmtpSink().listen()]);
  const cluster = await startAlertmanagerCluster(deliveryConfig(telegram, smtp, opts.env ?? {}), n, { peerTimeout: opts.peerTimeout });
  return {
    cluster,
    telegram,
    smtp,
    close: async () => {
      await Promise.allSettled([cluster.stop(), telegram.close(), smtp.close()]);
    },
  };
}

function deliveryConfig(telegram: TelegramFake, smtp: SmtpSink, env: Record<string, string>): string {
  return renderAlertmanagerConfig({
    TELEGRAM_API_URL: telegram.url,
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_CHAT_ID: '-1001',
    ALERT_EMAIL_TO: 'trader@example.org',
    SMTP_SMARTHOST: smtp.hostPort,
    SMTP_REQUIRE_TLS: 'false',
    ...env,
  });
}
