// Every setting in `.env.example` reaches the container that reads it. docker-compose resolves the file with a
// `.env` in which every variable has its own unique value; each one must then show up in the environment (or
// the published ports) of every service whose configuration reads it — the services' zod schemas, the
// Alertmanager config renderer, and the images' documented variables (InfluxDB, PostgreSQL, Grafana, nginx).
// A few variables are internal wiring that compose sets itself (PORT, INFLUX_URL, …): `.env.example` marks them
// `[compose sets]`, and they must then be set in the reading service by compose. Secrets reach the services
// as files (`X_FILE`, docs/DEPLOYMENT.md "Secrets"): a value set in `.env` goes to secrets-init, which writes
// the file the service (or the image: POSTGRES_PASSWORD_FILE, GF_…__FILE, DOCKER_INFLUXDB_INIT_…_FILE) reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { commonEnv, influxEnv, liveTokenEnv, schemaKeys, SECRET_NAME } from '@mt/common';
import { GENERATED_SECRETS } from '@mt/common/secrets-store';
import { marketSchema } from '../../feeders/src/market/config.ts';
import { newsSchema } from '../../feeders/src/news/config.ts';
import { configSchema as apiSchema } from '../../watchlist-api/src/config.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `.env.example` as keys with the comment lines right above each. */
function readExample(): Map<string, string> {
  const out = new Map<string, string>();
  let comments: string[] = [];
  for (const line of readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n')) {
    if (line.startsWith('#')) comments.push(line);
    else if (/^[A-Z][A-Z0-9_]*=/.test(line)) {
      out.set(line.slice(0, line.indexOf('=')), comments.join('\n'));
      comments = [];
    } else comments = [];
  }
  return out;
}
const example = readExample();
const composeSets = (k: string) => /\[compose sets\]/.test(example.get(k) ?? '');


/** Who reads each variable, from the readers' own definitions. */
function readers(): Map<string, Set<string>> {
  const r = new Map<string, Set<string>>();
  const add = (keys: Iterable<string>, service: string) => {
    for (const k of keys) r.set(k, (r.get(k) ?? new Set()).add(service));
  };
  add(schemaKeys(marketSchema), 'market-feeder');
  add(schemaKeys(newsSchema), 'news-feeder');
  add(schemaKeys(apiSchema), 'watchlist-api');
  add([...Object.keys(influxEnv), ...Object.keys(commonEnv), 'INFLUX_FEEDERS_TOKEN_PATH', 'INFLUX_GRAFANA_TOKEN_PATH', 'INFLUX_API_TOKEN_PATH', 'INFLUX_CUSTOM_TOKEN_PATH'], 'influxdb-tasks'); // influxdb-tasks/src/install.ts
  add([...Object.keys(liveTokenEnv), 'LOG_LEVEL'], 'grafana-live-token'); // common/src/bin/grafana-live-token.ts
  // the secrets generated on first start, or taken from .env (common/src/secrets-store.ts)
  add(GENERATED_SECRETS.map((x) => x.env), 'secrets-init');
  // Alertmanager's container renders its config from these (alertmanager/render-config.sh)
  const render = readFileSync(path.join(ROOT, 'alertmanager', 'render-config.sh'), 'utf8');
  add(new Set([...render.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!)), 'alertmanager');
  // the demo profile's sources (bench/demo-sources.ts)
  const demo = readFileSync(path.join(ROOT, 'bench', 'demo-sources.ts'), 'utf8');
  add(new Set([...demo.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!)), 'demo-sources');
  // the images' own variables, fed from these settings (docker-compose.yml)
  add(['SERVER_NAME', 'HTTP_PORT', 'HTTPS_PORT'], 'nginx');
  add(['SERVER_NAME', 'LETSENCRYPT_EMAIL', 'LETSENCRYPT_STAGING'], 'certbot'); // nginx/certbot/renew.sh
  add(['SERVER_NAME', 'GRAFANA_ADMIN_USER', 'HTTPS_PORT', 'GRAFANA_LIVE_MAX_CONNECTIONS', 'GRAFANA_LIVE_ALLOWED_ORIGINS'], 'grafana');
  // Grafana interpolates ${VAR} in its provisioning files from its environment
  const ds = readFileSync(path.join(ROOT, 'grafana', 'provisioning', 'datasources', 'datasources.yml'), 'utf8');
  add(new Set([...ds.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]!)), 'grafana');
  add(['INFLUX_ADMIN_USER', 'INFLUX_ORG'], 'influxdb');
  return r;
}

interface Service {
  environment?: Record<string, string | null>;
  ports?: (string | { published?: number | string; target?: number })[];
}

/** docker-compose config with a `.env` giving every `.env.example` variable a value of its own. */
function resolvedWithUniqueValues(): { values: Map<string, string>; services: Record<string, Service> } {
  const values = new Map<string, string>();
  let port = 18001;
  for (const k of example.keys()) values.set(k, /_PORT$/.test(k) ? String(port++) : `v-${k.toLowerCase().replace(/_/g, '-')}-7f3`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mt-env-reach-'));
  const envFile = path.join(dir, '.env');
  writeFileSync(envFile, [...values].map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const out = execFileSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), '--project-directory', ROOT, '--env-file', envFile, 'config'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    encoding: 'utf8',
  });
  return { values, services: (parseYaml(out) as { services: Record<string, Service> }).services };
}

test('every .env.example setting has a service that reads it', () => {
  const r = readers();
  assert.deepEqual([...example.keys()].filter((k) => !r.has(k)), []);
});

test('every .env.example setting reaches every container that reads it (docker-compose config)', () => {
  const r = readers();
  const { values, services } = resolvedWithUniqueValues();
  const missing: string[] = [];
  for (const key of example.keys()) {
    for (const svc of r.get(key) ?? []) {
      const s = services[svc];
      assert.ok(s, `service ${svc}`);
      const env = s.environment ?? {};
      if (composeSets(key)) {
        if (!env[key] && !env[`${key}_FILE`]) missing.push(`${key} → ${svc} (marked [compose sets], but compose does not set it)`);
        continue;
      }
      const v = values.get(key)!;
      // a schema reads the variable by its own name; an image by its own (GF_*, DOCKER_INFLUXDB_INIT_*, …)
      const schemaReader = ['market-feeder', 'news-feeder', 'watchlist-api', 'influxdb-tasks', 'grafana-live-token', 'alertmanager', 'secrets-init', 'demo-sources'].includes(svc);
      const reached = schemaReader
        ? env[key] === v || (SECRET_NAME.test(key) && svc !== 'secrets-init' && !!env[`${key}_FILE`])
        : Object.values(env).some((x) => String(x ?? '').includes(v)) ||
          (s.ports ?? []).some((p) => (typeof p === 'string' ? p.startsWith(`${v}:`) || p.includes(`:${v}:`) : String(p.published) === v));
      if (!reached) missing.push(`${key} → ${svc}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('variables marked [compose sets] say what compose sets them to', () => {
  for (const [k, comments] of example) if (composeSets(k)) assert.match(comments, /\[compose sets\][^\n]*\S/, k);
});
