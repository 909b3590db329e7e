// Installs the downsampling idempotently at every stack start: InfluxDB 2.x tasks are created or updated
// by name (and our stale ones deleted), 1.x continuous queries dropped and re-created; then the
// `rp_config` points are rewritten.
import type { InfluxConfig, Logger } from '@mt/common';
import { HttpStatusError, influxAuthHeader } from '@mt/common';
import { DATABASE, RP_CONFIG } from './spec.js';
import { continuousQueries, CQ_PREFIX } from './influxql.js';
import { fluxTasks, TASK_PREFIX } from './flux.js';
import { RP_CONFIG_DELETE_STOP, rpConfigLines } from './rp-config.js';

export interface ApplyResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
}

type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

function client(cfg: InfluxConfig): Fetch {
  const base = cfg.url.replace(/\/+$/, '');
  return async (path, init = {}) => {
    const headers = new Headers(init.headers);
    const auth = influxAuthHeader(cfg);
    if (auth) headers.set('Authorization', auth);
    const res = await fetch(`${base}${path}`, { ...init, headers });
    if (!res.ok) throw new HttpStatusError(res.status, await res.text(), undefined, 'influxdb');
    return res;
  };
}

export async function apply(cfg: InfluxConfig, log: Logger): Promise<ApplyResult> {
  const http = client(cfg);
  const result = cfg.api === 'v2' ? await applyV2(http, cfg.org) : await applyV1(http);
  await writeRpConfig(http, cfg);
  log.info({ ...result, api: cfg.api }, 'downsampling installed');
  return result;
}

async function influxql(http: Fetch, q: string): Promise<{ series?: { name?: string; values?: unknown[][] }[]; error?: string }[]> {
  const res = await http('/query', { method: 'POST', body: new URLSearchParams({ q, db: DATABASE }) });
  const body = (await res.json()) as { results: { series?: { name?: string; values?: unknown[][] }[]; error?: string }[] };
  const failed = body.results.find((r) => r.error);
  if (failed) throw new Error(`InfluxQL error for ${q}: ${failed.error}`);
  return body.results;
}

async function applyV1(http: Fetch): Promise<ApplyResult> {
  const [shown] = await influxql(http, 'SHOW CONTINUOUS QUERIES');
  const existing = new Map<string, string>();
  for (const s of shown?.series ?? []) {
    if (s.name !== DATABASE) continue;
    for (const [name, text] of s.values ?? []) if (String(name).startsWith(CQ_PREFIX)) existing.set(String(name), String(text));
  }
  const wanted = continuousQueries();
  const result: ApplyResult = { created: [], updated: [], unchanged: [], deleted: [] };
  // 1.x has no CREATE OR REPLACE and rewrites the query text when storing it, so ours are always
  // dropped and re-created; RESAMPLE FOR covers the run that may be skipped meanwhile.
  for (const name of existing.keys()) {
    if (!wanted.some((w) => w.name === name)) {
      await influxql(http, `DROP CONTINUOUS QUERY "${name}" ON "${DATABASE}"`);
      result.deleted.push(name);
    }
  }
  for (const cq of wanted) {
    if (existing.has(cq.name)) {
      await influxql(http, cq.drop);
      result.updated.push(cq.name);
    } else result.created.push(cq.name);
    await influxql(http, cq.create);
  }
  return result;
}

interface V2Task {
  id: string;
  name: string;
  flux: string;
  status: string;
}

async function applyV2(http: Fetch, org: string): Promise<ApplyResult> {
  const orgs = (await (await http(`/api/v2/orgs?org=${encodeURIComponent(org)}`)).json()) as { orgs?: { id: string }[] };
  const orgID = orgs.orgs?.[0]?.id;
  if (!orgID) throw new Error(`InfluxDB organisation ${org} not found`);
  const listed = (await (await http(`/api/v2/tasks?orgID=${orgID}&limit=500`)).json()) as { tasks?: V2Task[] };
  const existing = new Map((listed.tasks ?? []).filter((t) => t.name.startsWith(TASK_PREFIX)).map((t) => [t.name, t]));
  const wanted = fluxTasks();
  const result: ApplyResult = { created: [], updated: [], unchanged: [], deleted: [] };
  const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  for (const task of wanted) {
    const cur = existing.get(task.name);
    if (!cur) {
      await http('/api/v2/tasks', { method: 'POST', ...json({ orgID, flux: task.flux, status: 'active' }) });
      result.created.push(task.name);
    } else if (cur.flux !== task.flux || cur.status !== 'active') {
      await http(`/api/v2/tasks/${cur.id}`, { method: 'PATCH', ...json({ flux: task.flux, status: 'active' }) });
      result.updated.push(task.name);
    } else result.unchanged.push(task.name);
  }
  for (const [name, t] of existing) {
    if (!wanted.some((w) => w.name === name)) {
      await http(`/api/v2/tasks/${t.id}`, { method: 'DELETE' });
      result.deleted.push(name);
    }
  }
  return result;
}

async function writeRpConfig(http: Fetch, cfg: InfluxConfig): Promise<void> {
  const body = rpConfigLines();
  if (cfg.api === 'v2') {
    const bucket = `${DATABASE}/${RP_CONFIG.rp}`;
    const q = `org=${encodeURIComponent(cfg.org)}&bucket=${encodeURIComponent(bucket)}`;
    // drop older copies, whose thresholds may differ from the spec's
    await http(`/api/v2/delete?${q}`, {
      method: 'POST',
      body: JSON.stringify({ start: '1970-01-01T00:00:00Z', stop: RP_CONFIG_DELETE_STOP, predicate: `_measurement="${RP_CONFIG.measurement}"` }),
      headers: { 'Content-Type': 'application/json' },
    });
    await http(`/api/v2/write?${q}&precision=ms`, { method: 'POST', body });
  } else {
    await influxql(http, `DELETE FROM "${RP_CONFIG.measurement}"`);
    await http(`/write?db=${DATABASE}&rp=${encodeURIComponent(RP_CONFIG.rp)}&precision=ms`, { method: 'POST', body });
  }
}
