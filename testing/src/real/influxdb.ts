// A real InfluxDB 1.x (Debian's `influxd`) on loopback with its own data dir and ports. Can be stopped
// and started again on the same port and data (for outage tests), or frozen with SIGSTOP.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, readyUnlessExited, spawnTracked, tmpDir, waitHttp, which, type Tracked } from './proc.js';

export interface InfluxServer {
  url: string;
  port: number;
  /** The RPC bind address's port (`influxd backup/restore -host 127.0.0.1:<rpcPort>`). */
  rpcPort: number;
  dir: string;
  /** Start again after stop()/kill(), same port and data. */
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Run InfluxQL (GET for SELECT/SHOW, POST otherwise) and return the parsed JSON. */
  query(q: string, db?: string): Promise<InfluxQLResponse>;
}

export interface InfluxQLSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
export interface InfluxQLResponse {
  results: { statement_id: number; series?: InfluxQLSeries[]; error?: string }[];
  error?: string;
}

export interface StartInfluxOptions {
  cqRunInterval?: string;
  /** Enable HTTP auth with this admin (created on first start); query() then authenticates as it. */
  admin?: { user: string; password: string };
}

export async function startInflux(opts: StartInfluxOptions = {}): Promise<InfluxServer> {
  const bin = which('influxd');
  const dir = tmpDir('influx');
  const port = await freePort();
  const rpcPort = await freePort();
  for (const d of ['meta', 'data', 'wal']) mkdirSync(path.join(dir, d));
  const conf = path.join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  max-body-size = 25000000${opts.admin ? '\n  auth-enabled = true' : ''}
[continuous_queries]
  enabled = true
  log-enabled = false
  run-interval = "${opts.cqRunInterval ?? '1s'}"
[monitor]
  store-enabled = false
[logging]
  level = "warn"
`,
  );
  const url = `http://127.0.0.1:${port}`;
  const auth: Record<string, string> = opts.admin ? { authorization: `Basic ${Buffer.from(`${opts.admin.user}:${opts.admin.password}`).toString('base64')}` } : {};
  let proc: Tracked | undefined;
  const start = async () => {
    const log = path.join(dir, 'influxd.log');
    proc = spawnTracked(bin, ['-config', conf], { logFile: log });
    await readyUnlessExited(proc, waitHttp(`${url}/ping`, 30_000), 'influxd', log);
  };
  await start();
  if (opts.admin) {
    // with auth on and no user yet, influxd accepts exactly this statement unauthenticated
    const q = `CREATE USER "${opts.admin.user}" WITH PASSWORD '${opts.admin.password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' WITH ALL PRIVILEGES`;
    const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
    if (!res.ok) throw new Error(`creating the InfluxDB admin: ${res.status} ${await res.text()}`);
  }
  return {
    url,
    port,
    rpcPort,
    dir,
    start,
    stop: async () => proc?.stop(),
    kill: async () => proc?.kill(),
    pause: () => proc?.pause(),
    resume: () => proc?.resume(),
    async query(q, db) {
      const params = new URLSearchParams({ q, epoch: 'ms' });
      if (db) params.set('db', db);
      const isRead = /^\s*(SELECT|SHOW)/i.test(q);
      const res = await fetch(`${url}/query${isRead ? `?${params}` : ''}`, isRead ? { headers: auth } : { method: 'POST', body: params, headers: auth });
      const body = (await res.json()) as InfluxQLResponse;
      if (!res.ok) throw new Error(`InfluxQL ${res.status}: ${JSON.stringify(body)}`);
      return body;
    },
  };
}
