// Least-privilege InfluxDB credentials, created at bootstrap by the influxdb-tasks one-shot with the
// admin token (docs/DEPLOYMENT.md "Secrets"): the feeders get read+write on the contract's buckets,
// Grafana and the API read-only. 2.x: authorizations (/api/v2/authorizations) scoped to the buckets;
// 1.x: users with per-database grants, whose token is `user:password`. Idempotent: a credential whose
// file matches what the server holds is kept; otherwise a new one is made, written, and stale ones of
// the same name revoked.
import { HttpError, type Transport } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { HttpStatusError } from '../errors.js';
import { newSecret, readSecretFile, writeSecretFile } from '../secrets-store.js';
import { createInfluxQLClient, influxQLString } from './query.js';
import { createInfluxTransport } from './transport.js';
import { DATA_BUCKETS, type InfluxConfig } from './types.js';

export interface ScopedCredential {
  /** Names the 2.x authorization (`market-terminal <name> …`) or the 1.x user (`mt_<name>`). */
  name: string;
  /** `write` = read and write. */
  access: 'read' | 'write';
  /** Where the token goes (2.x: the token; 1.x: `user:password`); read back on the next run. */
  file: string;
  /** The `db/rp` buckets it may use (1.x: their databases); default DATA_BUCKETS, the services' own. */
  buckets?: readonly string[];
}

const bucketsOf = (c: ScopedCredential) => c.buckets ?? DATA_BUCKETS;
const databasesOf = (c: ScopedCredential) => [...new Set(bucketsOf(c).map((b) => b.split('/')[0]!))];

export const authorizationDescription = (c: Pick<ScopedCredential, 'name' | 'access'>) => `market-terminal ${c.name} (${c.access}), managed by influxdb-tasks`;
export const v1User = (c: Pick<ScopedCredential, 'name'>) => `mt_${c.name.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** Returns what changed (never a secret). */
export async function ensureScopedCredentials(cfg: InfluxConfig, creds: ScopedCredential[], log: Logger, transport = createInfluxTransport(cfg)): Promise<string[]> {
  const changes = cfg.api === 'v1' ? await ensureV1(cfg, creds, transport) : await ensureV2(cfg, creds, transport);
  log.child({ component: 'influx' }).info({ changes, credentials: creds.map((c) => `${c.name}:${c.access}`) }, changes.length ? 'scoped InfluxDB credentials updated' : 'scoped InfluxDB credentials up to date');
  return changes;
}

interface V2Permission {
  action: 'read' | 'write';
  resource: { type: string; id?: string; orgID?: string };
}
interface V2Authorization {
  id: string;
  token?: string;
  status: 'active' | 'inactive';
  description?: string;
  permissions: V2Permission[];
}

const permKey = (p: V2Permission) => `${p.action}:${p.resource.type}:${p.resource.id ?? '*'}`;
const samePermissions = (a: V2Permission[], b: V2Permission[]) => a.map(permKey).sort().join() === b.map(permKey).sort().join();

async function ensureV2(cfg: InfluxConfig, creds: ScopedCredential[], t: Transport): Promise<string[]> {
  const get = <T>(path: string, params: Record<string, string>) => t.request(`${path}?${new URLSearchParams(params)}`, '', { method: 'GET', headers: { accept: 'application/json' } }) as Promise<T>;
  const orgs = await get<{ orgs?: { id: string; name: string }[] }>('/api/v2/orgs', { org: cfg.org }).catch((err: unknown) => {
    if (err instanceof HttpError && err.statusCode === 404) return undefined;
    throw err;
  });
  const orgID = orgs?.orgs?.find((o) => o.name === cfg.org)?.id;
  if (!orgID) throw new HttpStatusError(404, `organization "${cfg.org}" (INFLUX_ORG) not found`, undefined, 'influxdb');
  const bucketIDs = new Map<string, string>();
  for (const name of new Set(creds.flatMap(bucketsOf))) {
    const found = await get<{ buckets?: { id: string; name: string }[] }>('/api/v2/buckets', { orgID, name });
    const id = found.buckets?.find((b) => b.name === name)?.id;
    if (!id) throw new Error(`bucket ${name} missing: run the bucket bootstrap first`);
    bucketIDs.set(name, id);
  }
  const wanted = (c: ScopedCredential): V2Permission[] => {
    const ids = bucketsOf(c).map((b) => bucketIDs.get(b)!);
    return [
      { action: 'read', resource: { type: 'orgs', id: orgID } },
      ...ids.map((id): V2Permission => ({ action: 'read', resource: { type: 'buckets', id, orgID } })),
      ...(c.access === 'write' ? ids.map((id): V2Permission => ({ action: 'write', resource: { type: 'buckets', id, orgID } })) : []),
    ];
  };
  const listed = (await get<{ authorizations?: V2Authorization[] }>('/api/v2/authorizations', { orgID })).authorizations ?? [];
  const changes: string[] = [];
  for (const c of creds) {
    const description = authorizationDescription(c);
    const permissions = wanted(c);
    const have = readSecretFile(c.file);
    const ours = listed.filter((a) => a.description === description);
    let keep = ours.find((a) => a.token !== undefined && a.token === have && a.status === 'active' && samePermissions(a.permissions, permissions));
    if (!keep) {
      keep = (await t.request('/api/v2/authorizations', { orgID, description, status: 'active', permissions }, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      })) as V2Authorization;
      if (!keep.token) throw new Error('InfluxDB returned an authorization without its token');
      writeSecretFile(c.file, keep.token);
      changes.push(`token ${c.name} (${c.access})`);
    }
    for (const stale of ours.filter((a) => a.id !== keep.id)) {
      await t.request(`/api/v2/authorizations/${encodeURIComponent(stale.id)}`, '', { method: 'DELETE' });
      changes.push(`revoked an old token of ${c.name}`);
    }
  }
  return changes;
}

async function ensureV1(cfg: InfluxConfig, creds: ScopedCredential[], t: Transport): Promise<string[]> {
  const ql = createInfluxQLClient(cfg, t);
  const changes: string[] = [];
  const users = new Set(((await ql.query('', 'SHOW USERS'))[0]?.values ?? []).map((v) => String(v[0])));
  for (const c of creds) {
    const user = v1User(c);
    const have = readSecretFile(c.file);
    const password = have?.startsWith(`${user}:`) ? have.slice(user.length + 1) : newSecret();
    if (!users.has(user)) {
      await ql.query('', `CREATE USER "${user}" WITH PASSWORD ${influxQLString(password)}`);
      changes.push(`user ${user}`);
    } else {
      // the file is the truth: a server restored from elsewhere gets the password back in line
      await ql.query('', `SET PASSWORD FOR "${user}" = ${influxQLString(password)}`);
    }
    const [grants] = await ql.query('', `SHOW GRANTS FOR "${user}"`);
    const held = new Map((grants?.values ?? []).map((v) => [String(v[0]), String(v[1])]));
    const want = c.access === 'write' ? 'ALL PRIVILEGES' : 'READ';
    for (const db of databasesOf(c)) {
      if (held.get(db) === want) continue;
      if (held.has(db) && held.get(db) !== 'NO PRIVILEGES') await ql.query('', `REVOKE ALL ON "${db}" FROM "${user}"`);
      await ql.query('', `GRANT ${c.access === 'write' ? 'ALL' : 'READ'} ON "${db}" TO "${user}"`);
      changes.push(`grant ${want} on ${db} to ${user}`);
    }
    if (have !== `${user}:${password}`) writeSecretFile(c.file, `${user}:${password}`);
  }
  return changes;
}
