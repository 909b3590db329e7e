// The `demo` compose profile: `docker compose --profile demo up -d` adds the demo-sources service and the feeders
// read it instead of the internet. Checked here: the compose wiring (docker-compose config), the feeders'
// switch (its shell run with and without the demo-sources name resolving), the demo image's files, and — with
// the real InfluxDB and the real feeder processes on the environment the switch produces — that a new user's
// dashboards fill: candles, indicators, stock/forex quotes, the fear & greed index and news with sentiment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startInflux, startService, waitFor, type InfluxServer } from '@mt/testing';
import { DEMO_PORTS, demoFeederEnv, startDemoSources } from '../../bench/demo-sources.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Service {
  image?: string;
  profiles?: string[];
  pull_policy?: string;
  build?: { context?: string; target?: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | null>;
}

function resolved(): Record<string, Service> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mt-demo-'));
  writeFileSync(path.join(dir, 'empty.env'), '');
  const out = execFileSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), '--project-directory', ROOT, '--env-file', path.join(dir, 'empty.env'), '--profile', 'demo', 'config'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    encoding: 'utf8',
  });
  return (parseYaml(out) as { services: Record<string, Service> }).services;
}

const prefixed = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).map(([k, v]) => [`DEMO_${k}`, v]));
const demoVars = (env: Record<string, string | null>) => Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('DEMO_')));

test('compose: demo-sources only with the demo profile, built from the Dockerfile’s demo stage, never pulled', () => {
  const services = resolved();
  const d = services['demo-sources'];
  assert.ok(d, 'the service exists');
  assert.deepEqual(d.profiles, ['demo']);
  assert.equal(d.build?.target, 'demo');
  assert.equal(d.pull_policy, 'build');
  assert.match(d.image!, /^market-terminal\/demo-sources:/);
  // every other service runs by default, but certbot, which needs a public name (docs/DEPLOYMENT.md "TLS")
  const optIn: Record<string, string[]> = { 'demo-sources': ['demo'], certbot: ['letsencrypt'] };
  for (const [name, s] of Object.entries(services)) assert.deepEqual(s.profiles, optIn[name], `${name}: profiles`);
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^FROM build AS demo$/m);
  assert.match(dockerfile, /^CMD \["node", "--conditions=source", "--import", "tsx", "bench\/demo-sources\.ts"\]$/m);
});

test('compose: the feeders’ DEMO_* settings are exactly what the demo sources serve', () => {
  const services = resolved();
  const want = demoFeederEnv('demo-sources', DEMO_PORTS);
  assert.deepEqual(demoVars(services['market-feeder']!.environment!), prefixed(want.market));
  assert.deepEqual(demoVars(services['news-feeder']!.environment!), prefixed(want.news));
});

test('the demo image holds every file demo-sources.ts loads', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stage = dockerfile.split(/^FROM /m).find((s) => s.startsWith('build AS demo'))!;
  const build = dockerfile.split(/^FROM /m).find((s) => s.startsWith('manifests AS build'))!;
  const copied = [...`${build}\n${stage}`.matchAll(/^COPY (?!--)(.+) (\S+)$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  for (const c of copied) assert.ok(existsSync(path.join(ROOT, c)), `${c} exists`);
  const inImage = (f: string) => copied.some((c) => (c.endsWith('/') ? f.startsWith(c) : f === c));
  // relative imports of the entry, followed through bench/
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    assert.ok(inImage(f), `${f} is copied into the demo image`);
    for (const [, rel] of readFileSync(path.join(ROOT, f), 'utf8').matchAll(/from '(\.[^']+)'/g)) visit(path.posix.join(path.posix.dirname(f), rel!.replace(/\.js$/, '.ts')));
  };
  visit('bench/demo-sources.ts');
  assert.ok(seen.has('bench/replay.ts'));
  assert.ok(inImage('testing/fixtures/SOURCES.md'), 'the recorded payloads');
  assert.ok(!readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').includes('testing/fixtures'), 'fixtures are in the build context');
});

/** Run a feeder's entrypoint + command as Docker would, with `getent` answering or not; the env the feeder gets. */
function switched(s: Service, demoOn: boolean): Record<string, string> {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'mt-getent-'));
  writeFileSync(path.join(bin, 'getent'), `#!/bin/sh\n${demoOn ? 'echo "172.18.0.9 demo-sources"; exit 0' : 'exit 2'}\n`);
  chmodSync(path.join(bin, 'getent'), 0o755);
  // docker-compose config keeps compose's `$$` escapes; Docker hands the container a single `$`
  const [sh, ...args] = s.entrypoint!.map((a) => a.replace(/\$\$/g, '$'));
  const env = { ...Object.fromEntries(Object.entries(s.environment!).map(([k, v]) => [k, v ?? ''])), PATH: `${bin}:${process.env.PATH}` };
  const out = execFileSync(sh!, [...args, process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'], { env, encoding: 'utf8' });
  return JSON.parse(out.slice(out.indexOf('{'))) as Record<string, string>;
}

test('the feeders’ switch: demo-sources resolving → the DEMO_* values replace theirs; not resolving → nothing changes', () => {
  const services = resolved();
  const want = demoFeederEnv('demo-sources', DEMO_PORTS);
  for (const [name, env] of [['market-feeder', want.market], ['news-feeder', want.news]] as const) {
    const s = services[name]!;
    assert.deepEqual(s.command?.[0], 'node', `${name} still runs node`);
    const on = switched(s, true);
    for (const [k, v] of Object.entries(env)) assert.equal(on[k], v, `${name} ${k} with the demo profile`);
    const off = switched(s, false);
    for (const k of Object.keys(env)) assert.equal(off[k] ?? '', s.environment![k] ?? '', `${name} ${k} without it`);
    assert.match(String(off.BINANCE_WS_URL ?? off.CRYPTOPANIC_URL), /^wss?:\/\/|^https:\/\//, 'the live source');
  }
});

// ---- a new user's first minutes, with the real feeders and InfluxDB -----------------------------------------

async function count(influx: InfluxServer, db: string, q: string): Promise<number> {
  const r = await influx.query(q, db);
  return Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

test('the demo sources fill the dashboards’ measurements with no key and no internet', { timeout: 240_000 }, async () => {
  const influx = await startInflux();
  const demo = await startDemoSources({ rate: 200 });
  const env = demoFeederEnv('127.0.0.1', demo.ports, 5);
  const common = { INFLUX_URL: influx.url, INFLUX_API: 'v1', DATABASE_URL: '', LOG_LEVEL: 'warn', NODE_ENV: 'production', ALERTMANAGER_URL: 'http://127.0.0.1:9' };
  const market = await startService('market-feeder', { ...common, ...env.market, BACKFILL_HOURS: '1' });
  const news = await startService('news-feeder', { ...common, ...env.news });
  try {
    const got: Record<string, number> = {};
    await waitFor(
      async () => {
        got.candles = await count(influx, 'markets', `SELECT count("close") FROM "candles" WHERE "symbol"='BTC/USDT' AND time > now() - 2h`);
        got.ticks = await count(influx, 'markets', `SELECT count("price") FROM "market_data" WHERE "symbol"='ETH/USDT' AND time > now() - 10m`);
        got.indicators = await count(influx, 'markets', `SELECT count(*) FROM "indicators" WHERE "symbol"='BTC/USDT' AND time > now() - 2h`);
        got.stock = await count(influx, 'markets', `SELECT count("price") FROM "market_data" WHERE "symbol"='AAPL'`);
        got.forex = await count(influx, 'markets', `SELECT count("price") FROM "market_data" WHERE "symbol"='EUR/USD'`);
        got.fearGreed = await count(influx, 'markets', `SELECT count("value") FROM "fear_greed"`);
        got.news = await count(influx, 'news', `SELECT count("title") FROM "news_articles" WHERE time > now() - 7d`);
        return Object.values(got).every((n) => n > 0) && got.candles >= 30;
      },
      180_000,
      'every dashboard measurement stored',
      2000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(got)}`);
    });
    console.log(JSON.stringify({ scenario: 'demo-profile-fill', ...got }));
  } finally {
    await Promise.allSettled([market.stop(), news.stop()]);
    await demo.close();
    await influx.stop();
  }
});
