// deploy/kubernetes (docs/DEPLOYMENT.md, "Kubernetes"): the base and every overlay rendered by
// `kubectl kustomize` (Debian's kubectl, installed by scripts/install-deps.sh), every object validated
// against the Kubernetes API schemas of a current release (kubernetes-models: the OpenAPI of 1.35, both
// its JSON-schema validators and, for unknown fields, its TypeScript types through the compiler), and
// what the terminal needs checked on the rendered objects: every reference resolves, every service's
// configuration passes that service's own zod schema, the shards and Alertmanager peers agree, and the
// NetworkPolicies let exactly the needed connections through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { z } from 'zod';
import { liveTokenEnv, parseConfig, resolveShard, splitList } from '@mt/common';
import { z as zod } from 'zod';
import { startPrometheus, tmpDir, waitFor, which } from '@mt/testing';
import { marketSchema } from '../../feeders/src/market/config.ts';
import { newsSchema } from '../../feeders/src/news/config.ts';
import { configSchema as apiSchema } from '../../watchlist-api/src/config.ts';
import { K8S_FILES, ROOT, kubernetesFiles } from '../kubernetes-files.ts';

const K8S = path.join(ROOT, 'deploy', 'kubernetes');
const KUSTOMIZATIONS = ['base', 'overlays/external-influxdb', 'overlays/external-influxdb3', 'overlays/external-postgres', 'overlays/production-example'] as const;
type Name = (typeof KUSTOMIZATIONS)[number];

// ---- a loose view of the objects (the schemas below are the strict one) ----
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
}

/**
 * The Secret an operator creates with deploy/kubernetes/create-secrets.sh (nothing of it is committed):
 * the script run for real, with a `kubectl` on PATH that records its arguments instead of calling a cluster.
 */
function operatorSecret(env: Record<string, string> = {}): Obj {
  const dir = tmpDir('k8s-secrets');
  const log = path.join(dir, 'args.json');
  writeFileSync(path.join(dir, 'kubectl'), `#!/usr/bin/env node\nrequire('fs').writeFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)));\n`, { mode: 0o755 });
  execFileSync('sh', [path.join(K8S, 'create-secrets.sh')], { env: { PATH: `${dir}:${process.env.PATH}`, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const args = JSON.parse(readFileSync(log, 'utf8')) as string[];
  assert.deepEqual(args.slice(0, 6), ['-n', 'market-terminal', 'create', 'secret', 'generic', 'terminal-secrets']);
  const data = Object.fromEntries(
    args
      .filter((a) => a.startsWith('--from-literal='))
      .map((a) => {
        const [k, ...v] = a.slice('--from-literal='.length).split('=');
        return [k!, Buffer.from(v.join('=')).toString('base64')];
      }),
  );
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'terminal-secrets', namespace: 'market-terminal' }, data };
}

const rendered = new Map<Name, Obj[]>();
/** The objects of a kustomization, plus the operator's terminal-secrets (create-secrets.sh). */
function render(name: Name): Obj[] {
  let objs = rendered.get(name);
  if (!objs) {
    const out = execFileSync(which('kubectl'), ['kustomize', path.join(K8S, name)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    // kustomize 2.0.3 (Debian's kubectl 1.20) leaves an empty object (at most given the namespace) where a
    // `$patch: delete` removed one; current kustomize leaves nothing
    const husk = (o: Partial<Obj>) => Object.keys(o).every((k) => k === 'metadata') && Object.keys(o.metadata ?? {}).every((k) => k === 'namespace');
    objs = parseAllDocuments(out)
      .map((d) => d.toJS() as Obj)
      .filter((o) => o && !husk(o));
    assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0, `${name}: no Secret is committed`);
    objs.push(operatorSecret(name.includes('postgres') ? { DATABASE_URL: 'postgres://terminal:secret@postgres.example.org:5432/terminal?sslmode=require' } : {}));
    rendered.set(name, objs);
  }
  return objs;
}

const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const must = (objs: Obj[], kind: string, name: string): Obj => {
  const o = find(objs, kind, name);
  assert.ok(o, `${kind}/${name} is rendered`);
  return o;
};
/** A generated ConfigMap/Secret keeps its name with a content hash appended (`terminal-config-g49k9gg7c4`). */
const generated = (objs: Obj[], kind: 'ConfigMap' | 'Secret', base: string) => objs.find((o) => o.kind === kind && new RegExp(`^${base}(-[a-z0-9]{10})?$`).test(o.metadata.name));
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'Job']);
const workloads = (objs: Obj[]) => objs.filter((o) => WORKLOADS.has(o.kind));
const podSpec = (w: Obj) => w.spec.template.spec as { containers: Container[]; volumes?: { name: string; configMap?: { name: string; items?: { key: string }[] }; persistentVolumeClaim?: { claimName: string } }[]; serviceAccountName?: string };
const podLabels = (w: Obj) => w.spec.template.metadata.labels as Record<string, string>;
const secretValue = (s: Obj, k: string) => (s.data?.[k] === undefined ? undefined : Buffer.from(s.data[k], 'base64').toString('utf8'));

/** The environment a container gets, as its process would see it (`$(VAR)` expanded, the pod name for metadata.name). */
function containerEnv(objs: Obj[], c: Container, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  const byName = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
  for (const f of c.envFrom ?? []) {
    if (f.configMapRef) Object.assign(env, byName('ConfigMap', f.configMapRef.name)!.data);
    if (f.secretRef) {
      const s = byName('Secret', f.secretRef.name)!;
      for (const k of Object.keys(s.data ?? {})) env[k] = secretValue(s, k)!;
    }
  }
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    let v: string | undefined;
    if (e.value !== undefined) v = e.value.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (_m, k: string) => env[k] ?? `$(${k})`);
    else if (from?.configMapKeyRef) v = byName('ConfigMap', from.configMapKeyRef.name)?.data?.[from.configMapKeyRef.key];
    else if (from?.secretKeyRef) {
      const s = byName('Secret', from.secretKeyRef.name);
      v = s ? secretValue(s, from.secretKeyRef.key) : undefined;
    } else if (from?.fieldRef?.fieldPath === 'metadata.name') v = podName;
    else if (from?.fieldRef?.fieldPath === 'status.podIP') v = '10.0.0.1';
    if (v !== undefined) env[e.name] = v;
  }
  return env;
}

// ---- schema validation ----

/** `apps/v1` → the kubernetes-models module of that group version. */
const modelModule = (apiVersion: string) => `kubernetes-models/${apiVersion}`;

async function validateSchemas(objs: Obj[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objs) {
    const mod = (await import(modelModule(o.apiVersion))) as Record<string, new (d: unknown) => { validate(): void }>;
    const Model = mod[o.kind];
    if (!Model) {
      errors.push(`${o.apiVersion} ${o.kind}: no such kind in the API`);
      continue;
    }
    // kustomize wraps long base64 values over lines; the API server's decoder (Go's encoding/base64)
    // skips newlines, the schema's "byte" format does not
    const data = o.kind === 'Secret' && o.data ? { data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, v.replace(/\n/g, '')])) } : {};
    try {
      new Model({ ...o, ...data }).validate();
    } catch (err) {
      errors.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
    }
  }
  return errors;
}

/**
 * Unknown and mistyped fields: the JSON-schema validators accept extra properties (the API server would
 * drop or refuse them), so every object is also type-checked as an object literal of its kubernetes-models
 * interface, where TypeScript's excess-property check names any field the API does not have.
 */
function typeCheck(objs: { label: string; obj: Obj }[]): string[] {
  const dir = tmpDir('k8s-types');
  // inside the repository, so `kubernetes-models` resolves from its node_modules
  const file = path.join(K8S, `.typecheck-${process.pid}.ts`);
  const lines = objs.map(({ obj }, i) => `// ${objs[i]!.label}\nexport const o${i}: import('${modelModule(obj.apiVersion)}').I${obj.kind} = ${JSON.stringify(obj)};`);
  const source = lines.join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (f === file ? source : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => f === file || exists(f);
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, source, lang, true) : getSource(f, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  writeFileSync(path.join(dir, 'source.ts'), source); // for reading a failure
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return msg;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const label = d.file.text.split('\n')[line - 1] ?? '';
    return `${label.replace('// ', '')}: ${msg.split('\n').slice(-3).join(' ')} (${path.join(dir, 'source.ts')}:${line + 1})`;
  });
}

// ---- the network policies, evaluated ----

interface Peer {
  namespace: string;
  labels: Record<string, string>;
}
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
function matches(sel: Selector | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values!.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
/** Whether a connection from `from` to a pod labelled `to` (in our namespace) on port/protocol is allowed. */
function allowed(objs: Obj[], ns: string, from: Peer, to: Record<string, string>, port: number, protocol = 'TCP'): boolean {
  const policies = objs.filter((o) => o.kind === 'NetworkPolicy' && matches(o.spec.podSelector, to) && (o.spec.policyTypes ?? ['Ingress']).includes('Ingress'));
  if (!policies.length) return true;
  return policies.some((p) =>
    ((p.spec.ingress ?? []) as { from?: { podSelector?: Selector; namespaceSelector?: Selector }[]; ports?: { port: number; protocol?: string }[] }[]).some((rule) => {
      const portOk = !rule.ports || rule.ports.some((rp) => rp.port === port && (rp.protocol ?? 'TCP') === protocol);
      const fromOk =
        !rule.from ||
        rule.from.some((f) => {
          if (f.namespaceSelector) return matches(f.namespaceSelector, { 'kubernetes.io/metadata.name': from.namespace }) && matches(f.podSelector, from.labels);
          return from.namespace === ns && matches(f.podSelector, from.labels);
        });
      return portOk && fromOk;
    }),
  );
}

// ================================================================ tests

test('deploy/kubernetes/base/files is what `npm run k8s:generate` makes of the repository', () => {
  const want = kubernetesFiles();
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : [path.join(d, f)]));
  const have = walk(K8S_FILES).map((f) => path.relative(K8S_FILES, f));
  assert.deepEqual(have.sort(), [...want.keys()].sort(), 'the same files');
  for (const [rel, content] of want) assert.equal(readFileSync(path.join(K8S_FILES, rel), 'utf8'), content, `${rel} is current: run npm run k8s:generate`);
  assert.match(want.get('grafana/provisioning/datasources/datasources.yml')!, /url: \$\{INFLUX_URL\}/);
});

for (const name of KUSTOMIZATIONS) {
  test(`${name}: renders, and every object is valid against the Kubernetes 1.35 API schemas`, async () => {
    const objs = render(name);
    assert.ok(objs.length > 20, `${objs.length} objects`);
    assert.deepEqual(await validateSchemas(objs), []);
    for (const o of objs) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'market-terminal', `${o.kind}/${o.metadata.name} in the namespace`);
  });
}

test('no object of any rendering has a field the API does not know (TypeScript excess-property check)', () => {
  // one program for all renderings; the schema test above covers types the models allow as `any`
  const all = KUSTOMIZATIONS.flatMap((n) => render(n).map((obj) => ({ label: `${n} ${obj.kind}/${obj.metadata.name}`, obj })));
  assert.deepEqual(typeCheck(all), []);
  // and the check is alive: a misspelt field is caught
  const api = must(render('base'), 'Deployment', 'watchlist-api');
  const bad = structuredClone(api);
  bad.spec.template.spec.containers[0].readinesProbe = bad.spec.template.spec.containers[0].readinessProbe;
  const errs = typeCheck([{ label: 'misspelt', obj: bad }]);
  assert.equal(errs.length, 1, errs.join('\n'));
  assert.match(errs[0]!, /readinesProbe/);
});

for (const name of KUSTOMIZATIONS) {
  test(`${name}: every reference resolves — ConfigMaps, Secrets and keys, volumes, Services → pods and ports, Ingress → Services, PDBs → pods`, () => {
    const objs = render(name);
    for (const w of workloads(objs)) {
      const spec = podSpec(w);
      for (const c of spec.containers) {
        for (const f of c.envFrom ?? []) if (f.configMapRef) assert.ok(find(objs, 'ConfigMap', f.configMapRef.name), `${w.metadata.name}: envFrom ConfigMap ${f.configMapRef.name}`);
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          const kind = e.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret';
          const target = find(objs, kind, ref.name);
          if (ref.optional) continue; // e.g. terminal-integrations: the operator's own Secret, all keys optional
          assert.ok(target, `${w.metadata.name} ${e.name}: ${kind} ${ref.name}`);
          assert.ok(ref.key in (target.data ?? {}), `${w.metadata.name} ${e.name}: key ${ref.key} in ${kind} ${ref.name}`);
        }
        const ports = new Set((c.ports ?? []).map((p) => p.name));
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          const port = probe?.httpGet?.port;
          if (typeof port === 'string') assert.ok(ports.has(port), `${w.metadata.name}: probe port ${port}`);
        }
        const volumes = new Set((spec.volumes ?? []).map((v) => v.name).concat((w.spec.volumeClaimTemplates ?? []).map((v: Obj) => v.metadata.name)));
        for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${w.metadata.name}: volume ${m.name}`);
      }
      for (const v of spec.volumes ?? []) {
        if (v.configMap) {
          const cm = find(objs, 'ConfigMap', v.configMap.name);
          assert.ok(cm, `${w.metadata.name}: ConfigMap ${v.configMap.name}`);
          for (const it of v.configMap.items ?? []) assert.ok(it.key in (cm.data ?? {}), `${w.metadata.name}: key ${it.key} in ${v.configMap.name}`);
        }
        if (v.persistentVolumeClaim) assert.ok(find(objs, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName), `${w.metadata.name}: PVC`);
      }
      if (spec.serviceAccountName) assert.ok(find(objs, 'ServiceAccount', spec.serviceAccountName));
      if (w.kind === 'StatefulSet') assert.ok(find(objs, 'Service', w.spec.serviceName), `${w.metadata.name}: governing Service ${w.spec.serviceName}`);
      assert.ok(matches(w.spec.selector, podLabels(w)), `${w.metadata.name}: selector matches its pods`);
    }
    const pods = workloads(objs).filter((w) => w.kind !== 'Job');
    for (const svc of objs.filter((o) => o.kind === 'Service')) {
      if (!svc.spec.selector) continue; // ingress-closed: nothing behind it, on purpose
      const behind = pods.filter((w) => matches({ matchLabels: svc.spec.selector }, podLabels(w)));
      assert.ok(behind.length > 0, `Service ${svc.metadata.name} selects pods`);
      for (const p of svc.spec.ports as { name: string; targetPort: string | number; protocol?: string }[]) {
        const ok = behind.every((w) => podSpec(w).containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort)));
        assert.ok(ok, `Service ${svc.metadata.name} port ${p.name} → ${p.targetPort}`);
      }
    }
    for (const ing of objs.filter((o) => o.kind === 'Ingress')) {
      for (const rule of ing.spec.rules) {
        for (const p of rule.http.paths as { path: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[]) {
          const svc = must(objs, 'Service', p.backend.service.name);
          const port = p.backend.service.port;
          assert.ok((svc.spec.ports as { name: string; port: number }[]).some((sp) => sp.name === port.name || sp.port === port.number), `${ing.metadata.name} ${p.path} → ${svc.metadata.name}`);
        }
      }
    }
    for (const pdb of objs.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const target = pods.find((w) => matches(pdb.spec.selector, podLabels(w)));
      assert.ok(target, `PDB ${pdb.metadata.name} selects pods`);
      const replicas = target.spec.replicas ?? 1;
      assert.ok(replicas > 1, `PDB ${pdb.metadata.name}: not on a single-replica workload (it would block drains)`);
      if (pdb.spec.minAvailable !== undefined) assert.ok(pdb.spec.minAvailable < replicas, `PDB ${pdb.metadata.name} leaves room for one disruption`);
    }
  });
}

test('secrets: none committed; create-secrets.sh makes every key the manifests read, with fresh random values', () => {
  const a = operatorSecret();
  const b = operatorSecret();
  const read = new Set<string>();
  for (const name of KUSTOMIZATIONS) {
    for (const w of workloads(render(name))) {
      for (const c of podSpec(w).containers) for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name === 'terminal-secrets') read.add(e.valueFrom.secretKeyRef.key);
      for (const v of (podSpec(w).volumes ?? []) as { secret?: { secretName: string; items?: { key: string }[] } }[]) if (v.secret?.secretName === 'terminal-secrets') for (const it of v.secret.items ?? []) read.add(it.key);
    }
  }
  assert.deepEqual([...read].sort(), Object.keys(a.data!).sort(), 'the keys the manifests read = the keys the script creates');
  for (const k of ['INFLUX_ADMIN_PASSWORD', 'INFLUX_ADMIN_TOKEN', 'POSTGRES_PASSWORD', 'API_TOKEN', 'GRAFANA_ADMIN_PASSWORD']) {
    const v = secretValue(a, k)!;
    assert.ok(v.length >= 40 && v !== secretValue(b, k), `${k}: random, 256 bits or more`);
  }
  // the in-cluster database: no password in the URL, PGPASSWORD apart (any characters, docs/DEPLOYMENT.md "Secrets")
  assert.equal(secretValue(a, 'DATABASE_URL'), 'postgres://terminal@postgres:5432/terminal');
  assert.equal(secretValue(a, 'PGPASSWORD'), secretValue(a, 'POSTGRES_PASSWORD'));
  const odd = operatorSecret({ POSTGRES_PASSWORD: 'p/ss@w:rd#%40 ?x' });
  assert.equal(secretValue(odd, 'DATABASE_URL'), 'postgres://terminal@postgres:5432/terminal', 'a password with / @ : # % stays out of the URL');
  assert.equal(secretValue(odd, 'PGPASSWORD'), 'p/ss@w:rd#%40 ?x');
  const external = operatorSecret({ DATABASE_URL: 'postgres://terminal:secret@postgres.example.org:5432/terminal?sslmode=require' });
  assert.equal(secretValue(external, 'PGPASSWORD'), '', "a given DATABASE_URL keeps its own password: PGPASSWORD empty, not the generated one");
  assert.equal(secretValue(a, 'INFLUX_TOKEN'), secretValue(a, 'INFLUX_ADMIN_TOKEN'), 'until least-privilege tokens are made');
  const given = operatorSecret({ API_TOKEN: 'mine-0123456789abcdef0123456789abcdef' });
  assert.equal(secretValue(given, 'API_TOKEN'), 'mine-0123456789abcdef0123456789abcdef', 'a value given wins');
});

test('every container: a pinned image, CPU and memory requests and limits, probes for the long-running ones', () => {
  for (const name of KUSTOMIZATIONS) {
    for (const w of workloads(render(name))) {
      for (const c of podSpec(w).containers) {
        const where = `${name} ${w.metadata.name}/${c.name}`;
        assert.match(c.image, /:[vV]?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/, `${where}: image ${c.image} pinned to a version`);
        for (const k of ['requests', 'limits'] as const) for (const r of ['cpu', 'memory']) assert.ok(c.resources?.[k]?.[r], `${where}: ${k}.${r}`);
        if (w.kind === 'Job') continue;
        assert.ok(c.livenessProbe && c.readinessProbe, `${where}: liveness and readiness probes`);
      }
    }
  }
});

test('Alertmanager gets every setting its config renderer reads (alertmanager/render-config.sh)', () => {
  const script = readFileSync(path.join(ROOT, 'alertmanager', 'render-config.sh'), 'utf8');
  // internal to the script or defaulted by it: the templates' directory, Telegram's API host, TLS on
  const internal = new Set(['VAR', 'ALERTMANAGER_TEMPLATES_DIR', 'TELEGRAM_API_URL', 'SMTP_PASSWORD_PATH', 'SMTP_REQUIRE_TLS', 'OUT', 'OUT_DIR', 'TEMPLATE', 'TELEGRAM_ENABLED']);
  const reads = new Set([...script.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!).filter((v) => !internal.has(v)));
  const env = new Set((podSpec(must(render('base'), 'StatefulSet', 'alertmanager')).containers[0]!.env ?? []).map((e) => e.name));
  assert.deepEqual([...reads].filter((v) => !env.has(v)), []);
});

test('probes: the API is ready only once migrated (/readyz); the feeders are restarted only when they stop answering (/livez)', () => {
  const objs = render('base');
  const api = podSpec(must(objs, 'Deployment', 'watchlist-api')).containers[0]!;
  assert.equal(api.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(api.livenessProbe?.httpGet?.path, '/healthz');
  for (const [kind, n] of [['StatefulSet', 'market-feeder'], ['Deployment', 'news-feeder']] as const) {
    const c = podSpec(must(objs, kind, n)).containers[0]!;
    assert.equal(c.livenessProbe?.httpGet?.path, '/livez', `${n}: an InfluxDB outage must not restart it (the buffer would be lost)`);
    assert.equal(c.readinessProbe?.httpGet?.path, '/healthz');
  }
  // the API's /readyz answers 503 until migrated: its route says so
  assert.match(readFileSync(path.join(ROOT, 'watchlist-api/src/routes/health.ts'), 'utf8'), /if \(!app\.dbState\.migrated\) return reply\.code\(503\)/);
});

const SCHEMAS: Record<string, z.ZodType> = {
  'feeders/dist/market/main.js': marketSchema,
  'feeders/dist/news/main.js': newsSchema,
  'watchlist-api/dist/server.js': apiSchema,
};

for (const name of KUSTOMIZATIONS) {
  test(`${name}: each service's environment passes its own config schema; the shards and the Alertmanager peers agree`, () => {
    const objs = render(name);
    const apps = workloads(objs).filter((w) => podSpec(w).containers[0]!.image.includes('market-terminal/app'));
    assert.equal(apps.length, name.includes('influxdb3') ? 3 : 4, apps.map((w) => w.metadata.name).join(', '));
    for (const w of apps) {
      const c = podSpec(w).containers[0]!;
      const entry = c.command![1]!;
      assert.ok(existsInBuild(entry), `${w.metadata.name}: ${entry} is what the build makes`);
      const schema = SCHEMAS[entry];
      const env = containerEnv(objs, c, `${w.metadata.name}-0`);
      if (schema) assert.doesNotThrow(() => parseConfig(schema, { ...env, NODE_ENV: 'production' }), `${w.metadata.name}`);
    }

    // shards: pod market-feeder-i is shard i of FEEDER_SHARDS = replicas
    const feeder = must(objs, 'StatefulSet', 'market-feeder');
    const n: number = feeder.spec.replicas;
    const c = podSpec(feeder).containers[0]!;
    // main.ts: resolveShard(config, HOSTNAME || os.hostname())
    const shards = Array.from({ length: n }, (_, i) => {
      const env = containerEnv(objs, c, `market-feeder-${i}`);
      return resolveShard(parseConfig(marketSchema, env), env.HOSTNAME);
    });
    assert.deepEqual(shards, Array.from({ length: n }, (_, i) => ({ index: i, count: n })));

    // Alertmanager: 3 peers; the feeders and Prometheus post to each, the peers gossip with each other
    const am = must(objs, 'StatefulSet', 'alertmanager');
    assert.equal(am.spec.replicas, 3);
    const peerSvc = must(objs, 'Service', am.spec.serviceName);
    assert.equal(peerSvc.spec.clusterIP, 'None');
    assert.equal(peerSvc.spec.publishNotReadyAddresses, true, 'peers find each other before they are ready');
    const pods = [0, 1, 2].map((i) => `alertmanager-${i}.${am.spec.serviceName}`);
    assert.deepEqual(splitList(containerEnv(objs, c, 'market-feeder-0').ALERTMANAGER_URL!), pods.map((p) => `http://${p}:9093`));
    const args = podSpec(am).containers[0]!.args!;
    assert.deepEqual(args.filter((a) => a.startsWith('--cluster.peer=')), pods.map((p) => `--cluster.peer=${p}:9094`));
    const prom = parse(generated(objs, 'ConfigMap', 'prometheus-config')!.data!['prometheus.yml']!) as { alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } };
    assert.deepEqual(prom.alerting.alertmanagers[0]!.static_configs[0]!.targets, pods.map((p) => `${p}:9093`));
  });
}

function existsInBuild(entry: string): boolean {
  // dist/x.js is built from src/x.ts
  return statSync(path.join(ROOT, entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts')), { throwIfNoEntry: false })?.isFile() ?? false;
}

test('overlays: external InfluxDB (2.x, 3.x) and PostgreSQL replace the in-cluster ones everywhere', () => {
  for (const name of ['overlays/external-influxdb', 'overlays/external-influxdb3'] as const) {
    const objs = render(name);
    for (const kind of ['StatefulSet', 'Service', 'NetworkPolicy']) assert.equal(find(objs, kind, 'influxdb'), undefined, `${name}: no ${kind}/influxdb`);
    const cfg = generated(objs, 'ConfigMap', 'terminal-config')!.data!;
    assert.match(cfg.INFLUX_URL!, /^https:\/\/influxdb3?\.example\.org:\d+$/);
    assert.equal(cfg.INFLUX_API, 'v2');
    assert.doesNotMatch(JSON.stringify(objs), /influxdb:8086/, `${name}: nothing points at the in-cluster InfluxDB`);
  }
  assert.ok(find(render('overlays/external-influxdb'), 'Job', 'influxdb-tasks'), '2.x: the tasks are installed');
  assert.equal(find(render('overlays/external-influxdb3'), 'Job', 'influxdb-tasks'), undefined, '3.x has no Flux tasks');

  const pg = render('overlays/external-postgres');
  for (const kind of ['StatefulSet', 'Service', 'NetworkPolicy']) assert.equal(find(pg, kind, 'postgres'), undefined, `no ${kind}/postgres`);
  assert.doesNotMatch(JSON.stringify(pg.filter((o) => o.kind !== 'Secret')), /postgres:5432/, 'nothing points at the in-cluster PostgreSQL');

  const prod = render('overlays/production-example');
  for (const w of workloads(prod)) for (const c of podSpec(w).containers) assert.doesNotMatch(c.image, /^market-terminal\//, 'images from the registry');
  for (const ing of prod.filter((o) => o.kind === 'Ingress')) assert.equal(ing.spec.rules[0].host, 'markets.desk.example.com');
  assert.equal(must(prod, 'StatefulSet', 'market-feeder').spec.replicas, 5);
});

test('the Ingress: TLS, HTTP → HTTPS, per-IP rate limits, exactly the API routes to the API, Grafana /metrics closed', () => {
  const objs = render('base');
  const api = must(objs, 'Ingress', 'terminal-api');
  const grafana = must(objs, 'Ingress', 'terminal-grafana');
  for (const ing of [api, grafana]) {
    const a = ing.metadata.annotations!;
    assert.equal(a['nginx.ingress.kubernetes.io/force-ssl-redirect'], 'true');
    assert.ok(Number(a['nginx.ingress.kubernetes.io/limit-rps']) > 0);
    assert.deepEqual(ing.spec.tls, [{ hosts: [ing.spec.rules[0].host], secretName: 'terminal-tls' }]);
  }
  assert.equal(api.metadata.annotations!['nginx.ingress.kubernetes.io/limit-rps'], '10', 'the API budget of nginx/');
  // every route the API registers under /api (its route files) goes to it
  const routesDir = path.join(ROOT, 'watchlist-api/src/routes');
  const prefixes = new Set(
    readdirSync(routesDir)
      // session.ts: the sign-in and short-link routes outside /api (below)
      .filter((f) => f.endsWith('.ts') && f !== 'health.ts' && f !== 'session.ts')
      .flatMap((f) => [...readFileSync(path.join(routesDir, f), 'utf8').matchAll(/app\.(?:get|post|put|patch|delete)\('\/([a-z-]+)/g)].map((m) => `/api/${m[1]}`)),
  );
  const apiPaths = (api.spec.rules[0].http.paths as { path: string }[]).map((p) => p.path);
  assert.deepEqual(apiPaths.filter((p) => p.startsWith('/api/')).sort(), [...prefixes].sort());
  // one user, one login (docs/USERS.md): the sign-in, sign-out and short links go to the API, and every Grafana
  // request is checked by the API first, its answer's identity headers handed on
  for (const p of ['/auth/login', '/auth/logout', '/l']) assert.ok(apiPaths.includes(p), p);
  const ga = grafana.metadata.annotations!;
  assert.match(ga['nginx.ingress.kubernetes.io/auth-url']!, /^http:\/\/watchlist-api\.market-terminal\.svc\.cluster\.local:8000\/auth\/check$/);
  assert.equal(ga['nginx.ingress.kubernetes.io/auth-signin'], '/auth/login?next=$escaped_request_uri');
  assert.equal(ga['nginx.ingress.kubernetes.io/auth-response-headers'], 'X-WEBAUTH-USER, X-WEBAUTH-ROLE');
  const genv = Object.fromEntries((podSpec(must(objs, 'Deployment', 'grafana')).containers[0]!.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value]));
  assert.deepEqual([genv.GF_AUTH_PROXY_ENABLED, genv.GF_AUTH_PROXY_HEADER_NAME, genv.GF_AUTH_PROXY_HEADERS], ['true', 'X-WEBAUTH-USER', 'Role:X-WEBAUTH-ROLE']);
  // who may send those headers: terminal-config's GRAFANA_AUTH_PROXY_WHITELIST, in every rendering either empty (the
  // NetworkPolicy below is then the only guard) or IPs/CIDRs as Grafana 12.3 parses them (comma-separated, bare = /32)
  for (const name of KUSTOMIZATIONS) {
    const r = render(name);
    const gc = podSpec(must(r, 'Deployment', 'grafana')).containers[0]!;
    const wl = containerEnv(r, gc, 'grafana-0').GF_AUTH_PROXY_WHITELIST;
    assert.equal(wl, generated(r, 'ConfigMap', 'terminal-config')!.data!.GRAFANA_AUTH_PROXY_WHITELIST, `${name}: the whitelist comes from terminal-config`);
    assert.equal(typeof wl, 'string', `${name}: GF_AUTH_PROXY_WHITELIST is set`);
    if (name === 'base') assert.equal(wl, '', 'the base default: every peer the NetworkPolicy admits');
    for (const a of wl!.split(',').filter((x) => x.trim() !== ''))
      assert.match(a.trim(), /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, `${name}: ${a} is an IPv4 address or CIDR`);
  }
  const closed = (grafana.spec.rules[0].http.paths as { path: string; pathType: string; backend: { service: { name: string } } }[]).find((p) => p.path === '/metrics')!;
  assert.equal(closed.pathType, 'Exact');
  assert.equal(must(objs, 'Service', closed.backend.service.name).spec.selector, undefined, 'a Service without endpoints');
});

test('NetworkPolicies: only the ingress controller (and Prometheus; the market feeders Grafana, for Live) reach Grafana and the API; every connection the terminal needs is open', () => {
  const objs = render('base');
  const ns = 'market-terminal';
  const labelsOf = (n: string) => podLabels(workloads(objs).find((w) => w.metadata.name === n)!);
  const pod = (n: string): Peer => ({ namespace: ns, labels: labelsOf(n) });
  const ingress: Peer = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
  const stranger: Peer = { namespace: 'default', labels: { app: 'curl' } };
  assert.ok(find(objs, 'NetworkPolicy', 'default-deny-ingress'));

  const needed: [Peer, string, number, string?][] = [
    [ingress, 'grafana', 3000],
    [ingress, 'watchlist-api', 8000],
    ...['market-feeder', 'news-feeder', 'influxdb-tasks', 'watchlist-api', 'grafana'].map((f): [Peer, string, number] => [pod(f), 'influxdb', 8086]),
    ...['market-feeder', 'news-feeder', 'watchlist-api'].map((f): [Peer, string, number] => [pod(f), 'postgres', 5432]),
    [pod('market-feeder'), 'alertmanager', 9093],
    [pod('market-feeder'), 'grafana', 3000], // Grafana Live: pushes and the token sidecar
    [pod('prometheus'), 'alertmanager', 9093],
    [pod('grafana'), 'alertmanager', 9093],
    [pod('grafana'), 'prometheus', 9090],
    [pod('alertmanager'), 'alertmanager', 9094, 'TCP'],
    [pod('alertmanager'), 'alertmanager', 9094, 'UDP'],
  ];
  // Prometheus scrapes every annotated pod on its annotated port
  for (const w of workloads(objs)) {
    const port = w.spec.template.metadata.annotations?.['prometheus.io/port'];
    if (port) needed.push([pod('prometheus'), w.metadata.name, Number(port)]);
  }
  for (const [from, to, port, proto] of needed) assert.ok(allowed(objs, ns, from, labelsOf(to), port, proto), `${JSON.stringify(from.labels)} → ${to}:${port}/${proto ?? 'TCP'}`);

  // and nothing else reaches Grafana or the API
  for (const [to, port] of [['grafana', 3000], ['watchlist-api', 8000]] as const) {
    for (const from of [stranger, ...(to === 'grafana' ? [] : [pod('market-feeder')]), pod('news-feeder'), pod('influxdb'), pod('alertmanager'), { namespace: 'ingress-nginx-evil', labels: {} }])
      assert.ok(!allowed(objs, ns, from, labelsOf(to), port), `${JSON.stringify(from)} must not reach ${to}`);
  }
  assert.ok(!allowed(objs, ns, stranger, labelsOf('postgres'), 5432));
  assert.ok(!allowed(objs, ns, stranger, labelsOf('influxdb'), 8086));
  assert.ok(!allowed(objs, ns, pod('grafana'), labelsOf('postgres'), 5432), 'Grafana has no business in PostgreSQL');
});

test('Prometheus on Kubernetes: the real Prometheus relabels discovered pods into the jobs the rules name; promtool accepts the config with the committed rules', async () => {
  const objs = render('base');
  const cm = generated(objs, 'ConfigMap', 'prometheus-config')!.data!;
  const cfg = parse(cm['prometheus.yml']!) as { scrape_configs: { job_name: string; kubernetes_sd_configs?: unknown; static_configs?: unknown }[] };
  // Debian's Prometheus is built without Kubernetes discovery: the pods it would discover are given as
  // static targets carrying the same __meta_kubernetes_* labels, and the committed relabelling runs on them
  const pods: { labels: Record<string, string>; targets: string[] }[] = [];
  let ip = 10;
  const wanted: { job: string; instance: string; port: string }[] = [];
  for (const w of workloads(objs).filter((x) => x.kind !== 'Job')) {
    const name = podLabels(w)['app.kubernetes.io/name']!;
    const ann: Record<string, string> = w.spec.template.metadata.annotations ?? {};
    const firstPort = podSpec(w).containers[0]!.ports?.[0]?.containerPort ?? 80;
    for (let i = 0; i < (w.spec.replicas ?? 1); i++) {
      const pod = w.kind === 'StatefulSet' ? `${w.metadata.name}-${i}` : `${w.metadata.name}-7d9f8-${i}`;
      const labels: Record<string, string> = { __meta_kubernetes_pod_name: pod, __meta_kubernetes_pod_phase: 'Running', __meta_kubernetes_pod_label_app_kubernetes_io_name: name };
      for (const [k, v] of Object.entries(ann)) labels[`__meta_kubernetes_pod_annotation_${k.replace(/[^a-zA-Z0-9]/g, '_')}`] = v;
      pods.push({ labels, targets: [`127.0.0.${ip++}:${firstPort}`] });
      if (ann['prometheus.io/scrape'] === 'true') wanted.push({ job: name, instance: pod, port: ann['prometheus.io/port']! });
    }
  }
  pods.push({ labels: { __meta_kubernetes_pod_name: 'market-feeder-9', __meta_kubernetes_pod_phase: 'Pending', __meta_kubernetes_pod_label_app_kubernetes_io_name: 'market-feeder', __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true', __meta_kubernetes_pod_annotation_prometheus_io_port: '9464' }, targets: ['127.0.0.99:9464'] });
  const podsJob = cfg.scrape_configs.find((c) => c.kubernetes_sd_configs)!;
  assert.equal(podsJob.job_name, 'pods');
  delete podsJob.kubernetes_sd_configs;
  podsJob.static_configs = pods;
  const dir = tmpDir('k8s-prometheus');
  mkdirSync(path.join(dir, 'rules'));
  const file = path.join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(cfg));
  for (const f of ['infrastructure.yml', 'services.yml']) writeFileSync(path.join(dir, 'rules', f), cm[f]!);
  const check = spawnSync(which('promtool'), ['check', 'config', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);

  const prom = await startPrometheus(file);
  try {
    const targets = await waitFor(
      async () => {
        const body = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: Record<string, string>; scrapeUrl: string }[] } };
        const t = body.data.activeTargets.filter((x) => x.labels.job !== 'prometheus');
        return t.length ? t : undefined;
      },
      20_000,
      'targets',
    );
    const got = targets.map((t) => ({ job: t.labels.job!, instance: t.labels.instance!, port: new URL(t.scrapeUrl).port })).sort((a, b) => a.instance.localeCompare(b.instance));
    assert.deepEqual(got, wanted.sort((a, b) => a.instance.localeCompare(b.instance)), 'annotated, running pods only: job = app name, instance = pod, the annotated port');
    assert.deepEqual(got.filter((t) => t.job === 'market-feeder').map((t) => t.instance), ['market-feeder-0', 'market-feeder-1', 'market-feeder-2'], 'one target per shard');
  } finally {
    await prom.stop();
  }
  // the rules' job names are among the scraped jobs
  const jobs = new Set([...(cm['infrastructure.yml']! + cm['services.yml']!).matchAll(/job=~?"([^"]+)"/g)].flatMap((m) => m[1]!.split('|')));
  assert.ok(jobs.size >= 4);
  assert.deepEqual([...jobs].filter((j) => !wanted.some((w) => w.job === j)), []);
});

for (const name of KUSTOMIZATIONS) {
  test(`${name}: Grafana Live on — each feeder pod's token sidecar (as compose's one-shot) writes where its feeder reads, one account per pod, never delaying the feeder`, () => {
    const objs = render(name);
    const feeder = must(objs, 'StatefulSet', 'market-feeder');
    const spec = feeder.spec.template.spec as { initContainers?: (Container & { restartPolicy?: string })[]; containers: Container[]; volumes: { name: string; emptyDir?: { medium?: string } }[] };
    const side = spec.initContainers?.find((c) => c.name === 'grafana-live-token');
    assert.ok(side, 'the token sidecar');
    assert.equal(side.restartPolicy, 'Always', 'a sidecar: the feeder starts at once, without waiting for Grafana');
    assert.deepEqual(side.command, ['node', 'common/dist/bin/grafana-live-token.js']);
    assert.ok(existsInBuild(side.command![1]!));
    assert.match(side.image, /:[vV]?\d+\.\d+(\.\d+)?$/);
    for (const k of ['requests', 'limits'] as const) for (const r of ['cpu', 'memory']) assert.ok(side.resources?.[k]?.[r], `sidecar ${k}.${r}`);
    const main = spec.containers[0]!;
    const accounts = new Set<string>();
    for (let i = 0; i < feeder.spec.replicas; i++) {
      const pod = `market-feeder-${i}`;
      const s: z.infer<ReturnType<typeof zod.object<typeof liveTokenEnv>>> = parseConfig(zod.object(liveTokenEnv), containerEnv(objs, side, pod));
      const f: z.infer<typeof marketSchema> = parseConfig(marketSchema, { ...containerEnv(objs, main, pod), NODE_ENV: 'production' });
      assert.ok(s.GRAFANA_LIVE_TOKEN_RECHECK_MS > 0, 'keeps running: Grafana down is waited out, a revoked token replaced');
      assert.equal(f.GRAFANA_LIVE, 'on');
      assert.equal(f.GRAFANA_LIVE_TOKEN_FILE, s.GRAFANA_LIVE_TOKEN_PATH, 'the feeder reads the file the sidecar writes');
      assert.equal(new URL(f.GRAFANA_LIVE_URL!).origin, new URL(s.GRAFANA_URL).origin, 'both talk to the same Grafana');
      assert.equal(f.GRAFANA_LIVE_STREAM, s.GRAFANA_LIVE_STREAM, 'the token is checked on the stream the feeder pushes to');
      accounts.add(s.GRAFANA_LIVE_ACCOUNT);
      // the file is in a volume both mount: the sidecar read-write, the feeder read-only
      const dir = path.posix.dirname(s.GRAFANA_LIVE_TOKEN_PATH);
      const mountOf = (c: Container) => c.volumeMounts?.find((m) => m.mountPath === dir);
      assert.equal(mountOf(side)?.name, mountOf(main)?.name);
      assert.ok(!mountOf(side)?.readOnly && mountOf(main)?.readOnly);
      assert.equal(spec.volumes.find((v) => v.name === mountOf(main)!.name)?.emptyDir?.medium, 'Memory', 'the token never touches a disk');
    }
    assert.equal(accounts.size, feeder.spec.replicas, `one service account per pod (${[...accounts]}): a sidecar deletes its own account's other tokens only`);
    // Grafana's URL: its Service, on the port the sidecar and the feeder use
    const svc = must(objs, 'Service', 'grafana');
    assert.ok((svc.spec.ports as { port: number }[]).some((p) => p.port === 3000));
  });
}
