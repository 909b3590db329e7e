// Secrets from files and the refusal of committed placeholders (docs/DEPLOYMENT.md "Secrets").
// Every secret variable X (by its name: …PASSWORD, …TOKEN, …SECRET, …_KEY, DATABASE_URL) can instead be
// given as X_FILE=/path: compose hands the services the secrets generated on first start that way, so
// they never sit in `docker inspect` output or in `.env`.
import { readFileSync } from 'node:fs';

/** Names of the variables that hold a secret (and may come from `<NAME>_FILE`). */
export const SECRET_NAME = /(PASSWORD|TOKEN|SECRET|_KEY)$|^DATABASE_URL$/;

/** Values committed to the repository as examples: never accepted outside tests. */
export function isCommittedPlaceholder(value: string): boolean {
  return /^change-me/i.test(value) || value === 'market-terminal-dev-token';
}

type Env = Record<string, string | undefined>;

/**
 * `X_FILE=/path` → `X` = the file's content without trailing newlines (as `$(< file)` in the postgres and influxdb images). Both set, an unreadable or
 * an empty file are errors naming the variable (a service must not start with half its credentials).
 * `own`: `_FILE` variables the service's schema declares itself, because it reads the file its own way.
 */
export function readSecretFiles(env: Env, read: (p: string) => string = (p) => readFileSync(p, 'utf8'), own: ReadonlySet<string> = new Set()): { env: Env; issues: string[] } {
  const out: Env = { ...env };
  const issues: string[] = [];
  for (const [key, file] of Object.entries(env)) {
    if (!key.endsWith('_FILE') || !file || own.has(key)) continue;
    const name = key.slice(0, -'_FILE'.length);
    if (!SECRET_NAME.test(name)) continue;
    if (env[name]) {
      issues.push(`${name}: set both ${name} and ${key}; keep one`);
      continue;
    }
    let value: string;
    try {
      value = read(file).replace(/[\r\n]+$/, '');
    } catch (err) {
      issues.push(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      continue;
    }
    if (value === '') issues.push(`${key}: ${file} is empty`);
    else out[name] = value;
  }
  return { env: out, issues };
}

/** The password inside a `scheme://user:password@host` URL, decoded; undefined when there is none. */
function urlPassword(value: string): string | undefined {
  try {
    const p = new URL(value).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

/** One issue per secret variable holding a committed placeholder, unless NODE_ENV=test. */
export function placeholderIssues(env: Env): string[] {
  if (env.NODE_ENV === 'test') return [];
  const issues: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!value || !SECRET_NAME.test(key)) continue;
    const secret = key === 'DATABASE_URL' ? urlPassword(value) : value;
    if (secret !== undefined && isCommittedPlaceholder(secret)) {
      issues.push(`${key}: "${secret}" is the committed placeholder; set a secret of your own, or leave it unset in compose to use the one generated on first start`);
    }
  }
  return issues;
}
