// The secrets volume(s) of the compose deployment (docs/DEPLOYMENT.md "Secrets"). On every start the
// `secrets` one-shot makes sure each secret exists: a value set in `.env` is written (placeholders
// refused), an existing file is kept, a missing one is generated (32 random bytes, base64url). Each
// consumer gets its own directory — in compose its own volume, mounted read-only only where needed —
// so Grafana, for instance, never sees the InfluxDB admin token.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isCommittedPlaceholder } from './secrets.js';

export interface SecretSpec {
  /** `<consumer dir>/<file>` under the secrets root. */
  file: string;
  /** The variable (in `.env`) that may set it instead of generating it. */
  env: string;
  /** What it is, for `show`. */
  what: string;
}

/** Generated on first start (or taken from `.env`). */
export const GENERATED_SECRETS: SecretSpec[] = [
  { file: 'api/api-token', env: 'API_TOKEN', what: 'watchlist API bearer token (Authorization: Bearer …)' },
  { file: 'grafana/admin-password', env: 'GRAFANA_ADMIN_PASSWORD', what: 'Grafana admin password (user GRAFANA_ADMIN_USER, default admin)' },
  { file: 'postgres/password', env: 'POSTGRES_PASSWORD', what: 'PostgreSQL password of user terminal' },
  { file: 'influx-admin/password', env: 'INFLUX_ADMIN_PASSWORD', what: 'InfluxDB admin password (user INFLUX_ADMIN_USER, default admin)' },
  { file: 'influx-admin/token', env: 'INFLUX_ADMIN_TOKEN', what: 'InfluxDB all-access operator token (only influxdb and influxdb-tasks see it)' },
];

/** Written by the bootstraps once the servers run (influxdb-tasks, grafana-bootstrap), shown when present. */
export const DERIVED_SECRETS: { file: string; what: string }[] = [
  { file: 'feeders/influx-token', what: 'InfluxDB token of the feeders (read+write on markets/*, news/*)' },
  { file: 'grafana/influx-read-token', what: 'InfluxDB token of Grafana (read-only on markets/*, news/*)' },
  { file: 'feeders/grafana-live-token', what: 'Grafana service-account token for Live pushes (GRAFANA_LIVE_TOKEN_FILE)' },
];

/** The consumer directories the bootstraps write into (owned by the app image's user). */
export const WRITABLE_DIRS = ['feeders', 'grafana', 'api'];

export const newSecret = (): string => randomBytes(32).toString('base64url');

export function writeSecretFile(file: string, value: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${value}\n`, { mode: 0o444 });
  chmodSync(tmp, 0o444);
  renameSync(tmp, file);
}

export function readSecretFile(file: string): string | undefined {
  try {
    const v = readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
    return v === '' ? undefined : v;
  } catch {
    return undefined;
  }
}

export interface InitResult {
  generated: string[];
  fromEnv: string[];
  kept: string[];
}

export class SecretsError extends Error {}

/**
 * Make every secret of GENERATED_SECRETS exist under `root`. Refuses (before writing anything) a
 * committed placeholder in `.env`. `writerUid`: owner of WRITABLE_DIRS when run as root.
 */
export function initSecrets(root: string, env: Record<string, string | undefined>, opts: { writerUid?: number } = {}): InitResult {
  for (const s of GENERATED_SECRETS) {
    const v = env[s.env];
    if (v && isCommittedPlaceholder(v)) throw new SecretsError(`${s.env}: "${v}" is the committed placeholder; set a secret of your own or leave it empty to have one generated`);
  }
  const res: InitResult = { generated: [], fromEnv: [], kept: [] };
  for (const s of GENERATED_SECRETS) {
    const file = path.join(root, s.file);
    const have = readSecretFile(file);
    const v = env[s.env];
    if (v) {
      if (have !== v) writeSecretFile(file, v);
      res.fromEnv.push(s.env);
    } else if (have !== undefined) res.kept.push(s.env);
    else {
      writeSecretFile(file, newSecret());
      res.generated.push(s.env);
    }
  }
  for (const d of WRITABLE_DIRS) {
    const dir = path.join(root, d);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    if (opts.writerUid !== undefined && process.getuid?.() === 0) chownSync(dir, opts.writerUid, opts.writerUid);
  }
  return res;
}

/** `what — path — value` for every secret present, for the user to read (scripts/show-secrets). */
export function describeSecrets(root: string): string[] {
  return [...GENERATED_SECRETS, ...DERIVED_SECRETS].flatMap((s) => {
    const file = path.join(root, s.file);
    if (!existsSync(file)) return [];
    return [`${s.what}\n  ${file}\n  ${readSecretFile(file) ?? '(empty)'}`];
  });
}
