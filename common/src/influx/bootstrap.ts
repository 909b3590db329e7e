// Creates the databases/buckets and retention of the InfluxDB contract (types.ts RETENTION), safe to run
// on every start: reads what exists, creates what is missing, corrects a changed retention, nothing else.
// Waits (bounded) for an InfluxDB that is still starting, as in `docker compose up`.
import { HttpError, type Transport } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import { HttpStatusError, isRetryable } from '../errors.js';
import { createInfluxQLClient, toTypedError } from './query.js';
import { createInfluxTransport } from './transport.js';
import { RETENTION, type InfluxConfig, type InfluxQLClient } from './types.js';

export interface BootstrapOptions {
  /** Give up waiting for InfluxDB after this long (ms). */
  timeoutMs?: number;
  transport?: Transport;
  /**
   * The `db/rp` buckets to create (default: all of RETENTION). The feeders pass DATA_BUCKETS: their
   * least-privilege token cannot see `infra` and `custom`, which influxdb-tasks creates with the admin token.
   */
  buckets?: readonly string[];
}

export async function bootstrapInflux(cfg: InfluxConfig, log: Logger, opts: BootstrapOptions = {}): Promise<void> {
  const l = log.child({ component: 'influx' });
  const transport = opts.transport ?? createInfluxTransport(cfg);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const backoff = new Backoff({ initialMs: 250, maxMs: 5_000 });
  let raced = 0;
  for (;;) {
    try {
      const wanted = Object.entries(RETENTION).filter(([b]) => !opts.buckets || opts.buckets.includes(b));
      const changes = cfg.api === 'v1' ? await bootstrapV1(createInfluxQLClient(cfg, transport), wanted) : await bootstrapV2(cfg, transport, wanted);
      l.info({ api: cfg.api, changes }, changes.length ? 'influx bootstrap applied changes' : 'influx bootstrap: already up to date');
      return;
    } catch (e) {
      // Another process (a feeder, the influxdb-tasks one-shot) created the same thing between our read
      // and our create: what we wanted exists, so read again, which now finds it.
      if (isAlreadyExists(e) && raced++ < 5) {
        l.info({ err: e instanceof Error ? e.message : String(e) }, 'influx bootstrap: created concurrently by another process, reading again');
        continue;
      }
      const err = toTypedError(e);
      const wait = backoff.next(err.retryAfterMs);
      if (!isRetryable(err) || Date.now() + wait > deadline) {
        l.error({ err: err.message, attempts: backoff.attempts }, 'influx bootstrap failed');
        throw err;
      }
      if (backoff.attempts === 1 || backoff.attempts % 10 === 0) l.warn({ err: err.message, attempts: backoff.attempts }, 'influx not ready, retrying bootstrap');
      await sleep(wait);
    }
  }
}

/**
 * A create that lost a race: 2.x answers 422 (EConflict, e.g. "bucket with name … already exists") or
 * 409 with code "conflict"; 1.x InfluxQL says "… already exists".
 */
export function isAlreadyExists(err: unknown): boolean {
  if (err instanceof HttpError) return (err.statusCode === 409 || err.statusCode === 422) && /"conflict"|already exist/i.test(`${err.body ?? ''} ${err.message}`);
  if (err instanceof HttpStatusError) return (err.status === 409 || err.status === 422) && /"conflict"|already exist/i.test(err.message);
  return err instanceof Error && /already exists/i.test(err.message);
}

/** `168h0m0s` (SHOW RETENTION POLICIES) → seconds. `0s` means infinite. */
export function v1DurationSeconds(d: string): number {
  let s = 0;
  for (const [, n, unit] of d.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)/g)) {
    const mult: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
    s += Number(n) * (mult[unit!] ?? 0);
  }
  return Math.round(s);
}

/** influxd's default shard group duration for a retention period (< 2 d: 1 h, ≤ 6 months: 1 d, else 7 d). */
function shardDuration(seconds: number): string {
  if (seconds === 0) return '7d'; // infinite
  return seconds < 2 * 86400 ? '1h' : seconds <= 182 * 86400 ? '1d' : '7d';
}

const quote = (id: string) => `"${id.replace(/"/g, '\\"')}"`;

function splitBucket(bucket: string): { db: string; rp: string } {
  const [db = bucket, rp = ''] = bucket.split('/', 2);
  return { db, rp };
}

type Wanted = [bucket: string, want: (typeof RETENTION)[string]][];

async function bootstrapV1(ql: InfluxQLClient, wanted: Wanted): Promise<string[]> {
  const changes: string[] = [];
  const dbs = new Set(wanted.map(([b]) => splitBucket(b).db));
  const existingDbs = new Set(((await ql.query('', 'SHOW DATABASES'))[0]?.values ?? []).map((v) => String(v[0])));
  for (const db of dbs) {
    if (!existingDbs.has(db)) {
      await ql.query('', `CREATE DATABASE ${quote(db)}`);
      changes.push(`database ${db}`);
    }
    const series = (await ql.query(db, `SHOW RETENTION POLICIES ON ${quote(db)}`))[0];
    const col = (name: string) => series?.columns.indexOf(name) ?? -1;
    const rps = new Map((series?.values ?? []).map((v) => [String(v[col('name')]), { seconds: v1DurationSeconds(String(v[col('duration')])), isDefault: v[col('default')] === true }]));
    for (const [bucket, want] of wanted) {
      const { db: d, rp } = splitBucket(bucket);
      if (d !== db) continue;
      const have = rps.get(rp);
      const def = want.default ? ' DEFAULT' : '';
      if (!have) {
        await ql.query(db, `CREATE RETENTION POLICY ${quote(rp)} ON ${quote(db)} DURATION ${want.duration} REPLICATION 1${def}`);
        changes.push(`retention policy ${bucket} ${want.duration}${def}`);
      } else if (have.seconds !== want.seconds || (want.default && !have.isDefault)) {
        // With the shard duration influxd would pick at creation: ALTER refuses a duration below the current one.
        await ql.query(db, `ALTER RETENTION POLICY ${quote(rp)} ON ${quote(db)} DURATION ${want.duration} SHARD DURATION ${shardDuration(want.seconds)}${def}`);
        changes.push(`altered retention policy ${bucket} ${want.duration}${def}`);
      }
    }
  }
  return changes;
}

interface V2Bucket {
  id: string;
  name: string;
  retentionRules?: { type: string; everySeconds: number }[];
}
interface V2Dbrp {
  id: string;
  bucketID: string;
  database: string;
  retention_policy: string;
  default: boolean;
  virtual?: boolean;
}

async function bootstrapV2(cfg: InfluxConfig, t: Transport, wanted: Wanted): Promise<string[]> {
  const changes: string[] = [];
  // Some 2.x versions answer a name filter that matches nothing with 404 instead of an empty list.
  const get = async <T>(path: string, params: Record<string, string>): Promise<T | undefined> => {
    try {
      return (await t.request(`${path}?${new URLSearchParams(params)}`, '', { method: 'GET', headers: { accept: 'application/json' } })) as T;
    } catch (err) {
      if (err instanceof HttpError && err.statusCode === 404) return undefined;
      throw err;
    }
  };
  const send = (method: string, path: string, body: unknown) =>
    t.request(path, body, { method, headers: { 'content-type': 'application/json', accept: 'application/json' } });

  const orgs = await get<{ orgs?: { id: string; name: string }[] }>('/api/v2/orgs', { org: cfg.org });
  const orgID = orgs?.orgs?.find((o) => o.name === cfg.org)?.id;
  if (!orgID) throw new HttpStatusError(404, `organization "${cfg.org}" (INFLUX_ORG) not found`, undefined, 'influxdb');

  for (const [name, want] of wanted) {
    const rules = [{ type: 'expire', everySeconds: want.seconds }];
    const found = await get<{ buckets?: V2Bucket[] }>('/api/v2/buckets', { orgID, name });
    let bucket = found?.buckets?.find((b) => b.name === name);
    if (!bucket) {
      bucket = (await send('POST', '/api/v2/buckets', { orgID, name, retentionRules: rules })) as V2Bucket;
      changes.push(`bucket ${name} ${want.duration}`);
    } else if ((bucket.retentionRules?.find((r) => r.type === 'expire')?.everySeconds ?? 0) !== want.seconds) {
      // no expire rule, or everySeconds 0, is 2.x's "keep forever"
      await send('PATCH', `/api/v2/buckets/${encodeURIComponent(bucket.id)}`, { retentionRules: rules });
      changes.push(`bucket ${name} retention ${want.duration}`);
    }
    const { db, rp } = splitBucket(name);
    const isDefault = want.default === true;
    const mappings = await get<{ content?: V2Dbrp[] }>('/api/v2/dbrps', { orgID, db, rp });
    // 2.x offers read-only "virtual" mappings named after the bucket; an explicit one carries `default`.
    const mapping = mappings?.content?.find((m) => !m.virtual && m.database === db && m.retention_policy === rp);
    if (!mapping) {
      await send('POST', '/api/v2/dbrps', { orgID, bucketID: bucket.id, database: db, retention_policy: rp, default: isDefault });
      changes.push(`dbrp ${db}/${rp}${isDefault ? ' default' : ''}`);
    } else if (mapping.bucketID !== bucket.id) {
      // A mapping cannot be re-pointed to another bucket: replace it.
      await t.request(`/api/v2/dbrps/${encodeURIComponent(mapping.id)}?${new URLSearchParams({ orgID })}`, '', { method: 'DELETE' });
      await send('POST', '/api/v2/dbrps', { orgID, bucketID: bucket.id, database: db, retention_policy: rp, default: isDefault });
      changes.push(`dbrp ${db}/${rp} re-pointed`);
    } else if (mapping.default !== isDefault) {
      await send('PATCH', `/api/v2/dbrps/${encodeURIComponent(mapping.id)}?${new URLSearchParams({ orgID })}`, { default: isDefault });
      changes.push(`dbrp ${db}/${rp} default=${isDefault}`);
    }
  }
  return changes;
}
