// The 2.x Flux tasks: checked by the real Flux parser and semantic checker (flux-lsp, compiled to wasm),
// consistent with the 1.x CQs, and installed create-or-update-by-name through the 2.x HTTP API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Flux, is_valid_flux } from '@influxdata/flux-lsp-node';
import { createLogger } from '@mt/common';
import { HttpFake, type RecordedRequest } from '@mt/testing';
import { apply, continuousQueries, fluxTasks, RP_BY_RANGE, TASK_PREFIX } from '../src/index.js';

const valid = (script: string) => is_valid_flux(script) && new Flux(script).is_valid();

describe('Flux tasks', () => {
  it('every task parses and passes the semantic check (types, builtin signatures, imports)', () => {
    const tasks = fluxTasks();
    assert.equal(tasks.length, 16);
    assert.equal(new Set(tasks.map((t) => t.name)).size, tasks.length);
    for (const t of tasks) {
      assert.ok(valid(t.flux), `${t.name}:\n${t.flux}`);
      assert.match(t.flux, new RegExp(`option task = \\{name: "${t.name}", every: (5m|1h), offset: 30s\\}`));
    }
  });

  it('the checker rejects broken scripts (so the check above can fail)', () => {
    const t = fluxTasks()[0]!.flux;
    for (const broken of [t.replace('|> to(', '|> to(('), t.replace('fn: first', 'fn: frist'), t.replace('timeSrc', 'timeSource'), t.replace('"date"', '"dates"')]) {
      assert.notEqual(broken, t);
      assert.equal(valid(broken), false, broken);
    }
  });

  it('aggregates the same fields with the same functions as the continuous queries', () => {
    const fromFlux = (flux: string) => {
      const pairs: string[] = [];
      const re = /filter\(fn: \(r\) => (r\._field == .+?)\)\n\s+\|> aggregateWindow\(every: \w+, fn: (\w+),[^\n]*\)(\n\s+\|> set\(key: "_field", value: "(\w+)"\))?/g;
      for (const m of flux.matchAll(re)) {
        for (const f of m[1]!.matchAll(/"(\w+)"/g)) pairs.push(`${m[2]}(${f[1]}) AS ${m[4] ?? f[1]}`);
      }
      return pairs.sort();
    };
    const fromCq = (create: string) => [...create.matchAll(/(\w+)\("(\w+)"\) AS "(\w+)"/g)].map((m) => `${m[1]}(${m[2]}) AS ${m[3]}`).sort();
    const cqs = new Map(continuousQueries().map((c) => [c.name, c.create]));
    for (const t of fluxTasks()) {
      const cq = cqs.get(t.name);
      assert.ok(cq, t.name);
      assert.deepEqual(fromFlux(t.flux), fromCq(cq));
      const [, target, source] = /INTO "markets"\."(\w+)"\.\S+ FROM "markets"\."(\w+)"/.exec(cq)!;
      assert.ok(t.flux.includes(`from(bucket: "markets/${source}")`) && t.flux.includes(`to(bucket: "markets/${target}")`), t.name);
    }
  });
});

// A stand-in for the InfluxDB 2.x task API (shapes from the 2.x OpenAPI: /api/v2/orgs, /api/v2/tasks).
describe('installer against the InfluxDB 2.x API', () => {
  const fake = new HttpFake('influxdb2');
  let tasks: { id: string; orgID: string; name: string; flux: string; status: string }[] = [];
  let nextId = 1;
  const log = createLogger('influxdb-tasks-test', 'silent');

  before(async () => {
    fake
      .route('GET', '/api/v2/orgs', (r) => ({ body: { orgs: r.query.get('org') === 'mt' ? [{ id: 'org1', name: 'mt' }] : [] } }))
      .route('GET', '/api/v2/tasks', (r) => ({ body: { tasks: tasks.filter((t) => t.orgID === r.query.get('orgID')) } }))
      .route('POST', '/api/v2/tasks', (r) => {
        const b = JSON.parse(r.body) as { orgID: string; flux: string; status: string };
        const name = /option task = \{name: "([^"]+)"/.exec(b.flux)![1]!;
        const t = { id: String(nextId++), orgID: b.orgID, name, flux: b.flux, status: b.status };
        tasks.push(t);
        return { status: 201, body: t };
      })
      .route('PATCH', /^\/api\/v2\/tasks\/\w+$/, (r) => {
        const t = tasks.find((x) => x.id === r.path.split('/').pop());
        if (!t) return { status: 404, body: { code: 'not found' } };
        Object.assign(t, JSON.parse(r.body) as object);
        return { body: t };
      })
      .route('DELETE', /^\/api\/v2\/tasks\/\w+$/, (r) => {
        tasks = tasks.filter((x) => x.id !== r.path.split('/').pop());
        return { status: 204 };
      })
      .route('POST', '/api/v2/delete', () => ({ status: 204 }))
      .route('POST', '/api/v2/write', () => ({ status: 204 }));
    await fake.listen();
  });
  after(() => fake.close());

  it('creates, then leaves unchanged, updates drifted ones and removes stale ones of ours only', async () => {
    tasks.push({ id: 'x1', orgID: 'org1', name: 'someone_elses_task', flux: 'x', status: 'active' });
    tasks.push({ id: 'x2', orgID: 'org1', name: `${TASK_PREFIX}retired_5m`, flux: 'x', status: 'active' });
    const cfg = { url: fake.url, token: 'tok', org: 'mt', api: 'v2' as const };
    const r1 = await apply(cfg, log);
    assert.equal(r1.created.length, 16);
    assert.deepEqual(r1.deleted, [`${TASK_PREFIX}retired_5m`]);
    assert.ok(tasks.some((t) => t.name === 'someone_elses_task'));

    const before2 = fake.requests.length;
    const r2 = await apply(cfg, log);
    assert.deepEqual([r2.created, r2.updated, r2.deleted], [[], [], []]);
    assert.equal(r2.unchanged.length, 16);
    const writes = fake.requests.slice(before2).filter((q: RecordedRequest) => q.method !== 'GET');
    assert.deepEqual(writes.map((q) => q.path), ['/api/v2/delete', '/api/v2/write'], 'a second run only rewrites rp_config');

    tasks[1]!.status = 'inactive';
    tasks[2]!.flux = 'changed by hand';
    const r3 = await apply(cfg, log);
    assert.equal(r3.updated.length, 2);
    assert.equal(tasks.filter((t) => t.name.startsWith(TASK_PREFIX)).length, 16);

    for (const q of fake.requests) assert.equal(q.headers.authorization, 'Token tok');
    const write = fake.requests.find((q) => q.path === '/api/v2/write')!;
    assert.equal(write.query.get('bucket'), 'markets/1h');
    assert.equal(write.body.split('\n').length, RP_BY_RANGE.length);
    const del = fake.requests.find((q) => q.path === '/api/v2/delete')!;
    assert.equal((JSON.parse(del.body) as { predicate: string }).predicate, '_measurement="rp_config"');
  });
});
