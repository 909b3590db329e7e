// The compose deployment, validated with the real docker-compose (no engine here): the file resolves with
// no .env at all (working defaults), every image pinned, healthchecks and restart policies, limits that
// fit the 4 vCPU / 8 GB sizing, one private network, and nginx the only service with published ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEMO_NEWS_TOKEN } from '../../bench/demo-sources.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Service {
  image?: string;
  user?: string;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  build?: unknown;
  restart?: string;
  ports?: unknown[];
  networks?: Record<string, unknown> | string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  environment?: Record<string, string | null>;
  deploy?: { resources?: { limits?: { cpus?: string | number; memory?: string } } };
  volumes?: unknown[];
}

// An empty env file, so a developer's own .env never fills a default here.
const EMPTY_ENV = path.join(mkdtempSync(path.join(os.tmpdir(), 'mt-compose-')), 'empty.env');
writeFileSync(EMPTY_ENV, '');

function resolvedConfig(env: Record<string, string> = {}): { services: Record<string, Service>; networks: Record<string, unknown>; volumes: Record<string, unknown> } {
  // A clean environment: only what compose needs to run, so nothing from this machine fills a default.
  const out = execFileSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), '--project-directory', ROOT, '--env-file', EMPTY_ENV, 'config'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
  });
  return parse(out);
}

/** Volumes in either syntax (`source:target[:ro]` or the long form) → { source, target, read_only }. */
function mounts(s: Service): { source?: string; target: string; read_only: boolean }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      return { source, target: target ?? source!, read_only: mode === 'ro' };
    }
    const l = v as { source?: string; target: string; read_only?: boolean };
    return { source: l.source, target: l.target, read_only: l.read_only === true };
  });
}

const memBytes = (m: string) => {
  const r = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(m.trim());
  assert.ok(r, `memory limit ${m}`);
  return Number(r[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[r[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
};

test('docker-compose config accepts the file with no .env; no secret in it, the generated ones reach every service as files', () => {
  const cfg = resolvedConfig();
  const want = ['secrets-init', 'influxdb', 'postgres', 'grafana', 'prometheus', 'alertmanager', 'node-exporter', 'cadvisor', 'nginx', 'market-feeder', 'news-feeder', 'watchlist-api', 'influxdb-tasks', 'grafana-live-token'];
  for (const s of want) assert.ok(cfg.services[s], `service ${s}`);
  // no secret value anywhere in the resolved environment (secrets-init's are empty: generate)
  for (const [name, s] of Object.entries(cfg.services)) {
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      // the demo profile's credential for its own local fakes (bench/demo-sources.ts) is not a secret
      if (k.startsWith('DEMO_') && v === DEMO_NEWS_TOKEN) continue;
      if (/(PASSWORD|TOKEN|SECRET|_KEY)$/.test(k)) assert.ok(!v, `${name}: ${k} carries a value`);
    }
  }
  // every *_FILE points into a secrets volume mounted in that service (read-only unless it writes there)
  const mountOf = (s: Service, file: string) => mounts(s).find((v) => file.startsWith(`${v.target}/`));
  const files: [string, string, string][] = [
    ['watchlist-api', 'API_TOKEN_FILE', 'secrets-api'],
    ['watchlist-api', 'PGPASSWORD_FILE', 'secrets-postgres'],
    ['watchlist-api', 'INFLUX_TOKEN_FILE', 'secrets-api'],
    ['market-feeder', 'INFLUX_TOKEN_FILE', 'secrets-feeders'],
    ['market-feeder', 'PGPASSWORD_FILE', 'secrets-postgres'],
    ['news-feeder', 'INFLUX_TOKEN_FILE', 'secrets-feeders'],
    ['news-feeder', 'PGPASSWORD_FILE', 'secrets-postgres'],
    ['postgres', 'POSTGRES_PASSWORD_FILE', 'secrets-postgres'],
    ['influxdb', 'DOCKER_INFLUXDB_INIT_PASSWORD_FILE', 'secrets-influx-admin'],
    ['influxdb', 'DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE', 'secrets-influx-admin'],
    ['influxdb-tasks', 'INFLUX_TOKEN_FILE', 'secrets-influx-admin'],
    ['grafana', 'GF_SECURITY_ADMIN_PASSWORD__FILE', 'secrets-grafana'],
    ['grafana-live-token', 'GRAFANA_ADMIN_PASSWORD_FILE', 'secrets-grafana'],
  ];
  for (const [svc, key, volume] of files) {
    const s = cfg.services[svc]!;
    const file = s.environment?.[key];
    assert.ok(file, `${svc} ${key}`);
    const m = mountOf(s, file);
    assert.equal(m?.source, volume, `${svc} ${key}=${file} is in ${volume}`);
    assert.equal(m?.read_only, true, `${svc} mounts ${volume} read-only`);
  }
  // the InfluxDB admin token's volume is seen by influxdb, influxdb-tasks and secrets-init only
  const seeing = (volume: string) => Object.entries(cfg.services).filter(([, s]) => mounts(s).some((v) => v.source === volume)).map(([n]) => n).sort();
  assert.deepEqual(seeing('secrets-influx-admin'), ['influxdb', 'influxdb-tasks', 'secrets-init']);
  assert.deepEqual(seeing('secrets-grafana'), ['grafana', 'grafana-live-token', 'influxdb-tasks', 'secrets-init']);
  // the Grafana Live token: written by the one-shot into the feeders' volume where the market feeder reads
  // it (Live on by default), read-write there only (docs/GRAFANA_LIVE.md "The service-account token")
  const live = cfg.services['grafana-live-token']!;
  assert.equal(live.environment!.GRAFANA_LIVE_TOKEN_PATH, '/run/terminal-secrets/feeders/grafana-live-token');
  assert.equal(cfg.services['market-feeder']!.environment!.GRAFANA_LIVE_TOKEN_FILE, live.environment!.GRAFANA_LIVE_TOKEN_PATH);
  assert.equal(mountOf(cfg.services['market-feeder']!, live.environment!.GRAFANA_LIVE_TOKEN_PATH!)?.source, 'secrets-feeders');
  const liveMount = mountOf(live, live.environment!.GRAFANA_LIVE_TOKEN_PATH!);
  assert.equal(liveMount?.source, 'secrets-feeders');
  assert.ok(!liveMount?.read_only, 'the one-shot writes the token');
  assert.equal(live.environment!.GRAFANA_LIVE_STREAM, cfg.services['market-feeder']!.environment!.GRAFANA_LIVE_STREAM);
  assert.deepEqual(seeing('secrets-api'), ['influxdb-tasks', 'secrets-init', 'watchlist-api']);
  // influxdb-tasks writes the scoped tokens where the consumers read them
  const tasks = cfg.services['influxdb-tasks']!.environment!;
  assert.equal(tasks.INFLUX_FEEDERS_TOKEN_PATH, cfg.services['market-feeder']!.environment!.INFLUX_TOKEN_FILE);
  assert.equal(tasks.INFLUX_API_TOKEN_PATH, cfg.services['watchlist-api']!.environment!.INFLUX_TOKEN_FILE);
  const ds = readFileSync(path.join(ROOT, 'grafana/provisioning/datasources/datasources.yml'), 'utf8');
  assert.ok(ds.includes(`$__file{${tasks.INFLUX_GRAFANA_TOKEN_PATH}}`), 'Grafana reads the token influxdb-tasks writes');
});

test('start order: secrets first; feeders, API and Grafana only after influxdb-tasks completed (buckets, retention, tokens)', () => {
  const cfg = resolvedConfig();
  const cond = (svc: string, dep: string) => cfg.services[svc]!.depends_on?.[dep]?.condition;
  for (const svc of ['influxdb', 'postgres', 'influxdb-tasks']) assert.equal(cond(svc, 'secrets-init'), 'service_completed_successfully', svc);
  for (const svc of ['market-feeder', 'news-feeder', 'watchlist-api', 'grafana']) {
    assert.equal(cond(svc, 'influxdb-tasks'), 'service_completed_successfully', `${svc} waits for influxdb-tasks`);
    assert.equal(cond(svc, 'secrets-init'), 'service_completed_successfully', svc);
  }
  assert.equal(cond('influxdb-tasks', 'influxdb'), 'service_healthy');
  // the Live token is made once Grafana answers; nothing waits for it (the feeder picks the file up late)
  assert.equal(cond('grafana-live-token', 'grafana'), 'service_healthy');
  assert.deepEqual(cfg.services['grafana-live-token']!.command, ['node', 'common/dist/bin/grafana-live-token.js']);
  for (const [name, s] of Object.entries(cfg.services)) assert.equal(s.depends_on?.['grafana-live-token'], undefined, `${name} does not wait for the Live token`);
  assert.deepEqual(cfg.services['secrets-init']!.command, ['node', 'common/dist/bin/secrets.js']);
  assert.equal(cfg.services['secrets-init']!.user, '0:0', 'root, to own the writable token directories for the app user');
});

test('.env values override the defaults; secrets set in .env go to secrets-init only', () => {
  const cfg = resolvedConfig({ API_TOKEN: 'from-env-0123456789', POSTGRES_PASSWORD: 'p/ss@w:rd#%', SERVER_NAME: 'terminal.example.org' });
  assert.equal(cfg.services['secrets-init']!.environment!.API_TOKEN, 'from-env-0123456789');
  assert.equal(cfg.services['secrets-init']!.environment!.POSTGRES_PASSWORD, 'p/ss@w:rd#%');
  assert.equal(cfg.services['watchlist-api']!.environment!.API_TOKEN, undefined);
  assert.equal(cfg.services['watchlist-api']!.environment!.DATABASE_URL, 'postgres://terminal@postgres:5432/terminal', 'the password never enters the URL');
  assert.equal(cfg.services.grafana!.environment!.GF_SERVER_ROOT_URL, 'https://terminal.example.org:443/');
});

test('only nginx publishes ports; one private network; named volumes only for data', () => {
  const cfg = resolvedConfig();
  for (const [name, s] of Object.entries(cfg.services)) {
    if (name === 'nginx') assert.equal(s.ports?.length, 2, 'nginx publishes 80 and 443');
    else assert.equal(s.ports, undefined, `${name} publishes no port`);
    const nets = Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {});
    assert.deepEqual(nets, ['terminal'], `${name} is on the private network only`);
  }
  assert.deepEqual(Object.keys(cfg.networks), ['terminal']);
  for (const v of ['influxdb-data', 'postgres-data', 'grafana-data', 'prometheus-data', 'alertmanager-data', 'nginx-certs']) assert.ok(v in cfg.volumes, v);
});

/** IPv4 dotted quad → 32-bit number; `a.b.c.d/n` contains ip when the top n bits agree. */
const ipv4 = (ip: string) => {
  const parts = ip.split('.').map(Number);
  assert.ok(parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255), `IPv4 address ${ip}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
};
const inCidr = (ip: string, cidr: string) => {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base!) / size);
};

test("Grafana's auth proxy trusts nginx's fixed address only, which Docker never hands to another container", () => {
  const cfg = resolvedConfig();
  const nginxNets = cfg.services.nginx!.networks as Record<string, { ipv4_address?: string } | null>;
  const nginxIp = nginxNets.terminal?.ipv4_address;
  assert.ok(nginxIp, 'nginx has a fixed address on the private network');
  // Grafana 12.3 (pkg/services/authn/clients/proxy.go): comma-separated IPs/CIDRs, a bare IP is /32; a request
  // carrying X-WEBAUTH-USER from any other peer address is refused. Exactly nginx, not a range.
  assert.equal(cfg.services.grafana!.environment!.GF_AUTH_PROXY_WHITELIST, nginxIp);
  const ipam = (cfg.networks.terminal as { ipam?: { config?: { subnet: string; ip_range?: string; gateway?: string }[] } }).ipam;
  const pool = ipam?.config?.[0];
  assert.ok(pool?.subnet && pool.ip_range, 'the private network has a fixed subnet and a dynamic range');
  assert.ok(inCidr(nginxIp, pool.subnet), `${nginxIp} is inside ${pool.subnet}`);
  assert.ok(inCidr(pool.ip_range.split('/')[0]!, pool.subnet) && Number(pool.ip_range.split('/')[1]) > Number(pool.subnet.split('/')[1]), 'ip_range lies inside the subnet');
  assert.ok(!inCidr(nginxIp, pool.ip_range), `${nginxIp} is outside ${pool.ip_range}, where other containers get their addresses`);
  assert.notEqual(nginxIp, pool.gateway, 'not the gateway (the host)');
  // no other service pins an address (it could be nginx's)
  for (const [name, s] of Object.entries(cfg.services)) {
    if (name === 'nginx' || Array.isArray(s.networks)) continue;
    for (const n of Object.values(s.networks ?? {})) assert.equal((n as { ipv4_address?: string } | null)?.ipv4_address, undefined, `${name} pins no address`);
  }
});

test('every image pinned, every long-running service restarts and has a healthcheck', () => {
  const cfg = resolvedConfig();
  for (const [name, s] of Object.entries(cfg.services)) {
    assert.ok(s.image, `${name} has an image`);
    assert.match(s.image!, /:[vV]?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/, `${name} image ${s.image} pinned to a version`);
    if (name === 'influxdb-tasks' || name === 'secrets-init' || name === 'grafana-live-token') {
      assert.equal(s.restart, 'no', 'a one-shot does not restart (its dependents wait for it to complete successfully)');
      continue;
    }
    assert.equal(s.restart, 'unless-stopped', `${name} restart policy`);
    assert.ok(s.healthcheck?.test && !s.healthcheck.disable, `${name} has a healthcheck`);
  }
});

test('CPU and memory limits on every service fit a 4 vCPU / 8 GB host with headroom', () => {
  const cfg = resolvedConfig();
  let cpus = 0;
  let mem = 0;
  for (const [name, s] of Object.entries(cfg.services)) {
    if ((s as { profiles?: string[] }).profiles) continue; // the demo profile's extra service: not production sizing
    const l = s.deploy?.resources?.limits;
    assert.ok(l?.cpus && l.memory, `${name} has cpu and memory limits`);
    // the one-shots exit within seconds of start, and opt-in profiles (certbot: idle but twice a day) are
    // not part of the default stack: their CPU caps are not a share of it
    if (s.restart !== 'no' && !(s as { profiles?: string[] }).profiles) cpus += Number(l.cpus);
    mem += memBytes(String(l.memory));
  }
  assert.ok(cpus <= 4.0001, `cpu limits sum ${cpus}`);
  assert.ok(mem <= 6.5 * 1024 ** 3, `memory limits sum ${(mem / 1024 ** 3).toFixed(2)} GiB leaves ≥1.5 GiB to the OS`);
});

test('the app image is multi-stage and runs as a non-root user; secrets never enter the build context', () => {
  const df = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  assert.ok((df.match(/^FROM /gm) ?? []).length >= 3, 'multi-stage');
  assert.match(df, /^USER node$/m);
  assert.match(df, /--omit=dev/);
  const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
  assert.ok(ignore.includes('.env'), '.env is not sent to the build');
  const gitignore = readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n');
  assert.ok(gitignore.includes('.env'), '.env is never committed');
});

test('a non-443 HTTPS_PORT is carried to the redirect, Grafana’s root URL (Live’s websocket origin) and alert links', () => {
  const cfg = resolvedConfig({ SERVER_NAME: 'desk.example.org', HTTPS_PORT: '8443', HTTP_PORT: '8080' });
  const nginx = cfg.services.nginx!;
  const published = (nginx.ports ?? []).map((p) => (typeof p === 'string' ? p : `${(p as { published: string }).published}:${(p as { target: number }).target}`));
  assert.deepEqual(published.sort(), ['8080:80', '8443:443']);
  assert.equal(nginx.environment!.PUBLIC_HTTPS_PORT, '8443', 'nginx names the port in its redirect (nginx/test: redirect)');
  assert.equal(cfg.services.grafana!.environment!.GF_SERVER_ROOT_URL, 'https://desk.example.org:8443/');
  assert.equal(cfg.services['market-feeder']!.environment!.GRAFANA_URL, 'https://desk.example.org:8443');
  assert.equal(cfg.services.alertmanager!.environment!.GRAFANA_URL, 'https://desk.example.org:8443');
});

test('images built here are never pulled: every service with a build has pull_policy: build', () => {
  const cfg = resolvedConfig();
  const built = Object.entries(cfg.services).filter(([, s]) => s.build);
  assert.ok(built.length >= 5, `${built.length} built services`);
  for (const [name, s] of built) assert.equal((s as { pull_policy?: string }).pull_policy, 'build', name);
  // and our own image names are only used by built services
  for (const [name, s] of Object.entries(cfg.services)) if (s.image?.startsWith('market-terminal/')) assert.ok(s.build, `${name} builds ${s.image}`);
});

test('least privilege: no-new-privileges everywhere, all capabilities dropped but the few an entrypoint needs, read-only roots', () => {
  const cfg = resolvedConfig();
  type Hardened = Service & { security_opt?: string[]; cap_drop?: string[]; cap_add?: string[]; read_only?: boolean; privileged?: boolean; tmpfs?: string[] | string };
  // what each image's entrypoint does as root before dropping to its user (comments in docker-compose.yml)
  const allowedCaps: Record<string, string[]> = {
    influxdb: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'],
    postgres: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'],
    nginx: ['CHOWN', 'SETUID', 'SETGID', 'NET_BIND_SERVICE'],
    // root over the secrets volumes: writes into directories it handed to the app user (common/src/secrets-store.ts)
    'secrets-init': ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'],
  };
  const writableRoot = ['influxdb']; // its first-start setup writes outside its volumes
  for (const [name, s] of Object.entries(cfg.services) as [string, Hardened][]) {
    assert.ok(s.security_opt?.includes('no-new-privileges:true'), `${name}: no-new-privileges`);
    if (s.privileged) assert.equal(name, 'cadvisor', 'only cAdvisor runs privileged');
    else assert.deepEqual(s.cap_drop, ['ALL'], `${name}: cap_drop ALL`);
    assert.deepEqual([...(s.cap_add ?? [])].sort(), [...(allowedCaps[name] ?? [])].sort(), `${name}: capabilities added back`);
    assert.equal(s.read_only ?? false, !writableRoot.includes(name), `${name}: read-only root filesystem`);
  }
  const nginxTmpfs = ([] as string[]).concat((cfg.services.nginx as Hardened).tmpfs ?? []);
  assert.ok(nginxTmpfs.includes('/etc/nginx/conf.d'), 'the entrypoint renders the template into a tmpfs');
});

test('the market feeder’s heap flags leave room for a full outage buffer', () => {
  const cfg = resolvedConfig();
  const f = cfg.services['market-feeder']!;
  const opts = String(f.environment!.NODE_OPTIONS);
  assert.match(opts, /--max-semi-space-size=4\b/);
  const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(opts)?.[1]);
  // docs/BENCHMARKS.md: live heap ≤ 42 MiB at 500 symbols; bench/buffer-heap.ts: ≈ 240 B of heap per buffered point
  const bufferMiB = (Number(f.environment!.INFLUX_MAX_BUFFER_POINTS) * 240) / 2 ** 20;
  assert.ok(oldSpace >= 42 + bufferMiB + 32, `old space ${oldSpace} MiB ≥ live heap + buffer ${bufferMiB.toFixed(0)} MiB + 32 MiB headroom`);
  assert.ok(memBytes(String(f.deploy!.resources!.limits!.memory)) >= (oldSpace + 160) * 2 ** 20, 'the container limit holds the heap cap plus code, young space and buffers');
});
