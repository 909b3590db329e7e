// The Grafana Live push token made at bootstrap (docs/GRAFANA_LIVE.md "The service-account token"): as the
// Grafana admin, make sure a service account with the Viewer role exists (pushes need only a signed-in
// identity), give it a token and write the token where the market feeder reads GRAFANA_LIVE_TOKEN_FILE.
// Idempotent: a token file that still authenticates is kept; one that does not is replaced and the
// account's other tokens (stale ones this step made) are deleted. Grafana's HTTP API as of v12.3.0 (the
// version compose pins): routes in pkg/services/serviceaccounts/api/api.go and api/token.go, shapes and
// error codes in pkg/services/serviceaccounts/models.go (docs/GRAFANA_LIVE.md lists them).
import type { Logger } from 'pino';
import { z } from 'zod';
import { int, url } from './config.js';
import { readSecretFile, writeSecretFile } from './secrets-store.js';
import { sleep } from './backoff.js';

/** The one-shot's settings (`common/src/bin/grafana-live-token.ts`; .env.example, compose). */
export const liveTokenEnv = {
  /** Grafana inside the network (compose: http://grafana:3000). */
  GRAFANA_URL: url('http://localhost:3000'),
  GRAFANA_ADMIN_USER: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('admin')),
  /** compose: GRAFANA_ADMIN_PASSWORD_FILE, the secret Grafana itself reads. */
  GRAFANA_ADMIN_PASSWORD: z.string().min(1, 'the Grafana admin password is needed to make the Live token'),
  /** Where the token is written (compose: the feeders' GRAFANA_LIVE_TOKEN_FILE). */
  GRAFANA_LIVE_TOKEN_PATH: z.string().min(1),
  /** The feeder's stream: the token is checked by an empty push to it. */
  GRAFANA_LIVE_STREAM: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('markets')),
  /** How long to wait for Grafana's /api/health before giving up. */
  GRAFANA_WAIT_MS: int(120_000, 0),
  /** The service account (Kubernetes: one per feeder pod, each sidecar owns its own and its tokens). */
  GRAFANA_LIVE_ACCOUNT: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('market-feeder-live')),
  /** 0: run once and exit (compose one-shot). > 0: keep running and check again every so often (a sidecar: Grafana down is waited out, a revoked token replaced). */
  GRAFANA_LIVE_TOKEN_RECHECK_MS: int(0, 0),
};

export interface LiveTokenOptions {
  /** Grafana inside the network (compose: http://grafana:3000). */
  grafanaUrl: string;
  adminUser: string;
  adminPassword: string;
  /** Where the token goes (compose: /run/terminal-secrets/feeders/grafana-live-token). */
  tokenPath: string;
  /** The feeder's GRAFANA_LIVE_STREAM: the token is checked by an empty push to it. */
  stream: string;
  /** Service-account name. Default `market-feeder-live`. */
  accountName?: string;
  /** How long to wait for Grafana to answer /api/health. Default 120 s. */
  waitMs?: number;
  /** Pause between attempts while waiting. Default 2 s. */
  retryMs?: number;
  log: Logger;
}

export type LiveTokenOutcome = 'kept' | 'created';

export class GrafanaApiError extends Error {
  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super(`grafana: ${what} → HTTP ${status}: ${body.slice(0, 300)}`);
  }
}


export async function ensureLiveToken(o: LiveTokenOptions): Promise<LiveTokenOutcome> {
  const base = o.grafanaUrl.replace(/\/+$/, '');
  const name = o.accountName ?? 'market-feeder-live';
  const admin = `Basic ${Buffer.from(`${o.adminUser}:${o.adminPassword}`).toString('base64')}`;
  const call = async (method: string, path: string, auth: string, body?: unknown): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, text: await res.text() };
  };
  const json = async <T>(method: string, path: string, ok: number[], body?: unknown): Promise<T> => {
    const r = await call(method, path, admin, body);
    if (!ok.includes(r.status)) throw new GrafanaApiError(r.status, `${method} ${path}`, r.text);
    return JSON.parse(r.text || 'null') as T;
  };

  await waitForGrafana(base, o.waitMs ?? 120_000, o.retryMs ?? 2000, o.log);

  // the check is the permission the feeder needs: an empty push (no lines, no frames) answers 200
  const existing = readSecretFile(o.tokenPath)?.trim();
  if (existing) {
    const r = await call('POST', `/api/live/push/${encodeURIComponent(o.stream)}`, `Bearer ${existing}`, '');
    if (r.status === 200) {
      o.log.info({ file: o.tokenPath }, 'Grafana Live token still authenticates: kept');
      return 'kept';
    }
    if (r.status !== 401 && r.status !== 403) throw new GrafanaApiError(r.status, 'checking the Live token', r.text);
    o.log.warn({ file: o.tokenPath, status: r.status }, 'Grafana Live token refused: replacing it');
  }

  const account = await findOrCreateAccount(json, name);
  if (account.role !== 'Viewer') await json('PATCH', `/api/serviceaccounts/${account.id}`, [200], { role: 'Viewer' });
  // only this step uses the account: every token it holds is one the file no longer has
  const stale = await json<{ id: number; name: string }[]>('GET', `/api/serviceaccounts/${account.id}/tokens`, [200]);
  for (const t of stale) await json('DELETE', `/api/serviceaccounts/${account.id}/tokens/${t.id}`, [200, 404]);
  // token names are unique per organisation (400 serviceaccounts.ErrTokenAlreadyExists): name it by time
  const token = await json<{ id: number; name: string; key: string }>('POST', `/api/serviceaccounts/${account.id}/tokens`, [200], {
    name: `live-push-${new Date().toISOString()}`,
  });
  // atomically, 0444, as every other secret file
  writeSecretFile(o.tokenPath, token.key);
  o.log.info({ file: o.tokenPath, account: name, accountId: account.id, deletedTokens: stale.length }, 'Grafana Live token created');
  return 'created';
}

interface Account {
  id: number;
  name: string;
  role: string;
}

async function findOrCreateAccount(json: <T>(m: string, p: string, ok: number[], b?: unknown) => Promise<T>, name: string): Promise<Account> {
  const find = async () =>
    (await json<{ serviceAccounts: Account[] }>('GET', `/api/serviceaccounts/search?perpage=100&query=${encodeURIComponent(name)}`, [200])).serviceAccounts.find(
      (a) => a.name === name,
    );
  const found = await find();
  if (found) return found;
  try {
    return await json<Account>('POST', '/api/serviceaccounts', [201], { name, role: 'Viewer', isDisabled: false });
  } catch (err) {
    // made meanwhile (400 serviceaccounts.ErrAlreadyExists in 12.3; 409 from some 11.x builds): use it
    const again = err instanceof GrafanaApiError && (err.status === 400 || err.status === 409) ? await find() : undefined;
    if (again) return again;
    throw err;
  }
}

async function waitForGrafana(base: string, waitMs: number, retryMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + waitMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(5000) });
      await res.text();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String((err as Error).cause ?? err);
    }
    if (Date.now() + retryMs > deadline) throw new Error(`grafana at ${base} not ready after ${Math.round(waitMs / 1000)} s (${last})`);
    log.info({ url: base, last }, 'waiting for Grafana');
    await sleep(retryMs);
  }
}

/**
 * The sidecar form (Kubernetes, docs/GRAFANA_LIVE.md "Kubernetes"): ensureLiveToken now and every `everyMs`
 * until `signal` aborts. A failure (Grafana down or not up yet, a 5xx) is logged and tried again at the
 * next round, never an exit: the feeder beside it keeps ingesting and picks the file up when it appears.
 */
export async function watchLiveToken(o: LiveTokenOptions, everyMs: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await ensureLiveToken(o);
    } catch (err) {
      o.log.warn({ err: String(err), retryInMs: everyMs }, 'Grafana Live token not made yet: trying again');
    }
    await sleep(everyMs, signal);
  }
}
