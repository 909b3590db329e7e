// bootstrapInflux: real influxd 1.6 for the 1.x path (databases, retention policies, defaults, drift
// repair, waiting for a server that is not up yet), and a fake speaking the InfluxDB 2.x API shapes
// (/api/v2/orgs, /api/v2/buckets, /api/v2/dbrps, /api/v2/authorizations, permissions per resource) for the
// 2.x path: creates that race another process, least-privilege tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { HttpFake, freePort, startInflux, type InfluxServer, type RecordedRequest, type Reply } from '@mt/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrapInflux, createInfluxQLClient, DATA_BUCKETS, ensureScopedCredentials, type InfluxConfig, type ScopedCredential } from '../src/index.js';
import { silentLog } from './helpers/influx.js';

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

let influx: InfluxServer;
let cfg: InfluxConfig;
before(async () => {
  influx = await startInflux();
  cfg = { url: influx.url, token: '', org: '', api: 'v1' };
});
after(async () => {
  await influx?.stop();
});

async function retentionPolicies(db: string): Promise<Record<string, { duration: string; default: boolean }>> {
  const [s] = await createInfluxQLClient(cfg).query(db, `SHOW RETENTION POLICIES ON "${db}"`);
  const c = (n: string) => s!.columns.indexOf(n);
  return Object.fromEntries(s!.values.map((v) => [String(v[c('name')]), { duration: String(v[c('duration')]), default: v[c('default')] === true }]));
}

test('1.x: bootstrap twice → databases and retention policies as in the contract, second run changes nothing', { timeout: 60_000 }, async () => {
  const first = capturingLog();
  await bootstrapInflux(cfg, first.log);
  const second = capturingLog();
  await bootstrapInflux(cfg, second.log);

  const [dbs] = await createInfluxQLClient(cfg).query('', 'SHOW DATABASES');
  assert.ok(dbs!.values.some((v) => v[0] === 'markets'));
  assert.ok(dbs!.values.some((v) => v[0] === 'news'));
  const markets = await retentionPolicies('markets');
  assert.deepEqual(markets.raw, { duration: '168h0m0s', default: true });
  assert.deepEqual(markets['5m'], { duration: '720h0m0s', default: false });
  assert.deepEqual(markets['1h'], { duration: '8760h0m0s', default: false });
  const news = await retentionPolicies('news');
  assert.deepEqual(news.raw, { duration: '2160h0m0s', default: true });
  // infra: 15 days; custom: the user's own series, never expired (influxd shows infinite as 0s)
  assert.deepEqual(await retentionPolicies('infra'), { autogen: { duration: '0s', default: false }, raw: { duration: '360h0m0s', default: true } });
  assert.deepEqual((await retentionPolicies('custom')).raw, { duration: '0s', default: true });

  const changes = (l: Record<string, unknown>[]) => l.find((x) => x.component === 'influx' && Array.isArray(x.changes))?.changes as string[];
  assert.equal(changes(first.lines).length, 10);
  assert.ok(changes(first.lines).includes('retention policy custom/raw INF DEFAULT'));
  assert.deepEqual(changes(second.lines), []);
});

test('1.x: a drifted retention policy (duration, default) is put back', { timeout: 60_000 }, async () => {
  await bootstrapInflux(cfg, silentLog);
  const ql = createInfluxQLClient(cfg);
  await ql.query('markets', 'ALTER RETENTION POLICY "raw" ON "markets" DURATION 1d');
  await ql.query('markets', 'ALTER RETENTION POLICY "autogen" ON "markets" DEFAULT');
  await ql.query('markets', 'ALTER RETENTION POLICY "1h" ON "markets" DURATION 30d');
  await bootstrapInflux(cfg, silentLog);
  const rps = await retentionPolicies('markets');
  assert.deepEqual(rps.raw, { duration: '168h0m0s', default: true });
  assert.equal(rps.autogen!.default, false);
  assert.deepEqual(rps['1h'], { duration: '8760h0m0s', default: false });
  // shrinking works too: ALTER sets the shard duration, which must stay below the new duration
  await ql.query('markets', 'ALTER RETENTION POLICY "raw" ON "markets" DURATION 1000d SHARD DURATION 30d');
  await bootstrapInflux(cfg, silentLog);
  assert.deepEqual((await retentionPolicies('markets')).raw, { duration: '168h0m0s', default: true });
});

test('1.x: bootstrap waits for an InfluxDB that is not up yet', { timeout: 60_000 }, async () => {
  await influx.stop();
  const started = Date.now();
  const done = bootstrapInflux(cfg, silentLog, { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 1500));
  await influx.start();
  await done;
  assert.ok(Date.now() - started >= 1500);
  assert.equal((await retentionPolicies('markets')).raw!.default, true);
});

test('bootstrap gives up after its time bound when nothing answers', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const started = Date.now();
  await assert.rejects(bootstrapInflux({ ...cfg, url: `http://127.0.0.1:${port}` }, silentLog, { timeoutMs: 1500 }), (e: unknown) => (e as Error).name === 'TransportError');
  assert.ok(Date.now() - started < 6000);
});

// ---- 2.x ----

interface Bucket {
  id: string;
  orgID: string;
  type: 'user' | 'system';
  name: string;
  retentionRules: { type: 'expire'; everySeconds: number; shardGroupDurationSeconds?: number }[];
  createdAt: string;
  updatedAt: string;
  labels: unknown[];
}
interface Dbrp {
  id: string;
  orgID: string;
  bucketID: string;
  database: string;
  retention_policy: string;
  default: boolean;
  virtual?: boolean;
}

interface Authorization {
  id: string;
  token: string;
  status: 'active' | 'inactive';
  description: string;
  orgID: string;
  org: string;
  permissions: { action: 'read' | 'write'; resource: { type: string; id?: string; orgID?: string; name?: string } }[];
  createdAt: string;
  updatedAt: string;
}

/** Stateful stand-in for the InfluxDB 2.x management API (shapes per the 2.x OpenAPI spec). */
async function influx2(token: string) {
  const fake = new HttpFake('influxdb-2x');
  const org = { id: '0d8f0a4b9c1e2f30', name: 'market-terminal', description: '', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
  let nextId = 0x10;
  const id = () => (0x0a00000000000000n + BigInt(nextId++)).toString(16).padStart(16, '0');
  const now = new Date().toISOString();
  const buckets: Bucket[] = [
    { id: id(), orgID: org.id, type: 'system', name: '_monitoring', retentionRules: [{ type: 'expire', everySeconds: 604800 }], createdAt: now, updatedAt: now, labels: [] },
    { id: id(), orgID: org.id, type: 'system', name: '_tasks', retentionRules: [{ type: 'expire', everySeconds: 259200 }], createdAt: now, updatedAt: now, labels: [] },
  ];
  const dbrps: Dbrp[] = [];
  const auths: Authorization[] = [];
  /** The operator token may do anything; an authorization's token what its permissions say (2.x: per resource type and id). */
  const can = (r: RecordedRequest, action: 'read' | 'write', type: string, resourceId?: string): boolean => {
    const h = r.headers.authorization;
    if (h === `Token ${token}`) return true;
    const a = auths.find((x) => h === `Token ${x.token}` && x.status === 'active');
    return !!a?.permissions.some((p) => p.action === action && p.resource.type === type && (p.resource.id === undefined || p.resource.id === resourceId));
  };
  const known = (r: RecordedRequest) => r.headers.authorization === `Token ${token}` || auths.some((x) => r.headers.authorization === `Token ${x.token}` && x.status === 'active');
  const unauthorized: Reply = { status: 401, body: { code: 'unauthorized', message: 'unauthorized access' } };
  const authed = (h: (r: RecordedRequest) => Reply) => (r: RecordedRequest): Reply => (known(r) ? h(r) : unauthorized);
  const operator = (h: (r: RecordedRequest) => Reply) => (r: RecordedRequest): Reply =>
    r.headers.authorization === `Token ${token}` ? h(r) : { status: 403, body: { code: 'forbidden', message: 'insufficient permissions' } };
  const json = (r: RecordedRequest) => JSON.parse(r.body) as Record<string, unknown>;
  /** Hook for race tests: runs before a create is answered. */
  const beforeCreate: { bucket?: (name: string) => void } = {};

  fake.route('GET', '/api/v2/orgs', authed((r) => {
    const name = r.query.get('org');
    if ((name && name !== org.name) || !can(r, 'read', 'orgs', org.id)) return { status: 404, body: { code: 'not found', message: `organization name "${name}" not found` } };
    return { body: { links: { self: '/api/v2/orgs' }, orgs: [org] } };
  }));
  fake.route('GET', '/api/v2/buckets', authed((r) => {
    const name = r.query.get('name');
    const list = buckets.filter((b) => (!r.query.get('orgID') || b.orgID === r.query.get('orgID')) && (!name || b.name === name) && can(r, 'read', 'buckets', b.id));
    return { body: { links: { self: `/api/v2/buckets?${r.query}` }, buckets: list } };
  }));
  fake.route('GET', '/api/v2/authorizations', operator((r) => ({ body: { links: { self: '/api/v2/authorizations' }, authorizations: auths.filter((a) => !r.query.get('orgID') || a.orgID === r.query.get('orgID')) } })));
  fake.route('POST', '/api/v2/authorizations', operator((r) => {
    const b = json(r) as Pick<Authorization, 'orgID' | 'description' | 'status' | 'permissions'>;
    const created: Authorization = {
      id: id(),
      token: `${'t'.repeat(8)}-${nextId}-${Math.random().toString(36).slice(2)}==`,
      status: b.status ?? 'active',
      description: b.description ?? '',
      orgID: b.orgID,
      org: org.name,
      // the server answers resources with their names filled in
      permissions: b.permissions.map((p) => ({ action: p.action, resource: { ...p.resource, ...(p.resource.type === 'buckets' ? { name: buckets.find((x) => x.id === p.resource.id)?.name } : { name: org.name }) } })),
      createdAt: now,
      updatedAt: now,
    };
    auths.push(created);
    return { status: 201, body: created };
  }));
  fake.route('DELETE', /^\/api\/v2\/authorizations\/[0-9a-f]+$/, operator((r) => {
    const i = auths.findIndex((a) => a.id === r.path.split('/').pop());
    if (i < 0) return { status: 404, body: { code: 'not found', message: 'authorization not found' } };
    auths.splice(i, 1);
    return { status: 204 };
  }));
  fake.route('POST', '/api/v2/write', authed((r) => {
    const b = buckets.find((x) => x.name === r.query.get('bucket'));
    if (!b) return { status: 404, body: { code: 'not found', message: `bucket "${r.query.get('bucket')}" not found` } };
    if (!can(r, 'write', 'buckets', b.id)) return { status: 403, body: { code: 'forbidden', message: `insufficient permissions for write` } };
    return { status: 204 };
  }));
  fake.route('POST', '/api/v2/buckets', authed((r) => {
    const b = json(r) as Pick<Bucket, 'orgID' | 'name' | 'retentionRules'>;
    beforeCreate.bucket?.(b.name);
    if (buckets.some((x) => x.name === b.name)) return { status: 422, body: { code: 'conflict', message: `bucket with name ${b.name} already exists` } };
    const created: Bucket = { id: id(), orgID: b.orgID, type: 'user', name: b.name, retentionRules: b.retentionRules, createdAt: now, updatedAt: now, labels: [] };
    buckets.push(created);
    return { status: 201, body: created };
  }));
  fake.route('PATCH', /^\/api\/v2\/buckets\/[0-9a-f]+$/, authed((r) => {
    const b = buckets.find((x) => x.id === r.path.split('/').pop());
    if (!b) return { status: 404, body: { code: 'not found', message: 'bucket not found' } };
    Object.assign(b, json(r));
    return { body: b };
  }));
  fake.route('GET', '/api/v2/dbrps', authed((r) => {
    const q = r.query;
    // 2.x also lists read-only "virtual" mappings for buckets named db/rp without an explicit one
    const virtual: Dbrp[] = buckets
      .filter((b) => b.type === 'user' && b.name.includes('/') && !dbrps.some((d) => d.bucketID === b.id))
      .map((b) => ({ id: b.id, orgID: b.orgID, bucketID: b.id, database: b.name.split('/')[0]!, retention_policy: b.name.split('/')[1]!, default: false, virtual: true }));
    const content = [...dbrps, ...virtual].filter(
      (d) => (!q.get('orgID') || d.orgID === q.get('orgID')) && (!q.get('db') || d.database === q.get('db')) && (!q.get('rp') || d.retention_policy === q.get('rp')),
    );
    return { body: { content } };
  }));
  fake.route('POST', '/api/v2/dbrps', authed((r) => {
    const d = json(r) as Omit<Dbrp, 'id'>;
    if (!buckets.some((b) => b.id === d.bucketID)) return { status: 404, body: { code: 'not found', message: 'bucket not found' } };
    if (dbrps.some((x) => x.orgID === d.orgID && x.database === d.database && x.retention_policy === d.retention_policy))
      return { status: 422, body: { code: 'conflict', message: 'another DBRP mapping with same orgID, db, and rp exists' } };
    const created: Dbrp = { id: id(), orgID: d.orgID, bucketID: d.bucketID, database: d.database, retention_policy: d.retention_policy, default: d.default, virtual: false };
    if (created.default) for (const x of dbrps) if (x.database === created.database) x.default = false;
    dbrps.push(created);
    return { status: 201, body: { content: created } };
  }));
  fake.route('PATCH', /^\/api\/v2\/dbrps\/[0-9a-f]+$/, authed((r) => {
    const d = dbrps.find((x) => x.id === r.path.split('/').pop());
    if (!d) return { status: 404, body: { code: 'not found', message: 'dbrp not found' } };
    Object.assign(d, json(r));
    return { body: { content: d } };
  }));
  await fake.listen();
  return { fake, org, buckets, dbrps, auths, beforeCreate, newBucket: (name: string, everySeconds: number) => buckets.push({ id: id(), orgID: org.id, type: 'user', name, retentionRules: [{ type: 'expire', everySeconds }], createdAt: now, updatedAt: now, labels: [] }) };
}

const v2cfg = (url: string, token = 'admin-token'): InfluxConfig => ({ url, token, org: 'market-terminal', api: 'v2' });
const mutations = (f: HttpFake) => f.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

test('2.x: buckets with retention and explicit DBRP mappings (defaults) are created; a second run creates nothing', { timeout: 60_000 }, async () => {
  const s = await influx2('admin-token');
  try {
    await bootstrapInflux(v2cfg(s.fake.url), silentLog);
    assert.ok(s.fake.requests.every((r) => r.headers.authorization === 'Token admin-token'));
    assert.deepEqual(mutations(s.fake), Array.from({ length: 6 }, () => ['POST /api/v2/buckets', 'POST /api/v2/dbrps']).flat());
    const user = s.buckets.filter((b) => b.type === 'user');
    assert.deepEqual(
      user.map((b) => [b.name, b.orgID, b.retentionRules]),
      [
        ['markets/raw', s.org.id, [{ type: 'expire', everySeconds: 7 * 86400 }]],
        ['markets/5m', s.org.id, [{ type: 'expire', everySeconds: 30 * 86400 }]],
        ['markets/1h', s.org.id, [{ type: 'expire', everySeconds: 365 * 86400 }]],
        ['news/raw', s.org.id, [{ type: 'expire', everySeconds: 90 * 86400 }]],
        ['infra/raw', s.org.id, [{ type: 'expire', everySeconds: 15 * 86400 }]],
        // 2.x: everySeconds 0 = never expire
        ['custom/raw', s.org.id, [{ type: 'expire', everySeconds: 0 }]],
      ],
    );
    assert.deepEqual(
      s.dbrps.map((d) => [d.database, d.retention_policy, d.default, user.find((b) => b.id === d.bucketID)?.name]),
      [
        ['markets', 'raw', true, 'markets/raw'],
        ['markets', '5m', false, 'markets/5m'],
        ['markets', '1h', false, 'markets/1h'],
        ['news', 'raw', true, 'news/raw'],
        ['infra', 'raw', true, 'infra/raw'],
        ['custom', 'raw', true, 'custom/raw'],
      ],
    );
    const before = s.fake.requests.length;
    await bootstrapInflux(v2cfg(s.fake.url), silentLog);
    assert.deepEqual(mutations(s.fake).length, 12, 'second run made no POST/PATCH/DELETE (an infinite retention is not patched again)');
    assert.ok(s.fake.requests.length > before);
    assert.equal(s.buckets.length, 8);
    assert.equal(s.dbrps.length, 6);
    // a bucket whose expire rule was removed (2.x's other spelling of "forever") is left alone
    s.buckets.find((b) => b.name === 'custom/raw')!.retentionRules = [];
    await bootstrapInflux(v2cfg(s.fake.url), silentLog);
    assert.equal(mutations(s.fake).length, 12);
  } finally {
    await s.fake.close();
  }
});

test('2.x: a bucket with the wrong retention and a mapping with the wrong default are patched', { timeout: 60_000 }, async () => {
  const s = await influx2('admin-token');
  try {
    await bootstrapInflux(v2cfg(s.fake.url), silentLog);
    s.buckets.find((b) => b.name === 'markets/5m')!.retentionRules = [{ type: 'expire', everySeconds: 0 }];
    s.dbrps.find((d) => d.database === 'markets' && d.retention_policy === 'raw')!.default = false;
    s.fake.requests.length = 0;
    await bootstrapInflux(v2cfg(s.fake.url), silentLog);
    assert.deepEqual(mutations(s.fake), [`PATCH /api/v2/dbrps/${s.dbrps[0]!.id}`, `PATCH /api/v2/buckets/${s.buckets.find((b) => b.name === 'markets/5m')!.id}`]);
    assert.equal(s.buckets.find((b) => b.name === 'markets/5m')!.retentionRules[0]!.everySeconds, 30 * 86400);
    assert.equal(s.dbrps[0]!.default, true);
  } finally {
    await s.fake.close();
  }
});

test('2.x: wrong token or unknown org fail at once with the server message (no retry loop)', { timeout: 60_000 }, async () => {
  const s = await influx2('admin-token');
  try {
    const started = Date.now();
    await assert.rejects(bootstrapInflux(v2cfg(s.fake.url, 'wrong'), silentLog), (e: unknown) => (e as { status?: number }).status === 401);
    await assert.rejects(bootstrapInflux({ ...v2cfg(s.fake.url), org: 'nope' }, silentLog), (e: unknown) => (e as { status?: number }).status === 404 && /nope/.test((e as Error).message));
    assert.ok(Date.now() - started < 2000);
    assert.equal(s.fake.requests.length, 2);
  } finally {
    await s.fake.close();
  }
});

test('2.x: a bucket and a DBRP mapping created by another process between our read and our create (422 conflict) → bootstrap succeeds', { timeout: 60_000 }, async () => {
  const s = await influx2('admin-token');
  try {
    // another bootstrap creates markets/5m and its mapping right after we found it missing
    s.beforeCreate.bucket = (name) => {
      if (name !== 'markets/5m' || s.buckets.some((b) => b.name === name)) return;
      s.newBucket(name, 30 * 86400);
      const b = s.buckets.at(-1)!;
      s.dbrps.push({ id: 'ffff000000000001', orgID: s.org.id, bucketID: b.id, database: 'markets', retention_policy: '5m', default: false, virtual: false });
    };
    const run = capturingLog();
    await bootstrapInflux(v2cfg(s.fake.url), run.log, { timeoutMs: 10_000 });
    assert.ok(run.lines.some((l) => l.msg === 'influx bootstrap: created concurrently by another process, reading again' && /already exists/.test(String(l.err))));
    const all = ['custom/raw', 'infra/raw', 'markets/1h', 'markets/5m', 'markets/raw', 'news/raw'];
    assert.deepEqual(s.buckets.filter((b) => b.type === 'user').map((b) => b.name).sort(), all);
    assert.deepEqual(s.dbrps.map((d) => `${d.database}/${d.retention_policy}`).sort(), all);
    // two bootstraps at once (a feeder and the influxdb-tasks one-shot at first start) both succeed
    const t = await influx2('admin-token');
    try {
      await Promise.all([bootstrapInflux(v2cfg(t.fake.url), silentLog, { timeoutMs: 10_000 }), bootstrapInflux(v2cfg(t.fake.url), silentLog, { timeoutMs: 10_000 })]);
      assert.equal(t.buckets.filter((b) => b.type === 'user').length, 6);
      assert.equal(t.dbrps.length, 6);
    } finally {
      await t.fake.close();
    }
  } finally {
    await s.fake.close();
  }
});

test('2.x: scoped tokens — the feeders\' writes, Grafana\'s cannot; the feeders\' own bootstrap works with theirs; idempotent; a lost token file is replaced and the old token revoked', { timeout: 60_000 }, async () => {
  const s = await influx2('admin-token');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mt-auth2-'));
  const creds: ScopedCredential[] = [
    { name: 'feeders', access: 'write', file: path.join(dir, 'feeders') },
    { name: 'grafana', access: 'read', file: path.join(dir, 'grafana') },
    // the user's own series: read and write on custom/raw, nothing else (docs/INFLUXDB.md)
    { name: 'custom', access: 'write', file: path.join(dir, 'custom'), buckets: ['custom/raw'] },
  ];
  try {
    const admin = v2cfg(s.fake.url);
    await bootstrapInflux(admin, silentLog);
    await ensureScopedCredentials(admin, creds, silentLog);
    const feeders = readFileSync(creds[0]!.file, 'utf8').trim();
    const grafana = readFileSync(creds[1]!.file, 'utf8').trim();
    const custom = readFileSync(creds[2]!.file, 'utf8').trim();
    assert.equal(s.auths.length, 3);
    assert.deepEqual(s.auths.map((a) => a.description), [
      'market-terminal feeders (write), managed by influxdb-tasks',
      'market-terminal grafana (read), managed by influxdb-tasks',
      'market-terminal custom (write), managed by influxdb-tasks',
    ]);
    // the services' tokens cover their own buckets, not infra and custom
    const bucketIds = s.buckets.filter((b) => (DATA_BUCKETS as readonly string[]).includes(b.name)).map((b) => b.id);
    const customId = s.buckets.find((b) => b.name === 'custom/raw')!.id;
    assert.deepEqual(
      s.auths[2]!.permissions.map((p) => `${p.action}:${p.resource.type}:${p.resource.id}`).sort(),
      [`read:buckets:${customId}`, `read:orgs:${s.org.id}`, `write:buckets:${customId}`],
    );
    const grafanaPerms = s.auths[1]!.permissions.map((p) => `${p.action}:${p.resource.type}:${p.resource.id}`).sort();
    assert.deepEqual(grafanaPerms, [`read:orgs:${s.org.id}`, ...bucketIds.map((id) => `read:buckets:${id}`)].sort(), 'read-only on exactly our buckets');
    assert.ok(!s.auths[1]!.permissions.some((p) => p.resource.type === 'buckets' && !bucketIds.includes(p.resource.id!)), 'no system bucket');

    const writeAs = (tok: string) => fetch(`${s.fake.url}/api/v2/write?org=market-terminal&bucket=markets%2Fraw&precision=ms`, { method: 'POST', headers: { authorization: `Token ${tok}` }, body: 'ticks price=1' });
    assert.equal((await writeAs(feeders)).status, 204);
    assert.equal((await writeAs(grafana)).status, 403);
    assert.equal((await writeAs(custom)).status, 403, 'the custom token cannot write market data');
    const writeCustom = (tok: string) => fetch(`${s.fake.url}/api/v2/write?org=market-terminal&bucket=custom%2Fraw&precision=s`, { method: 'POST', headers: { authorization: `Token ${tok}` }, body: 'my_signal,symbol=BTC/USDT value=0.73 1764061200' });
    assert.equal((await writeCustom(custom)).status, 204);
    assert.equal((await writeCustom(feeders)).status, 403, 'nor the feeders the user\'s series');
    // the feeders run the bucket bootstrap at start with their own token, over their own buckets: finds everything, changes nothing
    s.fake.requests.length = 0;
    await bootstrapInflux(v2cfg(s.fake.url, feeders), silentLog, { buckets: DATA_BUCKETS });
    assert.deepEqual(mutations(s.fake), []);
    // neither scoped token may mint tokens
    assert.equal((await fetch(`${s.fake.url}/api/v2/authorizations`, { headers: { authorization: `Token ${feeders}` } })).status, 403);

    // second run: nothing created or revoked
    s.fake.requests.length = 0;
    await ensureScopedCredentials(admin, creds, silentLog);
    assert.deepEqual(mutations(s.fake), []);
    assert.equal(readFileSync(creds[0]!.file, 'utf8').trim(), feeders);

    // the feeders' token file lost (volume recreated): a new token, the old one revoked
    rmSync(creds[0]!.file);
    await ensureScopedCredentials(admin, creds, silentLog);
    const renewed = readFileSync(creds[0]!.file, 'utf8').trim();
    assert.notEqual(renewed, feeders);
    assert.equal(s.auths.length, 3);
    assert.equal((await writeAs(feeders)).status, 401);
    assert.equal((await writeAs(renewed)).status, 204);
  } finally {
    await s.fake.close();
  }
});
